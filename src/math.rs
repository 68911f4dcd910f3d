//! Vectorizable `exp`, `sigmoid`, `tanh`, `expm1`, `softplus`, `erf` and
//! `erfc` for f32 and f64, with documented error.
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
//! | [`expm1`] | `exp`'s reduction, `2^n q + (2^n - 1)` with `q = e^r - 1` | 2 ulp | 2 ulp |
//! | [`softplus`] | `max(x, 0) + ln(1 + e^-\|x\|)`, fdlibm's `log1p` on `[0, 1]` | 2 ulp | 2 ulp |
//! | [`erf`] | fdlibm's three rational approximations, all evaluated, one selected | 2 ulp | 2 ulp |
//! | [`erfc`] | the same, with `e^{-x²}` from an exactly split square | 4 ulp | 4 ulp |
//!
//! The last four are checked against `std`'s `exp_m1` and `ln_1p` and the
//! `libm` crate's `erf`/`erfc` (fdlibm, within 1 ulp) over a dense sweep of
//! `[-40, 40]` and a stride over all bit patterns (the test
//! `smooth_activation_kernels_within_documented_ulps`, whose run prints the
//! measured maxima: f64 expm1 2, softplus 2, erf 1, erfc 4 ulp; f32 1, 2, 1, 3).
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

/// `e^x - 1`, within 2 ulp, branch-free; keeps its relative accuracy near 0
/// (`expm1(1e-10) = 1.00000000005e-10`, where `exp(x) - 1` gives 1.000000082e-10).
///
/// ```
/// use stackgrad::math::expm1;
/// assert_eq!(expm1(0.0f64), 0.0);
/// assert!((expm1(1e-10f64) / 1.00000000005e-10 - 1.0).abs() < 1e-15);
/// assert_eq!(expm1(f32::NEG_INFINITY), -1.0);
/// assert_eq!(expm1(-1e4f64), -1.0);
/// assert_eq!(expm1(1e4f32), f32::INFINITY);
/// ```
#[inline(always)]
#[must_use]
pub fn expm1<T: Scalar>(x: T) -> T {
    x.expm1_kernel(false)
}

/// `ln(1 + e^x)`, the softplus, within 2 ulp, branch-free, for every input:
/// computed as `max(x, 0) + ln(1 + e^-|x|)`, so `e^x` never overflows and the
/// result keeps its relative accuracy on both tails (`softplus(x) = e^x` for
/// `x ≪ 0`, `x` for `x ≫ 0`).
///
/// ```
/// use stackgrad::math::softplus;
/// assert!((softplus(0.0f64) - core::f64::consts::LN_2).abs() < 1e-16);
/// assert_eq!(softplus(1e4f32), 1e4);
/// assert!((softplus(-100.0f64) / (-100.0f64).exp() - 1.0).abs() < 1e-15);
/// assert_eq!(softplus(-1e4f64), 0.0);
/// assert!(softplus(f32::NAN).is_nan());
/// ```
#[inline(always)]
#[must_use]
pub fn softplus<T: Scalar>(x: T) -> T {
    softplus_kernel(x, false)
}

/// [`softplus`], with fused multiply-adds in its `exp` when `fused`.
#[inline(always)]
pub(crate) fn softplus_kernel<T: Scalar>(x: T, fused: bool) -> T {
    let e = (-x.abs()).exp_nonpos(fused);
    // Not `max`: NaN must reach the sum (it does through `e`).
    let pos = if x > T::zero() { x } else { T::zero() };
    pos + log1p_unit(e)
}

