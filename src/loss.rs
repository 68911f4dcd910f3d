//! Losses: each returns its value and its gradient with respect to the
//! predictions, and accuracy.
//!
//! | loss | value | gradient `∂L/∂p` |
//! |---|---|---|
//! | loss | term `ℓ` | `∂ℓ/∂p` | default reduction |
//! |---|---|---|---|
//! | [`MeanSquaredError`] (PyTorch's `MSELoss`) | `(p - y)²` | `2 (p - y)` | `Mean`: `1/(B·O) Σ_bo ℓ` |
//! | [`HalfSquaredError`] (notebook 000) | `½ (p - y)²` | `p - y` | `Sum`: `Σ_bo ℓ` |
//! | [`HalfSquaredError::batch_mean`] (notebook 002) | `½ (p - y)²` | `p - y` | `BatchMean`: `1/B Σ_bo ℓ` |
//! | [`SoftmaxCrossEntropy`] (`CrossEntropyLoss`; notebook 001 with `::sum()`), from logits `z` | `-Σ_c y_c log softmax(z)_c` per row | `softmax(z) - y` (one-hot `y`) | `Mean`: `1/B Σ_b ℓ_b` |
//! | [`BinaryCrossEntropyWithLogits`] (`BCEWithLogitsLoss`), from logits `z` | `max(z,0) - z y + ln(1 + e^{-\|z\|})` | `σ(z) - y` | `Mean`: `1/(B·O) Σ_bo ℓ` |
//! | [`BinaryCrossEntropy`] (`BCELoss`; notebook 004 with `Sum`), from probabilities `p` | `-(y ln p + (1-y) ln(1-p))` | `(p - y) / (p (1 - p))` | `Mean`: `1/(B·O) Σ_bo ℓ` |
//!
//! Every loss takes a [`Reduction`], with PyTorch's meaning where PyTorch has
//! the loss: `Sum` of all terms, `Mean` over all terms (`B·O` elements for the
//! element-wise losses, `B` rows for the cross-entropy over classes), or
//! `BatchMean`, the sum divided by the batch size `B` only (PyTorch's
//! `'batchmean'`). The two squared errors are unit structs with a fixed
//! reduction; [`Reduce`] gives any element-wise loss any reduction
//! (`MeanSquaredError.with(Reduction::Sum)`).
//! [`accuracy`] counts rows whose largest output is the class;
//! [`binary_accuracy`] counts rows whose every thresholded output matches its
//! 0/1 target (for a single sigmoid or logit output). Class targets
//! are one-hot (or soft) rows of a `Matrix<T, B, C>`, or class indices in
//! [`Labels<B, C>`](Labels), which are checked against `C` when they are made, so
//! a loss never sees an out-of-range class. Targets of the wrong shape do not
//! compile:
//!
//! ```text
//! error[E0277]: the loss expects targets of shape 5 x 4 (batch x outputs) but got 5 x 3
//! ```

use crate::nn::{log_softmax_rows, sigmoid, softmax_rows, softmax_rows_and_shift_into};
use crate::shape::{Check, LabelShapeMatches, TargetShapeMatches};
use crate::{Error, Matrix, Scalar};

/// A loss over predictions `Pred` and targets `Target`.
///
/// ```
/// use stackgrad::loss::{Loss, HalfSquaredError};
/// use stackgrad::Matrix;
/// let p = Matrix::from_array([[1.0f64], [2.0]]);
/// let y = Matrix::from_array([[0.0], [4.0]]);
/// let (l, grad) = HalfSquaredError.loss_and_grad(&p, &y);
/// assert_eq!(l, 2.5);
/// assert_eq!(grad.into_array(), [[1.0], [-2.0]]);
/// ```
pub trait Loss<Pred, Target> {
    /// The scalar type of the value.
    type Value;
    /// The loss value.
    fn loss(&self, pred: &Pred, target: &Target) -> Self::Value;
    /// The loss value and `∂L/∂pred`.
    fn loss_and_grad(&self, pred: &Pred, target: &Target) -> (Self::Value, Pred);
}

/// How a loss combines its terms over a batch of `B` rows of `O` outputs:
/// PyTorch's `reduction` argument.
///
/// | reduction | element-wise losses | cross-entropy over classes |
/// |---|---|---|
/// | `Sum` | `Σ_bo ℓ_bo` | `Σ_b ℓ_b` |
/// | `Mean` (the default, as in PyTorch) | `1/(B·O) Σ_bo ℓ_bo` | `1/B Σ_b ℓ_b` |
/// | `BatchMean` | `1/B Σ_bo ℓ_bo` | `1/B Σ_b ℓ_b` |
///
/// ```
/// use stackgrad::loss::{Loss, MeanSquaredError, ElementwiseLoss, Reduction};
/// use stackgrad::Matrix;
/// let p = Matrix::from_array([[1.0f64, 3.0], [0.0, 0.0]]);
/// let y = Matrix::zeros();
/// assert_eq!(MeanSquaredError.loss(&p, &y), 10.0 / 4.0);
/// assert_eq!(MeanSquaredError.with(Reduction::Sum).loss(&p, &y), 10.0);
/// assert_eq!(MeanSquaredError.with(Reduction::BatchMean).loss(&p, &y), 10.0 / 2.0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Reduction {
    /// The sum of all terms (notebooks 000 and 001).
    Sum,
    /// The mean over all terms: every element for an element-wise loss,
    /// every row for a cross-entropy over classes (PyTorch's `'mean'`).
    #[default]
    Mean,
    /// The sum divided by the batch size `B` only: the mean over examples of
    /// each example's summed loss (PyTorch's `'batchmean'`; notebook 002).
    BatchMean,
}

