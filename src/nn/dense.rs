//! [`Dense<T, I, O>`]: the fully connected layer `Y = X W + b`.

use rand::Rng;

use super::{Layer, ParamName, Params, Recast, Shape, Tensor, TensorMut};
use crate::init::Init;
use crate::{Matrix, Scalar};

/// A fully connected layer with `I` inputs and `O` outputs:
/// `Y = X W + b` for a batch `X: B x I`, with `W: I x O` and `b: O` added to every row.
///
/// Parameters are named `"weight"` (shape `[I, O]`) and `"bias"` (shape `[O]`).
///
/// ```
/// use stackgrad::nn::{Dense, Layer};
/// use stackgrad::Matrix;
/// // notebook 003's neuron before its sigmoid: s = x·w + b = 1
/// let layer = Dense::new(Matrix::from_array([[2.0], [-3.0]]), [-3.0]);
/// let x = Matrix::from_array([[-1.0, -2.0]]);
/// let (s, _cache) = layer.forward(&x);
/// assert_eq!(s.into_array(), [[1.0]]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dense<T, const I: usize, const O: usize> {
    /// `W`, `I x O`.
    pub weight: Matrix<T, I, O>,
    /// `b`, one per output.
    pub bias: [T; O],
}

impl<T: Scalar, const I: usize, const O: usize> Dense<T, I, O> {
    /// A layer from its weight (`I x O`) and bias.
    #[must_use]
    pub const fn new(weight: Matrix<T, I, O>, bias: [T; O]) -> Self {
        Self { weight, bias }
    }

    /// All weights and biases zero.
    #[must_use]
    pub fn zeros() -> Self {
        Self::new(Matrix::zeros(), [T::zero(); O])
    }

    /// Weights drawn by `init` (fan-in `I`, fan-out `O`), biases zero.
    ///
    /// ```
    /// use stackgrad::init::Init;
    /// use stackgrad::nn::Dense;
    /// use stackgrad::rand::{SeedableRng, rngs::StdRng};
    /// let layer = Dense::<f32, 2, 25>::init(Init::XavierUniform, &mut StdRng::seed_from_u64(0));
    /// assert!(layer.weight.max_abs() <= (6.0f32 / 27.0).sqrt());
    /// assert_eq!(layer.bias, [0.0; 25]);
    /// ```
    #[must_use]
    pub fn init<R: Rng + ?Sized>(init: Init, rng: &mut R) -> Self {
        let mut layer = Self::zeros();
        init.fill(layer.weight.as_mut_slice(), I, O, rng);
        layer
    }

    /// A zero layer on the heap, for layers too large for the stack (see
    /// [`Box<L>` as a layer](crate::nn#layers-on-the-heap)). Built in a frame of its own.
    #[cfg(feature = "std")]
    #[inline(never)]
    #[must_use]
    pub fn boxed_zeros() -> std::boxed::Box<Self> {
        std::boxed::Box::new(Self::zeros())
    }

    /// Weights drawn by `init` on the heap (see [`boxed_zeros`](Self::boxed_zeros)).
    #[cfg(feature = "std")]
    #[inline(never)]
    #[must_use]
    pub fn boxed_init<R: Rng + ?Sized>(init: Init, rng: &mut R) -> std::boxed::Box<Self> {
        let mut layer = Self::boxed_zeros();
        init.fill(layer.weight.as_mut_slice(), I, O, rng);
        layer
    }

    /// [`Init::XavierUniform`] weights (notebook 001's initializer), zero biases.
    #[must_use]
    pub fn xavier_uniform<R: Rng + ?Sized>(rng: &mut R) -> Self {
        Self::init(Init::XavierUniform, rng)
    }

    /// [`Init::HeNormal`] weights, zero biases: the usual choice before a ReLU.
    #[must_use]
    pub fn he_normal<R: Rng + ?Sized>(rng: &mut R) -> Self {
        Self::init(Init::HeNormal, rng)
    }
}

