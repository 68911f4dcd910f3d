//! [`Elements`]: tensors whose elements are stored contiguously, so that
//! element-wise layers (activations) and optimizers work on any shape.

use crate::{Matrix, Scalar};

/// A tensor type with `LEN` elements of type `Elem` stored contiguously.
///
/// Element-wise layers are written once against this trait and then apply to
/// matrices and image batches alike.
///
/// ```
/// use stackgrad::{Elements, Matrix};
/// let mut m = Matrix::<f32, 2, 2>::zeros();
/// m.elems_mut()[3] = 1.0;
/// assert_eq!(m[(1, 1)], 1.0);
/// assert_eq!(<Matrix<f32, 2, 2> as Elements>::LEN, 4);
/// assert_eq!(<Matrix<f32, 2, 3> as Elements>::DIMS, &[2, 3]);
/// ```
pub trait Elements: Copy {
    /// The element type.
    type Elem: Scalar;
    /// The number of elements.
    const LEN: usize;
    /// The logical dimensions, outermost first (their product is `LEN`); a
    /// matrix is `[R, C]`. Reports use it to show multi-indices. Default `[LEN]`.
    const DIMS: &'static [usize] = &[Self::LEN];
    /// All elements, in storage order.
    fn elems(&self) -> &[Self::Elem];
    /// All elements, mutably.
    fn elems_mut(&mut self) -> &mut [Self::Elem];
}

impl<T: Scalar, const R: usize, const C: usize> Elements for Matrix<T, R, C> {
    type Elem = T;
    const LEN: usize = R * C;
    const DIMS: &'static [usize] = &[R, C];
    #[inline(always)]
    fn elems(&self) -> &[T] {
        self.as_slice()
    }
    #[inline(always)]
    fn elems_mut(&mut self) -> &mut [T] {
        self.as_mut_slice()
    }
}