/// `ln(1 + u)` for `u` in `[0, 1]` (or NaN), within 1 ulp, branch-free.
///
/// fdlibm's `log1p` with the range reduction made branch-free by the narrow
/// domain: `w = 1 + u` is in `[1, 2]`, halved when above `√2`, so
/// `m = 1 + f` with `|f| < 0.42` and `k` in `{0, 1}`; the rounding error of
/// `1 + u` is added back as `(u - (w - 1)) / w`; `ln(1 + f)` is fdlibm's
/// `f - (f²/2 - s (f²/2 + R(s²)))` with `s = f / (2 + f)`.
#[inline(always)]
fn log1p_unit<T: Scalar>(u: T) -> T {
    let c = |v: f64| T::from_f64(v);
    let one = T::one();
    let w = one + u;
    let big = w > c(core::f64::consts::SQRT_2);
    let m = if big { w * c(0.5) } else { w };
    let k = if big { one } else { T::zero() };
    // Exact: `w - 1` (w in [1, 2]) and the difference (the rounding of 1 + u).
    let corr = (u - (w - one)) / w;
    let f = m - one;
    let s = f / (c(2.0) + f);
    let z = s * s;
    // fdlibm's Lg1..Lg7 (k_log.h), split into even and odd powers.
    let w2 = z * z;
    let t1 = w2
        * (c(3.999999999940941908e-01)
            + w2 * (c(2.222219843214978396e-01) + w2 * c(1.531383769920937332e-01)));
    let t2 = z
        * (c(6.666666666666735130e-01)
            + w2 * (c(2.857142874366239149e-01)
                + w2 * (c(1.818357216161805012e-01) + w2 * c(1.479819860511658591e-01))));
    let r = t2 + t1;
    let hfsq = c(0.5) * f * f;
    const LN2_HI: f64 = 6.93147180369123816490e-01;
    const LN2_LO: f64 = 1.90821492927058770002e-10;
    k * c(LN2_HI) + (f - (hfsq - (s * (hfsq + r) + (k * c(LN2_LO) + corr))))
}

/// The error function `erf x = 2/√π ∫₀ˣ e^{-t²} dt`, within 2 ulp, branch-free.
///
/// fdlibm's `erf` (FreeBSD `s_erf.c`: rational approximations on
/// `[0, 0.84375)`, `[0.84375, 1.25)`, and `exp(-x² - 0.5625 + R(1/x²)/S(1/x²)) / x`
/// above) with every range evaluated and the result selected, so that loops
/// vectorize. `erf(±inf) = ±1`, NaN gives NaN.
///
/// ```
/// use stackgrad::math::erf;
/// assert_eq!(erf(0.0f64), 0.0);
/// assert!((erf(1.0f64) - 0.8427007929497149).abs() < 1e-16);
/// assert_eq!(erf(-1e4f32), -1.0);
/// assert!((erf(1e-20f64) / 1.1283791670955126e-20 - 1.0).abs() < 4e-16);
/// ```
#[inline(always)]
#[must_use]
pub fn erf<T: Scalar>(x: T) -> T {
    let (e, _) = erf_erfc_abs(x.abs(), false);
    // erf is odd (and erf(-0) = -0).
    e.copysign(x)
}

/// The complementary error function `erfc x = 1 - erf x`, within 4 ulp,
/// branch-free, with relative accuracy on the tail (`erfc(26) ≈ 5.7e-296`)
/// down to where it underflows (past 26.55 in f64, 10.05 in f32). `erfc(-inf) = 2`,
/// `erfc(inf) = 0`, NaN gives NaN.
///
/// ```
/// use stackgrad::math::erfc;
/// assert_eq!(erfc(0.0f64), 1.0);
/// assert!((erfc(10.0f64) / 2.088487583762545e-45 - 1.0).abs() < 1e-15);
/// assert_eq!(erfc(-1e4f32), 2.0);
/// assert_eq!(erfc(1e4f64), 0.0);
/// ```
#[inline(always)]
#[must_use]
pub fn erfc<T: Scalar>(x: T) -> T {
    let (e, c) = erf_erfc_abs(x.abs(), false);
    if x < T::zero() { T::one() + e } else { c }
}

/// `(erf a, erfc a)` for `a ≥ 0` (or NaN), each with its own relative accuracy.
#[inline(always)]
fn erf_erfc_abs<T: Scalar>(a: T, fused: bool) -> (T, T) {
    // Past 28 erfc is 0 in both types; the clamp keeps the split finite.
    let a = if a > T::from_f64(28.0) {
        T::from_f64(28.0)
    } else {
        a
    };
    let hi = a.split_hi();
    let sq_hi = hi * hi;
    let sq_lo = (a - hi) * (a + hi);
    erf_erfc_parts(a, sq_hi, sq_lo, fused)
}