impl Reduction {
    /// The factor `k` of `L = k Σ ℓ` for `batch` rows of `terms` terms each
    /// (`terms` = the outputs `O` for an element-wise loss, 1 for a
    /// cross-entropy over classes).
    #[inline]
    fn factor<T: Scalar>(self, batch: usize, terms: usize) -> T {
        match self {
            Reduction::Sum => T::one(),
            Reduction::Mean => T::one() / T::from_usize((batch * terms).max(1)),
            Reduction::BatchMean => T::one() / T::from_usize(batch.max(1)),
        }
    }
}

/// A loss that is a sum of per-element terms: `L = k Σ_bo ℓ(p_bo, y_bo)` with
/// `k` set by its [`Reduction`] (`1`, `1/(B·O)` or `1/B`). Wrapped in
/// [`PerElement`], it is a [`Loss`] (with the target-shape check).
///
/// ```
/// use stackgrad::loss::{ElementwiseLoss, Loss, PerElement};
/// use stackgrad::{Matrix, Scalar};
/// /// Absolute error, `|p - y|`, with gradient `sign(p - y)`.
/// struct Absolute;
/// impl ElementwiseLoss for Absolute {
///     fn term<T: Scalar>(&self, p: T, y: T) -> (T, T) {
///         ((p - y).abs(), (p - y).signum())
///     }
/// }
/// let p = Matrix::from_array([[1.0f32, -1.0]]);
/// let (l, g) = PerElement(Absolute).loss_and_grad(&p, &Matrix::zeros());
/// assert_eq!((l, g.into_array()), (2.0, [[1.0, -1.0]]));
/// ```
pub trait ElementwiseLoss {
    /// `(ℓ(p, y), ∂ℓ/∂p)` for one element.
    fn term<T: Scalar>(&self, p: T, y: T) -> (T, T);
    /// How the terms are combined over the batch (default: sum).
    fn reduction(&self) -> Reduction {
        Reduction::Sum
    }
    /// The same terms with another reduction.
    ///
    /// ```
    /// use stackgrad::loss::{ElementwiseLoss, HalfSquaredError, Loss, Reduction};
    /// use stackgrad::Matrix;
    /// let p = Matrix::from_array([[2.0f32], [0.0]]);
    /// assert_eq!(HalfSquaredError.with(Reduction::Mean).loss(&p, &Matrix::zeros()), 1.0);
    /// ```
    fn with(self, reduction: Reduction) -> Reduce<Self>
    where
        Self: Sized,
    {
        Reduce {
            loss: self,
            reduction,
        }
    }
}

/// An element-wise loss with a chosen [`Reduction`]
/// ([`ElementwiseLoss::with`]); costs nothing over the loss itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reduce<L> {
    /// The terms.
    pub loss: L,
    /// How they are combined.
    pub reduction: Reduction,
}

impl<L: ElementwiseLoss> ElementwiseLoss for Reduce<L> {
    #[inline]
    fn term<T: Scalar>(&self, p: T, y: T) -> (T, T) {
        self.loss.term(p, y)
    }
    fn reduction(&self) -> Reduction {
        self.reduction
    }
}

/// `L = k Σ ℓ(p, y)` for an element-wise loss.
#[inline(always)]
fn elementwise_loss_and_grad<L: ElementwiseLoss, T: Scalar, const B: usize, const O: usize>(
    loss: &L,
    p: &Matrix<T, B, O>,
    y: &Matrix<T, B, O>,
) -> (T, Matrix<T, B, O>) {
    let k = loss.reduction().factor::<T>(B, O);
    let mut sum = T::zero();
    let grad = p.zip_map(y, |p, y| {
        let (l, g) = loss.term(p, y);
        sum += l;
        g * k
    });
    (sum * k, grad)
}

