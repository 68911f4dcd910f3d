//! Vectorizable `exp`, `sigmoid` and `tanh` for f32 and f64, with documented error.
//!
//! A small network's step is dominated by transcendentals: notebook 001's
//! 2 -> 25 -> 4 step calls `exp` 145 times (125 sigmoids and 20 softmax terms),
//! about half of a hand-written nalgebra step through the platform's scalar libm.
//! The functions here are branch-free (selects, not jumps), use no tables and no
//! float-to-int conversions, so that a loop over an array of them compiles to
//! SIMD code in the default build (SSE2 on x86-64).
//!
//! | function | method | max error vs `std`, f32 | max error vs `std`, f64 |
//! |---|---|---|---|
//! | [`exp`] | `2^n · p(r)`, Cody–Waite reduction, degree-7 / degree-12 polynomial (Estrin) | 1 ulp | 1 ulp |
//! | [`sigmoid`] | `1 / (1 + e^-x)` for `x ≥ 0`, `e^x / (1 + e^x)` below | 2 ulp | 2 ulp |
//! | [`tanh`] | odd polynomial for `\|x\| < 0.625`, `1 - 2 / (e^{2\|x\|} + 1)` above | 2 ulp | 2 ulp |
//!
//! Measured over all 2^32 f32 inputs (682 s in release on one core): exp 1 ulp
//! (worst at 5.96e-8), sigmoid 2 ulp (at -1.0988), tanh 1 ulp. Over the f64 sweep:
//! exp 1 ulp, sigmoid 2 ulp, tanh 2 ulp.
//!
//! The bounds are maxima over every f32 (the test `exp_f32_exhaustive` and friends
//! in this file; `cargo test --release --lib math -- --ignored` runs all 2^32
//! inputs in about 11 minutes, the default test every 257th) and over a dense sweep plus random inputs in
//! f64, measured against the platform's `std` functions (glibc's, which are within
//! one ulp of the exact value; for f32 the reference is the f64 function rounded,
//! which is the correctly rounded result up to rare double-rounding ties). Errors in
//! the subnormal output range are counted in subnormal ulps.
//!
//! Each function also has a `fused_` form ([`FastMath::fused_exp`] and
//! friends): the same code with fused multiply-adds (one rounding each), within
//! the same bounds (the tests sweep both). The layers use it inside the
//! run-time SIMD dispatch where the CPU has FMA (`crate::simd`), where it is
//! about a third faster; the plain form gives the same bits on every
//! instruction set.
//!
//! Edge cases follow IEEE: `exp(-inf) = 0`, `exp(inf) = inf`, overflow to `inf`
//! above `ln(MAX)` (88.72 in f32, 709.78 in f64), gradual underflow through the
//! subnormals to 0 below `ln(MIN_POSITIVE·ε/2)` (-103.97, -745.13), NaN in gives NaN
//! out; `sigmoid(±inf) = 1, 0`, `tanh(±inf) = ±1`, `tanh(-0) = -0`.
//!
//! How `exp` works: `n = round(x / ln 2)` by adding and subtracting `1.5·2^mantissa`
//! (round-to-nearest in the FPU, no conversion), `r = x - n ln 2` in two parts
//! (the high part has enough trailing zeros that `n · hi` is exact), `e^r` by a
//! polynomial on `|r| ≤ ln2/2`, then the scale `2^n` built from exponent bits with
//! `from_bits`. `2^n` is applied as two factors `2^⌊n/2⌉ · 2^(n - ⌊n/2⌉)`, each a
//! normal number, so that results from the subnormal range up to overflow come out
//! right with a single rounding (the first product `p · 2^n₁` is exact).

// The coefficients are quoted as their sources publish them (SLEEF, Cephes);
// the compiler rounds each to the nearest f32/f64, which is what those libraries use.
#![allow(clippy::excessive_precision)]

use crate::Scalar;

/// About how many arithmetic operations one [`exp`] (and so one [`sigmoid`] or
/// [`tanh`]) costs: the weight that decides when a loop of them is worth a
/// run-time SIMD dispatch (`crate::simd`). Measured: 125 f64 sigmoids take
/// 5.3 ns each in the baseline SSE2 code and 3.0 ns through the AVX2 dispatch,
/// whose call costs less than one element.
pub(crate) const EXP_COST: usize = 32;

