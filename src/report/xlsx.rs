//! `results.xlsx`: one sheet per CSV file of a result folder, same columns, numbers stored as
//! numbers, with number formats chosen by column name, frozen header rows, an autofilter on
//! every sheet, columns as wide as their widest cell, and a native chart of the funnel on the
//! `phases` sheet.
//!
//! Formats key on column names, so a column added to a CSV file later gets a format without a
//! change here: rates, shares, probabilities and intervals of rates as percentages; costs,
//! losses and `ale_*` as money (with the row's `currency`, when it has one); counts as whole
//! numbers. Seeds and other identifiers stay text.

use rust_xlsxwriter::{
    Chart, ChartDataLabel, ChartDataLabelPosition, ChartFont, ChartLegendPosition, ChartType,
    DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError,
};

use super::folder::{ResultFolder, Table};

/// How a column's numbers are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Text (ids, names, the method, the seed).
    Text,
    /// A proportion, shown as a percentage.
    Percent,
    /// A signed difference of proportions, shown as a signed percentage.
    SignedPercent,
    /// An amount of money.
    Money,
    /// Any other number (counts, ratios).
    Number,
}

/// The kind of column `name` (see the module documentation).
pub fn column_kind(name: &str) -> ColumnKind {
    const TEXT: [&str; 16] = [
        "scenario",
        "variant",
        "adversary",
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
    ];
    if TEXT.contains(&name) {
        ColumnKind::Text
    } else if name == "delta"
        || name.starts_with("delta_ci")
        || name.starts_with("delta_unadjusted")
    {
        ColumnKind::SignedPercent
    } else if name.ends_with("_rate")
        || name.ends_with("_share")
        || name.starts_with("ci_")
        || name.starts_with("completion_ci")
        || name.starts_with("probability")
    {
        ColumnKind::Percent
    } else if name == "annual_cost"
        || name.ends_with("_cost") && !name.contains("per_")
        || name.contains("_loss")
        || name.contains("loss_")
        || name.starts_with("ale_")
        || name.ends_with("_ale")
    {
        ColumnKind::Money
    } else {
        ColumnKind::Number
    }
}

/// The sheet name of a CSV file: its stem (at most 31 characters, as Excel requires).
pub fn sheet_name(file: &str) -> String {
    file.trim_end_matches(".csv").chars().take(31).collect()
}

