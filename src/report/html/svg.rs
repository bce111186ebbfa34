//! The SVG toolkit the charts share: linear and log scales with their ticks, axes and grid,
//! text, lines, rectangles and escaping; the page's colours with their words, and the one style
//! of each arm (the baseline, each variant) that every chart of a page draws it in.

use std::fmt::Write as _;

use crate::math;

/// The Okabe–Ito colours (colour-blind safe), each with the word the page's captions use for it:
/// a caption names a colour only through [`colour_word`], so it names the colour drawn.
const OKABE_ITO: [(&str, &str); 8] = [
    ("#000000", "black"),
    ("#e69f00", "orange"),
    ("#56b4e9", "sky blue"),
    ("#009e73", "green"),
    ("#f0e442", "yellow"),
    ("#0072b2", "blue"),
    ("#d55e00", "orange-red"),
    ("#cc79a7", "pink"),
];
/// The part of a bar broken by the defender, and the frontier.
pub(super) const BROKEN: &str = "#d55e00";
/// The part of a bar that passed on, and the bars and dots of controls.
pub(super) const PASSED: &str = "#0072b2";
/// What is no arm's and no control's: the adversary's own failures, the points off a frontier.
pub(super) const GREY: &str = "#888888";
/// The line that joins the arms no other beats on both cost and loss.
pub(super) const JOIN: &str = "#555555";

/// The word captions use for a colour of the page; "" for one the page does not draw.
pub(super) fn colour_word(hex: &str) -> &'static str {
    match hex {
        GREY => "grey",
        JOIN => "dark grey",
        _ => OKABE_ITO
            .iter()
            .find(|(h, _)| *h == hex)
            .map_or("", |(_, w)| w),
    }
}

/// The colours of the variants, in their order after the baseline: Okabe–Ito without black
/// (the baseline's) and yellow (unreadable on white); the funnel's blue and orange-red come last,
/// so that the first variants are not mistaken for a funnel's parts.
const ARM_COLOURS: [&str; 6] = [
    "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#0072b2", "#d55e00",
];
/// The dash patterns of the variants past each round of [`ARM_COLOURS`].
const ARM_DASHES: [&str; 3] = ["", "2 3", "8 3 2 3"];
/// The baseline's dash pattern on a page with variants: it is drawn last, on top, and its
/// dashes let a curve under it show through.
pub(super) const BASELINE_DASH: &str = "7 4";

/// How one arm of a page (the baseline or a variant) is drawn in every chart of the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ArmStyle {
    pub(super) colour: &'static str,
    /// An SVG `stroke-dasharray`; "" for a solid line.
    pub(super) dash: &'static str,
}

