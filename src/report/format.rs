//! Every number as the outputs print it, in one place: CSV cells (plain digits, six decimals
//! for rates), the terminal's and the page's thousands separators, money, percentages and
//! ratios. Pure functions of a number; the writers choose which one a column uses.
//!
//! Invariant: no function here returns a negative zero ("-0", "-0.000000", "−0.00"): a number
//! that rounds to zero at the digits shown is written without a sign ([`unsigned_zero`]).

/// Digits with a comma between each group of three, from the right: "1234567" → "1,234,567".
fn thousands(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `s` without its leading minus sign ('-' or '−') when every digit it shows is zero.
fn unsigned_zero(s: String) -> String {
    let rest = s.strip_prefix('-').or_else(|| s.strip_prefix('−'));
    match rest {
        Some(rest) if !rest.bytes().any(|b| (b'1'..=b'9').contains(&b)) => rest.to_owned(),
        _ => s,
    }
}

/// A number with six decimals, as a CSV cell.
pub(crate) fn fixed6(x: f64) -> String {
    unsigned_zero(format!("{x:.6}"))
}

/// A signed number with four decimals for the terminal ("+0.0123", "-0.0040"); one that rounds
/// to zero is "0.0000", without a sign.
pub(crate) fn signed4(x: f64) -> String {
    let s = format!("{x:+.4}");
    match s.strip_prefix('+') {
        Some(rest) if rest == "0.0000" => rest.to_owned(),
        _ => unsigned_zero(s),
    }
}

/// A signed number with six decimals for the terminal ("+0.012345"); one that rounds to zero is
/// "0.000000", without a sign.
pub(crate) fn signed6(x: f64) -> String {
    let s = format!("{x:+.6}");
    match s.strip_prefix('+') {
        Some(rest) if rest == "0.000000" => rest.to_owned(),
        _ => unsigned_zero(s),
    }
}

/// A whole amount with thousands separators.
pub(crate) fn grouped(x: f64) -> String {
    let neg = x < 0.0;
    let digits = format!("{:.0}", x.abs());
    let mut out = thousands(&digits);
    if neg && digits != "0" {
        out.insert(0, '-');
    }
    out
}

/// Formats a rate with six decimals, or nothing when undefined.
pub(crate) fn rate6(x: Option<f64>) -> String {
    x.map(fixed6).unwrap_or_default()
}

/// An amount as a CSV cell: two decimals.
pub(crate) fn money(x: f64) -> String {
    unsigned_zero(format!("{x:.2}"))
}

/// An estimate and its interval as three CSV cells with six decimals.
pub(crate) fn six((a, b, c): (f64, f64, f64)) -> [String; 3] {
    [a, b, c].map(fixed6)
}

/// A count as text: an integer when whole, else two decimals (exact expected counts).
pub(crate) fn count_or_hundredths(x: f64) -> String {
    unsigned_zero(if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    })
}

/// A count with thousands separators; expected counts (not whole) keep one decimal.
pub fn count(x: f64) -> String {
    let (whole, frac) = if x.fract() == 0.0 {
        (format!("{:.0}", x.abs()), String::new())
    } else {
        let s = format!("{:.1}", x.abs());
        let (w, f) = s.split_once('.').unwrap_or((&s, "0"));
        (w.to_owned(), format!(".{f}"))
    };
    let grouped = thousands(&whole);
    let sign = if x < 0.0 { "−" } else { "" };
    unsigned_zero(format!("{sign}{grouped}{frac}"))
}

/// An expected count (the exact method's) with thousands separators and always one decimal,
/// so that a page's expected counts read alike whether or not one happens to be whole.
pub fn expected_count(x: f64) -> String {
    let s = format!("{:.1}", x.abs());
    let (whole, frac) = s.split_once('.').unwrap_or((&s, "0"));
    let sign = if x < 0.0 && s != "0.0" { "−" } else { "" };
    format!("{sign}{}.{frac}", thousands(whole))
}

/// A proportion as a percentage with two decimals.
pub fn percent(x: f64) -> String {
    unsigned_zero(format!("{:.2}%", x * 100.0))
}

/// A difference of proportions in percentage points, signed, two decimals.
pub fn points(x: f64) -> String {
    let v = x * 100.0;
    if v.abs() < 0.005 {
        "±0.00".to_owned()
    } else if v > 0.0 {
        format!("+{v:.2}")
    } else {
        format!("−{:.2}", -v)
    }
}

/// Money for the page: thousands separators (a true minus sign) and the currency code, when known.
pub(crate) fn money_with(x: f64, currency: &str) -> String {
    let c = count(x.round());
    if currency.is_empty() {
        c
    } else {
        format!("{c} {currency}")
    }
}

