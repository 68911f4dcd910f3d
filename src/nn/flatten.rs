//! [`Flatten`]: from image batches to the matrices dense layers take, and
//! [`Unflatten`], its inverse, from rows of pixels to image batches.

use super::{Connect, Layer};
use crate::shape::{
    At, Channels, Check, Dim, FlatAlready, FlatSize, Flattens, Image, Reshapes, Rows, Shapes,
    TakesRows, TakesRowsNotMaps, UnflatSize, Unknown,
};
use crate::{Images, Matrix, Scalar};

/// Reshapes a batch of images `N x C x H x W` into a matrix `N x (C·H·W)`, one
/// row per image in channel, row, column order (NCHW, as numpy's `reshape`).
/// The width `C·H·W` is computed at compile time (up to 16384), so the next
/// dense layer's input size is checked against it:
///
/// ```text
/// error[E0277]: layer 2 (Dense<f32, 255, 10>) expects 255 inputs but receives 256
/// ```
///
/// Backward reshapes the gradient back. No parameters.
///
/// ```
/// use stackgrad::nn::{Flatten, Layer};
/// use stackgrad::{Images, Matrix};
/// let x = Images::<f32, 2, 2, 1, 2>::from_fn(|n, c, _, j| (10 * n + 2 * c + j) as f32);
/// let (y, cache) = Flatten.forward(&x);
/// assert_eq!(y, Matrix::from_array([[0.0, 1.0, 2.0, 3.0], [10.0, 11.0, 12.0, 13.0]]));
/// assert_eq!(Flatten.backward(&x, &y, &cache, &y, &mut Flatten), x);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flatten;

impl<T: Scalar, const N: usize, const C: usize, const H: usize, const W: usize, const L: usize>
    Layer<Images<T, N, C, H, W>> for Flatten
where
    Check: FlatSize<C, H, W, Out = Dim<L>>,
{
    type Output = Matrix<T, N, L>;
    type Cache = ();
    const HAS_PARAMS: bool = false;

    #[inline]
    fn forward(&self, x: &Images<T, N, C, H, W>) -> (Matrix<T, N, L>, ()) {
        (self.infer(x), ())
    }

    // `L == C * H * W` is proven by the shape rule, so the copies have equal lengths.
    #[inline]
    fn infer(&self, x: &Images<T, N, C, H, W>) -> Matrix<T, N, L> {
        let mut y = Matrix::<T, N, L>::zeros();
        y.as_mut_slice().copy_from_slice(x.as_slice());
        y
    }

    #[inline]
    fn forward_into(&self, x: &Images<T, N, C, H, W>, y: &mut Matrix<T, N, L>, (): &mut ()) {
        y.as_mut_slice().copy_from_slice(x.as_slice());
    }

    #[inline]
    fn backward_into(
        &self,
        _: &Images<T, N, C, H, W>,
        _: &Matrix<T, N, L>,
        (): &(),
        (): &mut (),
        dy: &Matrix<T, N, L>,
        dx: &mut Images<T, N, C, H, W>,
        _: &mut Self,
    ) {
        dx.as_mut_slice().copy_from_slice(dy.as_slice());
    }

    // No parameters: nothing to compute.
    #[inline]
    fn backward_params(
        &self,
        _: &Images<T, N, C, H, W>,
        _: &Matrix<T, N, L>,
        (): &(),
        _: &Matrix<T, N, L>,
        _: &mut Self,
    ) {
    }

    // dX = dY reshaped to N x C x H x W
    #[inline]
    fn backward(
        &self,
        _: &Images<T, N, C, H, W>,
        _: &Matrix<T, N, L>,
        (): &(),
        dy: &Matrix<T, N, L>,
        _: &mut Self,
    ) -> Images<T, N, C, H, W> {
        let mut dx = Images::<T, N, C, H, W>::zeros();
        dx.as_mut_slice().copy_from_slice(dy.as_slice());
        dx
    }
}