/// The currency code a money format shows: the row's `currency` without anything but ASCII
/// letters and digits.
fn currency_code(currency: &str) -> String {
    currency
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

fn money_format(currency: &str) -> Format {
    let code = currency_code(currency);
    if code.is_empty() {
        Format::new().set_num_format("#,##0")
    } else {
        Format::new().set_num_format(format!("#,##0 \"{code}\""))
    }
}

/// Characters of the integer part of `x` with thousands separators, as `#,##0` shows it.
fn grouped_len(x: f64) -> usize {
    let digits = format!("{:.0}", x.abs().trunc()).len();
    digits + (digits - 1) / 3 + usize::from(x.is_sign_negative() && x != 0.0)
}

/// Characters a number takes in a cell as the format its column's kind gives it shows it (for
/// [`ColumnKind::Number`], `#,##0` for integers and `#,##0.00####` otherwise).
fn shown_len(kind: ColumnKind, x: f64, currency: &str) -> usize {
    match kind {
        ColumnKind::Percent => format!("{:.2}%", 100.0 * x).len(),
        ColumnKind::SignedPercent => format!("{:+.2}%", 100.0 * x).len(),
        ColumnKind::Money => {
            let code = currency_code(currency).len();
            grouped_len(x.round()) + if code > 0 { code + 1 } else { 0 }
        }
        ColumnKind::Number | ColumnKind::Text => {
            let decimals = format!("{:.6}", x.fract().abs());
            let decimals = decimals.trim_start_matches('0').trim_end_matches('0');
            // ".", then at least two decimals, or none for an integer.
            let tail = if x.fract() == 0.0 {
                0
            } else {
                decimals.len().max(3)
            };
            grouped_len(x) + tail
        }
    }
}

/// The width (in Excel's units, characters of the default font) given a column before
/// `autofit` widens it to its widest text: its bold header with the autofilter's drop-down
/// button, and its numbers as their format shows them. Excel's limit is 255.
fn base_width(header: &str, shown: usize) -> f64 {
    let header = header.chars().count() as f64 * 1.1 + 3.0;
    header.max(shown as f64 + 1.0).min(255.0)
}

fn write_table(ws: &mut Worksheet, t: &Table) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    let percent = Format::new().set_num_format("0.00%");
    let signed = Format::new().set_num_format("+0.00%;-0.00%;0.00%");
    let whole = Format::new().set_num_format("#,##0");
    let fraction = Format::new().set_num_format("#,##0.00####");
    let kinds: Vec<ColumnKind> = t.header.iter().map(|h| column_kind(h)).collect();
    // The widest number of each column, as shown.
    let mut shown = vec![0usize; t.header.len()];
    for (c, h) in t.header.iter().enumerate() {
        let c = u16::try_from(c).unwrap_or(u16::MAX);
        ws.write_string_with_format(0, c, h, &bold)?;
    }
    for (r, row) in t.rows.iter().enumerate() {
        let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
        let currency = t.text(row, "currency");
        for (c, cell) in row.iter().enumerate() {
            let kind = kinds.get(c).copied().unwrap_or(ColumnKind::Text);
            let c = u16::try_from(c).unwrap_or(u16::MAX);
            if cell.is_empty() {
                continue;
            }
            let number = cell.parse::<f64>().ok().filter(|x| x.is_finite());
            if let (Some(x), Some(widest)) = (number, shown.get_mut(usize::from(c))) {
                if kind != ColumnKind::Text {
                    *widest = (*widest).max(shown_len(kind, x, currency));
                }
            }
            match (kind, number) {
                (ColumnKind::Text, _) | (_, None) => {
                    ws.write_string(r, c, super::folder::unguard(cell))?;
                }
                (ColumnKind::Percent, Some(x)) => {
                    ws.write_number_with_format(r, c, x, &percent)?;
                }
                (ColumnKind::SignedPercent, Some(x)) => {
                    ws.write_number_with_format(r, c, x, &signed)?;
                }
                (ColumnKind::Money, Some(x)) => {
                    ws.write_number_with_format(r, c, x, &money_format(currency))?;
                }
                (ColumnKind::Number, Some(x)) => {
                    // Integers beyond 2^53 would lose digits as numbers: keep them as text.
                    if x.fract() == 0.0 && x.abs() > 9_007_199_254_740_992.0 {
                        ws.write_string(r, c, cell)?;
                    } else if x.fract() == 0.0 {
                        ws.write_number_with_format(r, c, x, &whole)?;
                    } else {
                        ws.write_number_with_format(r, c, x, &fraction)?;
                    }
                }
            }
        }
    }
    ws.set_freeze_panes(1, 0)?;
    if let Some(last_col) = t.header.len().checked_sub(1) {
        let last_col = u16::try_from(last_col).unwrap_or(u16::MAX);
        let last_row = u32::try_from(t.rows.len()).unwrap_or(u32::MAX);
        ws.autofilter(0, 0, last_row, last_col)?;
        for (c, h) in t.header.iter().enumerate() {
            let width = base_width(h, shown[c]);
            ws.set_column_width(u16::try_from(c).unwrap_or(u16::MAX), width)?;
        }
    }
    // Widens every column whose widest text (measured with Excel's character widths, the
    // autofilter's button included) needs more than the width set above.
    ws.autofit();
    Ok(())
}

/// Size of the funnel chart in pixels (Excel's default is 480 × 288, too narrow for seven phase
/// ids side by side).
const FUNNEL_SIZE: (u32, u32) = (960, 480);
/// Font size (points) and rotation (degrees) of the funnel's phase ids: slanted, so that
/// neighbouring ids never overlap however long they are.
const FUNNEL_CATEGORY_FONT: (u8, i16) = (9, -45);
/// Font size and rotation of the counts above the bars: upright text (rotated a quarter turn)
/// is narrower than any bar, so the counts of neighbouring bars never overlap.
const FUNNEL_LABEL_FONT: (u8, i16) = (8, -90);

