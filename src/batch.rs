//! Mini-batches: a data set's rows cut into batches of a fixed size `B`, in a
//! seeded random order, every row used once per epoch.
//!
//! The batch size is a const parameter (a batch is a `Matrix<T, B, N>`), so a
//! data set whose size is not a multiple of `B` ends with a partial batch. It is
//! not dropped: the last batch carries its real rows first and zero rows after
//! them, and [`Batch::len`] says how many are real. The training loop
//! ([`train`](crate::train)) evaluates the loss on the real rows only and gives
//! the padding rows a zero output gradient, so they add nothing to the loss and
//! exactly zero to every parameter gradient (a test there checks the gradients
//! bit for bit against an unpadded batch).
//!
//! | item | what |
//! |---|---|
//! | [`Dataset`] | borrowed inputs `&[[T; N]]` and targets `&[Y]` of the same length |
//! | [`shuffle`] | a seeded Fisher–Yates permutation of an index order (notebook 001's `get_random_batches`) |
//! | [`Batches`] | the batches of a data set in a given order |
//! | [`Batch`] | `B` input rows, their targets and data-set indices, and the count of real rows |
//!
//! ```
//! use stackgrad::batch::{shuffle, Batches, Dataset};
//! use stackgrad::rand::{SeedableRng, rngs::StdRng};
//! let x = [[0.0f32, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0], [8.0, 9.0]];
//! let y = [0usize, 1, 0, 1, 0];
//! let data = Dataset::new(&x, &y)?;
//! let mut order = [0, 1, 2, 3, 4];
//! shuffle(&mut order, &mut StdRng::seed_from_u64(7));
//! let batches: Vec<_> = Batches::<_, _, _, 2>::new(data, &order)?.collect();
//! assert_eq!(batches.len(), 3);            // 2 + 2 + 1: nothing dropped
//! assert_eq!(batches[2].len(), 1);         // the last batch has one real row
//! let mut seen: Vec<usize> = batches.iter().flat_map(|b| b.indices().to_vec()).collect();
//! seen.sort();
//! assert_eq!(seen, [0, 1, 2, 3, 4]);
//! # Ok::<(), stackgrad::Error>(())
//! ```

use rand::{Rng, RngExt};

use crate::shape::{DataScalar, DataWidth, Shapes};
use crate::{Error, Matrix, Scalar};

/// Inputs (`N` features per row) and targets of a data set, borrowed; row `i`
/// of each belong together.
#[derive(Debug)]
pub struct Dataset<'a, T, const N: usize, Y> {
    x: &'a [[T; N]],
    y: &'a [Y],
}

/// A data set that a network taking rows of `N` values of `T` trains on or
/// is evaluated on: a [`Dataset`] whose rows have `N` values of `T`, or a
/// compile error naming both widths ("the network takes rows of 64 values
/// but the data set has rows of 49") or both scalar types.
/// [`Training::fit`](crate::train::Training::fit) and
/// [`evaluate`](crate::train::Training::evaluate) take their data through it,
/// so the numbers come from the network and the data, each where it is
/// written. Cost: none (an identity).
///
/// ```
/// use stackgrad::batch::{DataFor, Dataset};
/// let x = [[1.0f32, 2.0], [3.0, 4.0]];
/// let y = [0usize, 1];
/// // A data set of rows of 2 values is data for a network taking rows of 2.
/// let data: Dataset<'_, f32, 2, usize> = Dataset::new(&x, &y)?.dataset();
/// assert_eq!(data.len(), 2);
/// # Ok::<(), stackgrad::Error>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a data set",
    label = "not a data set",
    note = "make one with `Dataset::new(&inputs, &targets)?`"
)]
pub trait DataFor<'a, T, const N: usize, Y>: Copy {
    /// The data set, with the network's row type.
    fn dataset(self) -> Dataset<'a, T, N, Y>;
}

impl<'a, U, T, const M: usize, const N: usize, Y> DataFor<'a, T, N, Y> for Dataset<'a, U, M, Y>
where
    Shapes: DataWidth<Self, M, N> + DataScalar<Self, U, T>,
{
    #[inline(always)]
    fn dataset(self) -> Dataset<'a, T, N, Y> {
        let x = <Shapes as DataWidth<Self, M, N>>::as_rows(self.x);
        Dataset {
            x: <Shapes as DataScalar<Self, U, T>>::as_rows(x),
            y: self.y,
        }
    }
}

impl<T, const N: usize, Y> Clone for Dataset<'_, T, N, Y> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T, const N: usize, Y> Copy for Dataset<'_, T, N, Y> {}