/// Implements [`Loss`] over matrices, with the target-shape check, for
/// element-wise losses. (A blanket impl over `ElementwiseLoss` would make rustc
/// report a wrong target shape for `SoftmaxCrossEntropy` without its plain-number
/// message, so each type gets its own impl; users wrap theirs in [`PerElement`].)
macro_rules! elementwise_loss {
    ($([$($gen:tt)*] $ty:ty),*) => {$(
        impl<$($gen)* T: Scalar, const B: usize, const O: usize, const B2: usize, const O2: usize>
            Loss<Matrix<T, B, O>, Matrix<T, B2, O2>> for $ty
        where
            Check: TargetShapeMatches<B2, O2, B, O>,
        {
            type Value = T;
            fn loss(&self, p: &Matrix<T, B, O>, y: &Matrix<T, B2, O2>) -> T {
                self.loss_and_grad(p, y).0
            }
            #[inline(always)]
            fn loss_and_grad(&self, p: &Matrix<T, B, O>, y: &Matrix<T, B2, O2>) -> (T, Matrix<T, B, O>) {
                let y = <Check as TargetShapeMatches<B2, O2, B, O>>::as_pred_shape(y);
                elementwise_loss_and_grad(self, p, y)
            }
        }
    )*};
}

elementwise_loss!(
    [] HalfSquaredError,
    [] MeanSquaredError,
    [] BinaryCrossEntropyWithLogits,
    [] BinaryCrossEntropy,
    [L: ElementwiseLoss,] PerElement<L>,
    [L: ElementwiseLoss,] Reduce<L>
);

/// A user's [`ElementwiseLoss`] as a [`Loss`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PerElement<L>(pub L);

impl<L: ElementwiseLoss> ElementwiseLoss for PerElement<L> {
    #[inline]
    fn term<T: Scalar>(&self, p: T, y: T) -> (T, T) {
        self.0.term(p, y)
    }
    fn reduction(&self) -> Reduction {
        self.0.reduction()
    }
}

/// Class indices for a batch of `B` examples over `C` classes, each checked to be
/// `< C` when made.
///
/// ```
/// use stackgrad::loss::Labels;
/// let y = Labels::<3, 4>::new([0, 3, 1]).unwrap();
/// assert_eq!(y.one_hot::<f32>().row(1), &[0.0, 0.0, 0.0, 1.0]);
/// let err = Labels::<2, 4>::new([0, 4]).unwrap_err();
/// assert_eq!(err.to_string(), "label 4 at row 1 is out of range: there are 4 classes (0..=3)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Labels<const B: usize, const C: usize> {
    classes: [usize; B],
}

impl<const B: usize, const C: usize> Labels<B, C> {
    /// Checks that every index is below `C`.
    ///
    /// # Errors
    /// [`Error::LabelOutOfRange`] naming the first offending row and label.
    pub fn new(classes: [usize; B]) -> Result<Self, Error> {
        for (row, &label) in classes.iter().enumerate() {
            if label >= C {
                return Err(Error::LabelOutOfRange {
                    row,
                    label,
                    classes: C,
                });
            }
        }
        Ok(Self { classes })
    }

    /// The class of each row of one-hot (or soft) targets: the index of the row's
    /// largest entry.
    #[must_use]
    pub fn from_one_hot<T: Scalar>(y: &Matrix<T, B, C>) -> Self {
        Self {
            classes: y.row_argmax(),
        }
    }

    /// The class indices.
    #[must_use]
    pub fn as_array(&self) -> &[usize; B] {
        &self.classes
    }

    /// The one-hot matrix: row `b` is 1 at column `label_b` and 0 elsewhere.
    #[must_use]
    pub fn one_hot<T: Scalar>(&self) -> Matrix<T, B, C> {
        Matrix::from_fn(|b, c| {
            if self.classes[b] == c {
                T::one()
            } else {
                T::zero()
            }
        })
    }
}

/// Targets that name one class per example (for [`accuracy`]).
pub trait ClassTargets<const B: usize> {
    /// The class of each example.
    fn classes(&self) -> [usize; B];
}

impl<const B: usize, const C: usize> ClassTargets<B> for Labels<B, C> {
    fn classes(&self) -> [usize; B] {
        self.classes
    }
}

impl<T: Scalar, const B: usize, const C: usize> ClassTargets<B> for Matrix<T, B, C> {
    /// The argmax of each one-hot row.
    fn classes(&self) -> [usize; B] {
        self.row_argmax()
    }
}

/// Fraction of rows whose largest prediction (logit or probability) is the
/// target class, in `[0, 1]` (notebook 001's accuracy). 0 for an empty batch.
///
/// ```
/// use stackgrad::loss::{accuracy, Labels};
/// use stackgrad::Matrix;
/// let p = Matrix::from_array([[0.1f32, 0.9], [0.8, 0.2], [0.3, 0.7]]);
/// assert_eq!(accuracy(&p, &Labels::<3, 2>::new([1, 1, 1]).unwrap()), 2.0 / 3.0);
/// assert_eq!(accuracy(&p, &Matrix::from_array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])), 1.0);
/// ```
#[must_use]
pub fn accuracy<T: Scalar, const B: usize, const C: usize>(
    pred: &Matrix<T, B, C>,
    target: &impl ClassTargets<B>,
) -> T {
    correct(pred, target).map_or(T::zero(), |n| T::from_usize(n) / T::from_usize(B))
}