impl ArmStyle {
    /// The ` stroke="…" stroke-width="…"` (and dash) attributes of a line of this arm.
    pub(super) fn stroke(&self, width: f64) -> String {
        let dash = if self.dash.is_empty() {
            String::new()
        } else {
            format!(r#" stroke-dasharray="{}""#, self.dash)
        };
        format!(r#" stroke="{}" stroke-width="{width}"{dash}"#, self.colour)
    }
}

/// The style of the arm at `index` in the page's order of arms; 0 is the baseline (black,
/// dashed), the variants take the colours in turn, then the same colours dashed.
pub(super) fn arm_style(index: usize) -> ArmStyle {
    if index == 0 {
        return ArmStyle {
            colour: OKABE_ITO[0].0,
            dash: BASELINE_DASH,
        };
    }
    let k = index - 1;
    ArmStyle {
        colour: ARM_COLOURS[k % ARM_COLOURS.len()],
        dash: ARM_DASHES[(k / ARM_COLOURS.len()) % ARM_DASHES.len()],
    }
}

/// The arms of a page in one order (the baseline first, then the variants as the folder lists
/// them), so that every chart draws an arm in the same style. A page of one arm (a run) draws
/// it solid: there is nothing for its line to be told apart from.
pub(super) struct Arms(Vec<String>);

impl Arms {
    /// The baseline, then every other name in the order given, each once.
    pub(super) fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Arms {
        let mut all = vec![crate::scenario::BASELINE.to_owned()];
        for n in names {
            if !all.iter().any(|a| a == n) {
                all.push(n.to_owned());
            }
        }
        Arms(all)
    }

    /// The names, the baseline first.
    pub(super) fn names(&self) -> &[String] {
        &self.0
    }

    /// The position of an arm (one the page does not list comes after every listed one).
    pub(super) fn index(&self, name: &str) -> usize {
        self.0
            .iter()
            .position(|a| a == name)
            .unwrap_or(self.0.len())
    }

    /// The style of an arm.
    pub(super) fn style(&self, name: &str) -> ArmStyle {
        match arm_style(self.index(name)) {
            s if self.0.len() == 1 => ArmStyle { dash: "", ..s },
            s => s,
        }
    }

    /// The style of the baseline's reference lines (the zero of a forest plot).
    pub(super) fn baseline(&self) -> ArmStyle {
        self.style(crate::scenario::BASELINE)
    }
}

/// Escapes text for HTML and SVG (both XML-safe).
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// A linear scale from a domain to a pixel range.
#[derive(Clone, Copy)]
pub(super) struct Scale {
    d0: f64,
    d1: f64,
    r0: f64,
    r1: f64,
    log: bool,
}

impl Scale {
    pub(super) fn linear(d0: f64, d1: f64, r0: f64, r1: f64) -> Scale {
        let d1 = if d1 > d0 { d1 } else { d0 + 1.0 };
        Scale {
            d0,
            d1,
            r0,
            r1,
            log: false,
        }
    }

    pub(super) fn log(d0: f64, d1: f64, r0: f64, r1: f64) -> Scale {
        let (a, b) = (math::log10(d0), math::log10(d1));
        let b = if b > a { b } else { a + 1.0 };
        Scale {
            d0: a,
            d1: b,
            r0,
            r1,
            log: true,
        }
    }

    pub(super) fn at(&self, x: f64) -> f64 {
        let x = if self.log {
            math::log10(x.max(1e-300))
        } else {
            x
        };
        self.r0 + (x - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)
    }

    /// About `n` round tick values across the domain (powers of ten on a log scale); never
    /// more than [`MAX_TICKS`], whatever the domain, so no number read from a file sizes the
    /// chart.
    pub(super) fn ticks(&self, n: usize) -> Vec<f64> {
        if !(self.d0.is_finite() && self.d1.is_finite()) {
            return Vec::new();
        }
        if self.log {
            let (a, b) = (self.d0.ceil(), self.d1.floor());
            if b < a {
                return Vec::new();
            }
            // Every power of ten, or every k-th when there are too many.
            let stride = ((b - a) / MAX_TICKS as f64).floor() + 1.0;
            return (0..=MAX_TICKS)
                .map(|i| a + i as f64 * stride)
                .take_while(|e| *e <= b)
                .map(|e| math::pow(10.0, e))
                .filter(|t| t.is_finite() && *t > 0.0)
                .collect();
        }
        let span = self.d1 - self.d0;
        let raw = span / n.max(1) as f64;
        let mag = math::pow(10.0, math::log10(raw).floor());
        let step = [1.0, 2.0, 2.5, 5.0, 10.0]
            .iter()
            .map(|m| m * mag)
            .find(|s| *s >= raw)
            .unwrap_or(raw);
        if !(step.is_finite() && step > 0.0) {
            return Vec::new();
        }
        let first = (self.d0 / step).ceil() * step;
        let mut out = Vec::new();
        let mut t = first;
        while t <= self.d1 + step * 1e-9 && out.len() <= MAX_TICKS {
            out.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
            t += step;
        }
        out
    }
}

/// Most ticks on an axis.
const MAX_TICKS: usize = 40;

/// Opens an `<svg>` of `w`×`h` pixels with its accessible label.
pub(super) fn svg_open(out: &mut String, w: f64, h: f64, label: &str) {
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{}">"#,
        esc(label)
    );
}

/// A line of text at (`x`, `y`), anchored `start`, `middle` or `end`, with an optional class.
pub(super) fn text(out: &mut String, x: f64, y: f64, anchor: &str, class: &str, s: &str) {
    let class = if class.is_empty() {
        String::new()
    } else {
        format!(r#" class="{class}""#)
    };
    let _ = write!(
        out,
        r#"<text x="{x:.1}" y="{y:.1}" text-anchor="{anchor}"{class}>{}</text>"#,
        esc(s)
    );
}

/// A line of a class (`axis`, `grid`, `zero`).
pub(super) fn line(out: &mut String, x1: f64, y1: f64, x2: f64, y2: f64, class: &str) {
    let _ = write!(
        out,
        r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" class="{class}"/>"#
    );
}

/// A filled rectangle; negative sizes are drawn as empty.
pub(super) fn rect(out: &mut String, x: f64, y: f64, w: f64, h: f64, fill: &str) {
    let _ = write!(
        out,
        r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{fill}"/>"#,
        w.max(0.0),
        h.max(0.0)
    );
}

/// A vertical axis label, rotated.
pub(super) fn y_label(out: &mut String, x: f64, y: f64, s: &str) {
    let _ = write!(
        out,
        r#"<text x="{x:.1}" y="{y:.1}" text-anchor="middle" transform="rotate(-90 {x:.1} {y:.1})" class="title">{}</text>"#,
        esc(s)
    );
}

/// Axes with ticks for an x–y chart; returns nothing, draws into `out`.
#[allow(clippy::too_many_arguments)]
pub(super) fn axes(
    out: &mut String,
    x: &Scale,
    y: &Scale,
    x_fmt: &dyn Fn(f64) -> String,
    y_fmt: &dyn Fn(f64) -> String,
    x_label: &str,
    y_label_text: &str,
    frame: (f64, f64, f64, f64),
) {
    let ticks = (x.ticks(6), y.ticks(5));
    axes_at(
        out,
        (x, &ticks.0),
        (y, &ticks.1),
        x_fmt,
        y_fmt,
        x_label,
        y_label_text,
        frame,
    );
}

/// [`axes`] with the ticks given: `(scale, ticks)` for each axis.
#[allow(clippy::too_many_arguments)]
pub(super) fn axes_at(
    out: &mut String,
    (x, x_ticks): (&Scale, &[f64]),
    (y, y_ticks): (&Scale, &[f64]),
    x_fmt: &dyn Fn(f64) -> String,
    y_fmt: &dyn Fn(f64) -> String,
    x_label: &str,
    y_label_text: &str,
    frame: (f64, f64, f64, f64),
) {
    let (left, top, right, bottom) = frame;
    for &tick in x_ticks {
        let px = x.at(tick);
        line(out, px, top, px, bottom, "grid");
        text(out, px, bottom + 16.0, "middle", "small", &x_fmt(tick));
    }
    for &tick in y_ticks {
        let py = y.at(tick);
        line(out, left, py, right, py, "grid");
        text(out, left - 6.0, py + 4.0, "end", "small", &y_fmt(tick));
    }
    line(out, left, top, left, bottom, "axis");
    line(out, left, bottom, right, bottom, "axis");
    text(
        out,
        (left + right) / 2.0,
        bottom + 38.0,
        "middle",
        "title",
        x_label,
    );
    y_label(out, 18.0, (top + bottom) / 2.0, y_label_text);
}

/// The ` (EUR)` after an axis label, when the currency is known.
pub(super) fn unit(currency: &str) -> String {
    if currency.is_empty() {
        String::new()
    } else {
        format!(" ({currency})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_map_and_tick() {
        let s = Scale::linear(0.0, 100.0, 0.0, 200.0);
        assert_eq!(s.at(50.0), 100.0);
        assert_eq!(s.ticks(4), vec![0.0, 25.0, 50.0, 75.0, 100.0]);
        let l = Scale::log(1e3, 1e6, 0.0, 300.0);
        assert!((l.at(1e4) - 100.0).abs() < 1e-9);
        assert_eq!(l.ticks(5), vec![1e3, 1e4, 1e5, 1e6]);
    }

    #[test]
    fn ticks_stay_few_whatever_the_domain() {
        let log = Scale::log(1e-300, f64::INFINITY, 0.0, 1.0);
        assert!(log.ticks(6).len() <= MAX_TICKS + 1);
        let huge = Scale::log(1.0, 1e300, 0.0, 1.0);
        let t = huge.ticks(6);
        assert!(t.len() <= MAX_TICKS + 1 && t[0] == 1.0, "{t:?}");
        // A domain too narrow for its magnitude: adding the step to a tick changes nothing.
        let narrow = Scale::linear(1e17, 1e17 + 16.0, 0.0, 1.0);
        assert!(narrow.ticks(5).len() <= MAX_TICKS + 1);
        assert!(
            Scale::linear(0.0, f64::INFINITY, 0.0, 1.0)
                .ticks(5)
                .is_empty()
        );
    }

    #[test]
    fn every_arm_has_one_style_and_every_colour_a_word() {
        let arms = Arms::new(["a", "baseline", "b", "a"]);
        assert_eq!(arms.names(), ["baseline", "a", "b"]);
        assert_eq!(arms.style("baseline").dash, BASELINE_DASH);
        assert_eq!(arms.baseline(), arms.style("baseline"));
        assert_eq!(arms.style("a").colour, "#009e73");
        assert_eq!(arms.style("a").dash, "");
        assert_eq!(arms.style("b").colour, "#cc79a7");
        // An arm the page does not list is not drawn like the baseline.
        assert_ne!(arms.style("c"), arms.baseline());
        // A run's one arm is drawn solid.
        assert_eq!(Arms::new([]).baseline().dash, "");
        let styles: Vec<ArmStyle> = (0..=12).map(arm_style).collect();
        for (i, s) in styles.iter().enumerate() {
            assert!(!colour_word(s.colour).is_empty(), "{s:?}");
            assert!(
                !styles[..i].contains(s),
                "arm {i} looks like an earlier one"
            );
        }
        for c in [BROKEN, PASSED, GREY, JOIN] {
            assert!(!colour_word(c).is_empty(), "{c}");
        }
        assert_eq!(colour_word(BROKEN), "orange-red");
        assert_eq!(colour_word(PASSED), "blue");
        assert_eq!(colour_word("#123456"), "");
        assert_eq!(
            arms.style("a").stroke(2.0),
            r##" stroke="#009e73" stroke-width="2""##
        );
        assert_eq!(
            arms.baseline().stroke(1.5),
            r##" stroke="#000000" stroke-width="1.5" stroke-dasharray="7 4""##
        );
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("<a & 'b'>"), "&lt;a &amp; &#39;b&#39;&gt;");
    }
}
