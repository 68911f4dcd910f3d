//! [`Dropout`]: zeroes each element with probability `p` in training mode
//! and scales the survivors by `1 / (1 - p)` (inverted dropout), so that
//! evaluation mode is the identity.

use super::{Ctx, Layer, Recast};
use crate::{Elements, Error, Scalar};

/// Inverted dropout with probability `p` in `[0, 1)`, for any tensor
/// (matrices and image batches).
///
/// Training mode: `y = x · m / (1 - p)` with `m_i = 1` when the draw
/// `u_i ≥ p` and 0 otherwise; backward `∂L/∂x = ∂L/∂y · m / (1 - p)`.
/// Evaluation mode ([`Layer::infer`]): `y = x`. The draws come from
/// [`Ctx::draw`], a hash of the training seed, the step, the layer's
/// position in the network and the element, so the same seed gives the same
/// masks and the same trained weights, without state in the layer; a plain
/// [`Layer::forward`] uses the mask of step 0 (a fixed mask, which is what
/// the gradient checker differentiates). No parameters.
///
/// Cost: one hash per element in training, nothing in evaluation; the cache
/// is the step's [`Ctx`] (the mask is drawn again in backward).
///
/// ```
/// use stackgrad::nn::{Ctx, Dropout, Layer};
/// use stackgrad::Matrix;
/// let drop = Dropout::new(0.5)?;
/// let x = Matrix::<f64, 4, 8>::splat(1.0);
/// let (y, _) = drop.forward(&x);
/// // Survivors are scaled by 2, the rest are 0; evaluation is the identity.
/// assert!(y.as_slice().iter().all(|&v| v == 0.0 || v == 2.0));
/// assert_eq!(drop.infer(&x), x);
/// # Ok::<(), stackgrad::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dropout {
    p: f64,
}

/// What [`Dropout`]'s backward needs: the context its mask was drawn from.
pub type DropoutCache = Ctx;

impl Dropout {
    /// Dropout with probability `p`.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] unless `0 ≤ p < 1`.
    pub fn new(p: f64) -> Result<Self, Error> {
        if (0.0..1.0).contains(&p) {
            Ok(Self { p })
        } else {
            Err(Error::InvalidSetting {
                layer: "Dropout",
                setting: "p",
                value: p,
                expected: "in [0, 1)",
            })
        }
    }

    /// The probability of zeroing an element.
    #[must_use]
    pub fn p(&self) -> f64 {
        self.p
    }

    /// `out_i = inp_i · m_i / (1 - p)` for the mask of `ctx`.
    fn masked<T: Scalar>(&self, ctx: &Ctx, inp: &[T], out: &mut [T]) {
        let scale = T::from_f64(1.0 / (1.0 - self.p));
        for (i, (o, &v)) in out.iter_mut().zip(inp).enumerate() {
            // A product, not a select: a NaN stays NaN where it is dropped,
            // as in PyTorch.
            *o = v * if ctx.draw(i) >= self.p {
                scale
            } else {
                T::zero()
            };
        }
    }
}

impl<X: Elements> Layer<X> for Dropout {
    type Output = X;
    type Cache = Ctx;
    const HAS_PARAMS: bool = false;

    fn forward(&self, x: &X) -> (X, Ctx) {
        let mut y = *x;
        let ctx = Ctx::full(1);
        self.masked(&ctx, x.elems(), y.elems_mut());
        (y, ctx)
    }

    fn forward_train(&self, x: &X, ctx: &Ctx, y: &mut X, cache: &mut Ctx) {
        *cache = *ctx;
        self.masked(ctx, x.elems(), y.elems_mut());
    }

    fn infer(&self, x: &X) -> X {
        *x
    }

    fn backward(&self, _x: &X, _y: &X, cache: &Ctx, dy: &X, _grads: &mut Self) -> X {
        let mut dx = *dy;
        self.masked(cache, dy.elems(), dx.elems_mut());
        dx
    }
}

same_shape_connect!(Dropout);

impl<T: Scalar> super::Params<T> for Dropout {
    const TENSORS: usize = 0;
    const PARAMS: usize = 0;
    #[inline]
    fn tensor(&self, _k: usize) -> Option<super::Tensor<'_, T>> {
        None
    }
    #[inline]
    fn tensor_mut(&mut self, _k: usize) -> Option<super::TensorMut<'_, T>> {
        None
    }
    fn zeros_like(&self) -> Self {
        *self
    }
}

impl<U: Scalar> Recast<U> for Dropout {
    type Output = Self;
    fn recast(&self) -> Self {
        *self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Matrix;

    #[test]
    fn invalid_probabilities_are_errors() {
        for p in [-0.1, 1.0, 1.5, f64::NAN, f64::INFINITY] {
            let e = Dropout::new(p).unwrap_err();
            assert!(e.to_string().contains("Dropout: p ="), "{e}");
        }
        assert!(Dropout::new(0.0).is_ok());
    }

    #[test]
    fn mask_rate_scale_and_backward_agree() {
        let drop = Dropout::new(0.3).unwrap();
        let x = Matrix::<f64, 64, 64>::splat(1.0);
        let ctx = Ctx::new(64, 5, 11).within(2);
        let (mut y, mut cache) = drop.forward(&x);
        drop.forward_train(&x, &ctx, &mut y, &mut cache);
        let kept = y.as_slice().iter().filter(|&&v| v != 0.0).count();
        let frac = kept as f64 / 4096.0;
        assert!((frac - 0.7).abs() < 0.03, "{frac}");
        assert!(
            y.as_slice()
                .iter()
                .all(|&v| v == 0.0 || (v - 1.0 / 0.7).abs() < 1e-15)
        );
        // Backward applies the same mask and scale: dx = y for dy = 1.
        let dx = drop.backward(&x, &y, &cache, &x, &mut drop.clone());
        assert_eq!(dx, y);
        // Another step draws another mask; the same step the same one.
        let mut y2 = y;
        drop.forward_train(&x, &Ctx::new(64, 6, 11).within(2), &mut y2, &mut cache);
        assert_ne!(y2, y);
        drop.forward_train(&x, &ctx, &mut y2, &mut cache);
        assert_eq!(y2, y);
    }

    #[test]
    fn nan_propagates_through_kept_elements() {
        let drop = Dropout::new(0.0).unwrap();
        let x = Matrix::<f32, 1, 3>::from_array([[f32::NAN, 1.0, 2.0]]);
        let (y, c) = drop.forward(&x);
        assert!(y[(0, 0)].is_nan());
        let dx = drop.backward(&x, &y, &c, &x, &mut drop.clone());
        assert!(dx[(0, 0)].is_nan());
    }
}
