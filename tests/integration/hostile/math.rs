//! Portable math: the values that decide a bit come from one implementation on every machine.
//!
//! The hole: lognormal and PERT impacts and the Poisson sizes of years were computed with the
//! platform's `log` and `exp` (through std and statrs), which differ by an ulp between C
//! libraries — so "the same bits on any machine" held only between machines with the same one.

use std::fs;
use std::path::Path;

use killchain::math::{self, special};
use killchain::money::Impact;

use crate::architecture::sources;

/// Calls of the platform's transcendental functions (std's `f64` methods, which reach the C
/// library's libm, or a crate built on them); only `src/math/` may compute these, through the
/// portable `libm` crate. `sqrt` is not among them: IEEE 754 rounds it correctly everywhere.
const PLATFORM_MATH: &[&str] = &[
    "ln", "log", "log2", "log10", "ln_1p", "exp", "exp2", "exp_m1", "powf", "powi", "sin", "cos",
    "tan", "sin_cos", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh",
    "atanh", "cbrt", "hypot", "gamma", "ln_gamma",
];

/// Every place in `text`'s code (comments dropped) that calls platform math or names a crate that
/// does: `x.ln()`, `f64::exp(x)`, `statrs::…`.
fn platform_math_calls(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        for name in PLATFORM_MATH {
            for call in [
                format!(".{name}("),
                format!("f64::{name}"),
                format!("f32::{name}"),
            ] {
                let hit = code.match_indices(&call).any(|(i, _)| {
                    let after = &code[i + call.len()..];
                    // `f64::ln` must be the whole name (not `f64::ln_gamma` for `ln`)
                    call.ends_with('(')
                        || !after.starts_with(|c: char| c.is_alphanumeric() || c == '_')
                });
                if hit {
                    found.push(format!("{}: {call}", n + 1));
                }
            }
        }
        for krate in ["statrs::", "libm::"] {
            if code.contains(krate) {
                found.push(format!("{}: {krate}", n + 1));
            }
        }
    }
    found
}

#[test]
fn platform_math_is_called_only_in_the_math_module() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    files.sort();
    assert!(files.len() > 50, "the scan must see the sources: {files:?}");
    let mut wrong = Vec::new();
    for file in files {
        if file.starts_with(root.join("math")) {
            continue;
        }
        for hit in platform_math_calls(&fs::read_to_string(&file).unwrap()) {
            wrong.push(format!("{}:{hit}", file.display()));
        }
    }
    assert!(
        wrong.is_empty(),
        "platform math outside src/math/ (use killchain::math):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_scan_sees_each_kind_of_platform_call() {
    // The check above must be able to fail: each way the old code reached the platform's libm.
    for line in [
        "let (a, b) = (low.ln(), high.ln());",
        "(mu + sigma * z).exp()",
        "-(-lambda * p).exp_m1()",
        "10f64.powf(lmin.log10().floor())",
        "let p = f64::powi(10.0, e);",
        "use statrs::function::gamma::ln_gamma;",
        "let y = libm::exp(x);",
    ] {
        assert!(!platform_math_calls(line).is_empty(), "{line}");
    }
    for line in [
        "let s = (p * (1.0 - p) / n).sqrt();",
        "math::exp(mu + sigma * special::normal_quantile(u))",
        "// the old code said x.ln()",
        "let f0 = special::poisson_cdf(k0, lambda);",
    ] {
        assert_eq!(platform_math_calls(line), Vec::<String>::new(), "{line}");
    }
}

#[test]
fn no_dependency_computes_with_platform_math() {
    let manifest =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .unwrap();
    assert!(
        !deps.contains("statrs"),
        "statrs computes with std's f64 methods"
    );
    assert!(deps.lines().any(|l| l.starts_with("libm ")), "{deps}");
}

#[test]
fn exp_gives_musls_bits_where_c_libraries_differ() {
    // e^13.5 = 729416.369847701331861…: glibc's exp rounds it to …ad8b, musl's algorithm (the
    // one killchain now uses on every machine) to …ad8c. A machine's C library no longer decides.
    assert_eq!(math::exp(13.5).to_bits(), 0x4126_4290_bd5c_ad8c);
}

#[test]
fn impact_quantiles_and_poisson_figures_are_pinned_bits() {
    // The functions on the path of every drawn impact and every year's size, at fixed points.
    let lognormal = Impact::LogNormal {
        low: 250_000.0,
        high: 4_000_000.0,
    };
    let pert = Impact::Pert {
        min: 50_000.0,
        mode: 400_000.0,
        max: 6_000_000.0,
    };
    let got = [
        lognormal.quantile(0.05),
        lognormal.quantile(0.5),
        lognormal.quantile(0.999),
        pert.quantile(0.01),
        pert.quantile(0.5),
        pert.quantile(0.99),
        special::poisson_cdf(45, 45.5),
        special::poisson_cdf(2500, 2500.0),
        special::ln_gamma(46.0),
        special::normal_quantile(0.975),
    ]
    .map(f64::to_bits);
    let want = [
        0x410e_847f_ffff_fffa,
        0x412e_847f_ffff_fffc,
        0x4169_cb8a_a49c_bd89,
        0x40f4_25bc_63f6_fdba,
        0x4130_699f_91bb_e0d0,
        0x414d_ef0c_fc66_8e31,
        0x3fe0_50f3_9250_c554,
        0x3fe0_2b92_aa1f_e17e,
        0x4060_23f7_43ad_dd9f,
        0x3fff_5c03_31ee_ff83,
    ];
    assert_eq!(got, want, "{got:#x?}");
}
