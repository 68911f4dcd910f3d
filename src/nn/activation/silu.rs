//! [`Silu`]: the sigmoid-weighted linear unit (swish).

use super::{Activation, sigmoid_pair};
use crate::Scalar;

/// `|x|` beyond which `σ(x)` is 0 or 1 in both precisions (`e^-1000` is
/// below f64's smallest subnormal).
const FAR: f64 = 1000.0;

/// The sigmoid-weighted linear unit (swish), `f(x) = x σ(x)` (PyTorch's `SiLU`).
///
/// Derivative, read from the input:
/// `f'(x) = σ(x) + x σ(x) σ(-x) = σ(x) (1 + x σ(-x))`, with `σ(x)` and
/// `σ(-x)` from one exponential so that neither is formed as `1 - σ`
/// (which loses the digits of `σ(-x)` for large `x`).
///
/// Keeps its relative accuracy on both tails (`f(-30) = -2.8e-12` to the
/// last bits). Limits: `f(-∞) = 0`, `f(∞) = ∞`, `f'(±∞) = 0, 1` (PyTorch
/// gives NaN at `-∞`); NaN gives NaN both ways.
///
/// Cost: one exponential and a division per element (about 35 operations)
/// forward, and as much backward, vectorized.
///
/// ```
/// use stackgrad::nn::{input, Activation, Dense, Layer, Silu};
/// use stackgrad::Matrix;
/// assert!((Silu.f(1.0f64) - 0.7310585786300049).abs() < 1e-16);
/// assert_eq!((Silu.f(1e4f32), Silu.f(-1e4f32)), (1e4, 0.0));
/// assert_eq!(Silu.df(0.0f64, 0.0), 0.5);
///
/// let net = input::<3>().then(Dense::<f32, 3, 8>::zeros()).then(Silu).build();
/// let (y, _) = net.forward(&Matrix::<f32, 2, 3>::splat(1.0));
/// assert_eq!(y, Matrix::zeros());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Silu;

impl Silu {
    #[inline(always)]
    fn eval<T: Scalar>(x: T, fused: bool) -> T {
        let s = if fused {
            x.fused_sigmoid()
        } else {
            x.fast_sigmoid()
        };
        // Clamped below (so that -∞ gives -FAR · 0); NaN passes.
        let far = T::from_f64(FAR);
        let xl = if x < -far { -far } else { x };
        xl * s
    }

    #[inline(always)]
    fn slope<T: Scalar>(x: T, fused: bool) -> T {
        let far = T::from_f64(FAR);
        let x = if x < -far { -far } else { x };
        let x = if x > far { far } else { x };
        let (s, t) = sigmoid_pair(x, fused);
        s * (T::one() + x * t)
    }
}

impl Activation for Silu {
    const COST: usize = crate::math::EXP_COST + 2;
    const DF_COST: usize = crate::math::EXP_COST + 4;
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
        for x in [f64::NEG_INFINITY, -1e300, -1e4, -1000.0] {
            assert_eq!((Silu.f(x), Silu.df(x, 0.0)), (0.0, 0.0), "{x}");
        }
        for x in [f32::INFINITY, 1e30, 1e4] {
            assert_eq!((Silu.f(x), Silu.df(x, x)), (x, 1.0), "{x}");
        }
        assert!(Silu.f(-0.0f64).is_sign_negative());
        assert!(Silu.f(f32::NAN).is_nan() && Silu.df(f64::NAN, 0.0).is_nan());
    }
}
