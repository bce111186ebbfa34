//! The batched engine's processor-specific code, and the only `unsafe` in killchain: copies of
//! the engine loops compiled for AVX-512 and AVX2 ([`dispatched`]), and AVX-512's compress for
//! moving trials between buffers. Each path is chosen by a runtime feature check and has a
//! portable twin that gives the same bits (tested against it).
//!
//! Invariant: `unsafe` appears in this file only; everything it offers the engine is safe.

#![allow(unsafe_code)]

use super::batch::{BATCH, SORTED_BY};

/// Defines `$name`, which runs `$portable` compiled for AVX-512 or AVX2 when the processor has
/// them (chosen at run time) and as written otherwise. The feature-specific copies vectorise the
/// 64-bit arithmetic of the per-control loops. Only integer arithmetic and IEEE float operations
/// without contraction are involved, so every path gives the same bits.
macro_rules! dispatched {
    ($(#[$doc:meta])* fn $name:ident => $portable:ident($($arg:ident: $ty:ty),* $(,)?)) => {
        $(#[$doc])*
        pub(crate) fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[allow(unsafe_code)]
                #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,bmi2")]
                unsafe fn avx512($($arg: $ty),*) {
                    $portable($($arg),*)
                }
                #[allow(unsafe_code)]
                #[target_feature(enable = "avx2,bmi2")]
                unsafe fn avx2($($arg: $ty),*) {
                    $portable($($arg),*)
                }
                use std::arch::is_x86_feature_detected as has;
                if has!("avx512f") && has!("avx512dq") && has!("avx512vl") && has!("avx512bw") {
                    // SAFETY: the processor supports every feature `avx512` is compiled for.
                    #[allow(unsafe_code)]
                    unsafe {
                        return avx512($($arg),*);
                    }
                }
                if has!("avx2") && has!("bmi2") {
                    // SAFETY: the processor supports every feature `avx2` is compiled for.
                    #[allow(unsafe_code)]
                    unsafe {
                        return avx2($($arg),*);
                    }
                }
            }
            $portable($($arg),*)
        }
    };
}

pub(super) use dispatched;

/// Compresses the first whole blocks of 8 `src` elements whose state is `sorted` into `dst`
/// from `n`, with AVX-512 when the processor has it; returns the new `n` and how many elements
/// of `src` it handled (0 without AVX-512: the scalar loop does them all).
#[inline(always)]
pub(super) fn compress_into(
    dst: &mut [u64; BATCH],
    n: usize,
    src: &[u64],
    state: &[u8],
    sorted: u8,
) -> (usize, usize) {
    assert!(src.len() == state.len() && n + src.len() <= BATCH);
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx512f") && has!("avx512bw") && has!("avx512vl") {
            // SAFETY: the processor has the features `compress_avx512` is compiled for; `dst`
            // holds `BATCH` ≥ `n + src.len()` elements and `src` `state.len()`, and they are
            // different buffers (two borrows).
            return unsafe { compress_avx512(dst.as_mut_ptr(), n, src.as_ptr(), state, sorted) };
        }
    }
    let _ = (dst, src, state, sorted);
    (n, 0)
}

/// [`compress_into`] of the first `state.len()` elements of `buf` to its own front.
#[inline(always)]
pub(super) fn compress_in_place(
    buf: &mut [u64; BATCH],
    state: &[u8],
    sorted: u8,
) -> (usize, usize) {
    assert!(state.len() <= BATCH);
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx512f") && has!("avx512bw") && has!("avx512vl") {
            let ptr = buf.as_mut_ptr();
            // SAFETY: the processor has the features; `buf` holds `BATCH` ≥ `state.len()`
            // elements, valid for reads and writes, and writing in place from 0 is allowed.
            return unsafe { compress_avx512(ptr, 0, ptr, state, sorted) };
        }
    }
    let _ = (buf, state, sorted);
    (0, 0)
}

/// The compress step for u64 with AVX-512's compress: 8 elements per step, each
/// stored as a whole vector at `n` (the lanes past the kept ones are overwritten later or lie
/// past the result).
///
/// # Safety
/// The processor supports AVX-512 F, BW and VL; `src` is valid for reads of `state.len()`
/// elements and `dst` for writes of `n + state.len()` elements; `dst` may be `src` if `n` is 0.
///
/// The AVX-512 intrinsics exist from Rust 1.89; older compilers build the stub below, which
/// leaves every element to the scalar loop.
#[cfg(target_arch = "x86_64")]
#[rustversion::since(1.89)]
#[allow(unsafe_code, clippy::incompatible_msrv)]
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
unsafe fn compress_avx512(
    dst: *mut u64,
    mut n: usize,
    src: *const u64,
    state: &[u8],
    sorted: u8,
) -> (usize, usize) {
    use std::arch::x86_64::{
        _mm_and_si128, _mm_cmpeq_epi8_mask, _mm_cvtsi64_si128, _mm_set1_epi8, _mm512_loadu_si512,
        _mm512_maskz_compress_epi64, _mm512_storeu_si512,
    };
    let (by, want) = (_mm_set1_epi8(SORTED_BY as i8), _mm_set1_epi8(sorted as i8));
    let mut i = 0;
    for block in state.chunks_exact(8) {
        let bytes = u64::from_le_bytes(block.try_into().expect("a chunk of 8"));
        // Bit l of `keep` is set when lane l's state is `sorted` (only the low 8 lanes of the
        // 16 compared hold states).
        let keep = _mm_cmpeq_epi8_mask(_mm_and_si128(_mm_cvtsi64_si128(bytes as i64), by), want);
        let keep = keep as u8;
        // SAFETY: `i + 8 <= state.len()`, so the 8 elements read are within `src`'s range;
        // `n <= (n at entry) + i`, so the 8 written end within `dst`'s range. In place
        // (`dst == src`, `n <= i`), every element overwritten at or past `i` was loaded first.
        unsafe {
            let x = _mm512_loadu_si512(src.add(i).cast());
            _mm512_storeu_si512(dst.add(n).cast(), _mm512_maskz_compress_epi64(keep, x));
        }
        n += keep.count_ones() as usize;
        i += 8;
    }
    (n, i)
}

/// [`compress_avx512`] for compilers without the AVX-512 intrinsics: handles nothing.
#[cfg(target_arch = "x86_64")]
#[rustversion::before(1.89)]
#[allow(unsafe_code)]
unsafe fn compress_avx512(
    _dst: *mut u64,
    n: usize,
    _src: *const u64,
    _state: &[u8],
    _sorted: u8,
) -> (usize, usize) {
    (n, 0)
}
