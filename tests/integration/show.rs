//! What killchain shows to people who will not read a CSV: `report.html` (its SVG parses as XML
//! and its numbers equal the CSV's), the ATT&CK Navigator layer (the format's required
//! fields), `results.xlsx` (read back and compared with the CSV files), the JSON Schema of
//! scenario files (every shipped scenario validates; schema-detectable invalid fixtures fail),
//! shell completions and the worked example in every subcommand's help.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use predicates::prelude::*;
use tempfile::TempDir;

use killchain::report::html::{count, percent, points, ratio};

use crate::support::{Csv, killchain};

/// Every `<svg>…</svg>` of a page, each parsed as XML; returns, per SVG, the texts of the
/// elements carrying each `v-*` class, in document order.
fn svg_values(html: &str) -> Vec<BTreeMap<String, Vec<String>>> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<svg") {
        let end = rest[start..].find("</svg>").expect("an <svg> is closed") + start + 6;
        let svg = &rest[start..end];
        let doc = roxmltree::Document::parse(svg)
            .unwrap_or_else(|e| panic!("the SVG does not parse as XML: {e}\n{svg}"));
        let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for node in doc.descendants().filter(|n| n.is_element()) {
            for class in node.attribute("class").unwrap_or("").split(' ') {
                if class.starts_with("v-") {
                    let text: String = node
                        .descendants()
                        .filter(|n| n.is_text())
                        .filter_map(|n| n.text())
                        .collect();
                    values.entry(class.to_owned()).or_default().push(text);
                }
            }
        }
        out.push(values);
        rest = &rest[end..];
    }
    out
}

fn run_tiny(out: &Path, extra: &[&str]) -> std::path::PathBuf {
    killchain()
        .args(["run", "tests/data/valid/tiny.toml", "--quiet", "--out"])
        .arg(out)
        .args(extra)
        .assert()
        .code(0)
        .stdout("")
        .stderr("");
    out.join("tiny")
}

/// The report draws nothing from the network: no script, no external URL but the SVG
/// namespace, and a content security policy that forbids fetching anything.
fn assert_self_contained(html: &str) {
    assert!(html.starts_with("<!DOCTYPE html>"));
    for banned in ["<script", "<link", "<img", "@import", "url(", "src="] {
        assert!(!html.contains(banned), "the report contains {banned:?}");
    }
    let without_ns = html.replace("http://www.w3.org/2000/svg", "");
    assert!(
        !without_ns.contains("http://") && !without_ns.contains("https://"),
        "the report names a URL"
    );
    assert!(html.contains("default-src 'none'"));
}

#[test]
fn the_report_shows_the_csv_numbers_in_parseable_svg() {
    let out = TempDir::new().unwrap();
    let dir = run_tiny(out.path(), &["--report"]);
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    assert_self_contained(&html);
    let svgs = svg_values(&html);
    assert_eq!(svgs.len(), 2, "funnel and attribution");
    let phases = Csv::read(&dir.join("phases.csv"));
    let funnel = &svgs[0];
    let as_shown = |v: Vec<f64>, f: fn(f64) -> String| v.into_iter().map(f).collect::<Vec<_>>();
    assert_eq!(
        funnel["v-reached"],
        as_shown(phases.numbers("reached"), count)
    );
    assert_eq!(
        funnel["v-broken"],
        as_shown(phases.numbers("broken"), count)
    );
    assert_eq!(
        funnel["v-rate"],
        as_shown(phases.numbers("break_rate"), percent)
    );
    let ci: Vec<String> = phases
        .numbers("ci_low")
        .into_iter()
        .zip(phases.numbers("ci_high"))
        .map(|(lo, hi)| format!("[{}, {}]", percent(lo), percent(hi)))
        .collect();
    assert_eq!(funnel["v-ci"], ci);
    // Phase names, readable.
    for title in ["Reconnaissance", "Delivery", "Actions on", "objectives"] {
        assert!(html.contains(&format!(">{title}<")), "{title}");
    }
    // Attribution: every row of controls.csv has its bar, with its count; grouped by action, so
    // compare as sets of (count) per control.
    let controls = Csv::read(&dir.join("controls.csv"));
    let mut shown = svgs[1]["v-breaks"].clone();
    let mut expected = as_shown(controls.numbers("breaks"), count);
    shown.sort();
    expected.sort();
    assert_eq!(shown, expected);
    // Provenance from run.json.
    let run: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("run.json")).unwrap()).unwrap();
    let sha = run["scenario_sha256"].as_str().unwrap();
    assert!(html.contains(&format!(
        "<b class=\"v-completed\">{}</b> of {} campaigns = <b>{}</b>",
        count(run["completed"].as_f64().unwrap()),
        count(run["trials"].as_f64().unwrap()),
        percent(run["completion_rate"].as_f64().unwrap())
    )));
    assert!(html.contains(&format!("<dd>{sha}</dd>")));
    assert!(html.contains("<dd>7</dd>"), "the seed");
    assert!(html.contains(&format!("<dd>{}</dd>", env!("CARGO_PKG_VERSION"))));
}

#[test]
fn report_dir_renders_what_run_report_renders() {
    let out = TempDir::new().unwrap();
    let dir = run_tiny(out.path(), &["--report", "--navigator", "--xlsx"]);
    let first: Vec<Vec<u8>> = ["report.html", "navigator-layer.json", "results.xlsx"]
        .iter()
        .map(|f| fs::read(dir.join(f)).unwrap())
        .collect();
    for f in ["report.html", "navigator-layer.json", "results.xlsx"] {
        fs::remove_file(dir.join(f)).unwrap();
    }
    killchain()
        .args(["report", "--navigator", "--xlsx"])
        .arg(&dir)
        .assert()
        .code(0)
        .stdout(format!(
            "wrote report.html, navigator-layer.json, results.xlsx in {}\n",
            dir.display()
        ));
    for (f, bytes) in ["report.html", "navigator-layer.json", "results.xlsx"]
        .iter()
        .zip(&first)
    {
        assert_eq!(&fs::read(dir.join(f)).unwrap(), bytes, "{f}");
    }
}

#[test]
fn renderings_do_not_depend_on_the_thread_count() {
    let (a, b) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let flags = ["--report", "--navigator", "--xlsx"];
    let da = run_tiny(a.path(), &[&flags[..], &["--threads", "1"]].concat());
    let db = run_tiny(b.path(), &[&flags[..], &["--threads", "3"]].concat());
    for f in ["report.html", "navigator-layer.json", "results.xlsx"] {
        assert_eq!(
            fs::read(da.join(f)).unwrap(),
            fs::read(db.join(f)).unwrap(),
            "{f}"
        );
    }
}

/// The fixture folder: a comparison with money columns, loss exceedance and a frontier.
fn fixture_report() -> (TempDir, std::path::PathBuf) {
    let out = TempDir::new().unwrap();
    let dir = out.path().join("report");
    fs::create_dir(&dir).unwrap();
    for entry in fs::read_dir("tests/data/report").unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
    killchain()
        .args(["report", "--quiet", "--navigator", "--xlsx"])
        .arg(&dir)
        .assert()
        .code(0)
        .stdout("")
        .stderr("");
    (out, dir)
}

