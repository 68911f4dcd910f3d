//! Layers of one's own, cheaply.
//!
//! - A layer **without parameters** needs one impl, its [`Layer`] (forward
//!   and backward); wrap it in [`Custom`] to put it in a network, which
//!   supplies the rest (no tensors, nothing to recast, no shape rule beyond
//!   the layer's own input type, and the [`Walk`](super::Walk) with which
//!   summaries and the layer-by-layer gradient check name it).
//! - A layer **with parameters** needs its [`Layer`] impl and one
//!   [`params!`](crate::params) invocation listing its tensors, which
//!   implements [`Params`] (names, shapes, zeros for gradients), [`Recast`]
//!   (the f64 copy the gradient checker uses), [`Connect`] and
//!   [`Walk`](super::Walk); it goes into a network as it is.
//!
//! ```
//! use stackgrad::nn::{Custom, Dense, Layer, input};
//! use stackgrad::{Matrix, Scalar};
//!
//! /// `y = x²`, element by element: a parameter-free layer in one impl.
//! #[derive(Clone, Copy, Debug, Default)]
//! struct Square;
//!
//! impl<T: Scalar, const B: usize, const N: usize> Layer<Matrix<T, B, N>> for Square {
//!     type Output = Matrix<T, B, N>;
//!     type Cache = ();
//!     fn forward(&self, x: &Matrix<T, B, N>) -> (Matrix<T, B, N>, ()) {
//!         (x.map(|v| v * v), ())
//!     }
//!     fn backward(
//!         &self,
//!         x: &Matrix<T, B, N>,
//!         _y: &Matrix<T, B, N>,
//!         _cache: &(),
//!         dy: &Matrix<T, B, N>,
//!         _grads: &mut Self,
//!     ) -> Matrix<T, B, N> {
//!         dy.zip_map(x, |d, v| d * (v + v)) // ∂L/∂x = ∂L/∂y · 2x
//!     }
//! }
//!
//! let net = input::<2>()
//!     .then(Dense::<f64, 2, 3>::zeros())
//!     .then(Custom(Square))
//!     .build();
//! assert_eq!(net.infer(&Matrix::from_array([[1.0, 2.0]])), Matrix::zeros());
//! ```

use super::{Connect, Ctx, Layer, Params, Pattern, Recast, Tensor, TensorMut};
use crate::shape::{Channels, Image, Rows, Shaped, Unknown};
use crate::{Images, Matrix, Scalar};

/// A parameter-free layer of one's own in a network: implements
/// [`Connect`], [`Params`] (no tensors), [`Recast`] (itself) and
/// [`Walk`](super::Walk) (named after the inner type: `layer 2 (MyRelu)`)
/// around a type that implements only [`Layer`]. Every [`Layer`] method is
/// the inner layer's. (A layer with parameters uses [`params!`](crate::params)
/// instead.)
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Custom<L>(pub L);

impl<In, L: Layer<In>> Layer<In> for Custom<L> {
    type Output = L::Output;
    type Cache = L::Cache;
    #[inline(always)]
    fn forward(&self, x: &In) -> (L::Output, L::Cache) {
        self.0.forward(x)
    }
    #[inline(always)]
    fn forward_into(&self, x: &In, y: &mut L::Output, cache: &mut L::Cache) {
        self.0.forward_into(x, y, cache);
    }
    #[inline(always)]
    fn forward_train(&self, x: &In, ctx: &Ctx, y: &mut L::Output, cache: &mut L::Cache) {
        self.0.forward_train(x, ctx, y, cache);
    }
    #[inline(always)]
    fn update(&mut self, x: &In, cache: &L::Cache) {
        self.0.update(x, cache);
    }
    #[inline(always)]
    fn infer(&self, x: &In) -> L::Output {
        self.0.infer(x)
    }
    #[inline(always)]
    fn backward(
        &self,
        x: &In,
        y: &L::Output,
        cache: &L::Cache,
        dy: &L::Output,
        grads: &mut Self,
    ) -> In {
        self.0.backward(x, y, cache, dy, &mut grads.0)
    }
    #[inline(always)]
    fn backward_params(
        &self,
        x: &In,
        y: &L::Output,
        cache: &L::Cache,
        dy: &L::Output,
        grads: &mut Self,
    ) {
        self.0.backward_params(x, y, cache, dy, &mut grads.0);
    }
    fn pattern(&self, x: &In, y: &L::Output, cache: &L::Cache, pattern: &mut Pattern) {
        self.0.pattern(x, y, cache, pattern);
    }
}

impl<S: Follow<L>, A, L> Connect<S, A> for Custom<L> {
    type Out = S::Out;
}