/// Fraction of rows whose every output, thresholded, matches its 0/1 target:
/// the prediction is positive where it is above `threshold` (0 for logits,
/// ½ for probabilities), the target where it is above ½. With one output
/// this is the usual binary accuracy; with several, each row must be right on
/// all of them (scikit-learn's subset accuracy for multi-label targets).
/// 0 for an empty batch. A NaN prediction counts as negative.
///
/// ```
/// use stackgrad::loss::binary_accuracy;
/// use stackgrad::Matrix;
/// let logits = Matrix::from_array([[2.0f32], [-0.5], [0.1], [-3.0]]);
/// let y = Matrix::from_array([[1.0], [0.0], [0.0], [1.0]]);
/// assert_eq!(binary_accuracy(&logits, &y, 0.0), 0.5);
/// ```
#[must_use]
pub fn binary_accuracy<T: Scalar, const B: usize, const O: usize>(
    pred: &Matrix<T, B, O>,
    target: &Matrix<T, B, O>,
    threshold: T,
) -> T {
    if B == 0 {
        return T::zero();
    }
    let right = pred
        .as_array()
        .iter()
        .zip(target.as_array())
        .filter(|(p, y)| binary_match(*p, *y, threshold))
        .count();
    T::from_usize(right) / T::from_usize(B)
}

/// Whether every output of a row, thresholded at `threshold`, matches its
/// target thresholded at ½.
#[inline]
pub(crate) fn binary_match<T: Scalar, U: Scalar>(pred: &[T], target: &[U], threshold: T) -> bool {
    let half = U::from_f64(0.5);
    pred.iter()
        .zip(target)
        .all(|(&p, &y)| (p > threshold) == (y > half))
}

/// Number of rows whose argmax is the target class (`None` for an empty batch).
#[must_use]
pub fn correct<T: Scalar, const B: usize, const C: usize>(
    pred: &Matrix<T, B, C>,
    target: &impl ClassTargets<B>,
) -> Option<usize> {
    if B == 0 {
        return None;
    }
    let got = pred.row_argmax();
    let want = target.classes();
    Some(got.iter().zip(&want).filter(|(a, b)| a == b).count())
}

/// `L = ½ Σ_bo (p - y)²`, gradient `p - y`: the sum over every element
/// (notebook 000). [`HalfSquaredError::batch_mean`] is notebook 002's loss,
/// the same sum divided by the batch size.
///
/// ```
/// use stackgrad::loss::{HalfSquaredError, Loss};
/// use stackgrad::Matrix;
/// let p = Matrix::from_array([[1.0f64, 0.0], [0.0, 2.0]]);
/// assert_eq!(HalfSquaredError.loss(&p, &Matrix::zeros()), 2.5);
/// assert_eq!(HalfSquaredError::batch_mean().loss(&p, &Matrix::zeros()), 1.25);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HalfSquaredError;

impl HalfSquaredError {
    /// Notebook 002's loss: `L = (1/B) Σ_b ½ Σ_o (p - y)²`, gradient `(p - y) / B`.
    #[must_use]
    pub const fn batch_mean() -> Reduce<Self> {
        Reduce {
            loss: HalfSquaredError,
            reduction: Reduction::BatchMean,
        }
    }
}

impl ElementwiseLoss for HalfSquaredError {
    #[inline]
    fn term<T: Scalar>(&self, p: T, y: T) -> (T, T) {
        let d = p - y;
        (T::from_f64(0.5) * d * d, d)
    }
}

/// PyTorch's `MSELoss`: the mean over all `B·O` elements,
/// `L = 1/(B·O) Σ_bo (p - y)²`, gradient `2 (p - y) / (B·O)`.
/// `MeanSquaredError.with(Reduction::Sum)` is the summed form.
///
/// ```
/// use stackgrad::loss::{Loss, MeanSquaredError};
/// use stackgrad::Matrix;
/// let p = Matrix::from_array([[1.0f64, 0.0], [0.0, 0.0]]);
/// let (l, g) = MeanSquaredError.loss_and_grad(&p, &Matrix::zeros());
/// assert_eq!(l, 0.25);
/// assert_eq!(g.into_array(), [[0.5, 0.0], [0.0, 0.0]]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MeanSquaredError;

impl ElementwiseLoss for MeanSquaredError {
    #[inline]
    fn term<T: Scalar>(&self, p: T, y: T) -> (T, T) {
        let d = p - y;
        (d * d, d + d)
    }
    fn reduction(&self) -> Reduction {
        Reduction::Mean
    }
}

