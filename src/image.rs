//! [`Images<T, N, C, H, W>`]: a batch of `N` images with `C` channels of
//! `H x W` pixels, stored inline in the notebooks' NCHW layout.
//!
//! | operation | shape | result |
//! |---|---|---|
//! | [`from_fn`](Images::from_fn), [`zeros`](Images::zeros), [`splat`](Images::splat) | | `N x C x H x W` |
//! | `x[(n, c, i, j)]`, [`get`](Images::get) | | element |
//! | [`as_slice`](Images::as_slice) | `N x C x H x W` | `&[T]`, NCHW order |
//! | [`image`](Images::image) | `N x C x H x W` | `&[[[T; W]; H]; C]` |
//!
//! Images implement [`Elements`], so the activation layers apply to them as
//! they do to matrices.

use core::fmt;
use core::ops::{Index, IndexMut};

use crate::nn::Recast;
use crate::{Elements, Scalar};

/// A batch of `N` images with `C` channels of `H x W` pixels, stored inline as
/// `[[[[T; W]; H]; C]; N]` (NCHW, row-major within a channel).
///
/// `Copy`, no heap: element `(n, c, i, j)` is pixel row `i`, column `j` of
/// channel `c` of image `n`.
///
/// ```
/// use stackgrad::Images;
/// let x = Images::<f32, 2, 3, 4, 5>::from_fn(|n, c, i, j| (1000 * n + 100 * c + 10 * i + j) as f32);
/// assert_eq!(x[(1, 2, 3, 4)], 1234.0);
/// assert_eq!(x.as_slice()[5], 10.0); // row 1 of channel 0 of image 0 starts at index W = 5
/// assert_eq!(x.get(2, 0, 0, 0), None);
/// ```
#[derive(Clone, Copy, PartialEq)]
#[repr(transparent)]
pub struct Images<T, const N: usize, const C: usize, const H: usize, const W: usize> {
    data: [[[[T; W]; H]; C]; N],
}

/// A batch of `f32` images, for concrete examples: `Img<1, 1, 8, 8>`.
pub type Img<const N: usize, const C: usize, const H: usize, const W: usize> =
    Images<f32, N, C, H, W>;

impl<T: Copy, const N: usize, const C: usize, const H: usize, const W: usize>
    Images<T, N, C, H, W>
{
    /// Batch size `N`.
    pub const BATCH: usize = N;
    /// Channels per image `C`.
    pub const CHANNELS: usize = C;
    /// Height `H` (pixel rows).
    pub const HEIGHT: usize = H;
    /// Width `W` (pixel columns).
    pub const WIDTH: usize = W;

    /// Wraps an NCHW array: `a[n][c][i][j]` becomes element `(n, c, i, j)`.
    #[inline(always)]
    #[must_use]
    pub const fn from_array(data: [[[[T; W]; H]; C]; N]) -> Self {
        Self { data }
    }

    /// Every element equal to `v`.
    #[inline(always)]
    #[must_use]
    pub const fn splat(v: T) -> Self {
        Self {
            data: [[[[v; W]; H]; C]; N],
        }
    }

    /// Element `(n, c, i, j)` is `f(n, c, i, j)`, called in NCHW order.
    #[inline]
    #[must_use]
    pub fn from_fn(mut f: impl FnMut(usize, usize, usize, usize) -> T) -> Self {
        Self {
            data: core::array::from_fn(|n| {
                core::array::from_fn(|c| {
                    core::array::from_fn(|i| core::array::from_fn(|j| f(n, c, i, j)))
                })
            }),
        }
    }

    /// Builds from `N * C * H * W` values in NCHW order (the layout of
    /// [`as_slice`](Self::as_slice)). Returns `None` when the length differs.
    ///
    /// ```
    /// use stackgrad::Images;
    /// let x = Images::<f64, 1, 2, 1, 2>::from_slice(&[1.0, 2.0, 3.0, 4.0]).unwrap();
    /// assert_eq!(x[(0, 1, 0, 0)], 3.0);
    /// assert!(Images::<f64, 1, 2, 1, 2>::from_slice(&[1.0]).is_none());
    /// ```
    #[must_use]
    pub fn from_slice(values: &[T]) -> Option<Self> {
        if values.len() != N * C * H * W {
            return None;
        }
        Some(Self::from_fn(|n, c, i, j| {
            values[((n * C + c) * H + i) * W + j]
        }))
    }

    /// The underlying array.
    #[inline(always)]
    #[must_use]
    pub const fn as_array(&self) -> &[[[[T; W]; H]; C]; N] {
        &self.data
    }

    /// The underlying array, mutably.
    #[inline(always)]
    pub fn as_array_mut(&mut self) -> &mut [[[[T; W]; H]; C]; N] {
        &mut self.data
    }

    /// Unwraps the underlying array.
    #[inline(always)]
    #[must_use]
    pub const fn into_array(self) -> [[[[T; W]; H]; C]; N] {
        self.data
    }

    /// All elements in NCHW order.
    #[inline(always)]
    #[must_use]
    pub fn as_slice(&self) -> &[T] {
        self.data.as_flattened().as_flattened().as_flattened()
    }

    /// All elements in NCHW order, mutably.
    #[inline(always)]
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        self.data
            .as_flattened_mut()
            .as_flattened_mut()
            .as_flattened_mut()
    }

    /// Image `n` (`C x H x W`). Panics if `n >= N`.
    #[inline(always)]
    #[must_use]
    pub fn image(&self, n: usize) -> &[[[T; W]; H]; C] {
        &self.data[n]
    }

    /// Element `(n, c, i, j)`, or `None` when out of range.
    #[inline]
    #[must_use]
    pub fn get(&self, n: usize, c: usize, i: usize, j: usize) -> Option<T> {
        self.data.get(n)?.get(c)?.get(i)?.get(j).copied()
    }

    /// Applies `f` to every element.
    #[inline]
    #[must_use]
    pub fn map<U: Copy>(&self, mut f: impl FnMut(T) -> U) -> Images<U, N, C, H, W> {
        Images {
            data: self
                .data
                .map(|im| im.map(|ch| ch.map(|row| row.map(&mut f)))),
        }
    }
}