/// Most adversaries of a threat landscape given a funnel chart each.
const MAX_FUNNELS: usize = 16;

/// The funnel charts of `phases`: one of its first seven rows (the baseline in a comparison),
/// or in a threat landscape (an `adversary` column) one per adversary, of the first seven rows
/// of each (at most [`MAX_FUNNELS`]).
fn funnel_charts(t: &Table, sheet: &str) -> Vec<Chart> {
    let Some(adversary) = t.col("adversary") else {
        return funnel_chart(t, sheet, 0, None).into_iter().collect();
    };
    let mut charts = Vec::new();
    let mut start = 0;
    while start < t.rows.len() && charts.len() < MAX_FUNNELS {
        let id = t.rows[start].get(adversary).map_or("", String::as_str);
        charts.extend(funnel_chart(t, sheet, start, Some(id)));
        start += (t.rows[start..].iter())
            .take_while(|r| r.get(adversary).map_or("", String::as_str) == id)
            .count();
    }
    charts
}

/// A column chart of the funnel (trials reaching and broken at each phase) of up to seven rows
/// of `phases` from row `start` (0 the first data row), of `adversary` when it names one.
fn funnel_chart(t: &Table, sheet: &str, start: usize, adversary: Option<&str>) -> Option<Chart> {
    let col = |name: &str| t.col(name).and_then(|c| u16::try_from(c).ok());
    let (phase, reached, broken) = (col("phase")?, col("reached")?, col("broken")?);
    let rows = t.rows.len().saturating_sub(start).min(7);
    if rows == 0 {
        return None;
    }
    let first = u32::try_from(start + 1).ok()?;
    let last = u32::try_from(start + rows).ok()?;
    let mut chart = Chart::new(ChartType::Column);
    for (column, label) in [(reached, "reached"), (broken, "broken")] {
        chart
            .add_series()
            .set_name(label)
            .set_categories((sheet, first, phase, last, phase))
            .set_values((sheet, first, column, last, column))
            .set_data_label(
                ChartDataLabel::new()
                    .show_value()
                    .set_position(ChartDataLabelPosition::OutsideEnd)
                    .set_num_format("#,##0")
                    .set_font(
                        ChartFont::new()
                            .set_size(FUNNEL_LABEL_FONT.0)
                            .set_rotation(FUNNEL_LABEL_FONT.1),
                    ),
            );
    }
    let title = match adversary {
        Some(id) => {
            format!("Kill-chain funnel of adversary {id}: trials reaching and broken at each phase")
        }
        None => "Kill-chain funnel: trials reaching and broken at each phase".to_owned(),
    };
    chart.title().set_name(&title);
    chart.x_axis().set_name("phase").set_font(
        ChartFont::new()
            .set_size(FUNNEL_CATEGORY_FONT.0)
            .set_rotation(FUNNEL_CATEGORY_FONT.1),
    );
    chart.y_axis().set_name("trials").set_num_format("#,##0");
    chart.legend().set_position(ChartLegendPosition::Bottom);
    chart.set_width(FUNNEL_SIZE.0).set_height(FUNNEL_SIZE.1);
    Some(chart)
}

/// Rows of the sheet between the tops of two stacked charts (a chart is 480 pixels high, a
/// row 20).
const CHART_ROWS: usize = 26;