/// Cross-entropy of softmax probabilities against class targets, computed from
/// the logits `z`: `L = -Σ_b Σ_c y_bc log softmax(z_b)_c`, divided by `B` for
/// [`Reduction::Mean`] (the default, PyTorch's `CrossEntropyLoss`) and
/// [`Reduction::BatchMean`]; [`SoftmaxCrossEntropy::sum`] is notebook 001's.
///
/// The gradient is the fused `∂L/∂z = softmax(z) Σ_c y_bc - y`, which is
/// `softmax(z) - y` for one-hot rows; it never forms `log 0`, so it stays finite
/// for logits of any finite magnitude.
///
/// ```
/// use stackgrad::loss::{Labels, Loss, SoftmaxCrossEntropy};
/// use stackgrad::Matrix;
/// let z = Matrix::from_array([[0.0f64, 0.0], [1e4, -1e4]]);
/// let (l, g) = SoftmaxCrossEntropy::sum().loss_and_grad(&z, &Labels::new([0, 1]).unwrap());
/// assert_eq!(l, 2.0f64.ln() + 2e4);
/// assert_eq!(g.into_array(), [[-0.5, 0.5], [1.0, -1.0]]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SoftmaxCrossEntropy {
    /// Sum or mean over the batch (default: mean).
    pub reduction: Reduction,
}

impl SoftmaxCrossEntropy {
    /// Summed over the batch (notebook 001).
    #[must_use]
    pub const fn sum() -> Self {
        Self {
            reduction: Reduction::Sum,
        }
    }
    /// Averaged over the batch.
    #[must_use]
    pub const fn mean() -> Self {
        Self {
            reduction: Reduction::Mean,
        }
    }

    #[inline(always)]
    fn with_dense_targets<T: Scalar, const B: usize, const C: usize>(
        &self,
        z: &Matrix<T, B, C>,
        y: &Matrix<T, B, C>,
    ) -> (T, Matrix<T, B, C>) {
        let k = self.reduction.factor::<T>(B, 1);
        let logp = log_softmax_rows(z);
        let p = softmax_rows(z);
        let mut loss = T::zero();
        let mut grad = p;
        for ((g, lp), yr) in grad
            .as_array_mut()
            .iter_mut()
            .zip(logp.as_array())
            .zip(y.as_array())
        {
            let mass: T = yr.iter().copied().sum();
            for ((g, &lp), &yc) in g.iter_mut().zip(lp).zip(yr) {
                // 0 · log p counts as 0 even where log p = -∞ (a class with no mass).
                if yc != T::zero() {
                    loss -= yc * lp;
                }
                *g = (*g * mass - yc) * k;
            }
        }
        (loss * k, grad)
    }
}

impl<T: Scalar, const B: usize, const C: usize, const B2: usize, const C2: usize>
    Loss<Matrix<T, B, C>, Matrix<T, B2, C2>> for SoftmaxCrossEntropy
where
    Check: TargetShapeMatches<B2, C2, B, C>,
{
    type Value = T;
    fn loss(&self, z: &Matrix<T, B, C>, y: &Matrix<T, B2, C2>) -> T {
        self.loss_and_grad(z, y).0
    }
    #[inline(always)]
    fn loss_and_grad(&self, z: &Matrix<T, B, C>, y: &Matrix<T, B2, C2>) -> (T, Matrix<T, B, C>) {
        let y = <Check as TargetShapeMatches<B2, C2, B, C>>::as_pred_shape(y);
        self.with_dense_targets(z, y)
    }
}

impl<T: Scalar, const B: usize, const C: usize, const B2: usize, const C2: usize>
    Loss<Matrix<T, B, C>, Labels<B2, C2>> for SoftmaxCrossEntropy
where
    Check: LabelShapeMatches<B2, C2, B, C>,
{
    type Value = T;
    fn loss(&self, z: &Matrix<T, B, C>, y: &Labels<B2, C2>) -> T {
        self.loss_and_grad(z, y).0
    }
    #[inline(always)]
    fn loss_and_grad(&self, z: &Matrix<T, B, C>, y: &Labels<B2, C2>) -> (T, Matrix<T, B, C>) {
        let classes = <Check as LabelShapeMatches<B2, C2, B, C>>::as_batch(&y.classes);
        let k = self.reduction.factor::<T>(B, 1);
        let (rows, grad) = SoftmaxCrossEntropy::label_rows(z, classes);
        let mut loss = T::zero();
        for l in rows {
            loss += l;
        }
        (loss * k, grad.scale(k))
    }
}

impl SoftmaxCrossEntropy {
    /// Each row's loss `ℓ_b = ln Σ_j e^{z_bj} - z_bc` and gradient `p_b - onehot(c)`,
    /// unscaled: row `b` is exactly (bit for bit) the loss and gradient of the
    /// batch of that row alone, which the training loop relies on.
    #[inline(always)]
    pub(crate) fn label_rows<T: Scalar, const B: usize, const C: usize>(
        z: &Matrix<T, B, C>,
        classes: &[usize; B],
    ) -> ([T; B], Matrix<T, B, C>) {
        let (mut rows, mut grad) = ([T::zero(); B], *z);
        Self::label_rows_into(z, classes, &mut rows, &mut grad);
        (rows, grad)
    }

