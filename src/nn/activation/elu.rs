//! [`Elu`]: the exponential linear unit.

use super::Activation;
use crate::{Error, Scalar};

/// The exponential linear unit: `f(x) = x` for `x > 0`, `α (e^x - 1)`
/// otherwise (PyTorch's `ELU`; the default `α` is 1).
///
/// Derivative, read from the input: `f'(x) = 1` for `x > 0` and `α e^x` for
/// `x ≤ 0`. Not `y + α` from the output, which cancels where `y` nears `-α`
/// (all digits lost in f32 below `x = -17.3`): `e^x` is computed, so the
/// derivative keeps its relative accuracy down to where it underflows.
/// `e^x - 1` comes from [`math::expm1`](crate::math::expm1), accurate near 0.
/// `f(-∞) = -α`, `f'(-∞) = 0`; NaN gives NaN both ways. With `α ≠ 1` the
/// slope jumps from `α` to 1 at 0 (a kink, whose side the layer writes into
/// the gradient checker's [`Pattern`](crate::nn::Pattern); with `α = 1` ELU
/// is continuously differentiable).
///
/// Cost: one `expm1` forward and one `exp` backward per element, vectorized
/// (about 32 operations each).
///
/// `α` is a field of the value (an `f64`), part of the network built in
/// code like [`Dropout`](crate::nn::Dropout)'s `p`; a weight file
/// ([`io`](crate::io)) neither stores nor checks it: load into a network
/// built with the same `α`.
///
/// ```
/// use stackgrad::nn::{Activation, Elu, Layer, Net, Dense};
/// use stackgrad::Matrix;
/// let elu = Elu::default();
/// assert_eq!(elu.f(2.0f64), 2.0);
/// assert!((elu.f(-1.0f64) - (-0.6321205588285577)).abs() < 1e-16);
/// assert_eq!(elu.f(-1e4f32), -1.0);
/// // The slope at -30 is e^-30, to full relative accuracy.
/// assert!((elu.df(-30.0f64, elu.f(-30.0)) / 9.357622968840175e-14 - 1.0).abs() < 1e-15);
///
/// let net = Net::new((Dense::<f32, 3, 2>::zeros(), Elu::new(0.5)?));
/// let (y, _) = net.forward(&Matrix::<f32, 4, 3>::splat(1.0));
/// assert_eq!(y, Matrix::zeros());
/// assert!(Elu::new(0.0).is_err() && Elu::new(f64::NAN).is_err());
/// # Ok::<(), stackgrad::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Elu {
    alpha: f64,
}

impl Elu {
    /// The ELU with `α = alpha`, its value at `-∞` being `-α`.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] unless `alpha` is finite and positive
    /// (`α = 0` is a ReLU, a negative `α` turns the negative half upside down).
    pub fn new(alpha: f64) -> Result<Self, Error> {
        if alpha.is_finite() && alpha > 0.0 {
            Ok(Self { alpha })
        } else {
            Err(Error::InvalidSetting {
                layer: "Elu",
                setting: "alpha",
                value: alpha,
                expected: "finite and > 0",
            })
        }
    }

    /// `α`.
    #[must_use]
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    #[inline(always)]
    fn eval<T: Scalar>(&self, x: T, fused: bool) -> T {
        let neg = T::from_f64(self.alpha) * x.expm1_kernel(fused);
        if x > T::zero() { x } else { neg }
    }

    #[inline(always)]
    fn slope<T: Scalar>(&self, x: T, fused: bool) -> T {
        // e^x on x ≤ 0 (NaN passes the select and stays NaN).
        let neg = if x > T::zero() { T::zero() } else { x };
        let e = T::from_f64(self.alpha) * neg.exp_nonpos(fused);
        if x > T::zero() { T::one() } else { e }
    }
}

impl Default for Elu {
    /// `α = 1`, as PyTorch.
    fn default() -> Self {
        Self { alpha: 1.0 }
    }
}

impl Activation for Elu {
    const COST: usize = crate::math::EXP_COST;
    const DF_COST: usize = crate::math::EXP_COST;
    const KINKS: bool = true;
    /// Which side of 0 the input is on, when `α ≠ 1` makes 0 a kink.
    #[inline(always)]
    fn piece<T: Scalar>(&self, x: T, _y: T) -> u64 {
        u64::from(self.alpha != 1.0 && x > T::zero())
    }
    #[inline(always)]
    fn f<T: Scalar>(&self, x: T) -> T {
        self.eval(x, false)
    }
    #[inline(always)]
    fn f_fused<T: Scalar>(&self, x: T) -> T {
        self.eval(x, true)
    }
    #[inline(always)]
    fn df<T: Scalar>(&self, x: T, _y: T) -> T {
        self.slope(x, false)
    }
    #[inline(always)]
    fn df_fused<T: Scalar>(&self, x: T, _y: T) -> T {
        self.slope(x, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_and_limits() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let e = Elu::new(bad).unwrap_err();
            assert!(e.to_string().starts_with("Elu: alpha ="), "{e}");
        }
        let elu = Elu::new(2.0).unwrap();
        assert_eq!(elu.f(f64::NEG_INFINITY), -2.0);
        assert_eq!(elu.df(f32::NEG_INFINITY, -2.0), 0.0);
        assert_eq!(
            (elu.f(f32::INFINITY), elu.df(f32::INFINITY, f32::INFINITY)),
            (f32::INFINITY, 1.0)
        );
        assert!(elu.f(-0.0f64).is_sign_negative());
        assert_eq!(elu.df(0.0f64, 0.0), 2.0);
        assert!(elu.f(f32::NAN).is_nan() && elu.df(f64::NAN, f64::NAN).is_nan());
        // The derivative from x, where the output's y + α would give 0.
        assert_eq!(elu.f(-20.0f32) + 2.0, 0.0);
        let d = elu.df(-20.0f32, elu.f(-20.0));
        assert!(
            (d as f64 / (2.0 * (-20.0f64).exp()) - 1.0).abs() < 1e-6,
            "{d}"
        );
    }
}