/// A threat landscape's "who costs what": one bar per adversary of its expected annual loss
/// (with `[loss]`; else its successful attacks a year), from the rows of `landscape` that name
/// an adversary (the total's row names none).
fn shares_chart(t: &Table, sheet: &str) -> Option<Chart> {
    let col = |name: &str| t.col(name).and_then(|c| u16::try_from(c).ok());
    let adversary = col("adversary")?;
    let by_loss = (t.rows.iter()).any(|r| t.num(r, "expected_annual_loss").is_some());
    let (value, what, unit) = if by_loss {
        (
            col("expected_annual_loss")?,
            "expected annual loss",
            "#,##0",
        )
    } else {
        (
            col("successful_per_year")?,
            "successful attacks a year",
            "0.000",
        )
    };
    let named = (t.rows.iter())
        .take_while(|r| r.get(usize::from(adversary)).is_some_and(|a| !a.is_empty()))
        .count();
    if named == 0 {
        return None;
    }
    let last = u32::try_from(named).ok()?;
    let mut chart = Chart::new(ChartType::Bar);
    chart
        .add_series()
        .set_name(what)
        .set_categories((sheet, 1, adversary, last, adversary))
        .set_values((sheet, 1, value, last, value))
        .set_data_label(
            ChartDataLabel::new()
                .show_value()
                .set_position(ChartDataLabelPosition::OutsideEnd)
                .set_num_format(unit),
        );
    chart
        .title()
        .set_name(&format!("Who costs what: {what} by adversary"));
    chart.x_axis().set_name(what).set_num_format(unit);
    chart.y_axis().set_name("adversary");
    chart.legend().set_hidden();
    chart.set_width(FUNNEL_SIZE.0).set_height(FUNNEL_SIZE.1);
    Some(chart)
}

/// The workbook as bytes; `None` when the folder has no CSV file. Its bytes depend only on the
/// folder's files (the document's creation time is fixed).
pub fn results_xlsx(folder: &ResultFolder) -> Result<Option<Vec<u8>>, String> {
    if folder.is_empty() {
        return Ok(None);
    }
    let build = || -> Result<Vec<u8>, XlsxError> {
        let mut wb = Workbook::new();
        let created = ExcelDateTime::from_ymd(2000, 1, 1)?;
        wb.set_properties(
            &DocProperties::new()
                .set_title(folder.scenario_name())
                .set_creation_datetime(&created),
        );
        for file in super::folder::CSV_FILES {
            let Some(t) = folder.table(file) else {
                continue;
            };
            let name = sheet_name(file);
            let ws = wb.add_worksheet();
            ws.set_name(&name)?;
            write_table(ws, t)?;
            let at = u16::try_from(t.header.len() + 1).unwrap_or(20);
            if file == "phases.csv" {
                for (i, chart) in funnel_charts(t, &name).iter().enumerate() {
                    let row = u32::try_from(1 + i * CHART_ROWS).unwrap_or(u32::MAX);
                    ws.insert_chart(row, at, chart)?;
                }
            }
            if file == "landscape.csv" {
                if let Some(chart) = shares_chart(t, &name) {
                    ws.insert_chart(1, at, &chart)?;
                }
            }
        }
        wb.save_to_buffer()
    };
    build().map(Some).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_follow_column_names() {
        use ColumnKind::*;
        for (name, kind) in [
            ("break_rate", Percent),
            ("ci_low", Percent),
            ("broken_share", Percent),
            ("completion_rate", Percent),
            ("probability_exceeded", Percent),
            ("delta", SignedPercent),
            ("delta_ci_high", SignedPercent),
            ("annual_cost", Money),
            ("expected_annual_loss", Money),
            ("annual_loss", Money),
            ("ale_ci_low", Money),
            ("ale_reduction", Money),
            ("delta_per_100k_cost", Number),
            ("reached", Number),
            ("seed", Text),
            ("variant", Text),
        ] {
            assert_eq!(column_kind(name), kind, "{name}");
        }
    }

    #[test]
    fn numbers_are_measured_as_their_format_shows_them() {
        use ColumnKind::*;
        for (kind, x, currency, shown) in [
            (Percent, 0.123456, "", "12.35%"),
            (Percent, 1.0, "", "100.00%"),
            (SignedPercent, -0.05, "", "-5.00%"),
            (SignedPercent, 0.5, "", "+50.00%"),
            (Money, 1_234_567.4, "EUR", "1,234,567 EUR"),
            (Money, 999.0, "", "999"),
            (Money, -1500.0, "USD", "-1,500 USD"),
            (Number, 100_000.0, "", "100,000"),
            (Number, 12.5, "", "12.50"),
            (Number, 0.123456, "", "0.123456"),
            (Number, 1234.0625, "", "1,234.0625"),
        ] {
            assert_eq!(shown_len(kind, x, currency), shown.len(), "{shown}");
        }
    }
}
