//! [`Linear<T, I, O>`]: the fully connected layer without a bias, `Y = X W`
//! (notebook 000's layers).

use super::{Layer, ParamName, Params, Recast, Shape, Tensor, TensorMut};
use crate::{Matrix, Scalar};

/// A fully connected layer with `I` inputs, `O` outputs and no bias:
/// `Y = X W` for a batch `X: B x I`, with `W: I x O`.
///
/// One parameter tensor, named `"weight"` (shape `[I, O]`). Use it where a
/// model has no biases (notebook 000's 2 -> 3 -> 1 network) rather than a
/// [`Dense`](super::Dense) whose bias would have to be held at zero.
///
/// ```
/// use stackgrad::nn::{Layer, Linear};
/// use stackgrad::Matrix;
/// let layer = Linear::new(Matrix::from_array([[2.0], [-3.0]]));
/// let (y, _) = layer.forward(&Matrix::from_array([[-1.0, -2.0]]));
/// assert_eq!(y.into_array(), [[4.0]]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Linear<T, const I: usize, const O: usize> {
    /// `W`, `I x O`.
    pub weight: Matrix<T, I, O>,
}

impl<T: Scalar, const I: usize, const O: usize> Linear<T, I, O> {
    /// A layer from its weight (`I x O`).
    #[must_use]
    pub const fn new(weight: Matrix<T, I, O>) -> Self {
        Self { weight }
    }

    /// All weights zero.
    #[must_use]
    pub fn zeros() -> Self {
        Self::new(Matrix::zeros())
    }
}

impl<T: Scalar, const B: usize, const I: usize, const O: usize> Layer<Matrix<T, B, I>>
    for Linear<T, I, O>
{
    type Output = Matrix<T, B, O>;
    /// Nothing: backward reads the input `X`.
    type Cache = ();

    #[inline(always)]
    fn forward(&self, x: &Matrix<T, B, I>) -> (Matrix<T, B, O>, ()) {
        (self.infer(x), ())
    }

    #[inline(always)]
    fn forward_into(&self, x: &Matrix<T, B, I>, y: &mut Matrix<T, B, O>, (): &mut ()) {
        x.matmul_to(&self.weight, y);
    }

    #[inline(always)]
    fn infer(&self, x: &Matrix<T, B, I>) -> Matrix<T, B, O> {
        x.matmul(&self.weight)
    }

    // dW = Xᵀ D
    // dX = D Wᵀ
    #[inline(always)]
    fn backward(
        &self,
        x: &Matrix<T, B, I>,
        y: &Matrix<T, B, O>,
        (): &(),
        d: &Matrix<T, B, O>,
        grads: &mut Self,
    ) -> Matrix<T, B, I> {
        self.backward_params(x, y, &(), d, grads);
        d.matmul_t(&self.weight)
    }

    // dW only: no D Wᵀ.
    #[inline(always)]
    fn backward_params(
        &self,
        x: &Matrix<T, B, I>,
        _: &Matrix<T, B, O>,
        (): &(),
        d: &Matrix<T, B, O>,
        grads: &mut Self,
    ) {
        x.t_matmul_to(d, &mut grads.weight);
    }
}

rows_layer_connect!(Linear<T, I, O>, Inputs, I, O);

impl<T: Scalar, const I: usize, const O: usize> Params<T> for Linear<T, I, O> {
    const TENSORS: usize = 1;
    const PARAMS: usize = I * O;

    #[inline]
    fn tensor(&self, k: usize) -> Option<Tensor<'_, T>> {
        (k == 0).then(|| Tensor {
            name: ParamName::leaf("weight"),
            shape: Shape::new(&[I, O]),
            data: self.weight.as_slice(),
        })
    }

    #[inline]
    fn tensor_mut(&mut self, k: usize) -> Option<TensorMut<'_, T>> {
        (k == 0).then(|| TensorMut {
            name: ParamName::leaf("weight"),
            shape: Shape::new(&[I, O]),
            data: self.weight.as_mut_slice(),
        })
    }

    fn zeros_like(&self) -> Self {
        Self::zeros()
    }
}

impl<T: Scalar, U: Scalar, const I: usize, const O: usize> Recast<U> for Linear<T, I, O> {
    type Output = Linear<U, I, O>;
    fn recast(&self) -> Linear<U, I, O> {
        Linear::new(self.weight.cast())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Dense;

    /// A `Linear` is a `Dense` with its bias held at zero: same output, same
    /// weight and input gradients (Dense's backward is checked against the
    /// element-wise definition in dense.rs).
    #[test]
    fn agrees_with_dense_at_zero_bias() {
        let w = Matrix::<f64, 4, 3>::from_fn(|i, o| (i as f64 - 1.5) * 0.3 + o as f64 * 0.1);
        let x = Matrix::<f64, 2, 4>::from_fn(|b, i| ((b * 4 + i) as f64).sin());
        let d = Matrix::<f64, 2, 3>::from_fn(|b, o| ((b * 3 + o) as f64).cos());
        let (lin, dense) = (Linear::new(w), Dense::new(w, [0.0; 3]));
        let (y1, c1) = lin.forward(&x);
        let (y2, c2) = dense.forward(&x);
        assert_eq!(y1, y2);
        let (mut g1, mut g2) = (lin.zeros_like(), dense.zeros_like());
        assert_eq!(
            lin.backward(&x, &y1, &c1, &d, &mut g1),
            dense.backward(&x, &y2, &c2, &d, &mut g2)
        );
        assert_eq!(g1.weight, g2.weight);
    }

    #[test]
    fn params_are_named_and_shaped() {
        let layer = Linear::<f32, 3, 2>::zeros();
        let w = layer.tensor(0).unwrap();
        assert!(w.name == "weight");
        assert_eq!(w.shape.dims(), &[3, 2]);
        assert!(layer.tensor(1).is_none());
        assert_eq!(<Linear<f32, 3, 2> as Params<f32>>::PARAMS, 6);
    }
}