/// The per-type kernels behind [`exp`], [`sigmoid`] and [`tanh`] (implemented for
/// `f32` and `f64`; a supertrait of [`Scalar`], so every scalar has them).
pub trait FastMath: Copy {
    /// `e^x`, within 1 ulp; see the [module docs](self).
    #[must_use]
    fn fast_exp(self) -> Self;
    /// `1 / (1 + e^-x)`, within 2 ulp.
    #[must_use]
    fn fast_sigmoid(self) -> Self;
    /// `tanh x`, within 2 ulp.
    #[must_use]
    fn fast_tanh(self) -> Self;
    /// [`fast_exp`](FastMath::fast_exp) with fused multiply-adds (one
    /// rounding each) where the plain one rounds twice: the same bound, often
    /// different last bits. Fast only where the CPU has FMA and the code is
    /// compiled for it (the layers call it inside the run-time dispatch);
    /// elsewhere it is a software `fma` call, and without the `std` feature
    /// it is the plain function.
    #[must_use]
    fn fused_exp(self) -> Self;
    /// [`fast_sigmoid`](FastMath::fast_sigmoid) with fused multiply-adds, within 2 ulp.
    #[must_use]
    fn fused_sigmoid(self) -> Self;
    /// [`fast_tanh`](FastMath::fast_tanh) with fused multiply-adds, within 2 ulp.
    #[must_use]
    fn fused_tanh(self) -> Self;
}

/// `e^x`, within 1 ulp of `std`'s, branch-free so that loops over arrays vectorize.
///
/// ```
/// use stackgrad::math::exp;
/// assert_eq!(exp(0.0f32), 1.0);
/// assert!((exp(1.0f64) - std::f64::consts::E).abs() <= f64::EPSILON * 3.0);
/// assert_eq!(exp(1000.0f64), f64::INFINITY);
/// assert_eq!(exp(f32::NEG_INFINITY), 0.0);
/// assert!(exp(-745.0f64) > 0.0); // subnormal, not flushed
/// assert!(exp(f32::NAN).is_nan());
/// ```
#[inline(always)]
#[must_use]
pub fn exp<T: Scalar>(x: T) -> T {
    x.fast_exp()
}

/// The logistic sigmoid `σ(x) = 1 / (1 + e^-x)`, within 2 ulp, branch-free.
///
/// For `x < 0` it computes `e^x / (1 + e^x)`, so that tiny outputs keep their
/// relative accuracy down to the subnormals instead of flushing to 0.
///
/// ```
/// use stackgrad::math::sigmoid;
/// assert_eq!(sigmoid(0.0f64), 0.5);
/// assert_eq!(sigmoid(1e4f32), 1.0);
/// assert_eq!(sigmoid(-1e4f32), 0.0);
/// assert!((sigmoid(-100.0f64) / (-100.0f64).exp() - 1.0).abs() < 1e-15);
/// ```
#[inline(always)]
#[must_use]
pub fn sigmoid<T: Scalar>(x: T) -> T {
    x.fast_sigmoid()
}

/// `tanh x`, within 2 ulp, branch-free.
///
/// ```
/// use stackgrad::math::tanh;
/// assert_eq!(tanh(0.0f32), 0.0);
/// assert_eq!(tanh(1e4f64), 1.0);
/// assert_eq!(tanh(f32::NEG_INFINITY), -1.0);
/// assert!((tanh(0.5f64) - 0.5f64.tanh()).abs() <= 2.0 * f64::EPSILON * 0.5);
/// ```
#[inline(always)]
#[must_use]
pub fn tanh<T: Scalar>(x: T) -> T {
    x.fast_tanh()
}

