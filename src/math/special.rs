//! Special functions of the distributions killchain draws from, pure and built only on
//! [`super`]'s portable elementary functions: log-gamma, the normal quantile (through the
//! inverse complementary error function), the regularised incomplete Beta function and its
//! inverse (the PERT's quantile), and the Poisson CDF (through the regularised incomplete gamma
//! function).
//!
//! The algorithms are those the `statrs` crate uses (the inverse error function of Boost.Math,
//! the Beta inverse of Algorithms AS 64 / AS 109 with Remark AS R83, the incomplete functions of
//! Numerical Recipes and Cephes), kept step for step so that results match it wherever the
//! platform's `log` and `exp` agree with musl's; only the elementary functions differ.

// The coefficients are Boost.Math's published digits, kept as written.
#![allow(clippy::excessive_precision)]

use super::{exp, ln, pow};

/// ln Γ(x) for x > 0.
pub fn ln_gamma(x: f64) -> f64 {
    libm::lgamma(x)
}

/// ln B(a, b) for a, b > 0.
pub fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// Φ⁻¹(u), the standard normal quantile, for u in (0, 1): −√2 · erfc⁻¹(2u).
pub fn normal_quantile(u: f64) -> f64 {
    -std::f64::consts::SQRT_2 * erfc_inv(2.0 * u)
}

/// The inverse of the complementary error function, for x in (0, 2); +∞ at and below 0, −∞ at
/// and above 2.
pub fn erfc_inv(x: f64) -> f64 {
    if x <= 0.0 {
        f64::INFINITY
    } else if x >= 2.0 {
        f64::NEG_INFINITY
    } else if x > 1.0 {
        erf_inv_impl(-1.0 + x, 2.0 - x, -1.0)
    } else {
        erf_inv_impl(1.0 - x, x, 1.0)
    }
}

/// Σ coeff[k] · zᵏ, by Horner's rule.
fn polynomial(z: f64, coeff: &[f64]) -> f64 {
    coeff.iter().rev().fold(0.0, |sum, &c| c + z * sum)
}

/// erf⁻¹ for p = 1 − q, with sign `s` (Boost.Math's rational approximations).
fn erf_inv_impl(p: f64, q: f64, s: f64) -> f64 {
    let ratio = |z: f64, n: &[f64], d: &[f64]| polynomial(z, n) / polynomial(z, d);
    let result = if p <= 0.5 {
        let y = 0.0891314744949340820313;
        let g = p * (p + 10.0);
        let r = ratio(p, ERF_INV_IMPL_AN, ERF_INV_IMPL_AD);
        g * y + g * r
    } else if q >= 0.25 {
        let y = 2.249481201171875;
        let g = (-2.0 * ln(q)).sqrt();
        let r = ratio(q - 0.25, ERF_INV_IMPL_BN, ERF_INV_IMPL_BD);
        g / (y + r)
    } else {
        let x = (-ln(q)).sqrt();
        let (y, shift, n, d) = if x < 3.0 {
            (0.807220458984375, 1.125, ERF_INV_IMPL_CN, ERF_INV_IMPL_CD)
        } else if x < 6.0 {
            (
                0.93995571136474609375,
                3.0,
                ERF_INV_IMPL_DN,
                ERF_INV_IMPL_DD,
            )
        } else if x < 18.0 {
            (
                0.98362827301025390625,
                6.0,
                ERF_INV_IMPL_EN,
                ERF_INV_IMPL_ED,
            )
        } else if x < 44.0 {
            (
                0.99714565277099609375,
                18.0,
                ERF_INV_IMPL_FN,
                ERF_INV_IMPL_FD,
            )
        } else {
            (
                0.99941349029541015625,
                44.0,
                ERF_INV_IMPL_GN,
                ERF_INV_IMPL_GD,
            )
        };
        let r = ratio(x - shift, n, d);
        y * x + r * x
    };
    s * result
}

