//! Row-wise softmax and log-softmax, and the [`Softmax`] layer.
//!
//! `softmax(z)_j = e^{z_j - m} / Σ_k e^{z_k - m}` with `m = max_k z_k`: subtracting
//! the row maximum makes every exponent `≤ 0`, so nothing overflows and at least
//! one term is 1, so nothing divides by zero, for inputs of any finite magnitude
//! (`1e4` and beyond, in f32 and f64). `log_softmax(z)_j = z_j - m - ln Σ_k e^{z_k - m}`
//! stays finite where `ln(softmax)` would give `-∞`.

use super::{Connect, Layer, no_params};
use crate::shape::{At, Channels, Image, Rows, Shapes, TakesRows, TakesRowsNotMaps, Unknown};
use crate::{Matrix, Scalar};

/// Row-wise softmax of a batch of logits; every row sums to 1.
///
/// Non-finite logits: `-∞` entries get probability 0; a row holding NaN or `+∞`
/// (or only `-∞`) has no meaningful distribution and comes out all NaN, so the
/// problem propagates to the loss instead of being hidden.
///
/// ```
/// use stackgrad::nn::softmax_rows;
/// use stackgrad::Matrix;
/// let p = softmax_rows(&Matrix::from_array([[1e4f32, 0.0, -1e4]]));
/// assert_eq!(p.into_array(), [[1.0, 0.0, 0.0]]);
/// let p = softmax_rows(&Matrix::from_array([[0.0f64, 0.0]]));
/// assert_eq!(p.into_array(), [[0.5, 0.5]]);
/// ```
#[must_use]
pub fn softmax_rows<T: Scalar, const B: usize, const N: usize>(
    z: &Matrix<T, B, N>,
) -> Matrix<T, B, N> {
    let mut p = *z;
    for row in p.as_array_mut() {
        let _ = softmax_in_place(row);
    }
    p
}

/// Row-wise log-softmax: `z_j - m - ln Σ_k e^{z_k - m}` (finite for finite input).
///
/// ```
/// use stackgrad::nn::log_softmax_rows;
/// use stackgrad::Matrix;
/// let l = log_softmax_rows(&Matrix::from_array([[1e4f64, 0.0]]));
/// assert_eq!(l.into_array(), [[0.0, -1e4]]);
/// ```
#[must_use]
pub fn log_softmax_rows<T: Scalar, const B: usize, const N: usize>(
    z: &Matrix<T, B, N>,
) -> Matrix<T, B, N> {
    let mut l = *z;
    for row in l.as_array_mut() {
        let m = row_max(row);
        let sum: T = row.iter().map(|&v| (v - m).exp_nonpos(false)).sum();
        let shift = m + sum.ln();
        for v in row.iter_mut() {
            *v -= shift;
        }
    }
    l
}

/// `softmax_rows(z)` and its shifts, returned (the tests' form of
/// [`softmax_rows_and_shift_into`]).
#[cfg(test)]
fn softmax_rows_and_shift<T: Scalar, const B: usize, const N: usize>(
    z: &Matrix<T, B, N>,
) -> (Matrix<T, B, N>, [T; B]) {
    let (mut p, mut shift) = (*z, [T::zero(); B]);
    softmax_rows_and_shift_into(z, &mut p, &mut shift);
    (p, shift)
}

/// `p = softmax_rows(z)` and, per row, `shift = m + ln Σ_k e^{z_k - m}` (so
/// that `log_softmax(z)_j = z_j - shift`), with one exp per element: the fused
/// form the softmax cross-entropy uses. `p` and `shift` are overwritten; the
/// training loop's loss passes its gradient buffer as `p`, so the
/// probabilities are written once, where the gradient is built.
///
/// The same arithmetic as [`softmax_in_place`] row by row (bit for bit, but
/// for the fused `exp` inside the run-time dispatch), in passes over the whole
/// batch: the row maxima, then every `e^{z - m}` in
/// one loop of `B·N` independent elements (which vectorizes across rows and
/// overlaps in the pipeline, where a row of 4 or 10 logits alone did not),
/// then the sums, logarithms and scaling.
#[inline(always)]
pub(crate) fn softmax_rows_and_shift_into<T: Scalar, const B: usize, const N: usize>(
    z: &Matrix<T, B, N>,
    p: &mut Matrix<T, B, N>,
    shift: &mut [T; B],
) {
    crate::simd::run_if_fused(
        B * N * crate::math::EXP_COST,
        #[inline(always)]
        |fused| {
            // The row-by-row steps (maxima, sums) of a large batch run out of
            // line (see `simd::out_of_line`); the element-wise ones here, on
            // the whole flat batch.
            let maxima = crate::simd::out_of_line_if(
                B * N,
                #[inline(always)]
                || spread_row_maxima(z.as_array(), p.as_array_mut()),
            );
            for (v, &x) in p.as_mut_slice().iter_mut().zip(z.as_slice()) {
                // `v` holds its row's maximum: d ≤ 0.
                let d = x - *v;
                *v = d.exp_nonpos(fused);
            }
            let sums = crate::simd::out_of_line_if(
                B * N,
                #[inline(always)]
                || scale_rows_by_inverse_sums(p.as_array_mut()),
            );
            for ((s, &sum), &m) in shift.iter_mut().zip(&sums).zip(&maxima) {
                *s = m + sum.ln();
            }
        },
    );
}