/// `(erf a, erfc a)` for `a` in `[0, 28]` (or NaN), given `a² = sq_hi + sq_lo`
/// with `sq_hi` exact to about half the significand (so that `-sq_hi - 0.5625`
/// is exact, fdlibm's Note 1). The caller supplies the square: [`erf_erfc_abs`]
/// splits `a`, the GELU splits `x` for `a = |x| / √2` and halves, so that the
/// rounding of `x / √2` does not reach the exponential of its tail.
#[inline(always)]
pub(crate) fn erf_erfc_parts<T: Scalar>(a: T, sq_hi: T, sq_lo: T, fused: bool) -> (T, T) {
    let c = |v: f64| T::from_f64(v);
    let one = T::one();
    // [0, 0.84375): erf = a + a R(a²) / S(a²).
    let z = a * a;
    let r = c(1.28379167095512558561e-01)
        + z * (c(-3.25042107247001499370e-01)
            + z * (c(-2.84817495755985104766e-02)
                + z * (c(-5.77027029648944159157e-03) + z * c(-2.37630166566501626084e-05))));
    let s = one
        + z * (c(3.97917223959155352819e-01)
            + z * (c(6.50222499887672944485e-02)
                + z * (c(5.08130628187576562776e-03)
                    + z * (c(1.32494738004321644526e-04) + z * c(-3.96022827877536812320e-06)))));
    let ay = a * (r / s);
    let erf1 = a + ay;
    let erfc1 = if a < c(0.25) {
        one - erf1
    } else {
        c(0.5) - (a - c(0.5) + ay)
    };
    // [0.84375, 1.25): erf = ERX + P(a - 1) / Q(a - 1).
    let t = a - one;
    let p = c(-2.36211856075265944077e-03)
        + t * (c(4.14856118683748331666e-01)
            + t * (c(-3.72207876035701323847e-01)
                + t * (c(3.18346619901161753674e-01)
                    + t * (c(-1.10894694282396677476e-01)
                        + t * (c(3.54783043256182359371e-02)
                            + t * c(-2.16637559486879084300e-03))))));
    let q = one
        + t * (c(1.06420880400844228286e-01)
            + t * (c(5.40397917702171048937e-01)
                + t * (c(7.18286544141962662868e-02)
                    + t * (c(1.26171219808761642112e-01)
                        + t * (c(1.36370839120290507362e-02)
                            + t * c(1.19844998467991074170e-02))))));
    let erx = c(8.45062911510467529297e-01);
    let pq = p / q;
    let erf2 = erx + pq;
    let erfc2 = (one - erx) - pq;
    // [1.25, 28]: erfc = exp(-a² - 0.5625 + R(1/a²) / S(1/a²)) / a, with the
    // coefficients of [1.25, 1/0.35) or [1/0.35, 28] selected per element.
    let w = one / z;
    let far = a >= c(1.0 / 0.35);
    let k = |near: f64, far_: f64| if far { c(far_) } else { c(near) };
    let rr = k(-9.86494403484714822705e-03, -9.86494292470009928597e-03)
        + w * (k(-6.93858572707181764372e-01, -7.99283237680523006574e-01)
            + w * (k(-1.05586262253232909814e+01, -1.77579549177547519889e+01)
                + w * (k(-6.23753324503260060396e+01, -1.60636384855821916062e+02)
                    + w * (k(-1.62396669462573470355e+02, -6.37566443368389627722e+02)
                        + w * (k(-1.84605092906711035994e+02, -1.02509513161107724954e+03)
                            + w * (k(
                                -8.12874355063065934246e+01,
                                -4.83519191608651397019e+02,
                            ) + w * k(-9.81432934416914548592e+00, 0.0)))))));
    let ss = one
        + w * (k(1.96512716674392571292e+01, 3.03380607434824582924e+01)
            + w * (k(1.37657754143519042600e+02, 3.25792512996573918826e+02)
                + w * (k(4.34565877475229228821e+02, 1.53672958608443695994e+03)
                    + w * (k(6.45387271733267880336e+02, 3.19985821950859553908e+03)
                        + w * (k(4.29008140027567833386e+02, 2.55305040643316442583e+03)
                            + w * (k(1.08635005541779435134e+02, 4.74528541206955367215e+02)
                                + w * (k(
                                    6.57024977031928170135e+00,
                                    -2.24409524465858183362e+01,
                                ) + w * k(-6.04244152148580987438e-02, 0.0))))))));
    let big = (-sq_hi - c(0.5625)).exp_nonpos(fused) * (rr / ss - sq_lo).exp_kernel(fused);
    let erfc3 = big / a;
    let erf3 = one - erfc3;
    // NaN fails every comparison and takes the last range, where it stays NaN.
    let mid = a < c(1.25);
    let (e, ec) = if mid { (erf2, erfc2) } else { (erf3, erfc3) };
    let near = a < c(0.84375);
    if near { (erf1, erfc1) } else { (e, ec) }
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
                let (t, q) = reduce_m1::<FUSED>(x);
                (t, 1.0 + q)
            }

            /// [`reduce`] stopping at `q = e^r - 1` (which keeps its relative
            /// accuracy for small `r`, where `1 + q` would round it away).
            #[inline(always)]
            fn reduce_m1<const FUSED: bool>(x: $t) -> ($t, $t) {
                let $fma = madd::<FUSED>;
                const LOG2E: $t = core::f64::consts::LOG2_E as $t;
                let t = x * LOG2E + MAGIC;
                let n = t - MAGIC;
                let $r = $fma(-n, $l2l, $fma(-n, $l2u, x));
                let q: $t = $poly;
                (t, q)
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

            /// `e^x - 1`: `2^n (1 + q) - 1` written as `2^n q + (2^n - 1)`,
            /// where for `|n| ≤ mantissa` both `2^n q` and `2^n - 1` are exact,
            /// so the only roundings are `q`'s and the final sum's; `exp(x) - 1`
            /// beyond (where the `- 1` is below half an ulp or harmless).
            #[inline(always)]
            pub(super) fn expm1<const FUSED: bool>(x: $t) -> $t {
                let x = if x < $lo { $lo } else { x };
                let x = if x > $hi { $hi } else { x };
                let (t, q) = reduce_m1::<FUSED>(x);
                let n = t - MAGIC;
                let t1 = n * 0.5 + MAGIC;
                let n2 = n - (t1 - MAGIC);
                let t2 = n2 + MAGIC;
                let s1 = <$t>::from_bits(t1.to_bits().wrapping_add($bias) << $mant);
                let s2 = <$t>::from_bits(t2.to_bits().wrapping_add($bias) << $mant);
                let big = (1.0 + q) * s1 * s2 - 1.0;
                let s = s1 * s2;
                let small = s * q + (s - 1.0);
                // NaN takes `big` and stays NaN; `expm1(-0) = -0` (the sum
                // above gives +0).
                let y = if n.abs() <= $mant as $t { small } else { big };
                if x == 0.0 { x } else { y }
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
            fn slice(s: &[$t]) -> crate::scalar::sealed::Slice<'_> {
                s.into()
            }
            #[inline(always)]
            fn slice_mut(s: &mut [$t]) -> crate::scalar::sealed::SliceMut<'_> {
                s.into()
            }
            #[inline(always)]
            fn exp_nonpos(self, fused: bool) -> $t {
                if fused {
                    $kernels::exp_nonpos::<true>(self)
                } else {
                    $kernels::exp_nonpos::<false>(self)
                }
            }
            #[inline(always)]
            fn expm1_kernel(self, fused: bool) -> $t {
                if fused {
                    $kernels::expm1::<true>(self)
                } else {
                    $kernels::expm1::<false>(self)
                }
            }
            #[inline(always)]
            fn exp_kernel(self, fused: bool) -> $t {
                if fused {
                    $kernels::exp::<true>(self)
                } else {
                    $kernels::exp::<false>(self)
                }
            }
            #[inline(always)]
            fn split_hi(self) -> $t {
                // Veltkamp's split: the high 26 of 53 bits (f64), 11 of 24
                // (f32), so that `hi * hi` is exact with a bit to spare (fdlibm's
                // `-hi² - 0.5625` may cross a binade).
                const C: $t = (1u64 << (($mant + 3) / 2)) as $t + 1.0;
                let p = self * C;
                p - (p - self)
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
        fma(r2, u, r)
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
        fma(r2, u, r)
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
    use crate::scalar::sealed::Sealed as _;

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

    /// References for the kernels added with the smooth activations: std's
    /// `exp_m1` and `ln_1p`, and libm's `erf`/`erfc` (fdlibm, below 1 ulp).
    fn ref_softplus(x: f64) -> f64 {
        x.max(0.0) + (-x.abs()).exp().ln_1p()
    }

    /// Worst ulp error of `expm1`, `softplus`, `erf`, `erfc` (plain, then
    /// `expm1` and `softplus` fused) at `x` in f64 and at `x as f32` in f32.
    struct Worst([(u64, f64); 12]);
    impl Worst {
        fn note(&mut self, k: usize, e: u64, x: f64) {
            if e > self.0[k].0 {
                self.0[k] = (e, x);
            }
        }
        fn check(&mut self, x: f64) {
            let refs = [x.exp_m1(), ref_softplus(x), libm::erf(x), libm::erfc(x)];
            let got = [
                expm1(x),
                softplus(x),
                erf(x),
                erfc(x),
                x.expm1_kernel(true),
                softplus_kernel(x, true),
            ];
            for (k, g) in got.into_iter().enumerate() {
                self.note(k, ulps64(g, refs[k % 4]), x);
            }
            let xf = x as f32;
            let xd = xf as f64;
            let refs =
                [xd.exp_m1(), ref_softplus(xd), libm::erf(xd), libm::erfc(xd)].map(|v| v as f32);
            let got = [
                expm1(xf),
                softplus(xf),
                erf(xf),
                erfc(xf),
                xf.expm1_kernel(true),
                softplus_kernel(xf, true),
            ];
            for (k, g) in got.into_iter().enumerate() {
                self.note(6 + k, ulps32(g, refs[k % 4]), xd);
            }
        }
    }

    #[test]
    fn smooth_activation_kernels_within_documented_ulps() {
        let mut w = Worst([(0, 0.0); 12]);
        let n = if cfg!(debug_assertions) {
            200_000
        } else {
            2_000_000
        };
        // Dense over [-40, 40] (every range of erf and the tails of softplus),
        // then every exponent through a stride over the bit patterns.
        for i in 0..=n {
            w.check(-40.0 + 80.0 * i as f64 / n as f64);
        }
        for i in 0..=n {
            w.check(-1.0 + 2.0 * i as f64 / n as f64);
        }
        let stride = (u64::MAX / n as u64) | 1;
        let mut bits = 0u64;
        for _ in 0..n {
            w.check(f64::from_bits(bits));
            bits = bits.wrapping_add(stride);
        }
        let names = [
            "expm1",
            "softplus",
            "erf",
            "erfc",
            "fused expm1",
            "fused softplus",
        ];
        let bounds = [2, 2, 2, 4, 2, 2];
        for (k, (ulps, x)) in w.0.iter().enumerate() {
            let (name, t) = (names[k % 6], if k < 6 { "f64" } else { "f32" });
            std::eprintln!("{t} {name}: {ulps} ulp at {x:e}");
        }
        for (k, (ulps, x)) in w.0.iter().enumerate() {
            let (name, bound, t) = (
                names[k % 6],
                bounds[k % 6],
                if k < 6 { "f64" } else { "f32" },
            );
            assert!(*ulps <= bound, "{t} {name}: {ulps} ulp at {x:e}");
        }
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
        // The smooth activations' kernels at the ends and at zero.
        assert_eq!(
            (expm1(f64::INFINITY), expm1(f32::NEG_INFINITY)),
            (f64::INFINITY, -1.0)
        );
        assert!(expm1(-0.0f64).is_sign_negative() && expm1(-0.0f32) == 0.0);
        assert_eq!(
            (softplus(f32::INFINITY), softplus(f64::NEG_INFINITY)),
            (f32::INFINITY, 0.0)
        );
        assert_eq!((erf(f64::INFINITY), erf(f32::NEG_INFINITY)), (1.0, -1.0));
        assert!(erf(-0.0f64).is_sign_negative() && erf(-0.0f32).is_sign_negative());
        assert_eq!((erfc(f32::INFINITY), erfc(f64::NEG_INFINITY)), (0.0, 2.0));
        for v in [
            expm1(f32::NAN),
            softplus(f32::NAN),
            erf(f32::NAN),
            erfc(f32::NAN),
        ] {
            assert!(v.is_nan());
        }
        for v in [
            expm1(f64::NAN),
            softplus(f64::NAN),
            erf(f64::NAN),
            erfc(f64::NAN),
        ] {
            assert!(v.is_nan());
        }
    }
}