/// The regularised incomplete Beta function I_x(a, b), for a, b > 0 and x in [0, 1] (by its
/// continued fraction).
pub fn beta_reg(a: f64, b: f64, x: f64) -> f64 {
    // x within 4 ulps or one epsilon of 1 counts as 1 (as `approx::ulps_eq!` decides)
    let near_one = (1.0 - x).abs() <= f64::EPSILON || x.to_bits().abs_diff(1f64.to_bits()) <= 4;
    let bt = if x == 0.0 || near_one {
        0.0
    } else {
        exp(ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * ln(x) + b * ln(1.0 - x))
    };
    let symm_transform = x >= (a + 1.0) / (a + b + 2.0);
    let eps = f64::EPSILON / 2.0;
    let fpmin = f64::MIN_POSITIVE / eps;
    let (a, b, x) = if symm_transform {
        (b, a, 1.0 - x)
    } else {
        (a, b, x)
    };
    let at_least_fpmin = |v: f64| if v.abs() < fpmin { fpmin } else { v };

    let qab = a + b;
    let qap = a + 1.0;
    let qam = a - 1.0;
    let mut c = 1.0;
    let mut d = 1.0 / at_least_fpmin(1.0 - qab * x / qap);
    let mut h = d;
    for m in 1..141 {
        let m = f64::from(m);
        let m2 = m * 2.0;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 / at_least_fpmin(1.0 + aa * d);
        c = at_least_fpmin(1.0 + aa / c);
        h = h * d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 / at_least_fpmin(1.0 + aa * d);
        c = at_least_fpmin(1.0 + aa / c);
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() <= eps {
            break;
        }
    }
    if symm_transform {
        1.0 - bt * h / a
    } else {
        bt * h / a
    }
}

/// The inverse of [`beta_reg`] in x: the quantile at `x` in [0, 1] of Beta(a, b), a, b > 0.
/// Algorithm AS 64 / AS 109 with Remark AS R83: a first approximation, then Newton–Raphson.
pub fn inv_beta_reg(mut a: f64, mut b: f64, mut x: f64) -> f64 {
    const SAE: i32 = -30;
    const FPU: f64 = 1e-30; // 10^SAE
    let ln_beta = ln_beta(a, b);
    if x == 0.0 {
        return 0.0;
    }
    if x == 1.0 {
        return 1.0;
    }
    let flip = 0.5 < x;
    if flip {
        std::mem::swap(&mut a, &mut b);
        x = 1.0 - x;
    }

    let mut p = (-ln(x * x)).sqrt();
    let mut q = p - (2.30753 + 0.27061 * p) / (1.0 + (0.99229 + 0.04481 * p) * p);
    if 1.0 < a && 1.0 < b {
        let r = (q * q - 3.0) / 6.0;
        let s = 1.0 / (2.0 * a - 1.0);
        let t = 1.0 / (2.0 * b - 1.0);
        let h = 2.0 / (s + t);
        let w = q * (h + r).sqrt() / h - (t - s) * (r + 5.0 / 6.0 - 2.0 / (3.0 * h));
        p = a / (a + b * exp(2.0 * w));
    } else {
        let mut t = 1.0 / (9.0 * b);
        t = 2.0 * b * pow(1.0 - t + q * t.sqrt(), 3.0);
        if t <= 0.0 {
            p = 1.0 - exp((ln((1.0 - x) * b) + ln_beta) / b);
        } else {
            t = 2.0 * (2.0 * a + b - 1.0) / t;
            if t <= 1.0 {
                p = exp((ln(x * a) + ln_beta) / a);
            } else {
                p = 1.0 - 2.0 / (t + 1.0);
            }
        }
    }
    p = p.clamp(0.0001, 0.9999);

    let e = (-5.0 / a / a - 1.0 / pow(x, 0.2) - 13.0) as i32;
    let acu = if e > SAE {
        pow(10.0, f64::from(e))
    } else {
        FPU
    };
    let mut pnext;
    let mut qprev = 0.0;
    let mut sq = 1.0;
    let mut prev = 1.0;
    'outer: loop {
        q = beta_reg(a, b, p);
        q = (q - x) * exp(ln_beta + (1.0 - a) * ln(p) + (1.0 - b) * ln(1.0 - p));
        if q * qprev <= 0.0 {
            prev = if sq > FPU { sq } else { FPU };
        }
        let mut g = 1.0;
        loop {
            loop {
                let adj = g * q;
                sq = adj * adj;
                if sq < prev {
                    pnext = p - adj;
                    if (0.0..=1.0).contains(&pnext) {
                        break;
                    }
                }
                g /= 3.0;
            }
            if prev <= acu || q * q <= acu {
                p = pnext;
                break 'outer;
            }
            if pnext != 0.0 && pnext != 1.0 {
                break;
            }
            g /= 3.0;
        }
        if pnext == p {
            break;
        }
        p = pnext;
        qprev = q;
    }
    if flip { 1.0 - p } else { p }
}