#[test]
fn a_comparison_report_draws_the_forest_plot_losses_and_frontier() {
    let (_out, dir) = fixture_report();
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    assert_self_contained(&html);
    let svgs = svg_values(&html);
    assert_eq!(
        svgs.len(),
        7,
        "funnel, attribution, forest, ALE forest, cost/loss, exceedance, frontier"
    );
    let cmp = Csv::read(&dir.join("comparison.csv"));
    let variants: Vec<usize> = (0..cmp.rows.len())
        .filter(|&i| cmp.rows[i][cmp.col("variant")] != "baseline")
        .collect();
    let pick = |name: &str| -> Vec<f64> {
        let all = cmp.numbers(name);
        variants.iter().map(|&i| all[i]).collect()
    };
    let forest = &svgs[2];
    assert_eq!(
        forest["v-delta"],
        pick("delta").into_iter().map(points).collect::<Vec<_>>()
    );
    assert_eq!(
        forest["v-cost"],
        pick("annual_cost")
            .into_iter()
            .map(|c| format!("{} EUR", count(c)))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        forest["v-loss"],
        pick("expected_annual_loss")
            .into_iter()
            .map(|c| format!("{} EUR", count(c)))
            .collect::<Vec<_>>()
    );
    // The forest in money: each variant's ALE reduction, its paired interval and its ROSI.
    let money_forest = &svgs[3];
    assert_eq!(
        money_forest["v-ale-reduction"],
        pick("ale_reduction")
            .into_iter()
            .map(count)
            .collect::<Vec<_>>()
    );
    let (lo, hi) = (pick("ale_reduction_ci_low"), pick("ale_reduction_ci_high"));
    assert_eq!(
        money_forest["v-ale-reduction-ci"],
        lo.iter()
            .zip(&hi)
            .map(|(l, h)| format!("[{}, {}]", count(*l), count(*h)))
            .collect::<Vec<_>>()
    );
    let rosi: Vec<String> = variants
        .iter()
        .map(|&i| ratio(cmp.rows[i][cmp.col("rosi")].parse().ok()))
        .collect();
    assert_eq!(money_forest["v-rosi"], rosi);
    assert_eq!(rosi, ["−0.30", "3.65", "—"], "the fixture's ROSI cells");
    assert!(html.contains("reduction [95 % interval] (EUR)"));
    // Cost and expected annual loss: every variant (the baseline too) labelled with its ALE,
    // a whisker per interval, the variants that no other beats on both joined.
    let cost_loss = &svgs[4];
    assert_eq!(cost_loss["v-name"], cmp.column("variant"));
    assert_eq!(
        cost_loss["v-risk"],
        cmp.numbers("expected_annual_loss")
            .into_iter()
            .map(|x| format!("{} EUR", count(x)))
            .collect::<Vec<_>>()
    );
    let chart = html
        .split("<h2>Cost and expected annual loss</h2>")
        .nth(1)
        .unwrap()
        .split("</section>")
        .next()
        .unwrap();
    assert!(chart.contains("annual cost of the controls (EUR)"));
    assert!(chart.contains("expected annual loss (EUR)"));
    let (cost, ale) = (
        cmp.numbers("annual_cost"),
        cmp.numbers("expected_annual_loss"),
    );
    let (ale_lo, ale_hi) = (cmp.numbers("ale_ci_low"), cmp.numbers("ale_ci_high"));
    for i in 0..cmp.rows.len() {
        let tooltip = format!(
            "<title>{}: annual cost {} EUR, expected annual loss {} EUR [95 % interval {} EUR, {} EUR]</title>",
            cmp.rows[i][cmp.col("variant")],
            count(cost[i]),
            count(ale[i]),
            count(ale_lo[i]),
            count(ale_hi[i])
        );
        assert!(chart.contains(&tooltip), "{tooltip}");
    }
    assert_eq!(
        chart.matches("<path d=").count(),
        cmp.rows.len(),
        "whiskers"
    );
    // The frontier, worked out here: not beaten on both cost and loss by another variant.
    let on_frontier = (0..cost.len())
        .filter(|&i| {
            !(0..cost.len()).any(|j| {
                cost[j] <= cost[i] && ale[j] <= ale[i] && (cost[j] < cost[i] || ale[j] < ale[i])
            })
        })
        .count();
    assert_eq!(on_frontier, 2, "better-filter and mfa");
    assert_eq!(chart.matches(" r=\"5\" fill=").count(), on_frontier);
    let joined = chart.split("<polyline points=\"").nth(1).unwrap();
    assert_eq!(
        joined.split('"').next().unwrap().split(' ').count(),
        on_frontier
    );
    let completed = cmp.numbers("completed")[0];
    assert!(html.contains(&format!(
        "Baseline: completed attacks: <b class=\"v-completed\">{}</b> of 2,000 campaigns",
        count(completed)
    )));
    // The funnel shows the baseline's block of phases.csv.
    let phases = Csv::read(&dir.join("phases.csv"));
    let reached: Vec<String> = phases.numbers("reached")[..7]
        .iter()
        .map(|&x| count(x))
        .collect();
    assert_eq!(svgs[0]["v-reached"], reached);
    // Exceedance: one curve per variant, a log-scaled axis with powers of ten.
    assert!(html.contains("annual loss (EUR), log scale"));
    for tick in ["1,000", "10,000", "100,000", "1,000,000", "10,000,000"] {
        assert!(html.contains(&format!(">{tick}</text>")), "tick {tick}");
    }
    let exceedance = html
        .split("<h2>Loss exceedance</h2>")
        .nth(1)
        .unwrap()
        .split("</section>")
        .next()
        .unwrap();
    assert_eq!(exceedance.matches("<polyline").count(), 2);
    assert_eq!(exceedance.matches("<polygon").count(), 2, "interval bands");
    // Frontier: four portfolios, three on the frontier joined by one line.
    let frontier = html
        .split("<h2>Cost and risk frontier</h2>")
        .nth(1)
        .unwrap()
        .split("</section>")
        .next()
        .unwrap();
    assert_eq!(
        frontier.matches("<circle").count(),
        4 + 1,
        "and the legend's"
    );
    assert_eq!(frontier.matches("<polyline").count(), 1);
    let line = frontier
        .split("<polyline class=\"frontier\" points=\"")
        .nth(1)
        .unwrap();
    assert_eq!(line.split('"').next().unwrap().split(' ').count(), 3);
    // Frontier points carry their controls, cost, ALE and interval in a tooltip, and the
    // interval as a whisker; no point is named by its portfolio number. Without optimize.json
    // there is no budget and nothing to mark.
    let fr = Csv::read(&dir.join("frontier.csv"));
    let on: Vec<usize> = (0..fr.rows.len())
        .filter(|&i| fr.rows[i][fr.col("on_frontier")] == "true")
        .collect();
    let ale = fr.numbers("expected_annual_loss");
    let (lo, hi) = (fr.numbers("ale_ci_low"), fr.numbers("ale_ci_high"));
    let cost = fr.numbers("annual_cost");
    for &i in &on {
        let controls = match fr.get(i, "controls") {
            "" => "no candidate",
            c => c,
        };
        let tooltip = format!(
            "<title>{controls}: annual cost {}, expected annual loss {} [95 % interval {}, {}]</title>",
            count(cost[i]),
            count(ale[i]),
            count(lo[i]),
            count(hi[i])
        );
        assert!(frontier.contains(&tooltip), "{tooltip}");
    }
    assert_eq!(frontier.matches("<path d=").count(), on.len(), "whiskers");
    assert!(!svgs[6].contains_key("v-name"));
    for absent in ["class=\"budget\"", "pick-best", "What to buy"] {
        assert!(!html.contains(absent), "{absent}");
    }
}

#[test]
fn sections_without_their_file_are_left_out() {
    let out = TempDir::new().unwrap();
    let dir = run_tiny(out.path(), &["--report"]);
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    for absent in ["Variants against", "Loss exceedance", "frontier"] {
        assert!(!html.contains(absent), "{absent}");
    }
}

