//! `report.html`: one self-contained page (inline CSS and SVG, no script, nothing fetched) drawn
//! from a [`ResultFolder`]'s files: here the page's frame, its summary, the money block, one
//! section per chart whose file the folder holds (a ranking's too), and the provenance footer;
//! the charts are in `chain`, `forest` and `money`, drawn with the toolkit in `svg`.
//!
//! Invariant: every chart of a page draws an arm (the baseline, a variant) in one style, that of
//! the page's [`Arms`]; a caption names a colour only through `svg::colour_word`.
//!
//! Numbers printed on the charts carry a `class` (`v-reached`, `v-broken`, `v-rate`, `v-breaks`,
//! `v-delta`, …) so that tests can compare them with the CSV; marks of an arm carry `data-arm`.

mod chain;
mod forest;
mod frontier;
mod money;
mod svg;

use std::fmt::Write as _;

use super::folder::{ResultFolder, Table};
use super::format::expected_count;
pub use super::format::{count, percent, points, ratio};
use chain::{attribution_svg, funnel_svg};
use forest::{ale_forest_svg, forest_svg, ranking_svg};
use frontier::{Choice, Rate, choice_html, frontier_svg};
use money::{MoneyRow, exceedance_svg, money_block, power_table, variants_cost_loss_svg};
use svg::{Arms, BROKEN, GREY, PASSED, colour_word, esc};

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;margin:0 auto;max-width:1040px;padding:16px 24px;color:#1a1a1a;background:#fff}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;margin:1.6em 0 .3em;border-bottom:1px solid #ccc;padding-bottom:.2em}
p.note{color:#444;font-size:.9em;margin:.2em 0 .6em}p.summary{font-size:1.05em}
svg{display:block;max-width:100%;height:auto}svg text{font-family:inherit;font-size:12px;fill:#1a1a1a}
svg .axis{stroke:#555;stroke-width:1}svg .grid{stroke:#e3e3e3;stroke-width:1}svg .title{font-weight:600}
svg .small{font-size:11px;fill:#444}svg .zero{stroke:#555;stroke-dasharray:4 3}
table.money{border-collapse:collapse;margin:.4em 0}table.money th,table.money td{padding:3px 0 3px 22px;text-align:right;white-space:nowrap}table.money th.arm{text-align:left;font-weight:normal;padding-left:0}table.money td.v-ale{font-weight:600}
span.swatch{display:inline-block;width:26px;margin-right:8px;vertical-align:middle}
footer{margin-top:2em;border-top:1px solid #ccc;padding-top:.5em;font-size:.85em;color:#444}
footer dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px;margin:0}footer dt{font-weight:600}footer dd{margin:0;word-break:break-all}
svg .budget{stroke:#1a1a1a;stroke-width:1.5;stroke-dasharray:6 4}
table.choice{border-collapse:collapse;font-size:.9em;margin:.4em 0 .8em;width:100%}table.choice tbody th{width:12em}table.choice th,table.choice td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
table.choice td.num{text-align:right;white-space:nowrap}table.choice ul{margin:0;padding-left:1.1em}table.choice tr.best th{color:#0072b2}table.choice tr.next th{color:#009e73}";

/// The rows of the first variant (the baseline) of a table.
fn first_variant(t: &Table) -> (String, Vec<&Vec<String>>) {
    t.by_variant()
        .into_iter()
        .next()
        .unwrap_or_else(|| (crate::scenario::BASELINE.to_owned(), Vec::new()))
}

/// The rows of the first variant and, for a comparison's table, the sentence that says whose
/// they are.
fn shown_for(t: &Table) -> (String, Vec<&Vec<String>>) {
    let (variant, rows) = first_variant(t);
    let whose = if t.col("variant").is_some() {
        format!(" Shown for the {variant}.")
    } else {
        String::new()
    };
    (whose, rows)
}

/// The page's arms: the baseline, then the variants as comparison.csv (else
/// loss_exceedance.csv, phases.csv) lists them; one arm on a run's page.
fn arms_of(folder: &ResultFolder) -> Arms {
    let mut names: Vec<String> = Vec::new();
    for file in ["comparison.csv", "loss_exceedance.csv", "phases.csv"] {
        if let Some(t) = folder.table(file).filter(|t| t.col("variant").is_some()) {
            names.extend(t.by_variant().into_iter().map(|(v, _)| v));
        }
    }
    Arms::new(names.iter().map(String::as_str))
}

/// Whether a row of a table, or run.json, comes from the exact method.
fn is_exact(method: &str) -> bool {
    method == "exact"
}

/// The completed attacks, trials, completion rate and its interval, and whether they are exact
/// (expected counts): from run.json, or from the baseline's row of comparison.csv (then
/// prefixed "Baseline: c", else "C").
#[allow(clippy::type_complexity)]
fn summary(
    folder: &ResultFolder,
) -> Option<(&'static str, f64, f64, f64, Option<(f64, f64)>, bool)> {
    if let Some(run) = &folder.run {
        let ci = run["completion_ci_low"]
            .as_f64()
            .zip(run["completion_ci_high"].as_f64());
        return Some((
            "C",
            run["completed"].as_f64()?,
            run["trials"].as_f64()?,
            run["completion_rate"].as_f64()?,
            ci,
            is_exact(run["method"].as_str().unwrap_or("")),
        ));
    }
    let t = folder.table("comparison.csv")?;
    let row = t
        .rows
        .iter()
        .find(|r| t.text(r, "variant") == crate::scenario::BASELINE)?;
    Some((
        "Baseline: c",
        t.num(row, "completed")?,
        t.num(row, "trials")?,
        t.num(row, "completion_rate")?,
        t.num(row, "ci_low").zip(t.num(row, "ci_high")),
        is_exact(t.text(row, "method")),
    ))
}

/// The money block of a run (from run.json's `loss`) or of a comparison (from comparison.csv's
/// loss columns): its rows, currency, whether exact, and the sentence under its title.
fn money_rows(folder: &ResultFolder) -> Option<(Vec<MoneyRow<'_>>, String, bool, String)> {
    if let Some(run) = &folder.run {
        let loss = run.get("loss").filter(|l| l.is_object())?;
        let exact = is_exact(run["method"].as_str().unwrap_or(""));
        let ale = loss["expected_annual_loss"].as_f64().map(|m| {
            (
                m,
                loss["ale_ci_low"].as_f64().unwrap_or(m),
                loss["ale_ci_high"].as_f64().unwrap_or(m),
            )
        });
        let p = |k: &str| loss[k].as_f64();
        let percentiles = match (p("loss_p50"), p("loss_p90"), p("loss_p99")) {
            (Some(a), Some(b), Some(c)) => Some([a, b, c]),
            _ => None,
        };
        let pair = |k: &str| {
            let v = loss[k].as_array()?;
            Some((v.first()?.as_f64()?, v.get(1)?.as_f64()?))
        };
        let percentile_ci = match (
            pair("loss_p50_ci"),
            pair("loss_p90_ci"),
            pair("loss_p99_ci"),
        ) {
            (Some(a), Some(b), Some(c)) => Some([a, b, c]),
            _ => None,
        };
        let currency = loss["currency"].as_str().unwrap_or("").to_owned();
        let per_year = loss["attacks_per_year"].as_f64().unwrap_or(0.0);
        let impact = loss["impact"].as_str().unwrap_or("");
        let mean = loss["mean_impact"].as_f64().unwrap_or(0.0);
        let how = if exact {
            "exact: attacks a year × probability a campaign completes × mean impact; the percentiles are not computed by the exact method".to_owned()
        } else {
            format!(
                "over {} simulated years of the run's trials; the interval is the expected annual loss's 95 % interval (skewness-corrected), P50, P90 and P99 the percentiles of a year's loss, each with its distribution-free 95 % interval below it",
                count(loss["years"].as_f64().unwrap_or(0.0))
            )
        };
        let note = format!(
            "From the scenario's [loss] table: {} attacks a year, impact {impact} (mean {}); {how}.",
            stated_number(per_year),
            super::format::money_with(mean, &currency),
        );
        let rows = vec![MoneyRow {
            name: None,
            ale,
            percentiles,
            percentile_ci,
        }];
        return Some((rows, currency, exact, note));
    }
    let t = folder
        .table("comparison.csv")
        .filter(|t| t.col("expected_annual_loss").is_some())?;
    let first = t.rows.first()?;
    let exact = is_exact(t.text(first, "method"));
    let rows = t
        .rows
        .iter()
        .map(|r| {
            let ale = t.num(r, "expected_annual_loss").map(|m| {
                (
                    m,
                    t.num(r, "ale_ci_low").unwrap_or(m),
                    t.num(r, "ale_ci_high").unwrap_or(m),
                )
            });
            let percentiles = match (
                t.num(r, "loss_p50"),
                t.num(r, "loss_p90"),
                t.num(r, "loss_p99"),
            ) {
                (Some(a), Some(b), Some(c)) => Some([a, b, c]),
                _ => None,
            };
            let pair = |k: &str| {
                t.num(r, &format!("{k}_low"))
                    .zip(t.num(r, &format!("{k}_high")))
            };
            let percentile_ci = match (pair("loss_p50"), pair("loss_p90"), pair("loss_p99")) {
                (Some(a), Some(b), Some(c)) => Some([a, b, c]),
                _ => None,
            };
            MoneyRow {
                name: Some(t.text(r, "variant")),
                ale,
                percentiles,
                percentile_ci,
            }
        })
        .collect();
    let note = if exact {
        "Each arm's expected annual loss, exact: attacks a year × probability a campaign completes × mean impact; the percentiles are not computed by the exact method."
    } else {
        "Each arm's expected annual loss over the same simulated years, with its 95 % interval (skewness-corrected), and the percentiles of a year's loss (P50, P90, P99), each with its distribution-free 95 % interval below it."
    };
    Some((
        rows,
        t.text(first, "currency").to_owned(),
        exact,
        note.to_owned(),
    ))
}

/// A rate such as attacks a year as the scenario states it: at most four decimals, no
/// trailing zeros.
fn stated_number(x: f64) -> String {
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_owned()
}

/// The sentence under a ranking's title: where its figures come from and how it is ordered.
fn ranking_note(t: &Table) -> String {
    let first = t.rows.first();
    let cell = |k: &str| first.map_or("", |r| t.cell(r, k));
    let how = if is_exact(cell("method")) {
        "evaluated exactly".to_owned()
    } else if cell("seed").is_empty() {
        "from its paired trials".to_owned()
    } else {
        format!(
            "from {} paired trials, seed {}",
            count(cell("trials").parse().unwrap_or(0.0)),
            cell("seed")
        )
    };
    let order = if t.col("ale_delta").is_some() {
        "by return on control ((loss saved − annual cost) / annual cost), best first; controls without a cost last, by the loss they save"
    } else {
        "by the completion rate bought per unit of annual cost, best first; controls without a cost last, by the completion rate they buy"
    };
    format!(
        "killchain rank's figures ({how}): each control switched alone (off if it is in place, on if not) on the same trials as the scenario as written. What a control buys is the completion rate it takes off: the change when it is switched, its sign turned for a control in place. Each interval is that switch's paired 95 % interval, not adjusted for reading many controls at once. Ranked {order}."
    )
}

fn section(out: &mut String, title: &str, note: &str, svg: &str) {
    let _ = write!(
        out,
        "<section>\n<h2>{}</h2>\n<p class=\"note\">{}</p>\n{svg}\n</section>\n",
        esc(title),
        esc(note)
    );
}

/// The report as UTF-8 bytes; `None` when the folder has nothing to draw (none of
/// `phases.csv`, `controls.csv`, `comparison.csv`, `loss_exceedance.csv`, `frontier.csv`,
/// `optimize.json`, `ranking.csv`).
pub fn report_html(folder: &ResultFolder) -> Option<Vec<u8>> {
    let drawn = [
        "phases.csv",
        "controls.csv",
        "comparison.csv",
        "loss_exceedance.csv",
        "frontier.csv",
        "ranking.csv",
    ];
    let choice = folder.optimize.as_ref().and_then(Choice::read);
    if !drawn.iter().any(|f| folder.table(f).is_some()) && choice.is_none() {
        return None;
    }
    let name = folder.scenario_name();
    let arms = arms_of(folder);
    let mut body = String::new();
    let _ = write!(body, "<header>\n<h1>{}</h1>\n", esc(&name));
    if let Some((who, done, trials, rate, ci, exact)) = summary(folder) {
        let ci = match ci {
            Some((lo, hi)) if lo != hi => {
                format!(" (95 % interval {} to {})", percent(lo), percent(hi))
            }
            _ if exact => " (exact)".to_owned(),
            _ => String::new(),
        };
        let (expected, done) = if exact {
            (" (expected)", expected_count(done))
        } else {
            ("", count(done))
        };
        let _ = writeln!(
            body,
            "<p class=\"summary\">{who}ompleted attacks{expected}: <b class=\"v-completed\">{done}</b> of {} campaigns = <b>{}</b>{}.</p>",
            count(trials),
            percent(rate),
            ci
        );
    }
    body.push_str("</header>\n");
    // The money block: a run's headline, after the summary; a comparison's, after its forest
    // plot of completion rates.
    let money = money_rows(folder).map(|(rows, currency, exact, note)| {
        format!(
            "<section>\n<h2>Expected annual loss</h2>\n<p class=\"note\">{}</p>\n{}</section>\n",
            esc(&note),
            money_block(&rows, &currency, exact, &arms)
        )
    });
    if folder.run.is_some() {
        body.push_str(money.as_deref().unwrap_or(""));
    }
    if let Some(t) = folder.table("phases.csv") {
        let (whose, rows) = shown_for(t);
        section(
            &mut body,
            "Kill-chain funnel",
            &format!(
                "Campaigns reaching each of the seven phases, left to right; the {} part of each bar is broken there by the defender, the {} part goes on to the next phase.{whose}",
                colour_word(BROKEN),
                colour_word(PASSED)
            ),
            &funnel_svg(t, &rows),
        );
    }
    if let Some(t) = folder.table("controls.csv") {
        let (whose, rows) = shown_for(t);
        section(
            &mut body,
            "Which controls broke the chain",
            &format!(
                "Chains broken attributed to each control ({}), grouped by course of action; the last group ({}) is the adversary running out of attempts or of viable techniques.{whose}",
                colour_word(PASSED),
                colour_word(GREY)
            ),
            &attribution_svg(t, &rows),
        );
    }
    if let Some(t) = folder.table("comparison.csv") {
        section(
            &mut body,
            "Variants against the baseline",
            "Each variant's change in the completion rate against the baseline on the same trials (a paired difference), with its 95 % interval, and its annual cost (the change against the baseline in brackets).",
            &forest_svg(t, &arms),
        );
        body.push_str(money.as_deref().unwrap_or(""));
        if let Some(svg) = ale_forest_svg(t, &arms) {
            section(
                &mut body,
                "Expected annual loss saved against the baseline",
                "Each variant's reduction of the expected annual loss against the baseline, as the mean of the paired differences of the same simulated years, with its 95 % interval, and its return on security investment: ROSI = (reduction − extra annual cost) / extra annual cost (— when the variant costs no more than the baseline does).",
                &svg,
            );
        }
        if let Some(svg) = variants_cost_loss_svg(t, &arms) {
            section(
                &mut body,
                "Cost and expected annual loss",
                "Each variant (the baseline too) by annual cost and expected annual loss, with the 95 % interval of the loss as a whisker; the variants that no other beats on both (none is at most as costly and at most as lossy, and better on one) are joined.",
                &svg,
            );
        }
        if let Some(table) = power_table(t, &arms) {
            let exact = t
                .rows
                .first()
                .is_some_and(|r| t.text(r, "method") == "exact");
            let basis = if exact {
                "the exact evaluation has no sampling error; these are for a Monte Carlo run of the same comparison, the share of trials whose outcome differs from the baseline's taken from a paired pilot (the upper end of its 95 % interval)"
            } else {
                "the variance of the paired differences at that change, from the share of trials whose outcome differs from the baseline's in this run; never the observed difference"
            };
            section(
                &mut body,
                "Trials a comparison needs",
                &format!(
                    "The paired trials that detect a change of the stated size in the completion rate with 80 % power at 95 % two-sided: {basis}. Set the size with --min-effect."
                ),
                &table,
            );
        }
    }
    if let Some(svg) = folder
        .table("loss_exceedance.csv")
        .and_then(|t| exceedance_svg(t, &arms))
    {
        let band = if folder.table("loss_exceedance.csv").is_some_and(|t| {
            t.rows
                .first()
                .is_some_and(|r| t.num(r, "band_low").is_some())
        }) {
            " The shaded band is simultaneous: with 95 % probability the whole true curve lies inside it at every loss at once (Dvoretzky–Kiefer–Wolfowitz, ±√(ln 40 / 2n) for n simulated years)."
        } else {
            " The shaded band is the 95 % interval point by point only: it does not hold for the whole curve at once."
        };
        let note = if arms.names().len() > 1 {
            format!(
                "For each annual loss on the (logarithmic) horizontal axis, the probability that a year's loss exceeds it, per arm; the baseline's dashed curve is drawn over the variants'.{band}"
            )
        } else {
            format!(
                "For each annual loss on the (logarithmic) horizontal axis, the probability that a year's loss exceeds it.{band}"
            )
        };
        let note = note.as_str();
        section(&mut body, "Loss exceedance", note, &svg);
    }
    if let Some(svg) = folder
        .table("frontier.csv")
        .and_then(|t| frontier_svg(t, choice.as_ref()))
    {
        let figures = if choice.as_ref().is_some_and(|c| c.exact) {
            "Its figures are exact."
        } else {
            "Its figures come from the optimization's own trials."
        };
        let rate = if choice
            .as_ref()
            .is_some_and(|c| c.rate == Rate::AttacksPerYear)
        {
            "the threat landscape's successful attacks a year"
        } else {
            "completion rate"
        };
        section(
            &mut body,
            "Cost and risk frontier",
            &format!(
                "Each portfolio that `killchain optimize` evaluated, by annual cost and risk (expected annual loss when the scenario has a loss model, else {rate}). The frontier joins the portfolios that no other beats on both; the dashed line is the budget; the best portfolio within the budget and the next better one are marked and labelled on the right, and listed in the table below. Hover a point for its controls. {figures}"
            ),
            &svg,
        );
    }
    if let Some(c) = &choice {
        let _ = write!(
            body,
            "<section>\n<h2>What to buy</h2>\n<p class=\"note\">The portfolio of candidate controls (those with a cost) with the lowest {} among those within the budget, the cheapest one above the budget that does better, and the scenario as written, from `killchain optimize` ({} search, {}). Each control is listed with its id, name and annual cost.</p>\n{}</section>\n",
            if c.by_loss {
                "expected annual loss"
            } else if c.rate == Rate::AttacksPerYear {
                "expected successful attacks a year"
            } else {
                "completion rate"
            },
            esc(&c.search),
            if c.exact {
                "every figure exact".to_owned()
            } else {
                format!("{} trials, seed {}", esc(&c.trials), esc(&c.seed))
            },
            choice_html(c)
        );
    }
    if let Some(t) = folder.table("ranking.csv") {
        if let Some(svg) = ranking_svg(t) {
            section(
                &mut body,
                "Marginal value of each control",
                &ranking_note(t),
                &svg,
            );
        }
    }
    let mut footer = String::from("<footer>\n<dl>\n");
    for (label, value) in folder.provenance() {
        let _ = writeln!(footer, "<dt>{}</dt><dd>{}</dd>", esc(label), esc(&value));
    }
    footer.push_str("</dl>\n</footer>\n");
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"/>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n<title>{} — killchain report</title>\n<style>\n{STYLE}\n</style>\n</head>\n<body>\n{body}{footer}</body>\n</html>\n",
        esc(&name)
    );
    Some(page.into_bytes())
}