/// P(X ≤ k) for X ~ Poisson(λ), λ > 0: the regularised upper incomplete gamma function
/// Q(k + 1, λ).
pub fn poisson_cdf(k: u64, lambda: f64) -> f64 {
    let a = k as f64 + 1.0;
    let x = lambda;
    if x < 1.0 || x <= a {
        return 1.0 - gamma_lr(a, x);
    }
    gamma_ur_fraction(a, x)
}

/// Relative accuracy at which the incomplete gamma series and fraction stop.
const GAMMA_EPS: f64 = 0.000_000_000_000_001;
/// Rescaling bound of the continued fraction's terms, and its inverse.
const BIG: f64 = 4_503_599_627_370_496.0;
const BIG_INV: f64 = 2.220_446_049_250_313_080_85e-16;
/// Below this, e^ax underflows.
const LN_MIN: f64 = -709.782_712_893_383_99;

/// The regularised lower incomplete gamma function P(a, x), for a ≥ 1 and x > 0.
fn gamma_lr(a: f64, x: f64) -> f64 {
    let ax = a * ln(x) - x - ln_gamma(a);
    if ax < LN_MIN {
        return if a < x { 1.0 } else { 0.0 };
    }
    if x <= 1.0 || x <= a {
        // the series
        let (mut r, mut c, mut ans) = (a, 1.0, 1.0);
        loop {
            r += 1.0;
            c *= x / r;
            ans += c;
            if c / ans <= GAMMA_EPS {
                break;
            }
        }
        return exp(ax) * ans / a;
    }
    1.0 - gamma_ur_fraction(a, x)
}

/// The regularised upper incomplete gamma function Q(a, x) by its continued fraction, for
/// x > a ≥ 1.
fn gamma_ur_fraction(a: f64, x: f64) -> f64 {
    let ax = a * ln(x) - x - ln_gamma(a);
    if ax < LN_MIN {
        return if a < x { 0.0 } else { 1.0 };
    }
    let ax = exp(ax);
    let mut y = 1.0 - a;
    let mut z = x + y + 1.0;
    let mut c = 0.0;
    let (mut pkm2, mut qkm2) = (1.0, x);
    let (mut pkm1, mut qkm1) = (x + 1.0, z * x);
    let mut ans = pkm1 / qkm1;
    loop {
        y += 1.0;
        z += 2.0;
        c += 1.0;
        let yc = y * c;
        let pk = pkm1 * z - pkm2 * yc;
        let qk = qkm1 * z - qkm2 * yc;
        (pkm2, pkm1, qkm2, qkm1) = (pkm1, pk, qkm1, qk);
        if pk.abs() > BIG {
            pkm2 *= BIG_INV;
            pkm1 *= BIG_INV;
            qkm2 *= BIG_INV;
            qkm1 *= BIG_INV;
        }
        if qk != 0.0 {
            let r = pk / qk;
            let t = ((ans - r) / r).abs();
            ans = r;
            if t <= GAMMA_EPS {
                break;
            }
        }
    }
    ans * ax
}

const ERF_INV_IMPL_AN: &[f64] = &[
    -0.000508781949658280665617,
    -0.00836874819741736770379,
    0.0334806625409744615033,
    -0.0126926147662974029034,
    -0.0365637971411762664006,
    0.0219878681111168899165,
    0.00822687874676915743155,
    -0.00538772965071242932965,
];

const ERF_INV_IMPL_AD: &[f64] = &[
    1.0,
    -0.970005043303290640362,
    -1.56574558234175846809,
    1.56221558398423026363,
    0.662328840472002992063,
    -0.71228902341542847553,
    -0.0527396382340099713954,
    0.0795283687341571680018,
    -0.00233393759374190016776,
    0.000886216390456424707504,
];