/// The shape a layer `L` of one's own produces from shape `Self`, found by
/// asking its [`Layer`] impl about a batch of one: rows `Rows<T, N>` are a
/// `Matrix<T, 1, N>`, images an `Images<T, 1, C, H, W>`. Where the scalar
/// type or the sides are not known yet, the output is
/// [`Unknown`](crate::shape::Unknown) (the layer is still checked when the
/// network is used). What [`Custom`] and [`params!`](crate::params) use for
/// [`Connect`].
pub trait Follow<L> {
    /// The output's shape.
    type Out;
}

impl<L, T: Scalar, const N: usize> Follow<L> for Rows<T, N>
where
    L: Layer<Matrix<T, 1, N>, Output: Shaped>,
{
    type Out = <L::Output as Shaped>::Shape;
}

impl<L, T: Scalar, const C: usize, const H: usize, const W: usize> Follow<L> for Image<T, C, H, W>
where
    L: Layer<Images<T, 1, C, H, W>, Output: Shaped>,
{
    type Out = <L::Output as Shaped>::Shape;
}

impl<L, const N: usize> Follow<L> for Rows<Unknown, N> {
    type Out = Unknown;
}

impl<L, const C: usize, const H: usize, const W: usize> Follow<L> for Image<Unknown, C, H, W> {
    type Out = Unknown;
}

impl<L, T, const C: usize> Follow<L> for Channels<T, C> {
    type Out = Unknown;
}

impl<L> Follow<L> for Unknown {
    type Out = Unknown;
}

/// A parameter-free layer has no tensors.
impl<T: Scalar, L: Copy> Params<T> for Custom<L> {
    const TENSORS: usize = 0;
    const PARAMS: usize = 0;
    #[inline]
    fn tensor(&self, _k: usize) -> Option<Tensor<'_, T>> {
        None
    }
    #[inline]
    fn tensor_mut(&mut self, _k: usize) -> Option<TensorMut<'_, T>> {
        None
    }
    fn zeros_like(&self) -> Self {
        *self
    }
}

/// A parameter-free layer is the same over every scalar type (its `Layer`
/// impl is generic over it).
impl<U: Scalar, L: Copy> Recast<U> for Custom<L> {
    type Output = Self;
    fn recast(&self) -> Self {
        *self
    }
}

/// A parameter tensor's storage, for [`params!`](crate::params): its values
/// as a flat slice, and the same shape over another scalar type.
pub trait Field<T: Scalar> {
    /// The same storage over `U`.
    type As<U: Scalar>;
    /// The values, in row-major order.
    fn values(&self) -> &[T];
    /// The values, mutably.
    fn values_mut(&mut self) -> &mut [T];
    /// Every value converted to `U` (rounding to nearest).
    fn cast<U: Scalar>(&self) -> Self::As<U>;
    /// Zero values.
    fn zeroed() -> Self;
}

impl<T: Scalar, const N: usize> Field<T> for [T; N] {
    type As<U: Scalar> = [U; N];
    fn values(&self) -> &[T] {
        self
    }
    fn values_mut(&mut self) -> &mut [T] {
        self
    }
    fn cast<U: Scalar>(&self) -> [U; N] {
        self.map(|v| U::from_f64(v.as_f64()))
    }
    fn zeroed() -> Self {
        [T::zero(); N]
    }
}

impl<T: Scalar, const R: usize, const C: usize> Field<T> for Matrix<T, R, C> {
    type As<U: Scalar> = Matrix<U, R, C>;
    fn values(&self) -> &[T] {
        self.as_slice()
    }
    fn values_mut(&mut self) -> &mut [T] {
        self.as_mut_slice()
    }
    fn cast<U: Scalar>(&self) -> Matrix<U, R, C> {
        Matrix::cast(self)
    }
    fn zeroed() -> Self {
        Matrix::zeros()
    }
}

impl<T: Scalar, const N: usize, const C: usize, const H: usize, const W: usize> Field<T>
    for Images<T, N, C, H, W>
{
    type As<U: Scalar> = Images<U, N, C, H, W>;
    fn values(&self) -> &[T] {
        self.as_slice()
    }
    fn values_mut(&mut self) -> &mut [T] {
        self.as_mut_slice()
    }
    fn cast<U: Scalar>(&self) -> Images<U, N, C, H, W> {
        Images::cast(self)
    }
    fn zeroed() -> Self {
        Images::zeros()
    }
}

