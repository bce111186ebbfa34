//! What each report page shows, read back from its HTML: every arm of a comparison in one style
//! across the page's charts (the baseline drawn last, dashed), the money block of a run and of
//! a comparison equal to the terminal's and the CSV's figures, a rank folder's forest plot with
//! every control, one number format for a page's expected counts, and captions that name the
//! colours drawn.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use killchain::report::html::{count, points, ratio};

use crate::support::{Csv, killchain};

/// Runs `killchain ARGS --out OUT` and returns its standard output.
fn play(args: &[&str], out: &Path) -> String {
    let done = killchain()
        .args(args)
        .arg("--out")
        .arg(out)
        .assert()
        .code(0);
    String::from_utf8(done.get_output().stdout.clone()).unwrap()
}

/// The page in `dir`, rendered by `killchain report`.
fn report(dir: &Path) -> String {
    killchain()
        .args(["report", "--quiet"])
        .arg(dir)
        .assert()
        .code(0)
        .stdout("")
        .stderr("");
    fs::read_to_string(dir.join("report.html")).unwrap()
}

/// The part of a page from the heading `title` to the end of its section.
fn section<'a>(html: &'a str, title: &str) -> &'a str {
    html.split(&format!("<h2>{title}</h2>"))
        .nth(1)
        .unwrap_or_else(|| panic!("no section {title:?}"))
        .split("</section>")
        .next()
        .unwrap()
}

/// Every `<svg>` of a page text, parsed.
fn svgs(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<svg") {
        let end = rest[start..].find("</svg>").unwrap() + start + 6;
        out.push(rest[start..end].to_owned());
        rest = &rest[end..];
    }
    out
}

/// How a chart draws each arm: for every element inside (or being) a `data-arm` mark, the arm's
/// colours (`stroke` and `fill`) and dash patterns.
#[derive(Debug, Default, PartialEq, Eq, Clone)]
struct Look {
    colours: BTreeSet<String>,
    dashes: BTreeSet<String>,
}

fn looks(svg: &str) -> BTreeMap<String, Look> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    let mut out: BTreeMap<String, Look> = BTreeMap::new();
    for node in doc.descendants().filter(|n| n.is_element()) {
        let Some(arm) = node
            .ancestors()
            .find_map(|a| a.attribute("data-arm"))
            .map(str::to_owned)
        else {
            continue;
        };
        let look = out.entry(arm).or_default();
        for attr in ["stroke", "fill"] {
            if let Some(c) = node.attribute(attr).filter(|c| *c != "none") {
                look.colours.insert(c.to_owned());
            }
        }
        if node.has_tag_name("line") || node.has_tag_name("polyline") {
            let dash = node.attribute("stroke-dasharray").unwrap_or("");
            look.dashes.insert(dash.to_owned());
        }
    }
    out
}

/// The texts of the elements of class `class` in a piece of HTML, in order.
fn texts(html: &str, class: &str) -> Vec<String> {
    let marker = format!("class=\"{class}\">");
    html.split(&marker)
        .skip(1)
        .map(|rest| rest.split('<').next().unwrap().to_owned())
        .collect()
}

/// The fixture folder of a comparison with money columns, rendered.
fn fixture() -> (TempDir, PathBuf) {
    let out = TempDir::new().unwrap();
    let dir = out.path().join("report");
    fs::create_dir(&dir).unwrap();
    for entry in fs::read_dir("tests/data/report").unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
    (out, dir)
}