    /// [`label_rows`](Self::label_rows) written into `rows` and `grad`
    /// (overwritten).
    #[inline(always)]
    pub(crate) fn label_rows_into<T: Scalar, const B: usize, const C: usize>(
        z: &Matrix<T, B, C>,
        classes: &[usize; B],
        rows: &mut [T; B],
        grad: &mut Matrix<T, B, C>,
    ) {
        // One exp per logit: p = softmax(z) and, per row, ln p_c = z_c - m - ln Σ e^{z - m}.
        let mut shift = [T::zero(); B];
        softmax_rows_and_shift_into(z, grad, &mut shift);
        for (b, (&c, l)) in classes.iter().zip(rows.iter_mut()).enumerate() {
            // `Labels` guarantees c < C; `get` keeps this total anyway.
            if let Some(&zc) = z.row(b).get(c) {
                *l = T::zero() - (zc - shift[b]);
            }
            if let Some(g) = grad.as_array_mut()[b].get_mut(c) {
                *g -= T::one();
            }
        }
    }
}

/// Binary cross-entropy from logits `z` with targets `y ∈ [0, 1]`:
/// `ℓ = max(z, 0) - z y + ln(1 + e^{-|z|})` per element, the stable form of
/// `-(y ln σ(z) + (1 - y) ln(1 - σ(z)))`; gradient `σ(z) - y`.
///
/// Infinite logits take the limit of that formula: with
/// `max(z, 0) - z y = (1 - y) z` for `z ≥ 0` and `y |z|` for `z < 0`,
///
/// | `z` | `ℓ` | `∂ℓ/∂z = σ(z) - y` |
/// |---|---|---|
/// | `+∞` | `(1 - y) · ∞`: `0` for `y = 1`, `+∞` for `y < 1` | `1 - y` |
/// | `-∞` | `y · ∞`: `0` for `y = 0`, `+∞` for `y > 0` | `-y` |
///
/// (`0 · ∞` counts as `0` there, the limit, rather than IEEE's NaN.) A NaN
/// logit or target gives NaN.
///
/// ```
/// use stackgrad::loss::{BinaryCrossEntropyWithLogits, Loss, Reduction};
/// use stackgrad::Matrix;
/// let z = Matrix::from_array([[0.0f64], [1e4], [-1e4]]);
/// let y = Matrix::from_array([[1.0], [0.0], [0.0]]);
/// let sum = BinaryCrossEntropyWithLogits { reduction: Reduction::Sum };
/// let (l, g) = sum.loss_and_grad(&z, &y);
/// assert_eq!(l, 2.0f64.ln() + 1e4);
/// assert_eq!(g.into_array(), [[-0.5], [1.0], [0.0]]);
/// // The default is PyTorch's mean over all elements.
/// let mean = BinaryCrossEntropyWithLogits::default().loss(&z, &y);
/// assert!((mean - (2.0f64.ln() + 1e4) / 3.0).abs() < 1e-12);
///
/// // A saturated, correct prediction costs nothing; a wrong one costs +∞.
/// let z = Matrix::from_array([[f32::INFINITY, f32::NEG_INFINITY]]);
/// let bce = sum;
/// assert_eq!(bce.loss_and_grad(&z, &Matrix::from_array([[1.0, 0.0]])), (0.0, Matrix::zeros()));
/// let (l, g) = bce.loss_and_grad(&z, &Matrix::from_array([[0.0, 1.0]]));
/// assert_eq!((l, g.into_array()), (f32::INFINITY, [[1.0, -1.0]]));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BinaryCrossEntropyWithLogits {
    /// How the terms combine (default: the mean over all `B·O` elements, as
    /// in PyTorch).
    pub reduction: Reduction,
}

impl ElementwiseLoss for BinaryCrossEntropyWithLogits {
    #[inline]
    fn term<T: Scalar>(&self, z: T, y: T) -> (T, T) {
        let loss = if z.is_infinite() {
            // max(z, 0) - z y = w |z| with w = 1 - y (z > 0) or y (z < 0); the
            // finite formula would give ∞ - ∞ or ∞ · 0 = NaN where w = 0.
            let w = if z > T::zero() { T::one() - y } else { y };
            if w == T::zero() {
                T::zero()
            } else {
                w * z.abs()
            }
        } else {
            z.max(T::zero()) - z * y + (-z.abs()).exp().ln_1p()
        };
        (loss, sigmoid(z) - y)
    }
    fn reduction(&self) -> Reduction {
        self.reduction
    }
}

