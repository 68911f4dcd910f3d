//! The float bound shared by every tensor: [`Scalar`], implemented for `f32` and `f64`.

use core::fmt::{Debug, Display, LowerExp};
use core::iter::Sum;
use core::ops::{AddAssign, DivAssign, MulAssign, SubAssign};
use num_traits::Float;

/// A floating-point element type: `f32` or `f64`.
///
/// Everything in stackgrad is generic over `T: Scalar`. The bound is num-traits'
/// [`Float`] plus the in-place operators, formatting and the two conversions the
/// library needs; it is sealed so that the set of element types stays the two
/// that are tested.
///
/// ```
/// use stackgrad::Scalar;
/// fn half<T: Scalar>(x: T) -> T { x * T::from_f64(0.5) }
/// assert_eq!(half(3.0f32), 1.5);
/// assert_eq!(half(3.0f64).as_f64(), 1.5);
/// ```
pub trait Scalar:
    Float
    + Default
    + Debug
    + Display
    + LowerExp
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
    + Send
    + Sync
    + 'static
    + crate::math::FastMath
    + sealed::Sealed
{
    /// Machine epsilon of the type (`2^-23` for f32, `2^-52` for f64).
    const EPSILON: Self;
    /// Short name of the type, as used in weight files: `"f32"` or `"f64"`.
    const NAME: &'static str;
    /// Converts from `f64`, rounding to nearest.
    fn from_f64(x: f64) -> Self;
    /// Converts to `f64` (exact for both types). Named `as_f64` because num-traits'
    /// `ToPrimitive::to_f64`, a supertrait method, returns an `Option`.
    fn as_f64(self) -> f64;
    /// Converts from a count (exact below 2^24 for f32, 2^53 for f64).
    fn from_usize(n: usize) -> Self {
        Self::from_f64(n as f64)
    }
}

/// Seals [`Scalar`], and holds the crate's internal per-type kernels
/// (implemented beside the others in `crate::math`).
pub(crate) mod sealed {
    /// A slice of one of the two element types, for kernels written once per
    /// type (the convolution's products) and reached from generic code.
    pub enum Slice<'a> {
        /// `f32` elements.
        F32(&'a [f32]),
        /// `f64` elements.
        F64(&'a [f64]),
    }

    /// [`Slice`], mutably.
    pub enum SliceMut<'a> {
        /// `f32` elements.
        F32(&'a mut [f32]),
        /// `f64` elements.
        F64(&'a mut [f64]),
    }

    impl<'a> From<&'a [f32]> for Slice<'a> {
        #[inline(always)]
        fn from(s: &'a [f32]) -> Self {
            Self::F32(s)
        }
    }
    impl<'a> From<&'a [f64]> for Slice<'a> {
        #[inline(always)]
        fn from(s: &'a [f64]) -> Self {
            Self::F64(s)
        }
    }
    impl<'a> From<&'a mut [f32]> for SliceMut<'a> {
        #[inline(always)]
        fn from(s: &'a mut [f32]) -> Self {
            Self::F32(s)
        }
    }
    impl<'a> From<&'a mut [f64]> for SliceMut<'a> {
        #[inline(always)]
        fn from(s: &'a mut [f64]) -> Self {
            Self::F64(s)
        }
    }

    pub trait Sealed: Copy {
        /// The slice as its concrete element type.
        fn slice(s: &[Self]) -> Slice<'_>;
        /// The slice as its concrete element type, mutably.
        fn slice_mut(s: &mut [Self]) -> SliceMut<'_>;
        /// `e^x` for `x ≤ 0` (or NaN), bit for bit as `crate::math::exp` (as
        /// `fused_exp` when `fused`), in fewer operations: the softmax's
        /// `e^(z - max z)` and the sigmoid's `e^-|x|`.
        fn exp_nonpos(self, fused: bool) -> Self;
        /// `e^x - 1` (`crate::math::expm1`), with fused multiply-adds in
        /// the reduction when `fused`.
        fn expm1_kernel(self, fused: bool) -> Self;
        /// `crate::math::exp`, or `fused_exp` when `fused`.
        fn exp_kernel(self, fused: bool) -> Self;
        /// The high half of the significand (Veltkamp's split), for an exact
        /// square `hi * hi`; `|self|` must be below about `2^100`.
        fn split_hi(self) -> Self;
    }
}

impl Scalar for f32 {
    const EPSILON: Self = f32::EPSILON;
    const NAME: &'static str = "f32";
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    #[inline(always)]
    fn as_f64(self) -> f64 {
        self as f64
    }
}

impl Scalar for f64 {
    const EPSILON: Self = f64::EPSILON;
    const NAME: &'static str = "f64";
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn as_f64(self) -> f64 {
        self
    }
}

/// Euclidean norm `sqrt(Σ x²)` of a slice, scaled by the largest magnitude so that
/// it neither overflows nor underflows for finite input (`[3e30, 4e30]` in f32
/// gives `5e30`). NaN if any element is NaN; infinity if any is infinite.
pub(crate) fn norm<T: Scalar>(xs: &[T]) -> T {
    let mut scale = T::zero();
    for &x in xs {
        if x.is_nan() {
            return T::nan();
        }
        scale = scale.max(x.abs());
    }
    if scale == T::zero() || scale.is_infinite() {
        return scale;
    }
    let sum: T = xs.iter().map(|&x| (x / scale) * (x / scale)).sum();
    scale * sum.sqrt()
}