impl<U, const P: usize, const C: usize, const H: usize, const W: usize>
    Connect<Image<U, C, H, W>, At<P>> for Flatten
where
    Shapes: Flattens<Self, P, C, H, W>,
{
    type Out = <Shapes as Flattens<Self, P, C, H, W>>::Out<U>;
}

impl<U, const P: usize, const C: usize> Connect<Channels<U, C>, At<P>> for Flatten {
    type Out = Unknown;
}

impl<const P: usize> Connect<Unknown, At<P>> for Flatten {
    type Out = Unknown;
}

impl<U, const P: usize, const N: usize> Connect<Rows<U, N>, At<P>> for Flatten
where
    Shapes: FlatAlready<Self, P, N>,
{
    type Out = <Shapes as FlatAlready<Self, P, N>>::Same<Unknown>;
}

/// Reshapes a matrix `N x L` (one image per row, `L = C·H·W` values in
/// channel, row, column order) into a batch of images `N x C x H x W`: the
/// inverse of [`Flatten`]. It lets a convolutional network start from rows of
/// pixels, as the data sets and the training loop provide them. No parameters.
///
/// ```
/// use stackgrad::nn::{input, Conv2d, Flatten, Layer, Unflatten};
/// use stackgrad::{Images, Matrix};
/// let x = Matrix::<f32, 1, 4>::from_array([[1.0, 2.0, 3.0, 4.0]]);
/// let (im, cache): (Images<f32, 1, 1, 2, 2>, _) = Unflatten::<1, 2, 2>.forward(&x);
/// assert_eq!(im.into_array(), [[[[1.0, 2.0], [3.0, 4.0]]]]);
/// assert_eq!(Unflatten::<1, 2, 2>.backward(&x, &im, &cache, &im, &mut Unflatten), x);
///
/// // Rows of 64 pixels into 8x8 images, checked where the network is built.
/// let net = input::<64>()
///     .then(Unflatten::<1, 8, 8>)
///     .then(Conv2d::<f32, 1, 4, 3, 1, 1>::zeros())
///     .then(Flatten)
///     .build();
/// let y: Matrix<f32, 2, 256> = net.infer(&Matrix::<f32, 2, 64>::zeros());
/// # let _ = y;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Unflatten<const C: usize, const H: usize, const W: usize>;

impl<T: Scalar, const N: usize, const L: usize, const C: usize, const H: usize, const W: usize>
    Layer<Matrix<T, N, L>> for Unflatten<C, H, W>
where
    Check: FlatSize<C, H, W, Out = Dim<L>>,
{
    type Output = Images<T, N, C, H, W>;
    type Cache = ();
    const HAS_PARAMS: bool = false;

    #[inline]
    fn forward(&self, x: &Matrix<T, N, L>) -> (Images<T, N, C, H, W>, ()) {
        (self.infer(x), ())
    }

    // `L == C * H * W` is proven by the shape rule, so the copies have equal lengths.
    #[inline]
    fn infer(&self, x: &Matrix<T, N, L>) -> Images<T, N, C, H, W> {
        let mut y = Images::<T, N, C, H, W>::zeros();
        y.as_mut_slice().copy_from_slice(x.as_slice());
        y
    }

    #[inline]
    fn forward_into(&self, x: &Matrix<T, N, L>, y: &mut Images<T, N, C, H, W>, (): &mut ()) {
        y.as_mut_slice().copy_from_slice(x.as_slice());
    }

    #[inline]
    fn backward_into(
        &self,
        _: &Matrix<T, N, L>,
        _: &Images<T, N, C, H, W>,
        (): &(),
        (): &mut (),
        dy: &Images<T, N, C, H, W>,
        dx: &mut Matrix<T, N, L>,
        _: &mut Self,
    ) {
        dx.as_mut_slice().copy_from_slice(dy.as_slice());
    }

    // No parameters: nothing to compute.
    #[inline]
    fn backward_params(
        &self,
        _: &Matrix<T, N, L>,
        _: &Images<T, N, C, H, W>,
        (): &(),
        _: &Images<T, N, C, H, W>,
        _: &mut Self,
    ) {
    }

    // dX = dY reshaped to N x L
    #[inline]
    fn backward(
        &self,
        _: &Matrix<T, N, L>,
        _: &Images<T, N, C, H, W>,
        (): &(),
        dy: &Images<T, N, C, H, W>,
        _: &mut Self,
    ) -> Matrix<T, N, L> {
        let mut dx = Matrix::<T, N, L>::zeros();
        dx.as_mut_slice().copy_from_slice(dy.as_slice());
        dx
    }
}