/// Layer format 4.5's required fields, and what killchain promises about each entry.
fn check_layer(layer: &serde_json::Value, techniques: &Csv, variant: Option<&str>) {
    assert!(layer["name"].is_string());
    assert_eq!(layer["domain"], "enterprise-attack");
    assert_eq!(layer["versions"]["layer"], "4.5");
    // The Navigator 5 series reads layer format 4.5; mitreattack-python warns on any other
    // major version.
    assert!(
        layer["versions"]["navigator"]
            .as_str()
            .unwrap()
            .starts_with("5."),
        "{}",
        layer["versions"]
    );
    assert!(layer["versions"].get("attack").is_none());
    assert_eq!(layer["layout"]["expandedSubtechniques"], "annotated");
    assert_eq!(layer["gradient"]["minValue"], 0);
    assert_eq!(layer["gradient"]["maxValue"], 100);
    assert!(layer["gradient"]["colors"].as_array().unwrap().len() >= 2);
    assert!(!layer["legendItems"].as_array().unwrap().is_empty());
    let entries = layer["techniques"].as_array().unwrap();
    // Techniques with the same ATT&CK id make one entry, whatever their phases: sum their counts.
    let counts = [
        "attempts",
        "prevented",
        "deceived",
        "interrupted",
        "evicted",
    ];
    let mut groups: Vec<(String, [f64; 5])> = Vec::new();
    for row in techniques
        .rows
        .iter()
        .filter(|r| !r[techniques.col("attack")].is_empty())
        .filter(|r| variant.is_none_or(|v| r[techniques.col("variant")] == v))
    {
        let key = row[techniques.col("attack")].clone();
        let i = match groups.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                groups.push((key, [0.0; 5]));
                groups.len() - 1
            }
        };
        for (sum, c) in groups[i].1.iter_mut().zip(counts) {
            *sum += row[techniques.col(c)].parse::<f64>().unwrap();
        }
    }
    assert_eq!(entries.len(), groups.len(), "one entry per ATT&CK id");
    for (e, (id, sums)) in entries.iter().zip(&groups) {
        assert_eq!(e["techniqueID"].as_str().unwrap(), id);
        // The Navigator shows an entry without a tactic under every tactic of its technique.
        assert!(e.get("tactic").is_none(), "{e}");
        let n = |c: &str| sums[counts.iter().position(|x| *x == c).unwrap()];
        let attempts = n("attempts");
        let comment = e["comment"].as_str().unwrap();
        assert!(
            comment.contains(&format!("{attempts:.0} attempts")),
            "{comment}"
        );
        if attempts > 0.0 {
            let stopped =
                (n("prevented") + n("deceived") + n("interrupted") + n("evicted")).min(attempts);
            assert_eq!(
                e["score"].as_f64().unwrap(),
                (100.0 * stopped / attempts).round()
            );
        }
    }
}

#[test]
fn the_navigator_layer_has_the_formats_fields_and_the_csvs_counts() {
    let out = TempDir::new().unwrap();
    let dir = out.path().join("ransomware-midsize");
    killchain()
        .args([
            "run",
            "scenarios/ransomware-midsize.toml",
            "--trials",
            "20000",
            "--quiet",
            "--navigator",
            "--out",
        ])
        .arg(out.path())
        .assert()
        .success();
    let layer: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("navigator-layer.json")).unwrap()).unwrap();
    let techniques = Csv::read(&dir.join("techniques.csv"));
    check_layer(&layer, &techniques, None);
}

#[test]
fn a_comparison_writes_one_layer_per_variant() {
    let out = TempDir::new().unwrap();
    killchain()
        .args([
            "compare",
            "tests/data/valid/variants.toml",
            "--trials",
            "3000",
            "--quiet",
            "--navigator",
            "--out",
        ])
        .arg(out.path())
        .assert()
        .success();
    let dir = out.path().join("variants");
    let layers: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("navigator-layer.json")).unwrap()).unwrap();
    let techniques = Csv::read(&dir.join("techniques.csv"));
    let comparison = Csv::read(&dir.join("comparison.csv"));
    let layers = layers.as_array().unwrap();
    assert_eq!(layers.len(), comparison.rows.len());
    for (layer, variant) in layers.iter().zip(comparison.column("variant")) {
        assert!(layer["name"].as_str().unwrap().ends_with(variant));
        check_layer(layer, &techniques, Some(variant));
    }
}

#[test]
fn the_workbook_reads_back_as_the_csv_files() {
    use calamine::{Data, Reader, Xlsx};
    let (_out, dir) = fixture_report();
    let mut book: Xlsx<_> = calamine::open_workbook(dir.join("results.xlsx")).unwrap();
    let sheets = book.sheet_names();
    assert_eq!(
        sheets,
        [
            "phases",
            "comparison",
            "phase_deltas",
            "controls",
            "techniques",
            "loss_exceedance",
            "frontier"
        ]
    );
    for sheet in &sheets {
        let csv = Csv::read(&dir.join(format!("{sheet}.csv")));
        let range = book.worksheet_range(sheet).unwrap();
        assert_eq!(range.height(), csv.rows.len() + 1, "{sheet}");
        for (c, h) in csv.header.iter().enumerate() {
            assert_eq!(range.get((0, c)), Some(&Data::String(h.clone())));
        }
        for (r, row) in csv.rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let got = range.get((r + 1, c)).unwrap_or(&Data::Empty);
                let name = &csv.header[c];
                let text_column = [
                    "scenario",
                    "variant",
                    "phase",
                    "control",
                    "controls",
                    "technique",
                    "name",
                    "action",
                    "attack",
                    "method",
                    "currency",
                    "portfolio",
                    "seed",
                    "enabled",
                    "viable",
                ]
                .contains(&name.as_str());
                match got {
                    Data::Empty => assert!(cell.is_empty(), "{sheet} {name} {cell:?}"),
                    Data::Float(x) => {
                        assert!(!text_column, "{sheet} {name} stored as a number");
                        assert_eq!(*x, cell.parse::<f64>().unwrap(), "{sheet} {name}");
                    }
                    Data::String(s) => {
                        assert!(
                            text_column || cell.parse::<f64>().is_err(),
                            "{sheet} {name}: {cell:?} stored as text"
                        );
                        assert_eq!(s.as_str(), cell.trim_start_matches('\''));
                    }
                    other => panic!("{sheet} {name}: unexpected cell {other:?}"),
                }
            }
        }
    }
}

