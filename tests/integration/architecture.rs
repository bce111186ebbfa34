//! The architecture's invariants that the compiler does not check: the direction of imports
//! between layers, and `unsafe` in one file.
//!
//! Layers, lowest first: the model (`phase`, `scenario`, `money`, `math`, `input`, and the leaf
//! `sim::rng`), the statistics (`stats`), the simulation (`sim`), the analysis (`analysis`), what
//! is written (`persist`, `report`), and the command layer (`app`, `cli`). A module may name its
//! own layer and the layers below it, never one above.

use std::fs;
use std::path::{Path, PathBuf};

/// The layer of a module path below `crate::` (e.g. `sim::engine`), or `None` for the root.
fn layer(path: &str) -> Option<(usize, &'static str)> {
    let top = path.split("::").next()?;
    Some(match top {
        _ if path.starts_with("sim::rng") => (0, "model"),
        "phase" | "scenario" | "money" | "math" | "input" => (0, "model"),
        "stats" => (1, "stats"),
        "sim" => (2, "sim"),
        "analysis" => (3, "analysis"),
        "persist" | "report" => (4, "output"),
        "app" | "cli" => (5, "app"),
        _ => return None,
    })
}

/// Every `.rs` file below `dir`, added to `out`.
pub fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every source file under src/, with its module path (`sim/engine/batch.rs` → `sim::engine`).
fn modules() -> Vec<(PathBuf, String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let rel = f.strip_prefix(&root).unwrap().with_extension("");
            let module = rel.to_str().unwrap().replace('/', "::");
            let text = fs::read_to_string(&f).unwrap();
            (f, module, text)
        })
        .collect()
}

/// The code of a file without its comments (line comments and doc comments).
fn code(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.split("//").next().unwrap_or("")))
}

/// Every `crate::a::b` a line names.
fn crate_paths(line: &str) -> Vec<String> {
    line.match_indices("crate::")
        .map(|(i, _)| {
            let rest = &line[i + "crate::".len()..];
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(rest.len());
            rest[..end].trim_end_matches(':').to_owned()
        })
        .collect()
}

#[test]
fn no_layer_imports_one_above_it() {
    let mut wrong = Vec::new();
    for (file, module, text) in modules() {
        let Some((own, own_name)) = layer(&module) else {
            continue;
        };
        for (n, line) in code(&text) {
            for path in crate_paths(line) {
                let Some((theirs, their_name)) = layer(&path) else {
                    continue;
                };
                if theirs > own {
                    wrong.push(format!(
                        "{}:{n}: {own_name} module {module} names {their_name} crate::{path}",
                        file.display()
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_layer_check_sees_a_wrong_import() {
    // The check above must be able to fail: an engine file naming the report is caught.
    assert_eq!(
        crate_paths("use crate::report::Figures;"),
        ["report::Figures"]
    );
    let (engine, _) = layer("sim::engine").unwrap();
    let (report, _) = layer("report::Figures").unwrap();
    assert!(report > engine);
    assert_eq!(layer("sim::rng::TrialStream").unwrap().0, 0);
}

#[test]
fn unsafe_code_lives_in_one_file() {
    let mut found = Vec::new();
    for (file, module, text) in modules() {
        let uses = code(&text).any(|(_, l)| l.contains("unsafe ") || l.contains("unsafe{"));
        if uses {
            found.push(module);
        }
        let _ = file;
    }
    assert_eq!(found, ["sim::engine::simd"], "modules with unsafe code");
}

#[test]
fn only_the_console_writes_to_the_terminal() {
    // Every text that reaches a terminal is escaped by `app::console`; nothing else may print.
    let mut wrong = Vec::new();
    for (file, module, text) in modules() {
        if module == "app::console" {
            continue;
        }
        for (n, line) in code(&text) {
            let prints = ["print!", "println!", "dbg!", "stdout()", "stderr()"]
                .iter()
                .any(|p| line.contains(p));
            // The progress bar asks whether stderr is a terminal and draws a fixed template.
            let progress = module == "app::progress"
                && (line.contains("is_terminal()")
                    || line.contains("ProgressDrawTarget::stderr()"));
            if prints && !progress {
                wrong.push(format!("{}:{n}: {}", file.display(), line.trim()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "writes to the terminal outside app::console:\n{}",
        wrong.join("\n")
    );
}
