//! Conversions between `f32` and the two 16-bit float formats of weight
//! files: IEEE 754 half precision (`F16`: 1 sign, 5 exponent, 10 mantissa
//! bits) and bfloat16 (`BF16`: 1 sign, 8 exponent, 7 mantissa bits, the top
//! half of an `f32`). `const fn`s on bit patterns, `core` only.
//!
//! | conversion | exact? | rule |
//! |---|---|---|
//! | [`f16_to_f32`], [`bf16_to_f32`] | always | every 16-bit value is an `f32`; a NaN stays NaN (F16: quieted, payload kept) |
//! | [`f32_to_f16`] | when the value is an F16 | round to nearest, ties to even; beyond 65504 (after rounding) infinite; below 2^-24 subnormal or zero |
//! | [`f32_to_bf16`] | when the low 16 bits are 0 | round to nearest, ties to even; beyond `f32::MAX`'s BF16 rounding infinite |
//!
//! The results are PyTorch's (`tensor.to(torch.float16)`,
//! `.to(torch.bfloat16)`, `.to(torch.float32)`) bit for bit: the tests
//! compare checksums over all 65536 16-bit patterns and 3.4 million `f32`
//! patterns (every ties case of both formats) with those printed by
//! `scripts/reference/half_tables.py`. Only NaN payloads of the narrowing
//! conversions are not compared, PyTorch's differ between its code paths;
//! here a NaN keeps its sign and the top of its payload and is quiet.
//! An `f64` goes to F16 or BF16 through `f32`, as PyTorch's conversions do
//! (two roundings, which differ from one only within `2^-29` of a tie).
//!
//! ```
//! use stackgrad::half::{bf16_to_f32, f16_to_f32, f32_to_bf16, f32_to_f16};
//! assert_eq!(f16_to_f32(0x3C00), 1.0);
//! assert_eq!(f32_to_f16(65504.0), 0x7BFF); // the largest F16
//! assert_eq!(f32_to_f16(65520.0), 0x7C00); // rounds to infinity
//! assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24)); // the smallest subnormal
//! assert_eq!(f32_to_bf16(1.0 + 2f32.powi(-8)), 0x3F80); // a tie, to even: 1.0
//! assert_eq!(bf16_to_f32(0x3F81), 1.0 + 2f32.powi(-7));
//! ```

/// The `f32` of an F16 bit pattern. Exact; NaN stays NaN, quiet, with its
/// payload and sign.
///
/// ```
/// assert_eq!(stackgrad::half::f16_to_f32(0xC000), -2.0);
/// assert_eq!(stackgrad::half::f16_to_f32(0x7C00), f32::INFINITY);
/// ```
#[must_use]
pub const fn f16_to_f32(bits: u16) -> f32 {
    let sign = ((bits as u32) & 0x8000) << 16;
    let exp = ((bits >> 10) & 0x1F) as u32;
    let man = (bits & 0x3FF) as u32;
    let out = if exp == 0x1F {
        if man == 0 {
            sign | 0x7F80_0000
        } else {
            sign | 0x7FC0_0000 | (man << 13)
        }
    } else if exp == 0 {
        if man == 0 {
            sign
        } else {
            // Subnormal, man * 2^-24: shift the leading 1 to the implicit bit.
            let shift = man.leading_zeros() - 21;
            sign | ((113 - shift) << 23) | (((man << shift) & 0x3FF) << 13)
        }
    } else {
        sign | ((exp + 112) << 23) | (man << 13)
    };
    f32::from_bits(out)
}

/// The `f32` of a BF16 bit pattern (its bits are the `f32`'s top half). Exact.
///
/// ```
/// assert_eq!(stackgrad::half::bf16_to_f32(0x4049), 3.140625);
/// ```
#[must_use]
pub const fn bf16_to_f32(bits: u16) -> f32 {
    f32::from_bits((bits as u32) << 16)
}

/// `x` rounded to the nearest F16, ties to even. Values of magnitude
/// 65520 and above become infinite, below `2^-25` zero (with `x`'s sign).
///
/// ```
/// use stackgrad::half::{f16_to_f32, f32_to_f16};
/// assert_eq!(f16_to_f32(f32_to_f16(0.1)), 0.099975586); // the nearest F16
/// assert_eq!(f32_to_f16(-0.0), 0x8000);
/// ```
#[must_use]
pub const fn f32_to_f16(x: f32) -> u16 {
    let b = x.to_bits();
    let sign = ((b >> 16) & 0x8000) as u16;
    let exp = ((b >> 23) & 0xFF) as i32;
    let man = b & 0x7F_FFFF;
    if exp == 0xFF {
        return if man == 0 {
            sign | 0x7C00
        } else {
            sign | 0x7E00 | (man >> 13) as u16
        };
    }
    let e = exp - 127 + 15; // the F16 biased exponent
    if e >= 0x1F {
        return sign | 0x7C00;
    }
    let (q, rem, half) = if e <= 0 {
        // An F16 subnormal (or zero): units of 2^-24, m * 2^(e - 14).
        let shift = (14 - e) as u32;
        if shift > 24 {
            return sign;
        }
        let m = if exp == 0 { man } else { man | 0x80_0000 };
        (m >> shift, m & ((1 << shift) - 1), 1u32 << (shift - 1))
    } else {
        (((e as u32) << 10) | (man >> 13), man & 0x1FFF, 0x1000)
    };
    // A carry out of the mantissa moves to the next exponent (or infinity).
    let q = if rem > half || (rem == half && q & 1 == 1) {
        q + 1
    } else {
        q
    };
    sign | q as u16
}