#[test]
fn the_workbook_has_formats_frozen_headers_and_a_chart() {
    let (_out, dir) = fixture_report();
    let bytes = fs::read(dir.join("results.xlsx")).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut read = |name: &str| {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut s).unwrap();
        s
    };
    let styles = read("xl/styles.xml");
    assert!(styles.contains(r#"formatCode="0.00%""#), "percent format");
    assert!(
        styles.contains(r##"formatCode="#,##0 &quot;EUR&quot;""##),
        "money format with the currency: {styles}"
    );
    let phases = read("xl/worksheets/sheet1.xml");
    assert!(phases.contains(r#"ySplit="1""#) && phases.contains(r#"state="frozen""#));
    assert!(phases.contains("<drawing"), "the funnel chart");
    let chart = read("xl/charts/chart1.xml");
    assert!(chart.contains("<c:barChart>") || chart.contains("<c:barChart"));
    // The fixture's phases.csv has a variant column: phase in F, reached in G, broken in H.
    for range in ["phases!$F$2:$F$8", "phases!$G$2:$G$8", "phases!$H$2:$H$8"] {
        assert!(chart.contains(range), "{range}");
    }
}

/// A scenario file as JSON, as an editor's TOML extension sees it.
fn as_json(path: &Path) -> serde_json::Value {
    let text = fs::read_to_string(path).unwrap();
    let value: toml::Value = toml::from_str(&text).unwrap();
    serde_json::to_value(value).unwrap()
}

fn schema() -> jsonschema::Validator {
    let out = killchain().arg("schema").output().unwrap();
    assert!(out.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    jsonschema::draft202012::new(&schema).unwrap()
}

#[test]
fn every_shipped_and_valid_scenario_validates_against_the_schema() {
    let validator = schema();
    let mut files: Vec<_> = fs::read_dir("scenarios")
        .unwrap()
        .chain(fs::read_dir("tests/data/valid").unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.push("benches/data/reference.toml".into());
    assert!(files.len() >= 6);
    for path in files {
        let errors: Vec<String> = validator
            .iter_errors(&as_json(&path))
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
    }
}

#[test]
fn invalid_fixtures_fail_the_schema_when_a_schema_can_tell() {
    let validator = schema();
    // Problems a schema can see: wrong keys, values out of range, malformed ids, unknown
    // phases. The rest need references between ids or facts, which only `validate` follows.
    let detectable = [
        "attack_id_shape",
        "id_formula",
        "landscape_both_tables",
        "landscape_loss_rate",
        "landscape_no_rate",
        "loss_attacks_out_of_range",
        "loss_currency_formula",
        "loss_impact_mixed",
        "loss_impact_not_finite",
        "loss_impact_unknown_key",
        "loss_missing_impact",
        "loss_negative_impact",
        "loss_unknown_key",
        "misspelt_key",
        "misspelt_phase",
        "probability_out_of_range",
        "response_on_deny",
        "trials_zero",
        "two_problems",
        "unknown_key",
        "unknown_phase",
        "weight_not_positive",
    ];
    let mut seen = Vec::new();
    for entry in fs::read_dir("tests/data/invalid").unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = fs::read_to_string(&path).unwrap();
        let Ok(value) = toml::from_str::<toml::Value>(&text) else {
            assert_eq!(
                stem, "toml_syntax",
                "only the syntax fixture fails to parse"
            );
            continue;
        };
        let valid = validator.is_valid(&serde_json::to_value(value).unwrap());
        if detectable.contains(&stem.as_str()) {
            assert!(!valid, "{stem} should fail the schema");
            seen.push(stem);
        } else {
            assert!(valid, "{stem} passes the schema (only `validate` can tell)");
        }
    }
    seen.sort();
    assert_eq!(seen, detectable);
}

#[test]
fn every_field_of_the_schema_has_a_description() {
    let out = killchain().arg("schema").output().unwrap();
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut objects = vec![&schema];
    objects.extend(schema["$defs"].as_object().unwrap().values());
    let mut fields = 0;
    for object in objects {
        for (name, field) in object["properties"].as_object().into_iter().flatten() {
            fields += 1;
            assert!(
                field["description"].as_str().is_some_and(|d| !d.is_empty()),
                "{name} has no description"
            );
        }
    }
    assert!(fields >= 30, "{fields} fields");
}

#[test]
fn report_refuses_folders_without_results() {
    let out = TempDir::new().unwrap();
    let missing = out.path().join("nothing-here");
    killchain()
        .arg("report")
        .arg(&missing)
        .assert()
        .code(2)
        .stdout("")
        .stderr(format!(
            "error: {}: not a folder; give a result folder such as output/<scenario file stem>\n",
            missing.display()
        ));
    killchain()
        .arg("report")
        .arg(out.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no result files"));
    assert_eq!(fs::read_dir(out.path()).unwrap().count(), 0);
    // A folder holding techniques.csv alone has nothing the report draws: nothing is written.
    let run = TempDir::new().unwrap();
    let dir = run_tiny(run.path(), &[]);
    fs::copy(
        dir.join("techniques.csv"),
        out.path().join("techniques.csv"),
    )
    .unwrap();
    killchain()
        .arg("report")
        .arg(out.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot write report.html: it needs phases.csv, controls.csv, comparison.csv, loss_exceedance.csv, frontier.csv, optimize.json or ranking.csv",
        ));
    assert_eq!(fs::read_dir(out.path()).unwrap().count(), 1);
    fs::remove_file(out.path().join("techniques.csv")).unwrap();
    // With phases.csv the report can be drawn, but a layer needs techniques.csv: the page is
    // written, the layer is not, and a note says why.
    fs::copy(dir.join("phases.csv"), out.path().join("phases.csv")).unwrap();
    killchain()
        .args(["report", "--navigator", "--quiet"])
        .arg(out.path())
        .assert()
        .code(0)
        .stdout("")
        .stderr(
            "note: navigator-layer.json: not written: it needs techniques.csv (the per-technique figures of run, exact, merge or compare), and this folder holds none\n",
        );
    assert_eq!(
        crate::support::entries(out.path()),
        ["phases.csv", "report.html"]
    );
    // A damaged CSV file is named.
    fs::write(out.path().join("phases.csv"), "a,b\r\n1\r\n").unwrap();
    killchain()
        .arg("report")
        .arg(out.path())
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(format!(
            "error: {}: phases.csv: ",
            out.path().display()
        )));
}

#[test]
fn completions_are_printed_for_each_shell() {
    for (shell, marker) in [
        ("bash", "_killchain()"),
        ("zsh", "#compdef killchain"),
        ("fish", "complete -c killchain"),
    ] {
        killchain()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains(marker).and(predicate::str::contains("navigator")));
    }
    killchain().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn every_subcommand_help_has_a_worked_example() {
    // Every subcommand clap knows, so a new one cannot be left without an example.
    let command = <killchain::cli::Cli as clap::CommandFactory>::command();
    let subcommands: Vec<String> = command
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect();
    assert!(subcommands.len() >= 11, "{subcommands:?}");
    for sub in &subcommands {
        killchain()
            .args([sub.as_str(), "--help"])
            .assert()
            .success()
            .stdout(
                predicate::str::contains("Example")
                    .and(predicate::str::contains(format!("killchain {sub} "))),
            );
    }
}

/// `run` and `compare` share a folder: `report` shows only the files of the last writer.
#[test]
fn report_renders_the_files_of_the_command_that_wrote_last() {
    let out = TempDir::new().unwrap();
    let dir = out.path().join("variants");
    let play = |command: &str| {
        killchain()
            .args([
                command,
                "tests/data/valid/variants.toml",
                "--trials",
                "500",
                "--quiet",
            ])
            .arg("--out")
            .arg(out.path())
            .assert()
            .success();
        killchain()
            .args(["report", "--quiet"])
            .arg(&dir)
            .assert()
            .success();
        fs::read_to_string(dir.join("report.html")).unwrap()
    };
    let html = play("run");
    assert!(html.contains("<p class=\"summary\">Completed attacks"));
    let html = play("compare");
    assert!(html.contains("Variants against the baseline"));
    assert!(html.contains("<p class=\"summary\">Baseline: completed attacks"));
    let html = play("run");
    assert!(
        !html.contains("Variants against the baseline"),
        "stale comparison shown"
    );
    assert!(html.contains("<p class=\"summary\">Completed attacks"));
}

/// TOML has no null: the schema never allows or proposes one, and it offers the defaults.
#[test]
fn the_schema_offers_toml_values_only() {
    let out = killchain().arg("schema").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("null"), "the schema mentions null");
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let defs = &schema["$defs"];
    assert_eq!(defs["RawMeta"]["properties"]["trials"]["default"], 100000);
    assert_eq!(defs["RawMeta"]["properties"]["seed"]["default"], 1);
    assert_eq!(
        defs["RawAdversary"]["properties"]["max_attempts"]["default"],
        1
    );
    assert_eq!(defs["RawTechnique"]["properties"]["weight"]["default"], 1);
    assert_eq!(defs["RawControl"]["properties"]["response"]["default"], 1);
    assert_eq!(defs["RawControl"]["properties"]["enabled"]["default"], true);
    assert_eq!(defs["RawControl"]["properties"]["name"]["type"], "string");
}

/// The number format of every styled cell of one sheet of a workbook, by cell reference
/// (`E2`), read from the sheet's and the styles' XML.
fn cell_formats(xlsx: &Path, sheet_index: usize) -> BTreeMap<String, String> {
    let bytes = fs::read(xlsx).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut read = |name: &str| {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut s).unwrap();
        s
    };
    let styles = read("xl/styles.xml");
    let sheet = read(&format!("xl/worksheets/sheet{sheet_index}.xml"));
    let styles = roxmltree::Document::parse(&styles).unwrap();
    // Excel's built-in formats that rust_xlsxwriter uses instead of writing them out.
    let mut codes: BTreeMap<String, String> = [("0", "General"), ("3", "#,##0"), ("10", "0.00%")]
        .map(|(id, code)| (id.to_owned(), code.to_owned()))
        .into();
    for f in styles.descendants().filter(|n| n.has_tag_name("numFmt")) {
        codes.insert(
            f.attribute("numFmtId").unwrap().to_owned(),
            f.attribute("formatCode").unwrap().to_owned(),
        );
    }
    let xfs: Vec<String> = styles
        .descendants()
        .find(|n| n.has_tag_name("cellXfs"))
        .unwrap()
        .children()
        .filter(|n| n.has_tag_name("xf"))
        .map(|xf| {
            let id = xf.attribute("numFmtId").unwrap_or("0");
            codes
                .get(id)
                .cloned()
                .unwrap_or_else(|| format!("builtin {id}"))
        })
        .collect();
    let sheet = roxmltree::Document::parse(&sheet).unwrap();
    sheet
        .descendants()
        .filter(|n| n.has_tag_name("c"))
        .map(|c| {
            let s: usize = c.attribute("s").unwrap_or("0").parse().unwrap();
            (c.attribute("r").unwrap().to_owned(), xfs[s].clone())
        })
        .collect()
}

/// The spreadsheet column letters of a 0-based column index.
fn column_letters(mut i: usize) -> String {
    let mut s = String::new();
    loop {
        s.insert(0, char::from(b'A' + (i % 26) as u8));
        if i < 26 {
            return s;
        }
        i = i / 26 - 1;
    }
}

/// Checks that every non-empty cell of `columns` of a CSV file has number format `code` in
/// the workbook's sheet.
fn assert_format(formats: &BTreeMap<String, String>, csv: &Csv, columns: &[&str], code: &str) {
    for name in columns {
        let c = csv.col(name);
        for (r, row) in csv.rows.iter().enumerate() {
            if row[c].is_empty() {
                continue;
            }
            let cell = format!("{}{}", column_letters(c), r + 2);
            assert_eq!(
                formats.get(&cell).map(String::as_str),
                Some(code),
                "{name} at {cell}"
            );
        }
    }
}

#[test]
fn the_workbook_shows_money_in_the_currency_and_rates_as_percentages() {
    assert_eq!(column_letters(0), "A");
    assert_eq!(column_letters(25), "Z");
    assert_eq!(column_letters(26), "AA");
    let (_out, dir) = fixture_report();
    let xlsx = dir.join("results.xlsx");
    // Sheets in CSV_FILES order: phases, comparison, phase_deltas, controls, techniques,
    // loss_exceedance, frontier.
    let cmp = Csv::read(&dir.join("comparison.csv"));
    let formats = cell_formats(&xlsx, 2);
    let money = [
        "annual_cost",
        "expected_annual_loss",
        "ale_ci_low",
        "ale_ci_high",
        "ale_reduction",
        "ale_reduction_ci_low",
        "ale_reduction_ci_high",
        "loss_p50",
        "loss_p90",
        "loss_p99",
    ];
    assert_format(&formats, &cmp, &money, "#,##0 \"EUR\"");
    assert_format(
        &formats,
        &cmp,
        &["completion_rate", "ci_low", "ci_high"],
        "0.00%",
    );
    assert_format(
        &formats,
        &cmp,
        &["delta", "delta_ci_low", "delta_ci_high"],
        "+0.00%;-0.00%;0.00%",
    );
    assert_format(&formats, &cmp, &["rosi"], "#,##0.00####");
    // frontier.csv states no currency: money without a code.
    let fr = Csv::read(&dir.join("frontier.csv"));
    let formats = cell_formats(&xlsx, 7);
    assert_format(
        &formats,
        &fr,
        &[
            "annual_cost",
            "expected_annual_loss",
            "ale_ci_low",
            "ale_ci_high",
        ],
        "#,##0",
    );
    assert_format(&formats, &fr, &["completion_rate"], "0.00%");
}

/// The frontier chart's points: each portfolio on the frontier, in the file's order, with a
/// tooltip naming its controls (never its portfolio number), cost and expected annual loss, or
/// completion rate while the loss cells are empty.
fn assert_frontier_labels(html: &str, frontier: &Csv) {
    let svgs = svg_values(html);
    assert!(
        !svgs
            .last()
            .expect("a frontier chart")
            .contains_key("v-name")
    );
    let chart = section_of(html, "Cost and risk frontier");
    let has_loss = frontier
        .column("expected_annual_loss")
        .iter()
        .any(|c| !c.is_empty());
    let mut from = 0;
    let mut seen = 0;
    for i in 0..frontier.rows.len() {
        if frontier.get(i, "on_frontier") != "true" {
            continue;
        }
        let controls = match frontier.get(i, "controls") {
            "" => "no candidate",
            c => c,
        };
        let number = |name: &str| frontier.get(i, name).parse::<f64>().unwrap();
        let risk = if has_loss {
            format!(
                "expected annual loss {}",
                count(number("expected_annual_loss").round())
            )
        } else {
            format!("completion rate {}", percent(number("completion_rate")))
        };
        let tooltip = format!(
            "<title>{controls}: annual cost {}, {risk}",
            count(number("annual_cost").round())
        );
        let at = chart[from..]
            .find(&tooltip)
            .unwrap_or_else(|| panic!("{tooltip} out of order or missing"));
        from += at + tooltip.len();
        seen += 1;
    }
    assert!(seen >= 2, "{seen} frontier points");
}

#[test]
fn optimize_writes_a_report_and_workbook_of_its_frontier() {
    let out = TempDir::new().unwrap();
    let dir = out.path().join("small");
    let optimize = || {
        killchain()
            .args([
                "optimize",
                "tests/data/optimize/small.toml",
                "--budget",
                "50",
                "--method",
                "monte-carlo",
                "--trials",
                "2000",
                "--quiet",
                "--report",
                "--xlsx",
                "--out",
            ])
            .arg(out.path())
            .assert()
            .code(0)
            .stdout("")
            .stderr("");
        fs::read_to_string(dir.join("report.html")).unwrap()
    };
    let html = optimize();
    assert_self_contained(&html);
    let frontier = Csv::read(&dir.join("frontier.csv"));
    assert_eq!(svg_values(&html).len(), 1, "the frontier alone");
    assert_frontier_labels(&html, &frontier);
    assert!(html.contains("<h1>Small optimisation</h1>"));
    for fact in [
        "<dt>budget</dt><dd>50</dd>",
        "<dt>seed</dt><dd>7</dd>",
        "<dt>trials</dt><dd>2000</dd>",
        "<dt>scenario file</dt><dd>tests/data/optimize/small.toml</dd>",
    ] {
        assert!(html.contains(fact), "{fact}");
    }
    {
        use calamine::{Reader, Xlsx};
        let book: Xlsx<_> = calamine::open_workbook(dir.join("results.xlsx")).unwrap();
        assert_eq!(book.sheet_names(), ["frontier"]);
    }
    // With a run's files in the folder: `optimize --report` still shows its frontier alone, and
    // `killchain report` shows the run and the frontier, each from its own files.
    killchain()
        .args([
            "run",
            "tests/data/optimize/small.toml",
            "--trials",
            "500",
            "--quiet",
            "--out",
        ])
        .arg(out.path())
        .assert()
        .success();
    let html = optimize();
    assert_eq!(svg_values(&html).len(), 1, "the frontier alone");
    assert!(!html.contains("Kill-chain funnel"));
    killchain()
        .args(["report", "--quiet"])
        .arg(&dir)
        .assert()
        .success();
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("<p class=\"summary\">Completed attacks"));
    assert!(html.contains("Kill-chain funnel"));
    assert!(html.contains("Cost and risk frontier"));
    assert_frontier_labels(&html, &Csv::read(&dir.join("frontier.csv")));
}

#[test]
fn a_comparison_without_loss_figures_has_no_money_charts() {
    let out = TempDir::new().unwrap();
    killchain()
        .args([
            "compare",
            "tests/data/valid/variants.toml",
            "--trials",
            "500",
            "--quiet",
            "--report",
            "--out",
        ])
        .arg(out.path())
        .assert()
        .success();
    let html = fs::read_to_string(out.path().join("variants/report.html")).unwrap();
    assert!(html.contains("Variants against the baseline"));
    for absent in [
        "Expected annual loss saved",
        "Cost and expected annual loss",
    ] {
        assert!(!html.contains(absent), "{absent}");
    }
}

/// The part of a page from a section's heading to its end.
fn section_of<'a>(html: &'a str, heading: &str) -> &'a str {
    html.split(&format!("<h2>{heading}</h2>"))
        .nth(1)
        .unwrap_or_else(|| panic!("no section {heading:?}"))
        .split("</section>")
        .next()
        .unwrap()
}

