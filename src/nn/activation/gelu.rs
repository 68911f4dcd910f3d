//! [`Gelu`] (the erf form) and [`GeluTanh`] (the tanh approximation).

use super::{Activation, sigmoid_pair};
use crate::Scalar;

/// `|x|` beyond which `Φ(x)` is 0 or 1 and `x φ(x)` is 0 in both precisions
/// (`Φ(-39) ≈ 1e-333`, below f64's smallest subnormal): inputs are clamped
/// to `[-FAR, FAR]` where that keeps `±∞ · 0` out.
const FAR: f64 = 39.0;

/// `(Φ(x), e^{-x²/2})` for `x` in `[-FAR, FAR]` (or NaN), each with its
/// relative accuracy: `Φ(x) = erfc(|x|/√2) / 2` below 0 (no cancellation in
/// the tail) and `(1 + erf(x/√2)) / 2` above; `x²` is split exactly
/// (Veltkamp, then Dekker's product) so that neither exponential sees the
/// rounding of `x²` or of `x/√2`.
#[inline(always)]
fn cdf_and_gauss<T: Scalar>(x: T, fused: bool) -> (T, T) {
    let c = |v: f64| T::from_f64(v);
    let half = c(0.5);
    let ax = x.abs();
    let hi = ax.split_hi();
    let lo = ax - hi;
    // (|x|/√2)² = hi²/2 + (|x| - hi)(|x| + hi)/2, the first part exact.
    let (e, ec) = crate::math::erf_erfc_parts(
        ax * c(core::f64::consts::FRAC_1_SQRT_2),
        hi * hi * half,
        lo * (ax + hi) * half,
        fused,
    );
    let cdf = if x < T::zero() {
        ec * half
    } else {
        half + half * e
    };
    // x² = p + err exactly (Dekker), so e^{-x²/2} = e^{-p/2} (1 - err/2).
    let p = ax * ax;
    let err = ((hi * hi - p) + c(2.0) * hi * lo) + lo * lo;
    let gauss = (-(p * half)).exp_nonpos(fused) * (T::one() - err * half);
    (cdf, gauss)
}

/// The Gaussian error linear unit, `f(x) = x Φ(x) = x (1 + erf(x/√2)) / 2`
/// (PyTorch's `GELU()`, `approximate='none'`).
///
/// Derivative, read from the input: `f'(x) = Φ(x) + x φ(x)` with
/// `φ(x) = e^{-x²/2} / √(2π)`.
///
/// `Φ` is computed as `erfc(|x|/√2) / 2` for `x < 0`, so the left tail keeps
/// its relative accuracy (`f(-20) = -5.5e-88`; the textbook `1 + erf` cancels
/// to 0 there, and PyTorch returns `-0`), and `x²` is split exactly so that
/// `e^{-x²/2}` does not inherit its rounding. `erf`/`erfc` are fdlibm's
/// rational approximations, all ranges evaluated and one selected, so the
/// loops vectorize. Limits: `f(-∞) = 0`, `f(∞) = ∞`, `f'(±∞) = 0, 1`
/// (PyTorch gives NaN at `-∞`); NaN gives NaN both ways.
///
/// Cost: about 130 operations per element forward (three rational functions,
/// all evaluated, and two exponentials) and 170 backward, vectorized; the
/// most expensive activation here, about five times a [`Tanh`](crate::nn::Tanh)
/// and five times [`GeluTanh`] (`cargo bench -p stackgrad-bench --bench
/// activations`: forward on 32 x 64 f32, 9.5 µs against 1.9 and 1.7 µs).
///
/// ```
/// use stackgrad::nn::{image_input, Activation, Conv2d, Gelu, Layer};
/// use stackgrad::Images;
/// assert!((Gelu.f(1.0f64) - 0.8413447460685429).abs() < 3e-16);
/// assert!((Gelu.f(-20.0f64) / -5.507248237212467e-88 - 1.0).abs() < 1e-14);
/// assert_eq!(Gelu.df(0.0f32, 0.0), 0.5);
/// assert_eq!((Gelu.f(f32::NEG_INFINITY), Gelu.df(f64::INFINITY, f64::INFINITY)), (0.0, 1.0));
///
/// // On images as on matrices.
/// let net = image_input::<1, 4, 4>().then(Conv2d::<f32, 1, 2, 3, 1, 1>::zeros()).then(Gelu).build();
/// let (y, _) = net.forward(&Images::<f32, 2, 1, 4, 4>::splat(1.0));
/// assert_eq!(y, Images::zeros());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Gelu;

impl Gelu {
    #[inline(always)]
    fn eval<T: Scalar>(x: T, fused: bool) -> T {
        let far = T::from_f64(FAR);
        // Clamped below (so that -∞ gives -FAR · 0); NaN passes both selects.
        let xl = if x < -far { -far } else { x };
        let xc = if xl > far { far } else { xl };
        xl * cdf_and_gauss(xc, fused).0
    }

    #[inline(always)]
    fn slope<T: Scalar>(x: T, fused: bool) -> T {
        let far = T::from_f64(FAR);
        let xc = if x < -far { -far } else { x };
        let xc = if xc > far { far } else { xc };
        let (cdf, gauss) = cdf_and_gauss(xc, fused);
        // 1/√(2π)
        cdf + xc * gauss * T::from_f64(0.398_942_280_401_432_7)
    }
}

impl Activation for Gelu {
    const COST: usize = 4 * crate::math::EXP_COST;
    const DF_COST: usize = 5 * crate::math::EXP_COST;
    #[inline(always)]
    fn f<T: Scalar>(&self, x: T) -> T {
        Self::eval(x, false)
    }
    #[inline(always)]
    fn f_fused<T: Scalar>(&self, x: T) -> T {
        Self::eval(x, true)
    }
    #[inline(always)]
    fn df<T: Scalar>(&self, x: T, _y: T) -> T {
        Self::slope(x, false)
    }
    #[inline(always)]
    fn df_fused<T: Scalar>(&self, x: T, _y: T) -> T {
        Self::slope(x, true)
    }
}