/// Checks that every arm has one colour and one dash pattern in every chart that draws it, the
/// same in all of them, that no two arms look alike, and that the baseline's curve is dashed and
/// drawn last; returns the arms' colours.
fn assert_one_look_per_arm(html: &str, arms: &[&str]) -> BTreeMap<String, String> {
    let mut page: BTreeMap<String, Look> = BTreeMap::new();
    let mut charts_per_arm: BTreeMap<String, usize> = BTreeMap::new();
    for svg in svgs(html) {
        for (arm, look) in looks(&svg) {
            assert_eq!(look.colours.len(), 1, "{arm} in one chart: {look:?}");
            *charts_per_arm.entry(arm.clone()).or_default() += 1;
            let seen = page.entry(arm.clone()).or_insert_with(|| look.clone());
            assert_eq!(seen.colours, look.colours, "{arm}'s colour changes");
            // A forest dot or a cost point draws no line; where one draws lines, the pattern
            // is the arm's.
            if !seen.dashes.is_empty() && !look.dashes.is_empty() {
                assert_eq!(seen.dashes, look.dashes, "{arm}'s dashes change");
            }
            if seen.dashes.is_empty() {
                seen.dashes = look.dashes;
            }
        }
    }
    let names: BTreeSet<&str> = page.keys().map(String::as_str).collect();
    assert_eq!(names, arms.iter().copied().collect(), "the arms drawn");
    assert!(
        charts_per_arm.values().all(|&n| n >= 2),
        "{charts_per_arm:?}"
    );
    let styles: BTreeSet<(String, String)> = page
        .values()
        .map(|l| {
            (
                l.colours.iter().next().unwrap().clone(),
                l.dashes.iter().next().cloned().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(styles.len(), page.len(), "two arms look alike: {page:?}");
    assert_eq!(page["baseline"].dashes, BTreeSet::from(["7 4".to_owned()]));
    // The money block's swatches: each arm in its colour.
    for arm in arms {
        let colour = page[*arm].colours.iter().next().unwrap().clone();
        let swatch = format!("<th class=\"arm\" data-arm=\"{arm}\"><span class=\"swatch\"");
        let cell = html
            .split(&swatch)
            .nth(1)
            .unwrap_or_else(|| panic!("no swatch for {arm}"));
        assert!(
            cell.split('>').next().unwrap().contains(&colour),
            "{arm}'s swatch"
        );
    }
    // The baseline's curve is the last drawn over the others.
    let exceedance = section(html, "Loss exceedance");
    let curves: Vec<&str> = exceedance
        .split("<polyline ")
        .skip(1)
        .map(|c| {
            c.split("data-arm=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(curves.last(), Some(&"baseline"), "{curves:?}");
    page.into_iter()
        .map(|(arm, l)| (arm, l.colours.into_iter().next().unwrap()))
        .collect()
}

#[test]
fn every_arm_keeps_its_colour_across_the_charts_of_a_comparison() {
    // The fixture's loss exceedance has two curves: the baseline's and the second variant's,
    // which must keep the colour it has in the forest plots.
    let (_out, dir) = fixture();
    let html = report(&dir);
    let arms = ["baseline", "add-sandbox", "mfa", "better-filter"];
    let colours = assert_one_look_per_arm(&html, &arms);
    assert_eq!(colours["baseline"], "#000000");
    let exceedance = looks(&svgs(section(&html, "Loss exceedance"))[0]);
    assert_eq!(
        exceedance.keys().collect::<Vec<_>>(),
        ["baseline", "mfa"],
        "the fixture's two curves"
    );
    let forest = looks(&svgs(section(&html, "Variants against the baseline"))[0]);
    assert_eq!(forest["mfa"].colours, exceedance["mfa"].colours);

    // A comparison played here: every chart, the money block and the exceedance curves.
    let out = TempDir::new().unwrap();
    play(
        &[
            "compare",
            "tests/data/valid/loss.toml",
            "--method",
            "monte-carlo",
            "--trials",
            "3000",
            "--quiet",
            "--report",
        ],
        out.path(),
    );
    let html = fs::read_to_string(out.path().join("loss/report.html")).unwrap();
    assert_one_look_per_arm(&html, &arms);
    let exceedance = looks(&svgs(section(&html, "Loss exceedance"))[0]);
    assert_eq!(exceedance.len(), 4, "one curve per arm");
}

/// The money figures of the terminal's `expected annual loss` line: the amount, the interval
/// (or "exact") and the percentiles (when printed), as the terminal writes them.
fn terminal_money(line: &str) -> (String, Option<(String, String)>, Option<[String; 3]>) {
    let rest = line.strip_prefix("expected annual loss: ").unwrap();
    let amount = rest.split(' ').next().unwrap().to_owned();
    let interval = rest
        .split_once('[')
        .map(|(_, r)| r.split_once(']').unwrap().0)
        .map(|i| {
            let (lo, hi) = i.split_once(", ").unwrap();
            (lo.to_owned(), hi.to_owned())
        });
    let percentiles = rest.split_once("P50 ").map(|(_, r)| {
        let p: Vec<String> = r
            .split(", ")
            .map(|p| p.rsplit(' ').next().unwrap().to_owned())
            .collect();
        [p[0].clone(), p[1].clone(), p[2].clone()]
    });
    (amount, interval, percentiles)
}

#[test]
fn the_run_page_shows_the_money_block_the_terminal_prints() {
    let out = TempDir::new().unwrap();
    let stdout = play(
        &[
            "run",
            "tests/data/valid/loss.toml",
            "--trials",
            "4000",
            "--report",
        ],
        out.path(),
    );
    let dir = out.path().join("loss");
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    let line = stdout
        .lines()
        .find(|l| l.starts_with("expected annual loss: "))
        .unwrap();
    let (amount, interval, percentiles) = terminal_money(line);
    let (lo, hi) = interval.expect("a Monte Carlo interval");
    let [p50, p90, p99] = percentiles.expect("percentiles");
    let block = section(&html, "Expected annual loss");
    assert!(block.contains("<th>expected annual loss (USD)</th>"));
    assert_eq!(texts(block, "v-ale"), std::slice::from_ref(&amount));
    assert_eq!(texts(block, "v-ale-low"), [lo]);
    assert_eq!(texts(block, "v-ale-high"), [hi]);
    assert_eq!(texts(block, "v-p50"), [p50]);
    assert_eq!(texts(block, "v-p90"), [p90]);
    assert_eq!(texts(block, "v-p99"), [p99]);
    // The same figures as run.json's, and the years they come from.
    let run: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("run.json")).unwrap()).unwrap();
    let loss = &run["loss"];
    assert_eq!(
        amount,
        count(loss["expected_annual_loss"].as_f64().unwrap().round())
    );
    assert_eq!(
        texts(block, "v-p99"),
        [count(loss["loss_p99"].as_f64().unwrap())]
    );
    assert!(block.contains(&format!(
        "over {} simulated years",
        count(loss["years"].as_f64().unwrap())
    )));
    assert!(block.contains("6 attacks a year"));
    // The block comes first, right after the summary.
    assert!(html.find("<h2>Expected annual loss</h2>") < html.find("<h2>Kill-chain funnel</h2>"));

    // Exact: the value, "exact", and no percentiles.
    let stdout = play(
        &["exact", "tests/data/valid/loss.toml", "--report"],
        out.path(),
    );
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    let line = stdout
        .lines()
        .find(|l| l.starts_with("expected annual loss: "))
        .unwrap();
    assert!(line.ends_with("(exact)"), "{line}");
    let (amount, _, percentiles) = terminal_money(line);
    assert_eq!(percentiles, None);
    let block = section(&html, "Expected annual loss");
    assert_eq!(texts(block, "v-ale"), [amount]);
    assert!(block.contains("<td>exact</td>"));
    assert_eq!(texts(block, "v-p50"), ["—"]);

    // Without [loss], no money block.
    play(
        &["run", "tests/data/valid/tiny.toml", "--quiet", "--report"],
        out.path(),
    );
    let html = fs::read_to_string(out.path().join("tiny/report.html")).unwrap();
    assert!(!html.contains("Expected annual loss"));
}

#[test]
fn the_comparison_page_shows_each_arms_money_as_the_terminal_and_csv_do() {
    let out = TempDir::new().unwrap();
    let stdout = play(
        &[
            "compare",
            "tests/data/valid/loss.toml",
            "--method",
            "monte-carlo",
            "--trials",
            "3000",
            "--report",
        ],
        out.path(),
    );
    let dir = out.path().join("loss");
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    let cmp = Csv::read(&dir.join("comparison.csv"));
    let block = section(&html, "Expected annual loss");
    let amounts = |name: &str| -> Vec<String> {
        cmp.numbers(name)
            .into_iter()
            .map(|x| count(x.round()))
            .collect()
    };
    assert_eq!(texts(block, "v-ale"), amounts("expected_annual_loss"));
    assert_eq!(texts(block, "v-ale-low"), amounts("ale_ci_low"));
    assert_eq!(texts(block, "v-ale-high"), amounts("ale_ci_high"));
    assert_eq!(texts(block, "v-p50"), amounts("loss_p50"));
    assert_eq!(texts(block, "v-p99"), amounts("loss_p99"));
    // Each percentile with its distribution-free interval below it.
    for p in ["p50", "p90", "p99"] {
        let cis: Vec<String> = amounts(&format!("loss_{p}_low"))
            .into_iter()
            .zip(amounts(&format!("loss_{p}_high")))
            .map(|(lo, hi)| format!("{lo} to {hi}"))
            .collect();
        assert_eq!(texts(block, &format!("small v-{p}-ci")), cis, "{p}");
    }
    // The terminal prints each arm's expected annual loss with its interval: the same figures.
    let printed: Vec<String> = stdout
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("expected annual loss "))
        .map(|l| l.split(" USD").next().unwrap().to_owned())
        .collect();
    let mut shown = texts(block, "v-ale");
    shown.sort();
    let mut printed_sorted = printed.clone();
    printed_sorted.sort();
    assert_eq!(printed_sorted, shown);
    assert_eq!(printed.len(), cmp.rows.len());
}

#[test]
fn report_renders_a_rank_folder_as_a_forest_plot_of_every_control() {
    let out = TempDir::new().unwrap();
    let stdout = play(
        &[
            "rank",
            "tests/data/valid/loss.toml",
            "--method",
            "monte-carlo",
            "--trials",
            "3000",
        ],
        out.path(),
    );
    let dir = out.path().join("loss");
    let html = report(&dir);
    let ranking = Csv::read(&dir.join("ranking.csv"));
    let chart = &svgs(section(&html, "Marginal value of each control"))[0];
    // Every control, in the ranking's order, in the order the terminal prints them.
    let controls = ranking.column("control");
    assert_eq!(texts(chart, "v-row"), controls);
    // The rows follow the header line, which names the first column.
    let printed: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("control "))
        .skip(1)
        .filter(|l| {
            !l.starts_with(' ') && !l.starts_with("wrote") && !l.starts_with("the year-by-year")
        })
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(printed, controls);
    // Each control's value: the completion rate it buys (delta, its sign turned for a control
    // in place), with its interval.
    let (d, lo, hi) = (
        ranking.numbers("delta"),
        ranking.numbers("delta_ci_low"),
        ranking.numbers("delta_ci_high"),
    );
    let enabled = ranking.column("enabled");
    let mut values = Vec::new();
    let mut intervals = Vec::new();
    for i in 0..controls.len() {
        let (v, l, h) = if enabled[i] == "true" {
            (d[i], lo[i], hi[i])
        } else {
            (-d[i], -hi[i], -lo[i])
        };
        assert!(l <= v && v <= h, "{}", controls[i]);
        values.push(points(v));
        intervals.push(format!("[{}, {}]", points(l), points(h)));
    }
    assert_eq!(texts(chart, "v-value"), values);
    assert_eq!(texts(chart, "small v-value-ci"), intervals);
    // Each dot sits between the ends of its interval.
    let doc = roxmltree::Document::parse(chart).unwrap();
    let marks: Vec<roxmltree::Node> = doc
        .descendants()
        .filter(|n| n.attribute("data-control").is_some())
        .collect();
    assert_eq!(marks.len(), controls.len());
    for m in &marks {
        let line = m.children().find(|c| c.has_tag_name("line")).unwrap();
        let dot = m.children().find(|c| c.has_tag_name("circle")).unwrap();
        let x = |n: &roxmltree::Node, a: &str| n.attribute(a).unwrap().parse::<f64>().unwrap();
        assert!(x(&line, "x1") <= x(&dot, "cx") && x(&dot, "cx") <= x(&line, "x2"));
    }
    // The loss each saves, and its return on control, as ranking.csv states them.
    let saved: Vec<String> = ranking
        .numbers("ale_delta")
        .iter()
        .zip(&enabled)
        .map(|(a, e)| count(if *e == "true" { *a } else { -*a }.round()))
        .collect();
    assert_eq!(texts(chart, "v-saved"), saved);
    let returns: Vec<String> = ranking
        .column("return_on_control")
        .iter()
        .map(|r| ratio(r.parse().ok()))
        .collect();
    assert_eq!(texts(chart, "v-return"), returns);
    assert!(chart.contains("loss saved (USD)"));
    // Its provenance: the seed and trials of the ranking itself.
    assert!(html.contains("from 3,000 paired trials, seed 7"));
    assert!(html.contains("<dt>seed</dt><dd>7</dd>"));
    assert!(html.contains("<dt>trials</dt><dd>3000</dd>"));

    // Beside a run's files, the page shows both, each from its own files.
    play(
        &["run", "tests/data/valid/loss.toml", "--quiet"],
        out.path(),
    );
    let html = report(&dir);
    assert!(html.contains("<h2>Kill-chain funnel</h2>"));
    assert!(html.contains("<h2>Marginal value of each control</h2>"));
    assert!(html.contains("from 3,000 paired trials, seed 7"));

    // Exact: said so.
    let exact = TempDir::new().unwrap();
    play(
        &[
            "rank",
            "tests/data/valid/loss.toml",
            "--method",
            "exact",
            "--quiet",
        ],
        exact.path(),
    );
    let html = report(&exact.path().join("loss"));
    assert!(html.contains("(evaluated exactly)"));
}

#[test]
fn an_exact_page_prints_every_expected_count_with_one_decimal() {
    let out = TempDir::new().unwrap();
    play(
        &[
            "exact",
            "tests/data/valid/tiny.toml",
            "--quiet",
            "--report",
            "--trials",
            "100",
        ],
        out.path(),
    );
    let html = fs::read_to_string(out.path().join("tiny/report.html")).unwrap();
    let one_decimal = |s: &str| {
        let (whole, frac) = s.trim_start_matches('−').split_once('.').unwrap_or((s, ""));
        frac.len() == 1 && whole.chars().all(|c| c.is_ascii_digit() || c == ',')
    };
    let funnel = &svgs(section(&html, "Kill-chain funnel"))[0];
    let mut all = texts(funnel, "v-reached");
    all.extend(texts(funnel, "v-broken"));
    all.extend(texts(&html, "v-breaks"));
    all.extend(texts(&html, "v-completed"));
    assert!(all.len() > 14, "{all:?}");
    for s in &all {
        assert!(one_decimal(s), "{s:?} in {all:?}");
    }
    // The first phase is reached by every trial: a whole number, printed like the others.
    assert_eq!(texts(funnel, "v-reached")[0], "100.0");
    assert!(html.contains("Completed attacks (expected)"));
    assert!(funnel.contains("expected broken"));
    // A Monte Carlo page's counts stay whole.
    play(
        &["run", "tests/data/valid/tiny.toml", "--quiet", "--report"],
        out.path(),
    );
    let html = fs::read_to_string(out.path().join("tiny/report.html")).unwrap();
    let funnel = &svgs(section(&html, "Kill-chain funnel"))[0];
    assert!(texts(funnel, "v-broken").iter().all(|s| !s.contains('.')));
}

/// The colours a page's captions may name, with the colour each word stands for.
const COLOUR_WORDS: [(&str, &str); 8] = [
    ("orange-red", "#d55e00"),
    ("sky blue", "#56b4e9"),
    ("blue", "#0072b2"),
    ("dark grey", "#555555"),
    ("grey", "#888888"),
    ("green", "#009e73"),
    ("pink", "#cc79a7"),
    ("orange", "#e69f00"),
];

/// Checks that every colour a caption names is drawn on the page, that no caption calls a
/// colour "red", and, when `names_one`, that some caption names a colour.
fn assert_captions_name_colours_drawn(html: &str, names_one: bool) {
    let mut captions: Vec<String> = texts(html, "note");
    captions.extend(texts(html, "small"));
    captions.extend(texts(html, "title"));
    let mut named = 0;
    for caption in &captions {
        let mut rest = caption.clone();
        for (word, hex) in COLOUR_WORDS {
            if rest.contains(word) {
                named += 1;
                assert!(
                    html.contains(&format!("fill=\"{hex}\""))
                        || html.contains(&format!("stroke=\"{hex}\"")),
                    "{caption:?} names {word}, which the page does not draw"
                );
                rest = rest.replace(word, "");
            }
        }
        let words: Vec<&str> = rest
            .split(|c: char| !c.is_alphanumeric() && c != '-')
            .collect();
        assert!(!words.contains(&"red"), "{caption:?} says red");
    }
    assert!(!names_one || named > 0, "no caption names a colour");
}

#[test]
fn captions_name_the_colours_drawn() {
    let out = TempDir::new().unwrap();
    play(
        &["run", "tests/data/valid/tiny.toml", "--quiet", "--report"],
        out.path(),
    );
    assert_captions_name_colours_drawn(
        &fs::read_to_string(out.path().join("tiny/report.html")).unwrap(),
        true,
    );
    let (_out, dir) = fixture();
    assert_captions_name_colours_drawn(&report(&dir), true);
    play(
        &[
            "optimize",
            "tests/data/optimize/small.toml",
            "--budget",
            "50",
            "--trials",
            "500",
            "--quiet",
            "--report",
        ],
        out.path(),
    );
    assert_captions_name_colours_drawn(
        // The frontier's legend draws a swatch beside each entry instead of naming colours.
        &fs::read_to_string(out.path().join("small/report.html")).unwrap(),
        false,
    );
}

#[test]
fn the_comparison_page_shows_the_trials_each_variant_needs_as_the_csv_does() {
    for method in ["monte-carlo", "exact"] {
        let out = TempDir::new().unwrap();
        play(
            &[
                "compare",
                "scenarios/ransomware-midsize.toml",
                "--method",
                method,
                "--trials",
                "3000",
                "--min-effect",
                "0.02",
                "--report",
            ],
            out.path(),
        );
        let dir = out.path().join("ransomware-midsize");
        let html = fs::read_to_string(dir.join("report.html")).unwrap();
        let cmp = Csv::read(&dir.join("comparison.csv"));
        let table = section(&html, "Trials a comparison needs");
        // One row per variant in the file's order (the baseline has none), with the CSV's count.
        let variants: Vec<usize> = (0..cmp.rows.len())
            .filter(|&r| cmp.get(r, "variant") != "baseline")
            .collect();
        let wanted: Vec<String> = variants
            .iter()
            .map(|&r| count(cmp.get(r, "trials_for_min_effect").parse().unwrap()))
            .collect();
        assert_eq!(texts(table, "v-trials"), wanted, "{method}");
        assert!(wanted.iter().all(|n| n != "0"), "{method}: {wanted:?}");
        assert!(table.contains("2.00 pp"), "{method}");
        let basis = if method == "exact" {
            "paired pilot"
        } else {
            "in this run"
        };
        assert!(table.contains(basis), "{method}");
    }
}