impl<T: Scalar, const N: usize, const C: usize, const H: usize, const W: usize>
    Images<T, N, C, H, W>
{
    /// All zeros.
    #[inline(always)]
    #[must_use]
    pub fn zeros() -> Self {
        Self::splat(T::zero())
    }

    /// Largest absolute value (0 for an empty batch; NaN if any element is NaN).
    #[must_use]
    pub fn max_abs(&self) -> T {
        let mut m = T::zero();
        for &v in self.as_slice() {
            if v.is_nan() {
                return v;
            }
            m = m.max(v.abs());
        }
        m
    }

    /// Converts every element to `U` (rounding to nearest).
    #[must_use]
    pub fn cast<U: Scalar>(&self) -> Images<U, N, C, H, W> {
        self.map(|v| U::from_f64(v.as_f64()))
    }
}

/// The same images over another float type (what the gradient checker uses to
/// build its f64 reference input).
impl<T: Scalar, U: Scalar, const N: usize, const C: usize, const H: usize, const W: usize> Recast<U>
    for Images<T, N, C, H, W>
{
    type Output = Images<U, N, C, H, W>;
    fn recast(&self) -> Images<U, N, C, H, W> {
        self.cast()
    }
}

impl<T: Scalar, const N: usize, const C: usize, const H: usize, const W: usize> Elements
    for Images<T, N, C, H, W>
{
    type Elem = T;
    const LEN: usize = N * C * H * W;
    const DIMS: &'static [usize] = &[N, C, H, W];
    #[inline(always)]
    fn elems(&self) -> &[T] {
        self.as_slice()
    }
    #[inline(always)]
    fn elems_mut(&mut self) -> &mut [T] {
        self.as_mut_slice()
    }
}

impl<T, const N: usize, const C: usize, const H: usize, const W: usize>
    Index<(usize, usize, usize, usize)> for Images<T, N, C, H, W>
{
    type Output = T;
    /// Element `(n, c, i, j)`. Panics when out of range.
    #[inline(always)]
    fn index(&self, (n, c, i, j): (usize, usize, usize, usize)) -> &T {
        &self.data[n][c][i][j]
    }
}

impl<T, const N: usize, const C: usize, const H: usize, const W: usize>
    IndexMut<(usize, usize, usize, usize)> for Images<T, N, C, H, W>
{
    #[inline(always)]
    fn index_mut(&mut self, (n, c, i, j): (usize, usize, usize, usize)) -> &mut T {
        &mut self.data[n][c][i][j]
    }
}

impl<T: Scalar, const N: usize, const C: usize, const H: usize, const W: usize> Default
    for Images<T, N, C, H, W>
{
    fn default() -> Self {
        Self::zeros()
    }
}

/// Shows the shape, then the nested NCHW arrays (`{:.3?}` sets the precision).
impl<T: fmt::Debug, const N: usize, const C: usize, const H: usize, const W: usize> fmt::Debug
    for Images<T, N, C, H, W>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Images<{N}, {C}, {H}, {W}> ")?;
        f.debug_list().entries(self.data.iter()).finish()
    }
}

/// One block per image and channel, headed `image n, channel c:`, each pixel row
/// on its own line; the precision and width flags apply to every element.
///
/// ```
/// use stackgrad::Images;
/// let x = Images::<f32, 1, 1, 2, 2>::from_array([[[[1.0, 2.0], [3.0, 4.0]]]]);
/// assert_eq!(format!("{x:.1}"), "image 0, channel 0:\n[1.0, 2.0]\n[3.0, 4.0]\n");
/// ```
impl<T: fmt::Display, const N: usize, const C: usize, const H: usize, const W: usize> fmt::Display
    for Images<T, N, C, H, W>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, im) in self.data.iter().enumerate() {
            for (c, ch) in im.iter().enumerate() {
                writeln!(f, "image {n}, channel {c}:")?;
                for row in ch {
                    f.write_str("[")?;
                    for (j, v) in row.iter().enumerate() {
                        if j > 0 {
                            f.write_str(", ")?;
                        }
                        fmt::Display::fmt(v, f)?;
                    }
                    f.write_str("]\n")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_layout_is_nchw() {
        let x =
            Images::<f64, 2, 3, 4, 5>::from_fn(|n, c, i, j| (((n * 3 + c) * 4 + i) * 5 + j) as f64);
        for (k, &v) in x.as_slice().iter().enumerate() {
            assert_eq!(v, k as f64);
        }
        assert_eq!(Images::from_slice(x.as_slice()), Some(x));
        assert_eq!(<Images<f64, 2, 3, 4, 5> as Elements>::LEN, 120);
    }

    #[test]
    fn debug_names_the_shape() {
        let x = Images::<f32, 1, 1, 1, 2>::from_array([[[[0.5, 1.0]]]]);
        assert_eq!(format!("{x:?}"), "Images<1, 1, 1, 2> [[[[0.5, 1.0]]]]");
        assert_eq!(x.max_abs(), 1.0);
        assert_eq!(x.cast::<f64>()[(0, 0, 0, 1)], 1.0);
    }
}