/// A signed ratio with two decimals (ROSI), or "—" when there is none.
pub fn ratio(x: Option<f64>) -> String {
    match x {
        Some(v) if v < 0.0 && format!("{:.2}", -v) != "0.00" => format!("−{:.2}", -v),
        Some(v) => format!("{:.2}", v.abs()),
        None => "—".to_owned(),
    }
}

/// A count and its noun, singular for one: "1 control", "2 controls", "0 controls".
pub fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// An exact change of a rate for the terminal, signed like the word beside it: four decimals
/// ("+0.0930"); a change too small for four decimals with two significant digits ("+0.000030")
/// rather than a "+0.0000" read as "worse"; no change as "0.0000", without a sign.
pub(crate) fn exact_change(d: f64) -> String {
    if d == 0.0 {
        return "0.0000".to_owned();
    }
    let four = format!("{d:+.4}");
    if four[1..] != *"0.0000" {
        return four;
    }
    let (mut decimals, mut scaled) = (5, d.abs() * 1e5);
    while scaled < 10.0 && decimals < 20 {
        scaled *= 10.0;
        decimals += 1;
    }
    format!("{d:+.decimals$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(count(200000.0), "200,000");
        assert_eq!(count(999.0), "999");
        assert_eq!(count(1234.56), "1,234.6");
        assert_eq!(count(-1500.0), "−1,500");
        assert_eq!(expected_count(50.0), "50.0");
        assert_eq!(expected_count(39.99), "40.0");
        assert_eq!(expected_count(199910.01), "199,910.0");
        assert_eq!(percent(0.6707), "67.07%");
        assert_eq!(points(-0.0929), "−9.29");
        assert_eq!(points(0.0003), "+0.03");
        assert_eq!(points(0.0), "±0.00");
    }

    #[test]
    fn a_count_of_one_takes_the_singular() {
        assert_eq!(counted(1, "control", "controls"), "1 control");
        assert_eq!(counted(0, "control", "controls"), "0 controls");
        assert_eq!(
            counted(2, "simulated year", "simulated years"),
            "2 simulated years"
        );
    }

    #[test]
    fn an_exact_change_shows_its_sign_at_any_size() {
        assert_eq!(exact_change(-0.0930), "-0.0930");
        assert_eq!(exact_change(0.00005), "+0.0001");
        assert_eq!(exact_change(3.03e-5), "+0.000030");
        assert_eq!(exact_change(-4.96e-5), "-0.000050");
        assert_eq!(exact_change(-1.234e-9), "-0.0000000012");
        assert_eq!(exact_change(0.0), "0.0000");
        assert_eq!(exact_change(-0.0), "0.0000");
    }

    #[test]
    fn no_number_is_written_as_a_negative_zero() {
        let tiny = [
            -0.0, -1e-300, -1e-9, -4e-7, -0.004, -0.0049, -1e-5, 0.0, 1e-9,
        ];
        for x in tiny {
            let cells = [
                fixed6(x),
                signed4(x * 1e-2),
                rate6(Some(x)),
                money(x),
                count_or_hundredths(x),
                count(x * 1e-3),
                expected_count(x),
                percent(x * 1e-2),
                points(x * 1e-2),
                ratio(Some(x)),
                grouped(x),
                exact_change(0.0 * x),
            ]
            .into_iter()
            .chain(six((x, x, x)));
            for c in cells {
                let rest = c.trim_start_matches(['-', '−']);
                assert!(
                    rest == c || rest.bytes().any(|b| (b'1'..=b'9').contains(&b)),
                    "{x:e} written as {c:?}"
                );
            }
        }
        assert_eq!(fixed6(-1e-9), "0.000000");
        assert_eq!(money(-0.001), "0.00");
        assert_eq!(signed4(-0.00004), "0.0000");
        assert_eq!(signed4(0.00004), "0.0000");
        assert_eq!(signed4(-0.0929), "-0.0929");
        assert_eq!(signed4(0.0003), "+0.0003");
        assert_eq!(signed6(-0.0000004), "0.000000");
        assert_eq!(signed6(0.000612), "+0.000612");
        assert_eq!(signed6(-0.000612), "-0.000612");
        assert_eq!(count(-0.01), "0.0");
        assert_eq!(percent(-1e-7), "0.00%");
        assert_eq!(fixed6(-0.25), "-0.250000");
    }

    #[test]
    fn a_ratio_is_signed_with_two_decimals() {
        assert_eq!(ratio(Some(3.65)), "3.65");
        assert_eq!(ratio(Some(-0.3)), "−0.30");
        assert_eq!(ratio(Some(-0.001)), "0.00");
        assert_eq!(ratio(None), "—");
    }
}