impl<T: Scalar, const B: usize, const I: usize, const O: usize> Layer<Matrix<T, B, I>>
    for Dense<T, I, O>
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
        // Start from the bias and accumulate X W into it, in `y`.
        for row in y.as_array_mut() {
            *row = self.bias;
        }
        x.matmul_acc(&self.weight, y);
    }

    #[inline(always)]
    fn infer(&self, x: &Matrix<T, B, I>) -> Matrix<T, B, O> {
        // The rows are written in place, with no temporary batch to copy
        // (the zeros are dead stores the compiler drops).
        let mut out = Matrix::zeros();
        self.forward_into(x, &mut out, &mut ());
        out
    }

    // dW = Xᵀ D
    // db = Σ over the batch of D
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
        let mut dx = Matrix::zeros();
        self.backward_into(x, y, &(), &mut (), d, &mut dx, grads);
        dx
    }

    // D Wᵀ into the caller's buffer.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn backward_into(
        &self,
        x: &Matrix<T, B, I>,
        y: &Matrix<T, B, O>,
        (): &(),
        (): &mut (),
        d: &Matrix<T, B, O>,
        dx: &mut Matrix<T, B, I>,
        grads: &mut Self,
    ) {
        self.backward_params(x, y, &(), d, grads);
        d.matmul_t_into(&self.weight, dx);
    }

    // dW and db only: no D Wᵀ.
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
        grads.bias = d.sum_rows();
    }
}

rows_layer_connect!(Dense<T, I, O>, Inputs, I, O);

impl<T: Scalar, const I: usize, const O: usize> Params<T> for Dense<T, I, O> {
    const TENSORS: usize = 2;
    const PARAMS: usize = I * O + O;

    #[inline]
    fn tensor(&self, k: usize) -> Option<Tensor<'_, T>> {
        match k {
            0 => Some(Tensor {
                name: ParamName::leaf("weight"),
                shape: Shape::new(&[I, O]),
                data: self.weight.as_slice(),
            }),
            1 => Some(Tensor {
                name: ParamName::leaf("bias"),
                shape: Shape::new(&[O]),
                data: &self.bias,
            }),
            _ => None,
        }
    }

    #[inline]
    fn tensor_mut(&mut self, k: usize) -> Option<TensorMut<'_, T>> {
        match k {
            0 => Some(TensorMut {
                name: ParamName::leaf("weight"),
                shape: Shape::new(&[I, O]),
                data: self.weight.as_mut_slice(),
            }),
            1 => Some(TensorMut {
                name: ParamName::leaf("bias"),
                shape: Shape::new(&[O]),
                data: &mut self.bias,
            }),
            _ => None,
        }
    }

    fn zeros_like(&self) -> Self {
        Self::zeros()
    }
}

impl<T: Scalar, U: Scalar, const I: usize, const O: usize> Recast<U> for Dense<T, I, O> {
    type Output = Dense<U, I, O>;
    fn recast(&self) -> Dense<U, I, O> {
        Dense::new(
            self.weight.cast(),
            self.bias.map(|b| U::from_f64(b.as_f64())),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Notebook 003, cell 4: for `D = X W`, `dW = Xᵀ dD` and `dX = dD Wᵀ`; checked
    /// here against the element-wise definition `dW_io = Σ_b X_bi dD_bo`.
    #[test]
    fn backward_matches_elementwise_definition() {
        let layer = Dense::<f64, 4, 5>::new(
            Matrix::from_fn(|i, o| (i as f64 - 1.5) * 0.3 + o as f64 * 0.1),
            [0.5, -0.25, 0.0, 1.0, 2.0],
        );
        let x = Matrix::<f64, 3, 4>::from_fn(|b, i| ((b * 4 + i) as f64).sin());
        let d = Matrix::<f64, 3, 5>::from_fn(|b, o| ((b * 5 + o) as f64).cos());
        let (y, cache) = layer.forward(&x);
        let mut g = layer.zeros_like();
        let dx = layer.backward(&x, &y, &cache, &d, &mut g);
        for i in 0..4 {
            for o in 0..5 {
                let want: f64 = (0..3).map(|b| x[(b, i)] * d[(b, o)]).sum();
                assert!((g.weight[(i, o)] - want).abs() < 1e-12);
            }
        }
        for o in 0..5 {
            let want: f64 = (0..3).map(|b| d[(b, o)]).sum();
            assert!((g.bias[o] - want).abs() < 1e-12);
        }
        for b in 0..3 {
            for i in 0..4 {
                let want: f64 = (0..5).map(|o| d[(b, o)] * layer.weight[(i, o)]).sum();
                assert!((dx[(b, i)] - want).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn params_are_named_and_shaped() {
        let layer = Dense::<f32, 3, 2>::zeros();
        let w = layer.tensor(0).unwrap();
        assert!(w.name == "weight");
        assert_eq!(w.shape.dims(), &[3, 2]);
        assert_eq!(w.data.len(), 6);
        assert!(layer.tensor(1).unwrap().name == "bias");
        assert!(layer.tensor(2).is_none());
        assert_eq!(<Dense<f32, 3, 2> as Params<f32>>::PARAMS, 8);
    }
}