/// `optimize --report` of `scenario` with `budget` into `out`: the folder.
fn optimize_report(out: &Path, scenario: &str, budget: &str) -> std::path::PathBuf {
    killchain()
        .args(["optimize", scenario, "--budget", budget, "--trials", "5000"])
        .args([
            "--method",
            "monte-carlo",
            "--threads",
            "2",
            "--report",
            "--quiet",
        ])
        .arg("--out")
        .arg(out)
        .assert()
        .code(0)
        .stdout("")
        .stderr("");
    out.join(Path::new(scenario).file_stem().unwrap())
}

/// "150,000 USD".
fn usd(x: f64) -> String {
    format!("{} USD", count(x.round()))
}

#[test]
fn the_optimize_page_says_what_to_buy_within_the_budget() {
    let out = TempDir::new().unwrap();
    let dir = optimize_report(out.path(), "scenarios/ransomware-midsize.toml", "150000");
    let bytes = fs::read(dir.join("report.html")).unwrap();
    let fr = Csv::read(&dir.join("frontier.csv"));
    // Every one of the 2^15 portfolios is in frontier.csv; the page stays small all the same.
    assert_eq!(fr.rows.len(), 32_768);
    assert!(
        bytes.len() < 150 * 1024,
        "report.html is {} bytes",
        bytes.len()
    );
    let html = String::from_utf8(bytes).unwrap();
    assert_self_contained(&html);
    let opt: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("optimize.json")).unwrap()).unwrap();

    // The best within the budget and the next better above it, worked out from frontier.csv:
    // the lowest loss at a cost within the budget; the cheapest dearer one with a lower loss.
    let (cost, ale) = (
        fr.numbers("annual_cost"),
        fr.numbers("expected_annual_loss"),
    );
    let best = (0..fr.rows.len())
        .filter(|&i| cost[i] <= 150_000.0)
        .min_by(|&i, &j| ale[i].total_cmp(&ale[j]))
        .unwrap();
    let next = (0..fr.rows.len())
        .find(|&i| cost[i] > 150_000.0 && ale[i] < ale[best])
        .unwrap();
    let ids = |i: usize| -> Vec<String> {
        fr.get(i, "controls")
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let json_ids = |key: &str| -> Vec<String> {
        opt[key]["controls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(json_ids("best_within_budget"), ids(best));
    assert_eq!(json_ids("next_better"), ids(next));
    assert!(ids(best).len() >= 3 && ids(best) != ids(next));

    // The chart: the budget as a line, the two portfolios labelled with their controls, cost,
    // loss and interval, the frontier named in the legend, currency on both money axes.
    let chart = section_of(&html, "Cost and risk frontier");
    let svgs = svg_values(&html);
    assert_eq!(svgs.len(), 1, "the frontier chart alone");
    let v = &svgs[0];
    assert_eq!(v["v-budget"], ["budget 150,000 USD"]);
    assert_eq!(
        chart.matches("class=\"budget\"").count(),
        2,
        "line and legend"
    );
    assert_eq!(
        v["v-pick-title"],
        ["Best within the budget", "Next better, above the budget"]
    );
    assert_eq!(v["v-pick-cost"], [usd(cost[best]), usd(cost[next])]);
    assert_eq!(v["v-pick-risk"], [usd(ale[best]), usd(ale[next])]);
    let lo = fr.numbers("ale_ci_low");
    // The interval as optimize.json states it (frontier.csv rounds it to cents first).
    let ci = |key: &str| {
        let p = &opt[key];
        let (l, h) = (
            p["ale_ci_low"].as_f64().unwrap(),
            p["ale_ci_high"].as_f64().unwrap(),
        );
        assert!((l - lo[if key == "next_better" { next } else { best }]).abs() < 0.01);
        format!("{} – {}", count(l.round()), count(h.round()))
    };
    assert_eq!(
        v["v-pick-ci"],
        [ci("best_within_budget"), ci("next_better")]
    );
    let labelled = v["v-pick-controls"].join(" ");
    for id in ids(best).iter().chain(&ids(next)) {
        assert!(labelled.contains(id.as_str()), "{id} in {labelled}");
    }
    assert!(chart.contains("annual cost of the controls (USD)"));
    assert!(chart.contains("expected annual loss (USD), log scale"));
    assert!(chart.contains("the frontier: the "));
    // No point is named by its portfolio number.
    assert!(!v.contains_key("v-name"));
    let best_mask = fr.get(best, "portfolio");
    assert!(!chart.contains(&format!(">{best_mask}<")), "{best_mask}");
    // The frontier point by point; the other 32,000-odd portfolios as shaded squares, not
    // one element each.
    let on = fr
        .column("on_frontier")
        .iter()
        .filter(|c| **c == "true")
        .count();
    assert!(on > 20, "{on} frontier points");
    assert_eq!(
        chart.matches("<circle").count(),
        on + 1 + 1,
        "frontier, best, legend"
    );
    assert_eq!(chart.matches("<g class=\"cloud\">").count(), 1);
    assert!(chart.contains(&format!(
        "{} other portfolios evaluated",
        count((fr.rows.len() - on) as f64)
    )));

    // The table: the two portfolios and the scenario as written, each control with its name
    // and cost from the scenario.
    let table = section_of(&html, "What to buy");
    assert!(table.contains("Best within the budget of 150,000 USD"));
    assert!(table.contains("Next better, above the budget"));
    let listed: Vec<&str> = table
        .split("<code class=\"v-control\">")
        .skip(1)
        .map(|s| s.split('<').next().unwrap())
        .collect();
    let expected = [ids(best), ids(next), json_ids("as_written")].concat();
    assert_eq!(listed, expected);
    let scenario = crate::support::load("scenarios/ransomware-midsize.toml");
    for id in ids(best) {
        let c = scenario.controls.iter().find(|c| c.id == id).unwrap();
        let item = format!(
            "<code class=\"v-control\">{id}</code> {} — {}</li>",
            c.name,
            usd(c.cost.unwrap())
        );
        assert!(table.contains(&item), "{item}");
    }
    let b = &opt["best_within_budget"];
    let whole = |k: &str| count(b[k].as_f64().unwrap().round());
    assert!(table.contains(&format!(
        "<td class=\"num v-ale\">{} [{}, {}]</td>",
        whole("expected_annual_loss"),
        whole("ale_ci_low"),
        whole("ale_ci_high")
    )));
    assert!(table.contains("<b>Next better − best</b> (+"));
    assert!(table.contains("<b>Best − as written</b> ("));
}

#[test]
fn an_optimize_page_without_a_loss_model_and_with_nothing_better_above_the_budget() {
    let out = TempDir::new().unwrap();
    // A budget above every portfolio: the best is within it, nothing is above it.
    let dir = optimize_report(out.path(), "tests/data/optimize/small.toml", "1000000");
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    let table = section_of(&html, "What to buy");
    assert!(!table.contains("expected annual loss"), "no loss model");
    assert!(table.contains("none evaluated: no dearer portfolio is better"));
    let chart = section_of(&html, "Cost and risk frontier");
    let v = &svgs_of(chart)[0];
    assert_eq!(v["v-pick-title"], ["Best within the budget"]);
    // The budget is far above the costs: said in the legend, not drawn as a line.
    assert!(!v.contains_key("v-budget"));
    assert!(chart.contains(">budget: 1,000,000 a year, above every</text>"));
    assert!(chart.contains(">completion rate</text>"));
    // A small search: every other portfolio is a point with its own tooltip.
    let fr = Csv::read(&dir.join("frontier.csv"));
    let off = fr
        .column("on_frontier")
        .iter()
        .filter(|c| **c == "false")
        .count();
    assert!(off > 0);
    assert_eq!(chart.matches("fill-opacity=\"0.6\"/></g>").count(), off);
}

fn svgs_of(fragment: &str) -> Vec<BTreeMap<String, Vec<String>>> {
    svg_values(fragment)
}

#[test]
fn report_of_an_optimize_folder_writes_what_applies_and_says_what_it_does_not() {
    let out = TempDir::new().unwrap();
    let dir = optimize_report(out.path(), "tests/data/optimize/small-loss.toml", "100");
    let page = fs::read(dir.join("report.html")).unwrap();
    fs::remove_file(dir.join("report.html")).unwrap();
    killchain()
        .args(["report", "--navigator", "--xlsx"])
        .arg(&dir)
        .assert()
        .code(0)
        .stdout(format!(
            "wrote report.html, results.xlsx in {}\n",
            dir.display()
        ))
        .stderr(
            "note: navigator-layer.json: not written: it needs techniques.csv (the per-technique figures of run, exact, merge or compare), and an optimize folder has none\n",
        );
    // The page is the one `optimize --report` wrote: optimize.json states the provenance.
    assert_eq!(fs::read(dir.join("report.html")).unwrap(), page);
    assert_eq!(
        crate::support::entries(&dir),
        [
            "frontier.csv",
            "optimize.json",
            "report.html",
            "results.xlsx"
        ]
    );
    let html = String::from_utf8(page).unwrap();
    assert!(html.contains("<dt>budget</dt><dd>100 EUR</dd>"));
    // `report --help` names the folders it renders and what --navigator does with them.
    killchain()
        .args(["report", "--help"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("optimize (frontier.csv, optimize.json)")
                .and(predicate::str::contains(
                    "optimize or rank folder does not hold",
                ))
                .and(predicate::str::contains("rank (ranking.csv: a forest plot")),
        );
}

/// The width Excel gives each column of a sheet, in characters, by column index.
fn column_widths(sheet_xml: &str) -> Vec<f64> {
    let doc = roxmltree::Document::parse(sheet_xml).unwrap();
    let mut widths = Vec::new();
    for col in doc.descendants().filter(|n| n.has_tag_name("col")) {
        let attr = |a: &str| col.attribute(a).unwrap().parse::<f64>().unwrap();
        let (min, max) = (attr("min") as usize, attr("max") as usize);
        if widths.len() < max {
            widths.resize(max, 0.0);
        }
        for w in &mut widths[min - 1..max] {
            *w = attr("width");
        }
    }
    widths
}

/// Digits of `x` rounded, with a thousands separator every three digits.
fn with_separators(x: f64) -> String {
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    if x < 0.0 { format!("-{out}") } else { out }
}

#[test]
fn every_sheet_has_an_autofilter_and_columns_as_wide_as_their_cells() {
    use calamine::Reader;
    let (_out, dir) = fixture_report();
    let bytes = fs::read(dir.join("results.xlsx")).unwrap();
    let sheets = calamine::Xlsx::new(std::io::Cursor::new(bytes.clone()))
        .unwrap()
        .sheet_names();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    for (i, sheet) in sheets.iter().enumerate() {
        let mut xml = String::new();
        std::io::Read::read_to_string(
            &mut zip
                .by_name(&format!("xl/worksheets/sheet{}.xml", i + 1))
                .unwrap(),
            &mut xml,
        )
        .unwrap();
        let csv = Csv::read(&dir.join(format!("{sheet}.csv")));
        let last = column_letters(csv.header.len() - 1);
        assert!(
            xml.contains(&format!(
                r#"<autoFilter ref="A1:{last}{}"/>"#,
                csv.rows.len() + 1
            )),
            "{sheet}: no autofilter over the whole table"
        );
        let widths = column_widths(&xml);
        assert_eq!(
            widths.len(),
            csv.header.len(),
            "{sheet}: a width per column"
        );
        for (c, h) in csv.header.iter().enumerate() {
            let width = widths[c];
            // The header, bold, and the filter's drop-down button beside it.
            assert!(width >= h.len() as f64 + 2.0, "{sheet}.{h}: {width}");
            // Text in the default font: no narrower than 0.8 of a digit per character (the
            // narrowest ids, such as "initial-access", average more).
            let longest = csv.column(h).iter().map(|s| s.chars().count()).max();
            let longest = longest.unwrap_or(0) as f64;
            if !csv.column(h).iter().any(|s| s.parse::<f64>().is_ok()) {
                assert!(
                    width >= 0.8 * longest,
                    "{sheet}.{h}: {width} < 0.8 × {longest}"
                );
            }
            // Money as its format shows it: "1,234,567 EUR".
            if [
                "annual_cost",
                "expected_annual_loss",
                "ale_ci_high",
                "loss_p99",
            ]
            .contains(&h.as_str())
            {
                let shown = csv
                    .column(h)
                    .iter()
                    .filter_map(|s| s.parse::<f64>().ok())
                    .map(|x| with_separators(x).len() + " EUR".len())
                    .max()
                    .unwrap();
                assert!(width >= shown as f64, "{sheet}.{h}: {width} < {shown}");
            }
        }
    }
    // The phase ids, the longest being actions_on_objectives, are not cut.
    let phases = Csv::read(&dir.join("phases.csv"));
    let mut xml = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("xl/worksheets/sheet1.xml").unwrap(),
        &mut xml,
    )
    .unwrap();
    let phase_width = column_widths(&xml)[phases.col("phase")];
    assert!(
        phase_width >= "actions_on_objectives".len() as f64,
        "{phase_width}"
    );
}

#[test]
fn the_frontier_sheet_of_32768_portfolios_has_an_autofilter() {
    use calamine::Reader;
    let out = TempDir::new().unwrap();
    killchain()
        .args([
            "optimize",
            "scenarios/ransomware-midsize.toml",
            "--budget",
            "150000",
            "--trials",
            "2000",
            "--quiet",
            "--xlsx",
            "--out",
        ])
        .arg(out.path())
        .assert()
        .success();
    let path = out.path().join("ransomware-midsize/results.xlsx");
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&path).unwrap();
    assert_eq!(book.sheet_names(), ["frontier"]);
    let rows = book.worksheet_range("frontier").unwrap().height();
    assert_eq!(
        rows,
        32_768 + 1,
        "every portfolio of 15 candidates and the header"
    );
    let bytes = fs::read(&path).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut xml = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("xl/worksheets/sheet1.xml").unwrap(),
        &mut xml,
    )
    .unwrap();
    let header = Csv::read(&out.path().join("ransomware-midsize/frontier.csv")).header;
    let last = column_letters(header.len() - 1);
    assert!(xml.contains(&format!(r#"<autoFilter ref="A1:{last}32769"/>"#)));
}

#[test]
fn the_funnel_charts_labels_have_room_at_its_size() {
    let (_out, dir) = fixture_report();
    let bytes = fs::read(dir.join("results.xlsx")).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut read = |name: &str| {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut s).unwrap();
        s
    };
    let drawing = read("xl/drawings/drawing1.xml");
    let drawing = roxmltree::Document::parse(&drawing).unwrap();
    // The chart spans cells right of the table, of Excel's default size (64 × 20 pixels).
    let cell = |edge: &str, what: &str| -> f64 {
        let node = drawing
            .descendants()
            .find(|n| n.has_tag_name(edge))
            .unwrap();
        let n = node.children().find(|n| n.has_tag_name(what)).unwrap();
        n.text().unwrap().parse().unwrap()
    };
    let width = (cell("to", "col") - cell("from", "col")) * 64.0;
    let height = (cell("to", "row") - cell("from", "row")) * 20.0;
    assert!(width >= 900.0 && height >= 450.0, "{width} × {height} px");
    let chart = read("xl/charts/chart1.xml");
    let chart = roxmltree::Document::parse(&chart).unwrap();
    // (rotation in degrees, line height in pixels) of the text under `parent`.
    let text = |parent: roxmltree::Node| {
        let body = parent
            .descendants()
            .find(|n| n.has_tag_name("bodyPr"))
            .unwrap();
        let rot = body.attribute("rot").unwrap().parse::<f64>().unwrap() / 60_000.0;
        let size = parent
            .descendants()
            .find(|n| n.has_tag_name("defRPr"))
            .and_then(|n| n.attribute("sz"))
            .unwrap()
            .parse::<f64>()
            .unwrap()
            / 100.0;
        (rot, size * 1.2 * 96.0 / 72.0)
    };
    let axis = chart
        .descendants()
        .find(|n| n.has_tag_name("catAx"))
        .unwrap();
    let (rot, line) = text(axis.children().find(|n| n.has_tag_name("txPr")).unwrap());
    // Seven phases share the plot, at most the chart's width less the value axis.
    let slot = (width - 100.0) / 7.0;
    // Slanted labels sit side by side at a horizontal distance of line / sin(angle).
    let angle = rot.abs().to_radians();
    assert!(rot.abs() >= 30.0, "phase ids slanted: {rot}°");
    assert!(line / angle.sin() <= slot, "{line} / sin {rot}° > {slot}");
    // Two bars per phase with Excel's default gap of 150 % of a bar between groups.
    let bar = slot / 3.5;
    let labels: Vec<_> = chart
        .descendants()
        .filter(|n| n.has_tag_name("dLbls"))
        .collect();
    assert_eq!(labels.len(), 2, "counts on both series");
    for l in labels {
        let (rot, line) = text(l.children().find(|n| n.has_tag_name("txPr")).unwrap());
        assert_eq!(rot.abs(), 90.0, "counts upright");
        assert!(
            line <= bar,
            "a count ({line} px) wider than its bar ({bar} px)"
        );
    }
}

#[test]
fn non_ascii_names_reach_a_spreadsheet_whole() {
    use calamine::{Data, Reader, Xlsx};
    let out = TempDir::new().unwrap();
    let text = fs::read_to_string("tests/data/valid/tiny.toml")
        .unwrap()
        .replace("name = \"Tiny\"", "name = \"Société Générale 2024-03-01\"");
    let scenario = out.path().join("société.toml");
    fs::write(&scenario, text).unwrap();
    killchain()
        .args(["run", "--quiet", "--xlsx", "--report", "--out"])
        .arg(out.path())
        .arg(&scenario)
        .assert()
        .code(0);
    let dir = out.path().join("société");
    for file in ["phases.csv", "controls.csv", "techniques.csv"] {
        let bytes = fs::read(dir.join(file)).unwrap();
        // The byte order mark, then UTF-8 that begins with the header.
        assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "{file}");
        let text = std::str::from_utf8(&bytes[3..]).unwrap();
        assert!(text.starts_with("scenario,"), "{file}");
        assert!(text.contains("\r\nSociété Générale 2024-03-01,"), "{file}");
        // A CSV reader that knows the mark sees the plain header.
        assert_eq!(Csv::read(&dir.join(file)).header[0], "scenario", "{file}");
    }
    // `report` reads the files back through the mark: the same workbook and page.
    let book_before = fs::read(dir.join("results.xlsx")).unwrap();
    let page_before = fs::read(dir.join("report.html")).unwrap();
    killchain()
        .args(["report", "--quiet", "--xlsx"])
        .arg(&dir)
        .assert()
        .code(0);
    assert_eq!(fs::read(dir.join("results.xlsx")).unwrap(), book_before);
    assert_eq!(fs::read(dir.join("report.html")).unwrap(), page_before);
    let page = String::from_utf8(page_before).unwrap();
    assert!(page.contains("Société Générale 2024-03-01"));
    assert!(!page.contains('\u{feff}'), "no mark on the page");
    let mut book: Xlsx<_> = calamine::open_workbook(dir.join("results.xlsx")).unwrap();
    let phases = book.worksheet_range("phases").unwrap();
    assert_eq!(phases.get((0, 0)), Some(&Data::String("scenario".into())));
    // The name stays text, not a date, in the workbook.
    assert_eq!(
        phases.get((1, 0)),
        Some(&Data::String("Société Générale 2024-03-01".into()))
    );
}

#[test]
fn an_ascii_csv_file_has_no_byte_order_mark() {
    let out = TempDir::new().unwrap();
    let dir = run_tiny(out.path(), &[]);
    for file in ["phases.csv", "controls.csv", "techniques.csv"] {
        let bytes = fs::read(dir.join(file)).unwrap();
        assert!(bytes.is_ascii(), "{file}");
        assert!(bytes.starts_with(b"scenario,"), "{file}");
    }
}