/// `x` rounded to the nearest BF16, ties to even. Finite values that round
/// beyond BF16's largest (`3.3895e38`) become infinite.
///
/// ```
/// use stackgrad::half::{bf16_to_f32, f32_to_bf16};
/// assert_eq!(bf16_to_f32(f32_to_bf16(0.1)), 0.10009765625);
/// ```
#[must_use]
pub const fn f32_to_bf16(x: f32) -> u16 {
    let b = x.to_bits();
    if b & 0x7FFF_FFFF > 0x7F80_0000 {
        return ((b >> 16) as u16) | 0x0040; // NaN: quiet, payload's top kept
    }
    ((b + 0x7FFF + ((b >> 16) & 1)) >> 16) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    /// FNV-1a, 64 bits, over `width` little-endian bytes of each word (as
    /// `scripts/reference/half_tables.py` computes it).
    fn fnv(words: impl Iterator<Item = u32>, width: usize) -> u64 {
        let mut h = 0xCBF2_9CE4_8422_2325u64;
        for w in words {
            for k in 0..width {
                h ^= u64::from((w >> (8 * k)) & 0xFF);
                h = h.wrapping_mul(0x0100_0000_01B3);
            }
        }
        h
    }

    /// The float32 inputs of the narrowing checksums: `(hi << 16) | lo`
    /// for every `hi` and these `lo`.
    fn lows() -> Vec<u32> {
        let mut lows: Vec<u32> = (0..8)
            .flat_map(|top| {
                [0x0000, 0x0001, 0x0FFF, 0x1000, 0x1001, 0x1FFF].map(|low| top << 13 | low)
            })
            .collect();
        lows.extend([0x7FFF, 0x8000, 0x8001, 0xFFFF]);
        lows
    }

    // Printed by `python3 scripts/reference/half_tables.py` (torch 2.15).
    const F16_TO_F32: u64 = 0x5d79_f1b0_86f3_0345;
    const BF16_TO_F32: u64 = 0x43a1_3836_c4ca_3b25;
    const F32_TO_F16: u64 = 0xe235_906c_3cbc_d8f9;
    const F32_TO_BF16: u64 = 0x05f2_4dee_b2d5_7eb9;

    #[test]
    fn widening_matches_pytorch_on_every_pattern() {
        let f16 = fnv((0..=u16::MAX).map(|h| f16_to_f32(h).to_bits()), 4);
        assert_eq!(f16, F16_TO_F32, "f16 -> f32: {f16:#018x}");
        let bf16 = fnv((0..=u16::MAX).map(|h| bf16_to_f32(h).to_bits()), 4);
        assert_eq!(bf16, BF16_TO_F32, "bf16 -> f32: {bf16:#018x}");
    }

    #[test]
    fn narrowing_matches_pytorch_on_every_tie_pattern() {
        let lows = lows();
        let inputs = || {
            let lows = lows.clone();
            (0..=0xFFFFu32)
                .flat_map(move |hi| lows.clone().into_iter().map(move |lo| hi << 16 | lo))
        };
        let nan_free = |h: u16, nan: bool| if nan { 0x7FFF } else { u32::from(h) };
        let f16 = fnv(
            inputs().map(|b| {
                let h = f32_to_f16(f32::from_bits(b));
                nan_free(h, f16_to_f32(h).is_nan())
            }),
            2,
        );
        assert_eq!(f16, F32_TO_F16, "f32 -> f16: {f16:#018x}");
        let bf16 = fnv(
            inputs().map(|b| {
                let h = f32_to_bf16(f32::from_bits(b));
                nan_free(h, bf16_to_f32(h).is_nan())
            }),
            2,
        );
        assert_eq!(bf16, F32_TO_BF16, "f32 -> bf16: {bf16:#018x}");
    }

    #[test]
    fn every_16_bit_value_survives_the_round_trip() {
        for h in 0..=u16::MAX {
            let (a, b) = (f16_to_f32(h), bf16_to_f32(h));
            if a.is_nan() {
                assert!(f16_to_f32(f32_to_f16(a)).is_nan(), "{h:#06x}");
            } else {
                assert_eq!(f32_to_f16(a), h, "f16 {h:#06x}");
            }
            if b.is_nan() {
                assert!(bf16_to_f32(f32_to_bf16(b)).is_nan(), "{h:#06x}");
            } else {
                assert_eq!(f32_to_bf16(b), h, "bf16 {h:#06x}");
            }
        }
    }

    #[test]
    fn edges() {
        // The largest F16, the first value that rounds to infinity, the
        // smallest subnormal and the halfway point below it (ties to 0).
        assert_eq!(f32_to_f16(65504.0), 0x7BFF);
        assert_eq!(f32_to_f16(65519.996), 0x7BFF);
        assert_eq!(f32_to_f16(65520.0), 0x7C00);
        assert_eq!(f32_to_f16(2f32.powi(-24)), 0x0001);
        assert_eq!(f32_to_f16(2f32.powi(-25)), 0x0000);
        assert_eq!(f32_to_f16(2f32.powi(-25) * 1.0000001), 0x0001);
        assert_eq!(f32_to_f16(-2f32.powi(-14)), 0x8400); // smallest normal
        assert_eq!(f32_to_bf16(f32::MAX), 0x7F80);
        assert_eq!(f32_to_bf16(-0.0), 0x8000);
        assert!(f16_to_f32(f32_to_f16(f32::NAN)).is_nan());
        assert!(bf16_to_f32(f32_to_bf16(-f32::NAN)).is_nan());
        assert_eq!(f32_to_bf16(-f32::NAN) & 0x8000, 0x8000);
        // F16 NaN 0x7C01 (signalling) widens to a quiet NaN with its payload.
        assert_eq!(f16_to_f32(0x7C01).to_bits(), 0x7FC0_2000);
    }
}