impl<'a, T, const N: usize, Y> Dataset<'a, T, N, Y> {
    /// Pairs inputs with targets.
    ///
    /// # Errors
    /// [`Error::DatasetSize`] when the lengths differ or there are no rows.
    pub fn new(x: &'a [[T; N]], y: &'a [Y]) -> Result<Self, Error> {
        if x.len() != y.len() || x.is_empty() {
            return Err(Error::DatasetSize {
                inputs: x.len(),
                targets: y.len(),
            });
        }
        Ok(Self { x, y })
    }

    /// Number of rows (at least one).
    #[must_use]
    pub fn len(&self) -> usize {
        self.x.len()
    }

    /// Always `false`: a data set has at least one row.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// The inputs.
    #[must_use]
    pub fn inputs(&self) -> &'a [[T; N]] {
        self.x
    }

    /// The targets.
    #[must_use]
    pub fn targets(&self) -> &'a [Y] {
        self.y
    }
}

/// Shuffles `order` in place with the Fisher–Yates algorithm: every permutation
/// equally likely, and the same permutation for the same generator state.
///
/// ```
/// use stackgrad::batch::shuffle;
/// use stackgrad::rand::{SeedableRng, rngs::StdRng};
/// let mut a = [0, 1, 2, 3, 4, 5];
/// let mut b = a;
/// shuffle(&mut a, &mut StdRng::seed_from_u64(1));
/// shuffle(&mut b, &mut StdRng::seed_from_u64(1));
/// assert_eq!(a, b);
/// let mut sorted = a;
/// sorted.sort();
/// assert_eq!(sorted, [0, 1, 2, 3, 4, 5]);
/// ```
pub fn shuffle<R: Rng + ?Sized>(order: &mut [usize], rng: &mut R) {
    for i in (1..order.len()).rev() {
        let j = rng.random_range(0..=i);
        order.swap(i, j);
    }
}

/// `B` rows of a data set: inputs as a matrix, their targets and their row
/// indices in the data set. Only the first [`len`](Batch::len) rows are real;
/// the rest (in the last batch of an epoch) are padding: zero inputs, a copy of
/// the first real row's target, and no index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Batch<T, const B: usize, const N: usize, Y> {
    /// The inputs, one row per example; padding rows are zero.
    pub x: Matrix<T, B, N>,
    /// The targets; padding rows repeat the first real row's target.
    pub y: [Y; B],
    index: [usize; B],
    len: usize,
}

impl<T, const B: usize, const N: usize, Y> Batch<T, B, N, Y> {
    /// Number of real rows (`1..=B`); rows `len..B` are padding.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always `false`: a batch has at least one real row.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The data-set row of each real row.
    #[must_use]
    pub fn indices(&self) -> &[usize] {
        &self.index[..self.len]
    }
}

/// The batches of a data set in the order given by an index permutation:
/// rows `order[0..B]`, then `order[B..2B]`, ..., and a final partial batch when
/// `B` does not divide the data-set size (`ceil(n / B)` batches in all).
#[derive(Debug, Clone)]
pub struct Batches<'a, T, const N: usize, Y, const B: usize> {
    data: Dataset<'a, T, N, Y>,
    order: &'a [usize],
    pos: usize,
}

impl<'a, T, const N: usize, Y, const B: usize> Batches<'a, T, N, Y, B> {
    /// Batches of `data` in the order `order` (a permutation of `0..data.len()`,
    /// or any list of valid row indices).
    ///
    /// # Errors
    /// [`Error::BatchOrder`] when an index is out of range;
    /// [`Error::ZeroBatchSize`] when `B` is 0.
    pub fn new(data: Dataset<'a, T, N, Y>, order: &'a [usize]) -> Result<Self, Error> {
        if B == 0 {
            return Err(Error::ZeroBatchSize);
        }
        if let Some(&index) = order.iter().find(|&&i| i >= data.len()) {
            return Err(Error::BatchOrder {
                index,
                rows: data.len(),
            });
        }
        Ok(Self {
            data,
            order,
            pos: 0,
        })
    }

    /// Number of batches: `ceil(order.len() / B)`.
    #[must_use]
    pub fn batch_count(order_len: usize) -> usize {
        order_len.div_ceil(B.max(1))
    }
}

