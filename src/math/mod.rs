//! Portable math, pure: every transcendental function whose result can decide an output bit
//! (impact draws, the Poisson sizes of years, exact figures, chart axes), from one implementation
//! on every machine — the `libm` crate, pure Rust ports of musl's libm — never the platform's C
//! library, whose `log` and `exp` differ by an ulp between systems. The special functions the
//! distributions need (log-gamma, the normal and Beta quantiles, the Poisson CDF) are in
//! [`special`], built on these.
//!
//! Invariant: no other module calls `f64::ln`, `exp`, `powf`, `powi` or their kin, nor a crate
//! that does (`tests/integration/architecture.rs` checks it); `sqrt` and the basic arithmetic
//! are correctly rounded by IEEE 754 and may be used anywhere.

pub mod special;

/// The natural logarithm.
pub fn ln(x: f64) -> f64 {
    libm::log(x)
}

/// e to the power `x`.
pub fn exp(x: f64) -> f64 {
    libm::exp(x)
}

/// eˣ − 1, accurate for `x` near zero.
pub fn exp_m1(x: f64) -> f64 {
    libm::expm1(x)
}

/// The base-10 logarithm.
pub fn log10(x: f64) -> f64 {
    libm::log10(x)
}

/// `x` to the power `y`.
pub fn pow(x: f64, y: f64) -> f64 {
    libm::pow(x, y)
}

/// The real cube root (negative for negative `x`).
pub fn cbrt(x: f64) -> f64 {
    libm::cbrt(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The elementary functions give these exact bits (musl's algorithms), whatever the machine's
    /// C library would: a change of implementation shows here first.
    #[test]
    fn elementary_functions_give_pinned_bits() {
        let got = [
            ln(250_000.0),
            ln(0.1),
            exp(13.5),
            exp(-45.5),
            exp_m1(-1e-3),
            log10(123_456.0),
            pow(0.3, 0.2),
            pow(10.0, -14.0),
            cbrt(-0.3),
        ]
        .map(f64::to_bits);
        let want = [
            0x4028_dbc2_39b0_b862,
            0xc002_6bb1_bbb5_5515,
            0x4126_4290_bd5c_ad8c,
            0x3bd4_7f5b_c5d1_a914,
            0xbf50_6035_21ca_c48c,
            0x4014_5db5_5fe4_b478,
            0x3fe9_26ef_f166_29a5,
            0x3d06_849b_86a1_2b9b,
            0xbfe5_6bfe_a66e_f78d,
        ];
        assert_eq!(got, want, "{got:#018x?}");
    }
}