/// Implements [`Params`](crate::nn::Params), [`Recast`](crate::nn::Recast),
/// [`Connect`](crate::nn::Connect) and [`Walk`](crate::nn::Walk)
/// for a layer struct whose fields are its parameter tensors: each field
/// with its shape, in the order the tensors are named and saved. The struct
/// must be generic over its scalar type `T` first, then any const
/// parameters, and hold exactly the listed fields (each an array, a
/// [`Matrix`](crate::Matrix) or [`Images`](crate::Images) of `T`).
///
/// ```
/// use stackgrad::nn::{Layer, Params, Recast, input};
/// use stackgrad::{Matrix, Scalar};
///
/// /// `y = x ⊙ scale + shift`, per feature.
/// #[derive(Clone, Copy, Debug, PartialEq)]
/// struct Affine<T, const N: usize> {
///     scale: [T; N],
///     shift: [T; N],
/// }
/// stackgrad::params! {
///     impl<T, const N: usize> Affine<T, N> { scale: [N], shift: [N] }
/// }
///
/// impl<T: Scalar, const B: usize, const N: usize> Layer<Matrix<T, B, N>> for Affine<T, N> {
///     type Output = Matrix<T, B, N>;
///     type Cache = ();
///     fn forward(&self, x: &Matrix<T, B, N>) -> (Matrix<T, B, N>, ()) {
///         (Matrix::from_fn(|r, c| x[(r, c)] * self.scale[c] + self.shift[c]), ())
///     }
///     fn backward(
///         &self,
///         x: &Matrix<T, B, N>,
///         _y: &Matrix<T, B, N>,
///         _cache: &(),
///         dy: &Matrix<T, B, N>,
///         grads: &mut Self,
///     ) -> Matrix<T, B, N> {
///         grads.scale = core::array::from_fn(|c| (0..B).fold(T::zero(), |s, r| s + dy[(r, c)] * x[(r, c)]));
///         grads.shift = dy.sum_rows();
///         Matrix::from_fn(|r, c| dy[(r, c)] * self.scale[c])
///     }
/// }
///
/// let layer = Affine { scale: [2.0f32, 3.0], shift: [0.5, 0.0] };
/// assert_eq!(<Affine<f32, 2> as Params<f32>>::PARAMS, 4);
/// assert_eq!(layer.tensor(1).unwrap().name.to_string(), "shift");
/// let wide: Affine<f64, 2> = layer.recast();
/// let net = input::<2>().then(layer).build();
/// assert_eq!(net.infer(&Matrix::from_array([[1.0, 1.0]])).row(0), &[2.5, 3.0]);
/// # let _ = wide;
/// ```
#[macro_export]
macro_rules! params {
    (
        impl<$T:ident $(, const $c:ident: usize)* $(,)?> $Name:ident<$T2:ident $(, $a:ident)* $(,)?> {
            $($field:ident: [$($dim:expr),+ $(,)?]),+ $(,)?
        }
    ) => {
        impl<$T: $crate::Scalar $(, const $c: usize)*> $crate::nn::Params<$T> for $Name<$T $(, $a)*> {
            const TENSORS: usize = [$(stringify!($field)),+].len();
            const PARAMS: usize = 0 $(+ (1 $(* $dim)+))+;
            fn tensor(&self, k: usize) -> Option<$crate::nn::Tensor<'_, $T>> {
                let mut i = 0;
                $(
                    if k == i {
                        return Some($crate::nn::Tensor {
                            name: $crate::nn::ParamName::leaf(stringify!($field)),
                            shape: $crate::nn::Shape::new(&[$($dim),+]),
                            data: $crate::nn::Field::<$T>::values(&self.$field),
                        });
                    }
                    i += 1;
                )+
                let _ = i;
                None
            }
            fn tensor_mut(&mut self, k: usize) -> Option<$crate::nn::TensorMut<'_, $T>> {
                let mut i = 0;
                $(
                    if k == i {
                        return Some($crate::nn::TensorMut {
                            name: $crate::nn::ParamName::leaf(stringify!($field)),
                            shape: $crate::nn::Shape::new(&[$($dim),+]),
                            data: $crate::nn::Field::<$T>::values_mut(&mut self.$field),
                        });
                    }
                    i += 1;
                )+
                let _ = i;
                None
            }
            fn zeros_like(&self) -> Self {
                Self { $($field: $crate::nn::Field::<$T>::zeroed()),+ }
            }
        }

        // `__S`, `__A`, `__In`, `__U`: names a layer's own generics will not use.
        impl<__S, __A, $T: $crate::Scalar $(, const $c: usize)*> $crate::nn::Connect<__S, __A> for $Name<$T $(, $a)*>
        where
            __S: $crate::nn::Follow<Self>,
        {
            type Out = <__S as $crate::nn::Follow<Self>>::Out;
        }

        impl<__In, $T: $crate::Scalar $(, const $c: usize)*> $crate::nn::Walk<__In, $T>
            for $Name<$T $(, $a)*>
        where
            Self: $crate::gradcheck::CheckLayer<__In, $T>,
        {
        }

        impl<$T: $crate::Scalar, __U: $crate::Scalar $(, const $c: usize)*> $crate::nn::Recast<__U>
            for $Name<$T $(, $a)*>
        {
            type Output = $Name<__U $(, $a)*>;
            fn recast(&self) -> Self::Output {
                $Name { $($field: $crate::nn::Field::<$T>::cast::<__U>(&self.$field)),+ }
            }
        }
    };
}