/// Stamps the kernels for one float type. All selects are written as `if` on
/// values (no early returns), which LLVM turns into compare-and-blend. Each
/// kernel is written once over `fma(a, b, c)`: `a * b + c` with two roundings
/// for the plain functions (bit-identical on every instruction set), a fused
/// multiply-add for the `fused_` ones.
macro_rules! fast_math {
    (
        $t:ty, $bits:ty, $kernels:ident, mantissa = $mant:expr, bias = $bias:expr,
        lo = $lo:expr, hi = $hi:expr, nonpos_shift = $nonpos_shift:expr, ln2_hi = $l2u:expr, ln2_lo = $l2l:expr,
        exp_poly = |$r:ident, $fma:ident| $poly:expr,
        tanh_small = |$x:ident, $z:ident, $fma2:ident| $tsmall:expr,
    ) => {
        mod $kernels {
            /// `a * b + c`, fused when `FUSED` (and `std` provides `mul_add`).
            #[inline(always)]
            fn madd<const FUSED: bool>(a: $t, b: $t, c: $t) -> $t {
                #[cfg(feature = "std")]
                if FUSED {
                    return a.mul_add(b, c);
                }
                a * b + c
            }

            // 1.5 * 2^mantissa: adding it rounds to an integer, and its low
            // bits are zero, so the sum's bit pattern ends in that integer.
            const MAGIC: $t = 1.5 * (1u64 << $mant) as $t;

            /// The reduction shared by both scalings, for `x` already clamped:
            /// `t = n + MAGIC` with `n = round(x / ln 2)` (rounded the same way
            /// in both variants), and `p = e^r`, `r = x - n ln 2`.
            #[inline(always)]
            fn reduce<const FUSED: bool>(x: $t) -> ($t, $t) {
                let $fma = madd::<FUSED>;
                const LOG2E: $t = core::f64::consts::LOG2_E as $t;
                let t = x * LOG2E + MAGIC;
                let n = t - MAGIC;
                let $r = $fma(-n, $l2l, $fma(-n, $l2u, x));
                let p: $t = $poly;
                (t, p)
            }

            #[inline(always)]
            pub(super) fn exp<const FUSED: bool>(x: $t) -> $t {
                // Comparisons that let NaN through (NaN < lo is false).
                let x = if x < $lo { $lo } else { x };
                let x = if x > $hi { $hi } else { x };
                let (t, p) = reduce::<FUSED>(x);
                let n = t - MAGIC;
                // 2^n as two normal factors 2^n1 · 2^n2 with n1 = round(n / 2).
                let t1 = n * 0.5 + MAGIC;
                let n2 = n - (t1 - MAGIC);
                let t2 = n2 + MAGIC;
                let s1 = <$t>::from_bits(t1.to_bits().wrapping_add($bias) << $mant);
                let s2 = <$t>::from_bits(t2.to_bits().wrapping_add($bias) << $mant);
                p * s1 * s2
            }

            /// [`exp`] for `x ≤ 0` (or NaN), bit for bit: `n ≤ 0` here, so
            /// `2^(n + K)` is one normal factor (`n ≥ -1076` in f64, `-150` in
            /// f32, after the clamp), `p · 2^(n + K)` is exact, and the one
            /// rounding is the product with the constant `2^-K`, as `exp`'s
            /// is with its second factor. Four operations instead of eleven.
            #[inline(always)]
            pub(super) fn exp_nonpos<const FUSED: bool>(x: $t) -> $t {
                const K: $bits = $nonpos_shift;
                // 2^-K, built from its exponent bits.
                const INV: $t = <$t>::from_bits(($bias - K) << $mant);
                let x = if x < $lo { $lo } else { x };
                let (t, p) = reduce::<FUSED>(x);
                let s = <$t>::from_bits(t.to_bits().wrapping_add($bias + K) << $mant);
                p * s * INV
            }

            #[inline(always)]
            pub(super) fn sigmoid<const FUSED: bool>(x: $t) -> $t {
                // e = e^-|x| ∈ [0, 1]: no overflow on either side.
                let e = exp_nonpos::<FUSED>(-x.abs());
                // Select the numerator, then divide once (both quotients would
                // be computed if the select came after the division).
                let num = if x >= 0.0 { 1.0 } else { e };
                num / (1.0 + e)
            }

            #[inline(always)]
            pub(super) fn tanh<const FUSED: bool>(x: $t) -> $t {
                let $fma2 = madd::<FUSED>;
                // tanh is odd: compute on |x|, then copy the sign (so tanh(-0) = -0).
                let a = x.abs();
                let $x = a;
                let $z = a * a;
                let small: $t = $tsmall;
                // 1 - 2 / (e^{2|x|} + 1) ≥ 0.55 here: no cancellation.
                let big = 1.0 - 2.0 / (exp::<FUSED>(a + a) + 1.0);
                // NaN takes the `big` path and stays NaN.
                let y = if a < 0.625 { small } else { big };
                const SIGN: $bits = 1 << (<$bits>::BITS - 1);
                <$t>::from_bits(y.to_bits() | (x.to_bits() & SIGN))
            }
        }

        impl crate::scalar::sealed::Sealed for $t {
            #[inline(always)]
            fn exp_nonpos(self, fused: bool) -> $t {
                if fused {
                    $kernels::exp_nonpos::<true>(self)
                } else {
                    $kernels::exp_nonpos::<false>(self)
                }
            }
        }

        impl FastMath for $t {
            #[inline(always)]
            fn fast_exp(self) -> $t {
                $kernels::exp::<false>(self)
            }
            #[inline(always)]
            fn fast_sigmoid(self) -> $t {
                $kernels::sigmoid::<false>(self)
            }
            #[inline(always)]
            fn fast_tanh(self) -> $t {
                $kernels::tanh::<false>(self)
            }
            #[inline(always)]
            fn fused_exp(self) -> $t {
                $kernels::exp::<true>(self)
            }
            #[inline(always)]
            fn fused_sigmoid(self) -> $t {
                $kernels::sigmoid::<true>(self)
            }
            #[inline(always)]
            fn fused_tanh(self) -> $t {
                $kernels::tanh::<true>(self)
            }
        }
    };
}

