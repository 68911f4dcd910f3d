//! [`LeakyRelu`]: the rectifier with a slope below zero.

use super::Activation;
use crate::{Error, Scalar};

/// The leaky rectifier: `f(x) = x` for `x > 0`, `slope · x` otherwise
/// (PyTorch's `LeakyReLU`; the default slope is 0.01).
///
/// Derivative, read from the input: `f'(x) = 1` for `x > 0` and `slope` for
/// `x ≤ 0` (PyTorch's choice at 0), NaN at NaN. Exact in both precisions for
/// every input: `f(±∞) = ±∞` (times the slope below zero), `f(NaN) = NaN`.
///
/// Cost: a compare, a multiply and a select per element, forward and
/// backward. Piecewise linear: the gradient checker reads which piece each
/// element took (see [`Pattern`](crate::nn::Pattern)) and reports a
/// coordinate that crosses 0 as a kink.
///
/// The slope is a field of the value (an `f64`, converted to the element
/// type once per loop): it belongs to the network built in code, like
/// [`Dropout`](crate::nn::Dropout)'s `p`; a weight file ([`io`](crate::io))
/// neither stores nor checks it: load into a network built with the same
/// slope.
///
/// ```
/// use stackgrad::nn::{input, Activation, Dense, Layer, LeakyRelu};
/// use stackgrad::Matrix;
/// let leaky = LeakyRelu::new(0.2)?;
/// assert_eq!(leaky.f(-5.0f64), -1.0);
/// assert_eq!((leaky.df(-5.0f64, -1.0), leaky.df(3.0f64, 3.0)), (0.2, 1.0));
/// assert_eq!(LeakyRelu::default().slope(), 0.01);
///
/// let net = input::<2>().then(Dense::<f64, 2, 2>::zeros()).then(leaky).build();
/// let x = Matrix::from_array([[1.0, -2.0]]);
/// let (y, cache) = leaky.forward(&x);
/// assert_eq!(y.into_array(), [[1.0, -0.4]]);
/// let mut grads = leaky;
/// let dx = leaky.backward(&x, &y, &cache, &Matrix::splat(10.0), &mut grads);
/// assert_eq!(dx.into_array(), [[10.0, 2.0]]);
/// assert_eq!(net.infer(&x), Matrix::zeros());
///
/// assert!(LeakyRelu::new(f64::NAN).is_err());
/// # Ok::<(), stackgrad::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeakyRelu {
    slope: f64,
}

impl LeakyRelu {
    /// The leaky rectifier with `slope` below zero.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] unless `slope` is finite.
    pub fn new(slope: f64) -> Result<Self, Error> {
        if slope.is_finite() {
            Ok(Self { slope })
        } else {
            Err(Error::InvalidSetting {
                layer: "LeakyRelu",
                setting: "slope",
                value: slope,
                expected: "finite",
            })
        }
    }

    /// The slope below zero.
    #[must_use]
    pub fn slope(&self) -> f64 {
        self.slope
    }
}

impl Default for LeakyRelu {
    /// Slope 0.01, as PyTorch.
    fn default() -> Self {
        Self { slope: 0.01 }
    }
}

impl Activation for LeakyRelu {
    const PIECEWISE_LINEAR: bool = true;
    #[inline(always)]
    fn f<T: Scalar>(&self, x: T) -> T {
        // A product, not a select on the sign alone: -0 stays -0, NaN stays NaN.
        if x > T::zero() {
            x
        } else {
            x * T::from_f64(self.slope)
        }
    }
    #[inline(always)]
    fn df<T: Scalar>(&self, x: T, _y: T) -> T {
        let slope = if x > T::zero() {
            T::one()
        } else {
            T::from_f64(self.slope)
        };
        if x.is_nan() { x } else { slope }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_and_pieces() {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let e = LeakyRelu::new(bad).unwrap_err();
            assert!(e.to_string().starts_with("LeakyRelu: slope ="), "{e}");
        }
        // Any finite slope is a function (a negative one folds, 1 is the identity).
        let neg = LeakyRelu::new(-0.5).unwrap();
        assert_eq!((neg.f(-2.0f32), neg.df(-2.0f32, 1.0)), (1.0, -0.5));
        let l = LeakyRelu::default();
        assert!(l.f(-0.0f64).is_sign_negative());
        assert_eq!(l.f(f32::NEG_INFINITY), f32::NEG_INFINITY);
        assert_eq!(l.df(0.0f64, 0.0), 0.01);
        assert_eq!(l.df(f64::INFINITY, f64::INFINITY), 1.0);
        assert!(l.f(f64::NAN).is_nan() && l.df(f32::NAN, f32::NAN).is_nan());
    }
}