/// Writes each row's maximum ([`row_max`]) across that row of `out` and
/// returns the maxima (into the caller's buffer: returning a spread copy cost
/// a `memset` and a copy of the batch).
#[inline(always)]
fn spread_row_maxima<T: Scalar, const B: usize, const N: usize>(
    z: &[[T; N]; B],
    out: &mut [[T; N]; B],
) -> [T; B] {
    let mut maxima = [T::neg_infinity(); B];
    for ((o, m), row) in out.iter_mut().zip(&mut maxima).zip(z) {
        *m = row_max(row);
        *o = [*m; N];
    }
    maxima
}

/// Scales each row by the inverse of its sum (in order), `v · (1 / Σ v)`, and
/// returns the sums.
#[inline(always)]
fn scale_rows_by_inverse_sums<T: Scalar, const B: usize, const N: usize>(
    p: &mut [[T; N]; B],
) -> [T; B] {
    let mut sums = [T::zero(); B];
    for (s, row) in sums.iter_mut().zip(p) {
        for &v in row.iter() {
            *s += v;
        }
        let inv = T::one() / *s;
        for v in row.iter_mut() {
            *v *= inv;
        }
    }
    sums
}

/// Replaces a row `z` by `softmax(z)`; returns `m = max z` and `Σ e^{z - m}`.
#[inline(always)]
fn softmax_in_place<T: Scalar>(row: &mut [T]) -> (T, T) {
    let m = row_max(row);
    let mut sum = T::zero();
    for v in row.iter_mut() {
        *v = (*v - m).exp_nonpos(false);
        sum += *v;
    }
    let inv = T::one() / sum;
    for v in row.iter_mut() {
        *v *= inv;
    }
    (m, sum)
}

/// The largest element of a row; NaN if the row holds a NaN (so NaN propagates
/// instead of being hidden), `-∞` for an empty row.
#[inline(always)]
pub(crate) fn row_max<T: Scalar>(row: &[T]) -> T {
    // Branches, which predict well (a NaN ends training): with selects and
    // an OR, the notebook's f64 step (rows of 4) took 19% longer.
    let mut m = T::neg_infinity();
    for &v in row {
        if v.is_nan() {
            return v;
        }
        if v > m {
            m = v;
        }
    }
    m
}

/// Row-wise softmax as a layer: `y = softmax(x)` per row.
///
/// Its backward is the softmax Jacobian-vector product
/// `dx_j = y_j (dy_j - Σ_k dy_k y_k)`. For classification, prefer feeding the
/// logits to [`SoftmaxCrossEntropy`](crate::loss::SoftmaxCrossEntropy), whose
/// fused gradient `p - y` is cheaper and more accurate.
///
/// ```
/// use stackgrad::nn::{Layer, Softmax};
/// use stackgrad::Matrix;
/// let (y, _) = Softmax.forward(&Matrix::from_array([[1.0f64, 2.0, 3.0]]));
/// assert!((y.sum() - 1.0).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Softmax;

impl<T: Scalar, const B: usize, const N: usize> Layer<Matrix<T, B, N>> for Softmax {
    type Output = Matrix<T, B, N>;
    /// Nothing: backward reads the output probabilities.
    type Cache = ();
    const HAS_PARAMS: bool = false;

    #[inline(always)]
    fn forward(&self, x: &Matrix<T, B, N>) -> (Matrix<T, B, N>, ()) {
        (softmax_rows(x), ())
    }

    #[inline(always)]
    fn infer(&self, x: &Matrix<T, B, N>) -> Matrix<T, B, N> {
        softmax_rows(x)
    }

    // dx_j = y_j (dy_j - Σ_k dy_k y_k), per row
    fn backward(
        &self,
        _: &Matrix<T, B, N>,
        y: &Matrix<T, B, N>,
        (): &(),
        dy: &Matrix<T, B, N>,
        _: &mut Self,
    ) -> Matrix<T, B, N> {
        let mut dx = *dy;
        for (d, y) in dx.as_array_mut().iter_mut().zip(y.as_array()) {
            let dot: T = d.iter().zip(y).map(|(&a, &b)| a * b).sum();
            for (d, &y) in d.iter_mut().zip(y) {
                *d = y * (*d - dot);
            }
        }
        dx
    }
}

impl<U, const P: usize, const N: usize> Connect<Rows<U, N>, At<P>> for Softmax {
    type Out = Rows<U, N>;
}

impl<const P: usize> Connect<Unknown, At<P>> for Softmax {
    type Out = Unknown;
}

impl<U, const P: usize, const C: usize, const H: usize, const W: usize>
    Connect<Image<U, C, H, W>, At<P>> for Softmax
where
    Shapes: TakesRows<Self, P, C, H, W>,
{
    type Out = <Shapes as TakesRows<Self, P, C, H, W>>::Same<Unknown>;
}