fast_math! {
    f32, u32, f32_kernels, mantissa = 23, bias = 127,
    // e^-104 is below half the smallest subnormal; e^89 overflows.
    lo = -104.0, hi = 89.0,
    // n + 32 ≥ -118 keeps 2^(n + 32) and p · 2^(n + 32) normal.
    nonpos_shift = 32,
    ln2_hi = 0.693_145_751_953_125, ln2_lo = 1.428_606_765_330_187e-6,
    // SLEEF's expf_u10 minimax coefficients on |r| ≤ ln2/2, evaluated in
    // Estrin's scheme (independent pairs joined by r², r⁴): a shorter dependency
    // chain than Horner's, so neighbouring elements overlap in the pipeline.
    exp_poly = |r, fma| {
        let r2 = r * r;
        let a0 = fma(0.166_666_67, r, 0.5);
        let a1 = fma(0.008_333_361, r, 0.041_666_485);
        let a2 = fma(0.000_198_527_62_f32, r, 0.001_393_043_6);
        let u = fma(a2, r2 * r2, fma(a1, r2, a0));
        1.0 + fma(r2, u, r)
    },
    // Cephes tanhf on |x| < 0.625.
    tanh_small = |x, z, fma| {
        let u = -5.704_988_7e-3_f32;
        let u = fma(u, z, 2.063_908_9e-2);
        let u = fma(u, z, -5.373_971_6e-2);
        let u = fma(u, z, 1.333_144_2e-1);
        let u = fma(u, z, -3.333_328_2e-1);
        fma(u * z, x, x)
    },
}
fast_math! {
    f64, u64, f64_kernels, mantissa = 52, bias = 1023,
    // e^-746 is below half the smallest subnormal; e^710 overflows.
    lo = -746.0, hi = 710.0,
    // n + 64 ≥ -1012 keeps 2^(n + 64) and p · 2^(n + 64) normal.
    nonpos_shift = 64,
    ln2_hi = 0.693_147_180_559_662_956_5, ln2_lo = 0.282_352_905_630_315_771_2e-12,
    // SLEEF's exp (u10) minimax coefficients on |r| ≤ ln2/2, in Estrin's scheme.
    exp_poly = |r, fma| {
        let r2 = r * r;
        let r4 = r2 * r2;
        let a0 = fma(1.666_666_666_666_668_517e-1, r, 0.5);
        let a1 = fma(8.333_333_333_316_527_217e-3, r, 4.166_666_666_666_650_476e-2);
        let a2 = fma(1.984_126_989_605_092_056e-4, r, 1.388_888_888_897_744_922e-3);
        let a3 = fma(2.755_723_629_119_288_276e-6, r, 2.480_158_715_923_547_300e-5);
        let a4 = fma(2.511_129_308_928_765_186e-8, r, 2.755_739_112_349_004_719e-7);
        let a5 = 2.088_606_211_072_836_875e-9_f64;
        let b0 = fma(a1, r2, a0);
        let b1 = fma(a3, r2, a2);
        let b2 = fma(a5, r2, a4);
        let u = fma(b2, r4 * r4, fma(b1, r4, b0));
        1.0 + fma(r2, u, r)
    },
    // Cephes tanh on |x| < 0.625: x + x z P(z) / Q(z), z = x².
    tanh_small = |x, z, fma| {
        let p = fma(fma(-9.643_991_794_250_522_386e-1, z, -9.928_772_310_019_185_866e1), z,
            -1.614_687_684_417_084_480e3);
        let q = fma(fma(z + 1.128_116_784_916_324_314e2, z, 2.235_488_390_601_004_486e3), z,
            4.844_063_053_251_254_860e3);
        fma(x * z, p / q, x)
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in ulps between two floats of the same sign class, counting
    /// through the subnormals (bit patterns mapped to a monotonic integer line).
    fn ulps32(a: f32, b: f32) -> u64 {
        if a.is_nan() || b.is_nan() {
            return if a.is_nan() && b.is_nan() {
                0
            } else {
                u64::MAX
            };
        }
        let key = |v: f32| {
            let i = v.to_bits() as i32;
            (if i < 0 { i32::MIN - i } else { i }) as i64
        };
        key(a).abs_diff(key(b))
    }

    fn ulps64(a: f64, b: f64) -> u64 {
        if a.is_nan() || b.is_nan() {
            return if a.is_nan() && b.is_nan() {
                0
            } else {
                u64::MAX
            };
        }
        let key = |v: f64| {
            let i = v.to_bits() as i64;
            (if i < 0 { i64::MIN - i } else { i }) as i128
        };
        key(a).abs_diff(key(b)) as u64
    }

    fn ref_sigmoid(x: f64) -> f64 {
        if x >= 0.0 {
            1.0 / (1.0 + (-x).exp())
        } else {
            let e = x.exp();
            e / (1.0 + e)
        }
    }

    /// Maximum ulp error of the three f32 functions, plain then fused, over
    /// every `step`-th bit pattern (both signs), with the worst input for each.
    fn sweep_f32(step: usize) -> [(u64, f32); 6] {
        let mut worst = [(0u64, 0.0f32); 6];
        let mut note = |k: usize, e: u64, x: f32| {
            if e > worst[k].0 {
                worst[k] = (e, x);
            }
        };
        for bits in (0..=u32::MAX).step_by(step) {
            let x = f32::from_bits(bits);
            let xd = x as f64;
            let (e, s, t) = (xd.exp() as f32, ref_sigmoid(xd) as f32, xd.tanh() as f32);
            note(0, ulps32(exp(x), e), x);
            note(1, ulps32(sigmoid(x), s), x);
            note(2, ulps32(tanh(x), t), x);
            note(3, ulps32(x.fused_exp(), e), x);
            note(4, ulps32(x.fused_sigmoid(), s), x);
            note(5, ulps32(x.fused_tanh(), t), x);
        }
        worst
    }

    fn check_f32(step: usize) {
        let [e, s, t, fe, fs, ft] = sweep_f32(step);
        std::eprintln!("f32 max ulp (stride {step}): exp {e:?}, sigmoid {s:?}, tanh {t:?}");
        std::eprintln!("  fused: exp {fe:?}, sigmoid {fs:?}, tanh {ft:?}");
        for (name, (ulps, x), bound) in [
            ("exp", e, 1),
            ("sigmoid", s, 2),
            ("tanh", t, 2),
            ("fused exp", fe, 1),
            ("fused sigmoid", fs, 2),
            ("fused tanh", ft, 2),
        ] {
            assert!(ulps <= bound, "{name} f32: {ulps} ulp at {x:e}");
        }
    }

    #[test]
    fn f32_strided_sweep_within_documented_ulps() {
        // A prime stride that visits every exponent and both signs.
        check_f32(if cfg!(debug_assertions) { 4099 } else { 257 });
    }

    /// All 2^32 inputs: `cargo test --release --lib math -- --ignored --nocapture`
    /// (about 11 minutes on one core: the references are scalar libm calls).
    #[test]
    #[ignore]
    fn f32_exhaustive() {
        check_f32(1);
    }

    #[test]
    fn f64_sweep_within_documented_ulps() {
        let mut worst = [(0u64, 0.0f64); 6];
        let mut check = |x: f64| {
            let (e, s, t) = (x.exp(), ref_sigmoid(x), x.tanh());
            let errs = [
                ulps64(exp(x), e),
                ulps64(sigmoid(x), s),
                ulps64(tanh(x), t),
                ulps64(x.fused_exp(), e),
                ulps64(x.fused_sigmoid(), s),
                ulps64(x.fused_tanh(), t),
            ];
            for (w, e) in worst.iter_mut().zip(errs) {
                if e > w.0 {
                    *w = (e, x);
                }
            }
        };
        // Dense in the range where exp is finite and non-zero, then every
        // exponent via a stride over the bit patterns (both signs).
        let n = if cfg!(debug_assertions) {
            100_000
        } else {
            1_000_000
        };
        for i in 0..=n {
            check(-750.0 + 1460.0 * i as f64 / n as f64);
        }
        let stride = (u64::MAX / n as u64) | 1;
        let mut bits = 0u64;
        for _ in 0..n {
            check(f64::from_bits(bits));
            bits = bits.wrapping_add(stride);
        }
        // Pseudo-random mantissas on [-1, 1], where tanh switches formula.
        let mut s = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..n {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            check((s >> 11) as f64 / (1u64 << 52) as f64 - 1.0);
        }
        let [e, sg, t, fe, fs, ft] = worst;
        std::eprintln!("f64 max ulp: exp {e:?}, sigmoid {sg:?}, tanh {t:?}");
        std::eprintln!("  fused: exp {fe:?}, sigmoid {fs:?}, tanh {ft:?}");
        for (name, (ulps, x), bound) in [
            ("exp", e, 1),
            ("sigmoid", sg, 2),
            ("tanh", t, 2),
            ("fused exp", fe, 1),
            ("fused sigmoid", fs, 2),
            ("fused tanh", ft, 2),
        ] {
            assert!(ulps <= bound, "{name} f64: {ulps} ulp at {x:e}");
        }
    }

    /// The softmax's and the sigmoid's `exp_nonpos` is `exp` bit for bit on
    /// every input it is given (`x ≤ 0`, `-inf`, NaN), plain and fused: every
    /// 257th f32 bit pattern of the negative half (all exponents, subnormal
    /// results and the clamp included), and an f64 sweep over the same ranges.
    #[test]
    fn exp_nonpos_is_exp_bit_for_bit() {
        // f32 -> f64 is exact, so equal f64 bits mean equal bits.
        fn same<T: Scalar>(x: T) {
            for (fused, want) in [(false, exp(x)), (true, x.fused_exp())] {
                let got = x.exp_nonpos(fused);
                assert!(
                    got.as_f64().to_bits() == want.as_f64().to_bits()
                        || (got.is_nan() && want.is_nan()),
                    "{} {x:e} (fused {fused}): {got:e} vs {want:e}",
                    T::NAME
                );
            }
        }
        for bits in (0x8000_0000u32..=0xFFFF_FFFF).step_by(257) {
            same(f32::from_bits(bits));
        }
        let n = if cfg!(debug_assertions) {
            200_000
        } else {
            2_000_000
        };
        for i in 0..=n {
            same(-760.0 * i as f64 / n as f64);
        }
        let stride = (u64::MAX / 2 / n as u64) | 1;
        let mut bits = 1u64 << 63;
        for _ in 0..n {
            same(f64::from_bits(bits));
            bits = bits.wrapping_add(stride);
        }
        for x in [-0.0, f64::NEG_INFINITY, f64::NAN, -745.13, -708.4, -1e-300] {
            same(x);
        }
        same(f32::NEG_INFINITY);
        same(-0.0f32);
    }

    #[test]
    fn special_values() {
        assert_eq!(exp(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert!(exp(f32::NAN).is_nan() && exp(f64::NAN).is_nan());
        assert!(sigmoid(f32::NAN).is_nan() && tanh(f64::NAN).is_nan());
        assert_eq!(exp(88.8f32), f32::INFINITY);
        assert_eq!(exp(709.8f64), f64::INFINITY);
        assert_eq!(exp(f32::MAX), f32::INFINITY);
        assert_eq!(exp(-104.0f32), 0.0);
        assert_eq!(exp(-746.0f64), 0.0);
        // Subnormal results, exactly as std gives them.
        assert_eq!(exp(-103.0f32), (-103.0f64).exp() as f32);
        assert_eq!(exp(-740.0f64), (-740.0f64).exp());
        assert_eq!(exp(f32::MIN_POSITIVE), 1.0);
        assert_eq!(exp(-0.0f64), 1.0);
        assert_eq!(
            (sigmoid(f64::INFINITY), sigmoid(f64::NEG_INFINITY)),
            (1.0, 0.0)
        );
        assert_eq!((tanh(f32::INFINITY), tanh(f32::NEG_INFINITY)), (1.0, -1.0));
        assert!(tanh(-0.0f64).is_sign_negative() && tanh(-0.0f32).is_sign_negative());
        assert_eq!(tanh(1e-30f32), 1e-30);
    }
}