/// Binary cross-entropy from probabilities `p` (after a sigmoid) with targets
/// `y ∈ [0, 1]`: `ℓ = -(y ln p + (1 - y) ln(1 - p))`, gradient `(p - y) / (p (1 - p))`
/// (notebook 004).
///
/// A probability `p` in `[0, 1]` is clamped to `[ε, 1 - ε]` (`ε` the type's
/// machine epsilon) inside the logarithms and the gradient, so a saturated
/// sigmoid (`p` exactly 0 or 1) gives a large finite loss and gradient instead
/// of infinity. A `p` that is not a probability (below 0, above 1, `±∞`, NaN)
/// is never clamped into range: its loss and gradient are NaN, so the batch's
/// loss is NaN and training stops with [`Error::NonFinite`].
/// Prefer [`BinaryCrossEntropyWithLogits`], which needs no clamp.
///
/// ```
/// use stackgrad::loss::{BinaryCrossEntropy, Loss, Reduction};
/// use stackgrad::Matrix;
/// let p = Matrix::from_array([[0.5f64], [0.8]]);
/// let y = Matrix::from_array([[1.0], [0.0]]);
/// let bce = BinaryCrossEntropy { reduction: Reduction::Mean };
/// let (l, g) = bce.loss_and_grad(&p, &y);
/// assert!((l - (2.0f64.ln() + 5.0f64.ln()) / 2.0).abs() < 1e-15);
/// assert!((g[(0, 0)] + 1.0).abs() < 1e-15 && (g[(1, 0)] - 2.5).abs() < 1e-12);
///
/// // Saturated probabilities are clamped; values outside [0, 1] give NaN.
/// let (l, g) = bce.loss_and_grad(&Matrix::from_array([[1.0], [0.0]]), &y);
/// assert!(l.is_finite() && g.is_finite());
/// let (l, g) = bce.loss_and_grad(&Matrix::from_array([[1.5], [0.0]]), &y);
/// assert!(l.is_nan() && g[(0, 0)].is_nan() && g[(1, 0)].is_finite());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BinaryCrossEntropy {
    /// How the terms combine (default: the mean over all `B·O` elements, as
    /// in PyTorch).
    pub reduction: Reduction,
}