const ERF_INV_IMPL_BN: &[f64] = &[
    -0.202433508355938759655,
    0.105264680699391713268,
    8.37050328343119927838,
    17.6447298408374015486,
    -18.8510648058714251895,
    -44.6382324441786960818,
    17.445385985570866523,
    21.1294655448340526258,
    -3.67192254707729348546,
];

const ERF_INV_IMPL_BD: &[f64] = &[
    1.0,
    6.24264124854247537712,
    3.9713437953343869095,
    -28.6608180499800029974,
    -20.1432634680485188801,
    48.5609213108739935468,
    10.8268667355460159008,
    -22.6436933413139721736,
    1.72114765761200282724,
];

const ERF_INV_IMPL_CN: &[f64] = &[
    -0.131102781679951906451,
    -0.163794047193317060787,
    0.117030156341995252019,
    0.387079738972604337464,
    0.337785538912035898924,
    0.142869534408157156766,
    0.0290157910005329060432,
    0.00214558995388805277169,
    -0.679465575181126350155e-6,
    0.285225331782217055858e-7,
    -0.681149956853776992068e-9,
];

const ERF_INV_IMPL_CD: &[f64] = &[
    1.0,
    3.46625407242567245975,
    5.38168345707006855425,
    4.77846592945843778382,
    2.59301921623620271374,
    0.848854343457902036425,
    0.152264338295331783612,
    0.01105924229346489121,
];

const ERF_INV_IMPL_DN: &[f64] = &[
    -0.0350353787183177984712,
    -0.00222426529213447927281,
    0.0185573306514231072324,
    0.00950804701325919603619,
    0.00187123492819559223345,
    0.000157544617424960554631,
    0.460469890584317994083e-5,
    -0.230404776911882601748e-9,
    0.266339227425782031962e-11,
];

const ERF_INV_IMPL_DD: &[f64] = &[
    1.0,
    1.3653349817554063097,
    0.762059164553623404043,
    0.220091105764131249824,
    0.0341589143670947727934,
    0.00263861676657015992959,
    0.764675292302794483503e-4,
];

const ERF_INV_IMPL_EN: &[f64] = &[
    -0.0167431005076633737133,
    -0.00112951438745580278863,
    0.00105628862152492910091,
    0.000209386317487588078668,
    0.149624783758342370182e-4,
    0.449696789927706453732e-6,
    0.462596163522878599135e-8,
    -0.281128735628831791805e-13,
    0.99055709973310326855e-16,
];

const ERF_INV_IMPL_ED: &[f64] = &[
    1.0,
    0.591429344886417493481,
    0.138151865749083321638,
    0.0160746087093676504695,
    0.000964011807005165528527,
    0.275335474764726041141e-4,
    0.282243172016108031869e-6,
];

const ERF_INV_IMPL_FN: &[f64] = &[
    -0.0024978212791898131227,
    -0.779190719229053954292e-5,
    0.254723037413027451751e-4,
    0.162397777342510920873e-5,
    0.396341011304801168516e-7,
    0.411632831190944208473e-9,
    0.145596286718675035587e-11,
    -0.116765012397184275695e-17,
];

const ERF_INV_IMPL_FD: &[f64] = &[
    1.0,
    0.207123112214422517181,
    0.0169410838120975906478,
    0.000690538265622684595676,
    0.145007359818232637924e-4,
    0.144437756628144157666e-6,
    0.509761276599778486139e-9,
];

const ERF_INV_IMPL_GN: &[f64] = &[
    -0.000539042911019078575891,
    -0.28398759004727721098e-6,
    0.899465114892291446442e-6,
    0.229345859265920864296e-7,
    0.225561444863500149219e-9,
    0.947846627503022684216e-12,
    0.135880130108924861008e-14,
    -0.348890393399948882918e-21,
];

const ERF_INV_IMPL_GD: &[f64] = &[
    1.0,
    0.0845746234001899436914,
    0.00282092984726264681981,
    0.468292921940894236786e-4,
    0.399968812193862100054e-6,
    0.161809290887904476097e-8,
    0.231558608310259605225e-11,
];