/// `2 √(2/π)` and `2 √(2/π) · 0.044715`: `2u = x (A + B x²)` for PyTorch's
/// `u = √(2/π) (x + 0.044715 x³)`.
const A: f64 = 2.0 * 0.797_884_560_802_865_4;
const B: f64 = A * 0.044_715;
/// `|x|` beyond which `σ(2u)` is 0 or 1 in both precisions (`2u(100) ≈ 7e4`).
const FAR_TANH: f64 = 100.0;

/// The tanh approximation of the GELU,
/// `f(x) = x (1 + tanh u) / 2 = x σ(2u)` with `u = √(2/π) (x + 0.044715 x³)`
/// (PyTorch's `GELU(approximate='tanh')`).
///
/// Derivative, read from the input: `f'(x) = σ(2u) + 2 x u' σ(2u) σ(-2u)`
/// with `u' = √(2/π) (1 + 3 · 0.044715 x²)`; both sigmoids come from one
/// exponential.
///
/// Computed as `x σ(2u)`, not `x (1 + tanh u) / 2`: the same function, but
/// `1 + tanh u` cancels for `x < 0` (PyTorch's float64 keeps 9 digits at
/// `x = -5` and returns `-0` at `x = -20`, where `f = -3.4e-261`), while the
/// sigmoid keeps its relative accuracy down to underflow. Limits:
/// `f(-∞) = 0`, `f(∞) = ∞`, `f'(±∞) = 0, 1` (PyTorch gives NaN at `-∞`);
/// NaN gives NaN both ways.
///
/// Cost: one exponential and a division per element (about 40 operations)
/// forward, and as much backward, vectorized.
///
/// ```
/// use stackgrad::nn::{Activation, GeluTanh, Layer};
/// use stackgrad::Matrix;
/// assert!((GeluTanh.f(1.0f64) - 0.8411919906082768).abs() < 1e-15);
/// assert_eq!(GeluTanh.f(1e4f32), 1e4);
/// assert_eq!(GeluTanh.f(-1e4f32), 0.0);
///
/// let x = Matrix::from_array([[0.0f64, 1.0]]);
/// let (y, cache) = GeluTanh.forward(&x);
/// let dx = GeluTanh.backward(&x, &y, &cache, &Matrix::splat(1.0), &mut GeluTanh);
/// assert_eq!(dx[(0, 0)], 0.5);
/// assert!((dx[(0, 1)] - 1.0829640838457826).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GeluTanh;

impl GeluTanh {
    #[inline(always)]
    fn eval<T: Scalar>(x: T, fused: bool) -> T {
        let far = T::from_f64(FAR_TANH);
        // Clamped below (so that -∞ gives -FAR · 0); NaN passes.
        let x = if x < -far { -far } else { x };
        let v = x * (T::from_f64(A) + T::from_f64(B) * (x * x));
        let s = if fused {
            v.fused_sigmoid()
        } else {
            v.fast_sigmoid()
        };
        x * s
    }

    #[inline(always)]
    fn slope<T: Scalar>(x: T, fused: bool) -> T {
        let far = T::from_f64(FAR_TANH);
        let x = if x < -far { -far } else { x };
        let x = if x > far { far } else { x };
        let x2 = x * x;
        let v = x * (T::from_f64(A) + T::from_f64(B) * x2);
        // 2u' = A + 3 B x².
        let dv = T::from_f64(A) + T::from_f64(3.0 * B) * x2;
        let (s, t) = sigmoid_pair(v, fused);
        s + x * dv * s * t
    }
}

impl Activation for GeluTanh {
    const COST: usize = crate::math::EXP_COST + 8;
    const DF_COST: usize = crate::math::EXP_COST + 12;
    #[inline(always)]
    fn f<T: Scalar>(&self, x: T) -> T {
        Self::eval(x, false)
    }
    #[inline(always)]
    fn f_fused<T: Scalar>(&self, x: T) -> T {
        Self::eval(x, true)
    }
    #[inline(always)]
    fn df<T: Scalar>(&self, x: T, _y: T) -> T {
        Self::slope(x, false)
    }
    #[inline(always)]
    fn df_fused<T: Scalar>(&self, x: T, _y: T) -> T {
        Self::slope(x, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_signs_and_nan() {
        for x in [f64::NEG_INFINITY, -1e300, -1e4, -40.0] {
            assert_eq!(Gelu.f(x), 0.0, "{x}");
            assert_eq!(GeluTanh.f(x), 0.0, "{x}");
            assert_eq!(Gelu.df(x, 0.0), 0.0, "{x}");
            assert_eq!(GeluTanh.df(x, 0.0), 0.0, "{x}");
        }
        for x in [f32::INFINITY, 1e30, 1e4, 40.0] {
            assert_eq!(Gelu.f(x), x);
            assert_eq!(GeluTanh.f(x), x);
            assert_eq!(Gelu.df(x, x), 1.0);
            assert_eq!(GeluTanh.df(x, x), 1.0);
        }
        assert!(Gelu.f(-0.0f64).is_sign_negative() && GeluTanh.f(-0.0f32).is_sign_negative());
        assert!(Gelu.f(f32::NAN).is_nan() && Gelu.df(f64::NAN, 0.0).is_nan());
        assert!(GeluTanh.f(f64::NAN).is_nan() && GeluTanh.df(f32::NAN, 0.0).is_nan());
    }
}
