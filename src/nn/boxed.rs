//! `Box<L>` is a layer: heap-backed storage for layers too large for the stack.
//!
//! A `Dense<f32, 784, 128>` holds 100 352 weights (392 KiB). Debug builds keep
//! several copies of such a value on the stack while building and moving it, so
//! two of them in one function overflow a 2 MiB thread. Writing the large layer
//! as `Box<Dense<f32, 784, 128>>` in the network's type keeps its parameters
//! (and its gradients, which have the same type) on the heap, while forward and
//! backward stay the same calls; the small layers stay inline.
//!
//! A boxed layer is checked as the layer inside it, so one that does not fit
//! reads exactly like an inline one: "layer 0 (Dense<f32, 784, 128>) expects
//! 784 inputs but receives 783".
//!
//! ```
//! use stackgrad::nn::{input, Dense, Net, Params, Relu};
//! use stackgrad::Matrix;
//!
//! type Mnist = Net<(Box<Dense<f32, 784, 128>>, Relu, Dense<f32, 128, 10>)>;
//! let net: Mnist = input::<784>()
//!     .then(Dense::boxed_zeros())
//!     .then(Relu)
//!     .then(Dense::zeros())
//!     .build();
//! let grads = net.zeros_like(); // its big layer is boxed too
//! assert_eq!(grads.tensor(0).unwrap().shape.dims(), &[784, 128]);
//! let y = net.infer(&Matrix::<f32, 1, 784>::zeros());
//! assert_eq!(y, Matrix::zeros());
//! ```

extern crate alloc;
use alloc::boxed::Box;

use super::{Connect, Ctx, Layer, Params, Pattern, Recast, Tensor, TensorMut};
use crate::Scalar;

impl<In, L: Layer<In>> Layer<In> for Box<L> {
    type Output = L::Output;
    type Cache = L::Cache;
    const HAS_PARAMS: bool = L::HAS_PARAMS;
    #[inline]
    fn forward(&self, x: &In) -> (L::Output, L::Cache) {
        (**self).forward(x)
    }
    #[inline]
    fn forward_into(&self, x: &In, y: &mut L::Output, cache: &mut L::Cache) {
        (**self).forward_into(x, y, cache);
    }
    #[inline]
    fn forward_train(&self, x: &In, ctx: &Ctx, y: &mut L::Output, cache: &mut L::Cache) {
        (**self).forward_train(x, ctx, y, cache);
    }
    #[inline]
    fn update(&mut self, x: &In, cache: &L::Cache) {
        (**self).update(x, cache);
    }
    #[inline]
    fn infer(&self, x: &In) -> L::Output {
        (**self).infer(x)
    }
    #[inline]
    fn backward(
        &self,
        x: &In,
        y: &L::Output,
        cache: &L::Cache,
        dy: &L::Output,
        grads: &mut Self,
    ) -> In {
        (**self).backward(x, y, cache, dy, grads)
    }
    #[inline]
    fn backward_params(
        &self,
        x: &In,
        y: &L::Output,
        cache: &L::Cache,
        dy: &L::Output,
        grads: &mut Self,
    ) {
        (**self).backward_params(x, y, cache, dy, grads);
    }
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn backward_into(
        &self,
        x: &In,
        y: &L::Output,
        cache: &L::Cache,
        scratch: &mut L::Cache,
        dy: &L::Output,
        dx: &mut In,
        grads: &mut Self,
    ) {
        (**self).backward_into(x, y, cache, scratch, dy, dx, grads);
    }
    #[inline(always)]
    fn backward_params_into(
        &self,
        x: &In,
        y: &L::Output,
        cache: &L::Cache,
        scratch: &mut L::Cache,
        dy: &L::Output,
        grads: &mut Self,
    ) {
        (**self).backward_params_into(x, y, cache, scratch, dy, grads);
    }
    #[inline]
    fn pattern(&self, x: &In, y: &L::Output, cache: &L::Cache, pattern: &mut Pattern) {
        (**self).pattern(x, y, cache, pattern);
    }
}

impl<S, A, L: Connect<S, A>> Connect<S, A> for Box<L> {
    type Out = L::Out;
}

impl<T: Scalar, L: Params<T>> Params<T> for Box<L> {
    const TENSORS: usize = L::TENSORS;
    const PARAMS: usize = L::PARAMS;
    const BUFFERS: usize = L::BUFFERS;
    const BUFFER_VALUES: usize = L::BUFFER_VALUES;
    #[inline]
    fn buffer(&self, k: usize) -> Option<Tensor<'_, T>> {
        (**self).buffer(k)
    }
    #[inline]
    fn buffer_mut(&mut self, k: usize) -> Option<TensorMut<'_, T>> {
        (**self).buffer_mut(k)
    }
    #[inline]
    fn tensor(&self, k: usize) -> Option<Tensor<'_, T>> {
        (**self).tensor(k)
    }
    #[inline]
    fn tensor_mut(&mut self, k: usize) -> Option<TensorMut<'_, T>> {
        (**self).tensor_mut(k)
    }
    /// A boxed zero value, built in a frame of its own.
    #[inline(never)]
    fn zeros_like(&self) -> Self {
        Box::new((**self).zeros_like())
    }
}

impl<U: Scalar, L: Recast<U>> Recast<U> for Box<L> {
    type Output = Box<L::Output>;
    #[inline(never)]
    fn recast(&self) -> Box<L::Output> {
        Box::new((**self).recast())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Matrix;
    use crate::nn::Relu;

    /// A boxed layer reports the same pieces as the layer itself (the
    /// gradient checker's kinks), where it once kept the no-op default.
    #[test]
    fn boxed_layer_forwards_its_pattern() {
        let boxed = Box::new(Relu);
        let pattern = |x: f64| {
            let x = Matrix::from_array([[x, 1.0]]);
            let (y, cache) = boxed.forward(&x);
            let mut p = Pattern::new();
            boxed.pattern(&x, &y, &cache, &mut p);
            let mut q = Pattern::new();
            Relu.pattern(&x, &y, &cache, &mut q);
            assert_eq!(p, q);
            p
        };
        assert_ne!(pattern(0.5), pattern(-0.5));
    }
}
