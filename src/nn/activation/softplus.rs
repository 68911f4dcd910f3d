//! [`Softplus`]: the smooth rectifier `ln(1 + e^x)`.

use super::Activation;
use crate::{Error, Scalar};

/// The softplus `f(x) = ln(1 + e^{βx}) / β`, and `x` where `βx` exceeds the
/// threshold (PyTorch's `Softplus`; the defaults are `β = 1` and threshold
/// 20, as there).
///
/// Derivative, read from the input: `f'(x) = σ(βx)`, and 1 above the
/// threshold.
///
/// `ln(1 + e^z)` is [`math::softplus`](crate::math::softplus),
/// `max(z, 0) + ln(1 + e^-|z|)`: no overflow, relative accuracy on both
/// tails (`f(-30) = 9.4e-14` to the last bits). Above the threshold the
/// output is `x` itself, as in PyTorch, which differs from the exact value
/// by at most `ln(1 + e^-threshold) / β` (2.1e-9 at the default: below
/// half an ulp of `x` in f32; a relative 1e-10 at `x = 20` in f64, falling
/// as `e^-x / x` beyond). Limits: `f(-∞) = 0`, `f(∞) = ∞`, `f'(±∞) = 0, 1`;
/// NaN gives NaN both ways.
///
/// Cost: two exponential-sized kernels forward (an `exp` and a `log1p`,
/// about 60 operations) and one backward, vectorized.
///
/// `β` and the threshold are fields of the value (`f64`s), part of the
/// network built in code like [`Dropout`](crate::nn::Dropout)'s `p`; a
/// weight file ([`io`](crate::io)) neither stores nor checks them: load
/// into a network built with the same settings.
///
/// ```
/// use stackgrad::nn::{Activation, Layer, Net, Softplus, Dense};
/// use stackgrad::Matrix;
/// let sp = Softplus::default();
/// assert!((sp.f(0.0f64) - core::f64::consts::LN_2).abs() < 1e-16);
/// assert_eq!((sp.f(30.0f64), sp.df(30.0f64, 30.0)), (30.0, 1.0));
/// assert_eq!(sp.f(-1e4f32), 0.0);
/// assert_eq!(sp.df(0.0f64, 0.0), 0.5);
///
/// let sharp = Softplus::new(10.0, 20.0)?;
/// assert!((sharp.f(1.0f64) - 1.0000045398899217).abs() < 1e-15);
/// assert_eq!(sharp.f(2.5f64), 2.5); // β x = 25 > 20
///
/// let net = Net::new((Dense::<f64, 2, 2>::zeros(), sp));
/// let y = net.infer(&Matrix::<f64, 1, 2>::splat(3.0));
/// assert_eq!(y, Matrix::splat(core::f64::consts::LN_2));
/// assert!(Softplus::new(0.0, 20.0).is_err() && Softplus::new(1.0, f64::NAN).is_err());
/// # Ok::<(), stackgrad::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Softplus {
    beta: f64,
    threshold: f64,
}

impl Softplus {
    /// The softplus with sharpness `beta` that is linear where
    /// `beta · x > threshold`.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] unless `beta` is finite and positive and
    /// `threshold` is positive (`+∞`: never linear). A threshold at or below
    /// 0 would cut the function where it is far from `x` (a jump of at
    /// least `ln 2 / β`).
    pub fn new(beta: f64, threshold: f64) -> Result<Self, Error> {
        if !(beta.is_finite() && beta > 0.0) {
            return Err(Error::InvalidSetting {
                layer: "Softplus",
                setting: "beta",
                value: beta,
                expected: "finite and > 0",
            });
        }
        if threshold.is_nan() || threshold <= 0.0 {
            return Err(Error::InvalidSetting {
                layer: "Softplus",
                setting: "threshold",
                value: threshold,
                expected: "> 0",
            });
        }
        Ok(Self { beta, threshold })
    }

    /// `β`.
    #[must_use]
    pub fn beta(&self) -> f64 {
        self.beta
    }

    /// The threshold on `β x` above which the output is `x`.
    #[must_use]
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    #[inline(always)]
    fn eval<T: Scalar>(&self, x: T, fused: bool) -> T {
        let beta = T::from_f64(self.beta);
        let z = beta * x;
        let smooth = crate::math::softplus_kernel(z, fused) / beta;
        // NaN fails the comparison and takes the smooth branch (NaN).
        if z > T::from_f64(self.threshold) {
            x
        } else {
            smooth
        }
    }

    #[inline(always)]
    fn slope<T: Scalar>(&self, x: T, fused: bool) -> T {
        let z = T::from_f64(self.beta) * x;
        let s = if fused {
            z.fused_sigmoid()
        } else {
            z.fast_sigmoid()
        };
        if z > T::from_f64(self.threshold) {
            T::one()
        } else {
            s
        }
    }
}

impl Default for Softplus {
    /// `β = 1`, threshold 20, as PyTorch.
    fn default() -> Self {
        Self {
            beta: 1.0,
            threshold: 20.0,
        }
    }
}

impl Activation for Softplus {
    const COST: usize = 2 * crate::math::EXP_COST;
    const DF_COST: usize = crate::math::EXP_COST;
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
    fn settings_threshold_and_limits() {
        for (beta, thr, name) in [
            (0.0, 20.0, "beta"),
            (-1.0, 20.0, "beta"),
            (f64::NAN, 20.0, "beta"),
            (f64::INFINITY, 20.0, "beta"),
            (1.0, 0.0, "threshold"),
            (1.0, -5.0, "threshold"),
            (1.0, f64::NAN, "threshold"),
        ] {
            let e = Softplus::new(beta, thr).unwrap_err();
            assert!(
                e.to_string().starts_with(&format!("Softplus: {name} =")),
                "{e}"
            );
        }
        let never = Softplus::new(1.0, f64::INFINITY).unwrap();
        assert!((never.f(30.0f64) - 30.000000000000092).abs() <= 4e-15);
        let sp = Softplus::default();
        // At the threshold itself the smooth branch (PyTorch: `βx > threshold`).
        assert!((sp.f(20.0f64) - 20.000000002061153).abs() <= 4e-15);
        assert_eq!(sp.f(20.000001f64), 20.000001);
        assert_eq!(
            (sp.f(f64::INFINITY), sp.df(f64::INFINITY, 0.0)),
            (f64::INFINITY, 1.0)
        );
        assert_eq!(
            (sp.f(f32::NEG_INFINITY), sp.df(f32::NEG_INFINITY, 0.0)),
            (0.0, 0.0)
        );
        assert!(sp.f(f32::NAN).is_nan() && sp.df(f64::NAN, 0.0).is_nan());
        let half = Softplus::new(0.5, 20.0).unwrap();
        assert!((half.f(-3.0f64) - 2.0 * (-1.5f64).exp().ln_1p()).abs() < 1e-16);
        assert!((half.df(-3.0f64, 0.0) - 1.0 / (1.0 + 1.5f64.exp())).abs() < 1e-16);
    }
}