impl ElementwiseLoss for BinaryCrossEntropy {
    #[inline]
    fn term<T: Scalar>(&self, p: T, y: T) -> (T, T) {
        let eps = <T as Scalar>::EPSILON;
        // Written with comparisons so that NaN passes through as NaN; a value
        // outside [0, 1] becomes NaN rather than being clamped into range.
        let p = if p < T::zero() || p > T::one() {
            T::nan()
        } else if p < eps {
            eps
        } else if p > T::one() - eps {
            T::one() - eps
        } else {
            p
        };
        let loss = -(y * p.ln() + (T::one() - y) * (T::one() - p).ln());
        (loss, (p - y) / (p * (T::one() - p)))
    }
    fn reduction(&self) -> Reduction {
        self.reduction
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each loss's gradient against central differences of its value.
    #[test]
    fn gradients_match_central_differences() {
        fn check<L: Loss<Matrix<f64, 3, 2>, Y, Value = f64>, Y>(
            loss: L,
            p: Matrix<f64, 3, 2>,
            y: &Y,
        ) {
            let (_, g) = loss.loss_and_grad(&p, y);
            let h = 1e-6;
            for i in 0..3 {
                for j in 0..2 {
                    let (mut a, mut b) = (p, p);
                    a[(i, j)] += h;
                    b[(i, j)] -= h;
                    let num = (loss.loss(&a, y) - loss.loss(&b, y)) / (2.0 * h);
                    assert!(
                        (num - g[(i, j)]).abs() < 1e-7,
                        "({i},{j}): {} vs {num}",
                        g[(i, j)]
                    );
                }
            }
        }
        let z = Matrix::from_array([[0.3, -1.2], [2.0, 0.1], [-0.4, 0.9]]);
        let probs = Matrix::from_array([[0.3, 0.6], [0.9, 0.1], [0.45, 0.7]]);
        let y = Matrix::from_array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]);
        let soft = Matrix::from_array([[0.2, 0.8], [0.5, 0.5], [1.0, 0.0]]);
        check(HalfSquaredError, z, &y);
        check(MeanSquaredError, z, &y);
        for r in [Reduction::Sum, Reduction::Mean] {
            check(SoftmaxCrossEntropy { reduction: r }, z, &y);
            check(SoftmaxCrossEntropy { reduction: r }, z, &soft);
            check(
                SoftmaxCrossEntropy { reduction: r },
                z,
                &Labels::<3, 2>::new([0, 1, 0]).unwrap(),
            );
            check(BinaryCrossEntropyWithLogits { reduction: r }, z, &soft);
            check(BinaryCrossEntropy { reduction: r }, probs, &soft);
        }
    }

    #[test]
    fn label_and_one_hot_targets_agree() {
        let z = Matrix::from_array([[0.3f32, -1.2, 0.5], [2.0, 0.1, -3.0]]);
        let labels = Labels::<2, 3>::new([2, 0]).unwrap();
        let a = SoftmaxCrossEntropy::mean().loss_and_grad(&z, &labels);
        let b = SoftmaxCrossEntropy::mean().loss_and_grad(&z, &labels.one_hot());
        assert!((a.0 - b.0).abs() < 1e-6);
        assert!((a.1 - b.1).max_abs() < 1e-7);
    }

    #[test]
    fn bce_with_logits_agrees_with_bce_on_probabilities() {
        let z = Matrix::from_array([[0.3f64, -2.0], [4.0, 0.1]]);
        let y = Matrix::from_array([[1.0, 0.0], [0.0, 1.0]]);
        let a = BinaryCrossEntropyWithLogits::default().loss(&z, &y);
        let b = BinaryCrossEntropy::default().loss(&z.map(sigmoid), &y);
        assert!((a - b).abs() < 1e-12);
    }

    /// The limits at infinite logits, in both float types, value and gradient.
    #[test]
    fn bce_with_logits_is_exact_at_infinite_logits() {
        fn check<T: Scalar + core::fmt::Debug>() {
            let (inf, one, zero) = (T::infinity(), T::one(), T::zero());
            let half = T::from_f64(0.5);
            let bce = BinaryCrossEntropyWithLogits::default();
            // (z, y) -> (loss, gradient σ(z) - y)
            for (z, y, loss, grad) in [
                (inf, one, zero, zero),
                (-inf, zero, zero, zero),
                (inf, zero, inf, one),
                (-inf, one, inf, -one),
                (inf, half, inf, half),
                (-inf, half, inf, -half),
            ] {
                assert_eq!(bce.term(z, y), (loss, grad), "z = {z:?}, y = {y:?}");
            }
            for (z, y) in [(T::nan(), one), (inf, T::nan()), (-inf, T::nan())] {
                let (l, g) = bce.term(z, y);
                assert!(
                    l.is_nan() && g.is_nan(),
                    "z = {z:?}, y = {y:?}: {l:?}, {g:?}"
                );
            }
            // Through the loss, with the mean over a batch of 2 (factor 1/2).
            let z = Matrix::from_array([[inf, -inf], [-inf, inf]]);
            let y = Matrix::from_array([[one, zero], [zero, one]]);
            let mean = BinaryCrossEntropyWithLogits {
                reduction: Reduction::Mean,
            };
            assert_eq!(mean.loss_and_grad(&z, &y), (zero, Matrix::zeros()));
        }
        check::<f32>();
        check::<f64>();
    }

    /// The largest finite logits keep the finite formula: `ℓ(z, 1) = ln(1 + e^{-z})`
    /// underflows to 0 and `ℓ(z, 0) = z` (f64 `MAX` plus a term below its ulp).
    #[test]
    fn bce_with_logits_at_the_largest_finite_logits() {
        let bce = BinaryCrossEntropyWithLogits::default();
        assert_eq!(bce.term(f64::MAX, 1.0), (0.0, 0.0));
        assert_eq!(bce.term(f64::MAX, 0.0), (f64::MAX, 1.0));
        assert_eq!(bce.term(-f32::MAX, 0.0), (0.0, 0.0));
        assert_eq!(bce.term(-f32::MAX, 1.0), (f32::MAX, -1.0));
    }

    #[test]
    fn saturated_probabilities_give_finite_bce() {
        let p = Matrix::from_array([[0.0f32], [1.0]]);
        let y = Matrix::from_array([[1.0], [0.0]]);
        let (l, g) = BinaryCrossEntropy::default().loss_and_grad(&p, &y);
        assert!(l.is_finite() && g.is_finite());
    }

    /// A value that is not a probability gives NaN (loss and gradient) in
    /// both float types, never a finite value from a clamp; 0 and 1 are
    /// clamped to `ε` and `1 - ε` as documented.
    #[test]
    fn bce_on_invalid_probabilities_is_nan() {
        fn check<T: Scalar + core::fmt::Debug>(largest: T) {
            let bce = BinaryCrossEntropy::default();
            let eps = <T as Scalar>::EPSILON;
            for p in [
                -1.0,
                -1e-30,
                1.0 + 1e-6,
                1e4,
                f64::INFINITY,
                f64::NEG_INFINITY,
            ] {
                let p = T::from_f64(p);
                for y in [T::zero(), T::one()] {
                    let (l, g) = bce.term(p, y);
                    assert!(
                        l.is_nan() && g.is_nan(),
                        "p = {p:?}, y = {y:?}: {l:?}, {g:?}"
                    );
                }
            }
            for p in [largest, -largest, T::nan()] {
                let (l, g) = bce.term(p, T::one());
                assert!(l.is_nan() && g.is_nan(), "p = {p:?}: {l:?}, {g:?}");
            }
            // The edges of [0, 1] are probabilities: clamped, finite.
            assert_eq!(bce.term(T::zero(), T::one()).0, -eps.ln());
            assert_eq!(bce.term(T::one(), T::zero()).0, -eps.ln());
            assert_eq!(bce.term(T::one(), T::one()).0, -(T::one() - eps).ln());
            assert_eq!(
                bce.term(-T::zero(), T::zero()),
                bce.term(T::zero(), T::zero())
            );
        }
        check(f32::MAX);
        check(f64::MAX);
    }

    #[test]
    fn accuracy_of_empty_batch_is_zero() {
        let p = Matrix::<f32, 0, 3>::zeros();
        assert_eq!(accuracy(&p, &Labels::<0, 3>::new([]).unwrap()), 0.0);
    }
}
