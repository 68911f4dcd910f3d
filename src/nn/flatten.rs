//! [`Flatten`]: from image batches to the matrices dense layers take.

use super::{Connect, Layer};
use crate::shape::{Check, Dim, FlatSize};
use crate::{Images, Matrix, Scalar};

/// Reshapes a batch of images `N x C x H x W` into a matrix `N x (C·H·W)`, one
/// row per image in channel, row, column order (NCHW, as numpy's `reshape`).
/// The width `C·H·W` is computed at compile time (up to 16384), so the next
/// dense layer's input size is checked against it:
///
/// ```text
/// error[E0277]: layer expects 255 inputs but the previous layer produces 256
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
/// assert_eq!(Flatten.backward(&cache, &y, &mut Flatten), x);
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

    // dX = dY reshaped to N x C x H x W
    #[inline]
    fn backward(&self, _: &(), dy: &Matrix<T, N, L>, _: &mut Self) -> Images<T, N, C, H, W> {
        let mut dx = Images::<T, N, C, H, W>::zeros();
        dx.as_mut_slice().copy_from_slice(dy.as_slice());
        dx
    }
}

impl<T: Scalar, const N: usize, const C: usize, const H: usize, const W: usize>
    Connect<Images<T, N, C, H, W>> for Flatten
where
    Check: FlatSize<C, H, W>,
    <Check as FlatSize<C, H, W>>::Same<Self>: Layer<Images<T, N, C, H, W>>,
{
    type Checked = <Check as FlatSize<C, H, W>>::Same<Self>;
    #[inline(always)]
    fn connect(self) -> Self::Checked {
        <Check as FlatSize<C, H, W>>::same(self)
    }
}

super::no_params!(Flatten);

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