impl<U, const P: usize, const C: usize> Connect<Channels<U, C>, At<P>> for Softmax
where
    Shapes: TakesRowsNotMaps<Self, P, C>,
{
    type Out = <Shapes as TakesRowsNotMaps<Self, P, C>>::Same<Unknown>;
}

no_params!(Softmax);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extreme_logits_stay_finite() {
        let z = Matrix::from_array([[1e4f32, -1e4, 3.0], [-1e4, -1e4, -1e4]]);
        let p = softmax_rows(&z);
        assert!(p.is_finite());
        assert_eq!(p.row(0), &[1.0, 0.0, 0.0]);
        for &v in p.row(1) {
            assert!((v - 1.0 / 3.0).abs() < 1e-7);
        }
        let l = log_softmax_rows(&z);
        assert!(l.is_finite());
        assert_eq!(l.row(0), &[0.0, -2e4, 3.0 - 1e4]);
        let z64 = Matrix::from_array([[1e4f64, -1e4]]);
        assert_eq!(log_softmax_rows(&z64).row(0), &[0.0, -2e4]);
    }

    #[test]
    fn backward_matches_central_differences() {
        let x = Matrix::<f64, 2, 3>::from_array([[0.3, -1.2, 2.0], [1.0, 1.0, -0.5]]);
        let dy = Matrix::<f64, 2, 3>::from_array([[0.7, -0.1, 0.4], [-1.0, 0.2, 0.3]]);
        let (y, cache) = Softmax.forward(&x);
        let dx = Softmax.backward(&x, &y, &cache, &dy, &mut Softmax);
        let h = 1e-6;
        for b in 0..2 {
            for j in 0..3 {
                let (mut xp, mut xm) = (x, x);
                xp[(b, j)] += h;
                xm[(b, j)] -= h;
                let f = |x: &Matrix<f64, 2, 3>| softmax_rows(x).hadamard(&dy).sum();
                let num = (f(&xp) - f(&xm)) / (2.0 * h);
                assert!((num - dx[(b, j)]).abs() < 1e-9, "{num} vs {}", dx[(b, j)]);
            }
        }
    }

    #[test]
    fn nan_propagates() {
        let p = softmax_rows(&Matrix::from_array([[f32::NAN, 1.0]]));
        assert!(p[(0, 0)].is_nan() && p[(0, 1)].is_nan());
    }

    /// The batched softmax (behind softmax cross-entropy), for a batch whose
    /// row steps run in place (3 x 10) and one where they run out of line
    /// (32 x 10): a NaN reaches the whole row and its shift, wherever it
    /// stands, and leaves the other rows alone.
    #[test]
    fn batched_softmax_propagates_nan_to_its_row_only() {
        fn check<const B: usize>() {
            for at in 0..10 {
                let mut z =
                    Matrix::<f32, B, 10>::from_fn(|b, j| ((b * 10 + j) as f32 * 0.37).sin() * 4.0);
                let (clean, clean_shift) = softmax_rows_and_shift(&z);
                z[(1, at)] = f32::NAN;
                let (p, shift) = softmax_rows_and_shift(&z);
                assert!(shift[1].is_nan(), "NaN at {at}: shift {}", shift[1]);
                assert!((0..10).all(|j| p[(1, j)].is_nan()), "NaN at {at}: {p:?}");
                for b in (0..B).filter(|&b| b != 1) {
                    assert_eq!(shift[b], clean_shift[b]);
                    assert!((0..10).all(|j| p[(b, j)] == clean[(b, j)]));
                }
            }
        }
        const { assert!(3 * 10 < crate::simd::OUT_OF_LINE_MIN) };
        const { assert!(32 * 10 >= crate::simd::OUT_OF_LINE_MIN) };
        check::<3>();
        check::<32>();
    }

    /// The rows of a batch of 32 x 10 logits, whose row steps run out of
    /// line, are bit for bit those of a batch of their first 8 rows, whose
    /// steps run in place (both in one dispatch, as in training, and both
    /// enough work for the fused `exp`; a batch below `MIN_WORK / EXP_COST`
    /// elements takes the unfused one, which may differ in the last bit).
    #[test]
    fn batched_softmax_rows_agree_in_place_and_out_of_line() {
        const { assert!(8 * 10 * crate::math::EXP_COST >= crate::simd::MIN_WORK) };
        const { assert!(8 * 10 < crate::simd::OUT_OF_LINE_MIN) };
        let z = Matrix::<f32, 32, 10>::from_fn(|b, j| ((b * 31 + j * 7) as f32 * 0.61).sin() * 6.0);
        let first = Matrix::<f32, 8, 10>::from_fn(|b, j| z[(b, j)]);
        crate::simd::run(
            #[inline(always)]
            || {
                let (p, shift) = softmax_rows_and_shift(&z);
                let (p8, shift8) = softmax_rows_and_shift(&first);
                for b in 0..8 {
                    assert_eq!(p8.row(b), p.row(b), "row {b}");
                    assert_eq!(shift8[b], shift[b], "row {b}");
                }
            },
        );
    }
}