impl<T: Scalar, const N: usize, Y: Copy, const B: usize> Batches<'_, T, N, Y, B> {
    /// The rows of the next batch (empty at the end), and the position moved past them.
    #[inline(always)]
    fn take_rows(&mut self) -> &[usize] {
        let rows = self.order.get(self.pos..).unwrap_or_default();
        let rows = &rows[..rows.len().min(B)];
        self.pos += rows.len();
        rows
    }

    /// Overwrites `batch` with the next batch, as [`next`](Iterator::next)
    /// would return it, and returns `true`; `false` (and `batch` unchanged)
    /// at the end. The training loop refills one batch in place: returning a
    /// new one moved it, 8 KB for the digits MLP's batches of 32, through a
    /// `memcpy` call per step.
    ///
    /// ```
    /// use stackgrad::batch::{Batches, Dataset};
    /// let x = [[1.0f32], [2.0], [3.0]];
    /// let y = [0usize, 1, 2];
    /// let order = [2, 0, 1];
    /// let mut batches = Batches::<f32, 1, usize, 2>::new(Dataset::new(&x, &y)?, &order)?;
    /// let mut batch = batches.next().unwrap();
    /// assert!(batches.refill(&mut batch));
    /// assert_eq!((batch.len(), batch.x.into_array(), batch.y), (1, [[2.0], [0.0]], [1, 1]));
    /// assert!(!batches.refill(&mut batch));
    /// # Ok::<(), stackgrad::Error>(())
    /// ```
    #[inline(always)]
    pub fn refill(&mut self, batch: &mut Batch<T, B, N, Y>) -> bool {
        let (data, rows) = (self.data, self.take_rows());
        let Some(&first) = rows.first() else {
            return false;
        };
        batch.len = rows.len();
        let slots = batch.x.as_array_mut().iter_mut().zip(&mut batch.y);
        for (r, ((x, y), index)) in slots.zip(&mut batch.index).enumerate() {
            // Padding: zero inputs, the first row's target, index 0.
            let i = rows.get(r).copied();
            *x = i.map_or([T::zero(); N], |i| data.x[i]);
            *y = data.y[i.unwrap_or(first)];
            *index = i.unwrap_or(0);
        }
        true
    }
}

impl<T: Scalar, const N: usize, Y: Copy, const B: usize> Iterator for Batches<'_, T, N, Y, B> {
    type Item = Batch<T, B, N, Y>;

    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        let data = self.data;
        let &first = self.order.get(self.pos)?;
        let mut batch = Batch {
            x: Matrix::zeros(),
            y: [data.y[first]; B],
            index: [0; B],
            len: 0,
        };
        // Rows written over the zeros (`array::from_fn` writing each row once
        // was an out-of-line call inside the dispatched epoch: 4% of the
        // notebook's f64 step).
        self.refill(&mut batch);
        Some(batch)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = Self::batch_count(self.order.len().saturating_sub(self.pos));
        (n, Some(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    #[test]
    fn every_row_is_used_exactly_once_for_sizes_not_a_multiple_of_b() {
        for n in 1..=23 {
            let x: Vec<[f64; 1]> = (0..n).map(|i| [i as f64]).collect();
            let y: Vec<usize> = (0..n).collect();
            let data = Dataset::new(&x, &y).unwrap();
            let mut order: Vec<usize> = (0..n).collect();
            shuffle(&mut order, &mut StdRng::seed_from_u64(n as u64));
            let batches: Vec<_> = Batches::<f64, 1, usize, 5>::new(data, &order)
                .unwrap()
                .collect();
            assert_eq!(batches.len(), n.div_ceil(5));
            let mut uses = vec![0; n];
            for b in &batches {
                for (r, &i) in b.indices().iter().enumerate() {
                    uses[i] += 1;
                    assert_eq!(b.x[(r, 0)], i as f64);
                    assert_eq!(b.y[r], i);
                }
                for r in b.len()..5 {
                    assert_eq!(b.x[(r, 0)], 0.0, "padding rows are zero");
                }
            }
            assert!(uses.iter().all(|&u| u == 1), "n = {n}: {uses:?}");
            // Only the last batch may be partial.
            assert!(batches[..batches.len() - 1].iter().all(|b| b.len() == 5));
        }
    }

    #[test]
    fn shuffle_is_a_seeded_permutation() {
        let mut a: Vec<usize> = (0..100).collect();
        shuffle(&mut a, &mut StdRng::seed_from_u64(3));
        let mut b: Vec<usize> = (0..100).collect();
        shuffle(&mut b, &mut StdRng::seed_from_u64(3));
        let mut c: Vec<usize> = (0..100).collect();
        shuffle(&mut c, &mut StdRng::seed_from_u64(4));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, (0..100).collect::<Vec<_>>());
        a.sort_unstable();
        assert_eq!(a, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn bad_inputs_are_errors() {
        let x = [[0.0f32; 2]; 3];
        assert_eq!(
            Dataset::new(&x, &[0usize, 1]).unwrap_err().to_string(),
            "a data set needs one target per input and at least one row: got 3 inputs and 2 targets"
        );
        let empty: [[f32; 2]; 0] = [];
        assert!(Dataset::<f32, 2, usize>::new(&empty, &[]).is_err());
        let data = Dataset::new(&x, &[0usize, 1, 2]).unwrap();
        assert_eq!(
            Batches::<f32, 2, usize, 2>::new(data, &[0, 3])
                .unwrap_err()
                .to_string(),
            "batch order holds row index 3 but the data set has 3 rows"
        );
        assert!(Batches::<f32, 2, usize, 0>::new(data, &[0]).is_err());
    }
}