impl<U, const P: usize, const N: usize, const C: usize, const H: usize, const W: usize>
    Connect<Rows<U, N>, At<P>> for Unflatten<C, H, W>
where
    Shapes: Reshapes<Self, P, N, C, H, W>,
{
    type Out = <Shapes as Reshapes<Self, P, N, C, H, W>>::Same<Image<U, C, H, W>>;
}

impl<const P: usize, const C: usize, const H: usize, const W: usize> Connect<Unknown, At<P>>
    for Unflatten<C, H, W>
where
    Shapes: UnflatSize<Self, P, C, H, W>,
{
    type Out = Image<Unknown, C, H, W>;
}

impl<
    U,
    const P: usize,
    const D: usize,
    const G: usize,
    const V: usize,
    const C: usize,
    const H: usize,
    const W: usize,
> Connect<Image<U, D, G, V>, At<P>> for Unflatten<C, H, W>
where
    Shapes: TakesRows<Self, P, D, G, V>,
{
    type Out = <Shapes as TakesRows<Self, P, D, G, V>>::Same<Unknown>;
}

impl<U, const P: usize, const D: usize, const C: usize, const H: usize, const W: usize>
    Connect<Channels<U, D>, At<P>> for Unflatten<C, H, W>
where
    Shapes: TakesRowsNotMaps<Self, P, D>,
{
    type Out = <Shapes as TakesRowsNotMaps<Self, P, D>>::Same<Unknown>;
}

super::no_params!(Flatten);

impl<T: Scalar, const C: usize, const H: usize, const W: usize> super::Params<T>
    for Unflatten<C, H, W>
{
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
    #[inline]
    fn zeros_like(&self) -> Self {
        *self
    }
}

impl<U: Scalar, const C: usize, const H: usize, const W: usize> super::Recast<U>
    for Unflatten<C, H, W>
{
    type Output = Self;
    #[inline]
    fn recast(&self) -> Self {
        *self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::numgrad::check_layer;

    #[test]
    fn gradcheck_f64_and_f32() {
        let x = Images::<f64, 2, 3, 2, 4>::from_fn(|n, c, i, j| {
            ((n * 24 + c * 8 + i * 4 + j) as f64).sin()
        });
        check_layer(&Flatten, &x);
        check_layer(&Flatten, &x.cast::<f32>());
        let m = Matrix::<f64, 2, 12>::from_fn(|r, c| ((r * 12 + c) as f64).cos());
        check_layer(&Unflatten::<3, 2, 2>, &m);
        check_layer(&Unflatten::<3, 1, 4>, &m.map(|v| v as f32));
    }

    #[test]
    fn flattens_past_1024_through_the_table() {
        // 16 x 28 x 28 = 12544: beyond typenum's named constants, computed by
        // typenum multiplication and mapped back by the generated table.
        let x = Images::<f32, 1, 16, 28, 28>::from_fn(|_, c, i, j| (c * 784 + i * 28 + j) as f32);
        let y: Matrix<f32, 1, 12544> = Flatten.infer(&x);
        assert_eq!(y[(0, 12543)], 12543.0);
        let x = Images::<f32, 1, 1, 128, 128>::zeros();
        let _: Matrix<f32, 1, 16384> = Flatten.infer(&x);
    }
}
