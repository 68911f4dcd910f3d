//! The training loop: epochs of shuffled mini-batches, forward, loss, backward,
//! a finiteness check, then an optimizer step; per-epoch loss and accuracy
//! through a callback and in the returned history.
//!
//! One step on a batch of `B` rows (the first `r` real, see [`batch`](crate::batch)):
//!
//! 1. `Z = net(X)` for all `B` rows (padding rows are zero inputs).
//! 2. For each real row `i`, the loss of that example alone, `ℓᵢ` and `gᵢ = ∂ℓᵢ/∂zᵢ`
//!    (the loss evaluated on a batch of one: a `Mean` element-wise loss such as
//!    [`MeanSquaredError`] averages that row's outputs).
//! 3. Batch loss `L = k Σᵢ ℓᵢ` and output gradient `∂L/∂zᵢ = k gᵢ`, with `k = 1` for a
//!    [`Reduction::Sum`] loss and `k = 1/r` for `Mean` and `BatchMean` (a partial
//!    batch is the mean over its real rows); padding rows get `∂L/∂z = 0`, so they
//!    change neither the loss nor any parameter gradient.
//! 4. Backward into a gradient value of the network's type; if `L` or any
//!    gradient is NaN or infinite, stop with [`Error::NonFinite`] naming the epoch
//!    and batch, before the update (the weights keep their last finite values).
//! 5. Optionally clip the gradients ([`Training::clip`]).
//! 6. `optimizer.step(net, grads)`; if a weight is then NaN or infinite, put
//!    back every parameter as it was before the step and stop with
//!    [`Error::NonFiniteStep`] naming the epoch, batch and tensor.
//!
//! After each epoch `fit` evaluates an optional validation set in evaluation
//! mode, applies early stopping and checkpointing, calls the epoch callback
//! (which may stop training or change the optimizer through a [`Steer`]),
//! and steps the learning-rate schedule.
//!
//! For the losses of [`loss`](crate::loss) (all sums over examples) steps 2–3
//! give exactly the batch loss and gradient; a test checks this bit for bit.
//! Nothing in a step allocates; the loop allocates the index orders once and
//! one history entry per epoch (and a checkpoint file when one is written).
//!
//! ```
//! use stackgrad::batch::Dataset;
//! use stackgrad::loss::SoftmaxCrossEntropy;
//! use stackgrad::nn::{input, Dense, Tanh};
//! use stackgrad::optim::Sgd;
//! use stackgrad::rand::{SeedableRng, rngs::StdRng};
//! use stackgrad::train::Training;
//!
//! // Two classes: the sign of the first feature.
//! let x: Vec<[f64; 2]> = (0..20).map(|i| [i as f64 - 9.5, 1.0]).collect();
//! let y: Vec<usize> = (0..20).map(|i| usize::from(i >= 10)).collect();
//! let mut net = input::<2>()
//!     .then(Dense::<f64, 2, 4>::xavier_uniform(&mut StdRng::seed_from_u64(0)))
//!     .then(Tanh)
//!     .then(Dense::<f64, 4, 2>::xavier_uniform(&mut StdRng::seed_from_u64(1)))
//!     .build();
//! let mut training = Training::new(SoftmaxCrossEntropy::mean(), Sgd::new(0.5))
//!     .batch::<8>() // 20 rows: batches of 8, 8 and 4
//!     .epochs(30)
//!     .seed(42);
//! let history = training.fit(&mut net, Dataset::new(&x, &y)?, |e, _net| {
//!     if e.epoch % 10 == 0 {
//!         println!("epoch {:3}  loss {:.4}  accuracy {:.2}", e.epoch, e.mean_loss(), e.accuracy().unwrap());
//!     }
//! })?;
//! assert_eq!(history.len(), 30);
//! assert_eq!(history[29].examples, 20);
//! assert_eq!(history[29].batches, 3);
//! assert_eq!(history[29].accuracy(), Some(1.0));
//! # Ok::<(), stackgrad::Error>(())
//! ```

#[cfg(feature = "std")]
use crate::batch::DataFor;
use crate::batch::{Batch, Batches, Dataset};
use crate::loss::{
    BinaryCrossEntropy, BinaryCrossEntropyWithLogits, ElementwiseLoss, HalfSquaredError, Labels,
    Loss, MeanSquaredError, PerElement, Reduce, Reduction, SoftmaxCrossEntropy, binary_match,
};
use crate::matrix::is_argmax;
use crate::nn::{Ctx, Layer, ParamName, Params};
use crate::optim::{Clip, Optimizer};
use crate::schedule::Constant;
use crate::{Error, Matrix, Scalar};

/// How a loss combines its examples, read by the training loop (which
/// evaluates the loss one example at a time and combines the examples itself).
pub trait Reduced {
    /// How the loss combines its terms. The loop evaluates each example as a
    /// batch of one (where `Mean` is the mean over that row's terms), then
    /// sums the examples (`Sum`) or averages them over the batch's real rows
    /// (`Mean`, `BatchMean`).
    fn reduction(&self) -> Reduction;

    /// Whether the prediction `z` for one example is right, for accuracy:
    /// `None` when the loss and target say nothing about right and wrong
    /// (regression). Provided: the largest output is the target's class.
    #[inline]
    fn correct<T: Scalar, Y: Target<C>, const C: usize>(&self, z: &[T; C], y: &Y) -> Option<bool> {
        y.class().map(|c| is_argmax(z, c))
    }

    /// Each example's loss `ℓᵢ` and output gradient `gᵢ = ∂ℓᵢ/∂zᵢ` for the
    /// rows of a batch of logits `z`, each evaluated as the loss of a batch of
    /// that one row (where its sum and mean agree), written into `rows` and
    /// the rows of `grad`. `index` holds the data-set rows of the real rows
    /// (the first `index.len()`); what is written for the padding rows after
    /// them is unspecified and ignored. The training loop passes its own
    /// buffers: returning them copied each on every level of the call.
    ///
    /// Provided: one `loss_and_grad` call per real row. A loss may compute the
    /// whole batch at once instead, giving the same bits per row
    /// ([`SoftmaxCrossEntropy`] does, for class targets).
    ///
    /// # Errors
    /// [`Error::LabelOutOfRange`] for a class index `>= C`.
    #[inline(always)]
    fn rows_into<T, Y, const B: usize, const C: usize>(
        &self,
        z: &Matrix<T, B, C>,
        y: &[Y; B],
        index: &[usize],
        rows: &mut [T; B],
        grad: &mut Matrix<T, B, C>,
    ) -> Result<(), Error>
    where
        T: Scalar,
        Y: Target<C>,
        Self: Loss<Matrix<T, 1, C>, Y::One, Value = T> + Sized,
    {
        rows_one_by_one(self, z, y, index, rows, grad)
    }
}

/// [`Reduced::rows_into`] by one `loss_and_grad` call per real row.
#[inline(always)]
fn rows_one_by_one<T, Y, Lo, const B: usize, const C: usize>(
    loss: &Lo,
    z: &Matrix<T, B, C>,
    y: &[Y; B],
    index: &[usize],
    rows: &mut [T; B],
    grad: &mut Matrix<T, B, C>,
) -> Result<(), Error>
where
    T: Scalar,
    Y: Target<C>,
    Lo: Loss<Matrix<T, 1, C>, Y::One, Value = T>,
{
    let real = index
        .iter()
        .zip(y)
        .zip(rows.iter_mut().zip(grad.as_array_mut()));
    for (row, ((&i, y), (l, g))) in real.enumerate() {
        let (li, gi) = loss.loss_and_grad(&Matrix::from_array([*z.row(row)]), &y.one(i)?);
        *l = li;
        *g = *gi.row(0);
    }
    Ok(())
}

impl Reduced for SoftmaxCrossEntropy {
    fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// The whole batch at once for class targets (one pass of `exp` over all
    /// `B·C` logits); rows without a class go one by one.
    #[inline(always)]
    fn rows_into<T, Y, const B: usize, const C: usize>(
        &self,
        z: &Matrix<T, B, C>,
        y: &[Y; B],
        index: &[usize],
        rows: &mut [T; B],
        grad: &mut Matrix<T, B, C>,
    ) -> Result<(), Error>
    where
        T: Scalar,
        Y: Target<C>,
        Self: Loss<Matrix<T, 1, C>, Y::One, Value = T> + Sized,
    {
        let mut classes = [0; B];
        for (k, (c, t)) in classes.iter_mut().zip(y).enumerate() {
            match (t.class(), index.get(k)) {
                (None, _) => return rows_one_by_one(self, z, y, index, rows, grad),
                (Some(label), _) if label < C => *c = label,
                (Some(label), Some(&row)) => {
                    return Err(Error::LabelOutOfRange {
                        row,
                        label,
                        classes: C,
                    });
                }
                // A padding row: its output is ignored.
                (Some(_), None) => {}
            }
        }
        SoftmaxCrossEntropy::label_rows_into(z, &classes, rows, grad);
        Ok(())
    }
}
/// Binary accuracy: every logit above 0 exactly where its target is above ½.
impl Reduced for BinaryCrossEntropyWithLogits {
    fn reduction(&self) -> Reduction {
        self.reduction
    }
    #[inline]
    fn correct<T: Scalar, Y: Target<C>, const C: usize>(&self, z: &[T; C], y: &Y) -> Option<bool> {
        y.binary_match(z, T::zero())
    }
}
/// Binary accuracy: every probability above ½ exactly where its target is.
impl Reduced for BinaryCrossEntropy {
    fn reduction(&self) -> Reduction {
        self.reduction
    }
    #[inline]
    fn correct<T: Scalar, Y: Target<C>, const C: usize>(&self, z: &[T; C], y: &Y) -> Option<bool> {
        y.binary_match(z, T::from_f64(0.5))
    }
}
impl Reduced for HalfSquaredError {
    fn reduction(&self) -> Reduction {
        Reduction::Sum
    }
}
impl Reduced for MeanSquaredError {
    fn reduction(&self) -> Reduction {
        Reduction::Mean
    }
}
impl<L: ElementwiseLoss> Reduced for PerElement<L> {
    fn reduction(&self) -> Reduction {
        self.0.reduction()
    }
}
/// The wrapped loss's accuracy, with the chosen reduction.
impl<L: ElementwiseLoss + Reduced> Reduced for Reduce<L> {
    fn reduction(&self) -> Reduction {
        self.reduction
    }
    #[inline]
    fn correct<T: Scalar, Y: Target<C>, const C: usize>(&self, z: &[T; C], y: &Y) -> Option<bool> {
        self.loss.correct(z, y)
    }
}

/// One example's target in a data set, for a network with `C` outputs: a
/// class index (`usize`) or a row of `C` values (`[T; C]`: regression or
/// one-hot targets).
#[diagnostic::on_unimplemented(
    message = "the network has {C} outputs but the data set's targets are `{Self}`",
    label = "targets of the wrong shape",
    note = "a target is a class index (`usize`) or a row of {C} values (`[f32; {C}]` or `[f64; {C}]`), one per output"
)]
pub trait Target<const C: usize>: Copy {
    /// What the loss takes for a batch of one.
    type One;
    /// The target as a batch of one; `row` names the example in errors.
    ///
    /// # Errors
    /// [`Error::LabelOutOfRange`] for a class index `>= C`.
    fn one(&self, row: usize) -> Result<Self::One, Error>;
    /// The class, when the target names one.
    fn class(&self) -> Option<usize>;
    /// For 0/1 targets (rows of values): whether each output of `pred`
    /// above `threshold` is exactly where the target is above ½; `None` for
    /// a class index.
    fn binary_match<P: Scalar>(&self, pred: &[P; C], threshold: P) -> Option<bool>;
}

impl<const C: usize> Target<C> for usize {
    type One = Labels<1, C>;
    fn one(&self, row: usize) -> Result<Labels<1, C>, Error> {
        Labels::new([*self]).map_err(|_| Error::LabelOutOfRange {
            row,
            label: *self,
            classes: C,
        })
    }
    fn class(&self) -> Option<usize> {
        Some(*self)
    }
    fn binary_match<P: Scalar>(&self, _: &[P; C], _: P) -> Option<bool> {
        None
    }
}

impl<T: Scalar, const C: usize> Target<C> for [T; C] {
    type One = Matrix<T, 1, C>;
    fn one(&self, _row: usize) -> Result<Matrix<T, 1, C>, Error> {
        Ok(Matrix::from_array([*self]))
    }
    fn class(&self) -> Option<usize> {
        None
    }
    fn binary_match<P: Scalar>(&self, pred: &[P; C], threshold: P) -> Option<bool> {
        Some(binary_match(pred, self, threshold))
    }
}

/// Whether and when the batch order is reshuffled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Shuffle {
    /// A new random order every epoch (the usual choice).
    #[default]
    EveryEpoch,
    /// One random order, drawn before the first epoch and kept (notebook 001's
    /// `train`, which calls `get_random_batches` once before its loop).
    Once,
    /// The data set's own order.
    Never,
}

/// Loss and accuracy over one epoch (or one evaluation pass), with the
/// learning rate it trained at and, when [`Training::fit_with`] was given a
/// validation set, the loss and accuracy on it after the epoch.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EpochStats<T> {
    /// The epoch, counted from 1 (0 for `Training::evaluate`).
    pub epoch: usize,
    /// The sum over the epoch's batches of each batch's loss, as the loss
    /// reduces it (notebook 001's `total_loss`; for a `Sum` loss, the sum over
    /// all examples).
    pub total_loss: T,
    /// The sum over all examples of each example's own loss.
    pub example_loss: T,
    /// Examples whose largest output is their class (`None` when the targets
    /// are not classes).
    pub correct: Option<usize>,
    /// Examples seen (the data set's size: none is dropped).
    pub examples: usize,
    /// Batches, `ceil(examples / B)`.
    pub batches: usize,
    /// The optimizer's learning rate during the epoch (0 for `evaluate`).
    pub lr: T,
    /// The largest global gradient norm of the epoch's batches, before
    /// clipping (`None` without [`Training::clip`]).
    pub max_grad_norm: Option<T>,
    /// Loss and accuracy on the validation set after the epoch, in
    /// evaluation mode (`None` without a validation set).
    pub validation: Option<Evaluation<T>>,
}

impl<T: Scalar> EpochStats<T> {
    fn new(epoch: usize) -> Self {
        Self {
            epoch,
            total_loss: T::zero(),
            example_loss: T::zero(),
            correct: Some(0),
            examples: 0,
            batches: 0,
            lr: T::zero(),
            max_grad_norm: None,
            validation: None,
        }
    }

    /// The mean loss per example, `example_loss / examples`.
    #[must_use]
    pub fn mean_loss(&self) -> T {
        self.example_loss / T::from_usize(self.examples.max(1))
    }

    /// The fraction of examples classified correctly (notebook 001's accuracy:
    /// measured while training, with the weights of the moment).
    #[must_use]
    pub fn accuracy(&self) -> Option<f64> {
        self.correct.map(|c| c as f64 / self.examples.max(1) as f64)
    }

    fn add(&mut self, b: &BatchStats<T>) {
        self.total_loss += b.loss;
        self.example_loss += b.example_loss;
        self.correct = self.correct.zip(b.correct).map(|(a, b)| a + b);
        self.examples += b.len;
        self.batches += 1;
    }
}

/// Loss and accuracy of a network on a data set in evaluation mode
/// ([`Layer::infer`]): the validation figures of an epoch.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Evaluation<T> {
    /// The sum over all examples of each example's own loss.
    pub example_loss: T,
    /// Examples whose largest output is their class (`None` when the targets
    /// are not classes).
    pub correct: Option<usize>,
    /// Examples evaluated.
    pub examples: usize,
}

impl<T: Scalar> Evaluation<T> {
    /// The mean loss per example, `example_loss / examples`.
    #[must_use]
    pub fn mean_loss(&self) -> T {
        self.example_loss / T::from_usize(self.examples.max(1))
    }

    /// The fraction of examples classified correctly.
    #[must_use]
    pub fn accuracy(&self) -> Option<f64> {
        self.correct.map(|c| c as f64 / self.examples.max(1) as f64)
    }
}

impl<T: Scalar> From<EpochStats<T>> for Evaluation<T> {
    fn from(e: EpochStats<T>) -> Self {
        Self {
            example_loss: e.example_loss,
            correct: e.correct,
            examples: e.examples,
        }
    }
}

/// What the per-batch hook of [`Training::fit_with`] (or
/// [`Training::epoch_with`]) sees after each optimizer step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchEnd<T> {
    /// The epoch, counted from 1.
    pub epoch: usize,
    /// The batch within the epoch, counted from 1.
    pub batch: usize,
    /// The number of batches in the epoch.
    pub batches: usize,
    /// This batch's loss and accuracy.
    pub stats: BatchStats<T>,
    /// The epoch so far (its batches up to and including this one).
    pub so_far: EpochStats<T>,
    /// The batch's global gradient norm before clipping (`None` without
    /// [`Training::clip`]).
    pub grad_norm: Option<T>,
}

/// The per-batch hook of [`Training::epoch_with`].
pub type BatchHook<'a, T> = &'a mut dyn FnMut(&BatchEnd<T>);

/// What an epoch callback returns: `()` (go on) or a
/// [`ControlFlow`](core::ops::ControlFlow) (`Break(())` stops training
/// after this epoch).
pub trait Flow {
    /// As a `ControlFlow`.
    fn flow(self) -> core::ops::ControlFlow<()>;
}

impl Flow for () {
    fn flow(self) -> core::ops::ControlFlow<()> {
        core::ops::ControlFlow::Continue(())
    }
}

impl Flow for core::ops::ControlFlow<()> {
    fn flow(self) -> core::ops::ControlFlow<()> {
        self
    }
}

/// What an epoch callback may touch besides the epoch's figures: the
/// network (read only) and the optimizer, whose hyper-parameters it may
/// change for the next epoch (the training loop holds both, so the callback
/// cannot borrow them from the [`Training`] itself). A changed setting is
/// checked ([`Optimizer::check`]) before the next epoch.
///
/// ```
/// use core::ops::ControlFlow;
/// use stackgrad::batch::Dataset;
/// use stackgrad::loss::SoftmaxCrossEntropy;
/// use stackgrad::nn::Dense;
/// use stackgrad::optim::Sgd;
/// use stackgrad::train::Training;
/// let x = [[1.0f64, 0.0], [0.0, 1.0]];
/// let y = [0usize, 1];
/// let mut net = Dense::<f64, 2, 2>::zeros();
/// let mut training = Training::new(SoftmaxCrossEntropy::sum(), Sgd::new(0.5)).epochs(100);
/// let history = training.fit(&mut net, Dataset::new(&x, &y)?, |e, steer| {
///     steer.optimizer().lr = 2.0 / (e.epoch + 1) as f64; // the next epoch's rate
///     if e.mean_loss() < 0.1 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
/// })?;
/// assert!(history.len() < 100);
/// assert!(history.last().unwrap().mean_loss() < 0.1);
/// assert_eq!((history[0].lr, history[1].lr, history[3].lr), (0.5, 1.0, 0.5));
/// # Ok::<(), stackgrad::Error>(())
/// ```
#[derive(Debug)]
pub struct Steer<'a, P, O> {
    net: &'a P,
    optimizer: &'a mut O,
}

impl<P, O> Steer<'_, P, O> {
    /// The network after the epoch.
    #[must_use]
    pub fn net(&self) -> &P {
        self.net
    }

    /// The optimizer: set its learning rate or other settings here.
    pub fn optimizer(&mut self) -> &mut O {
        self.optimizer
    }
}

/// A figure of an epoch that early stopping or a checkpoint watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Monitor {
    /// The validation set's mean loss per example (lower is better).
    ValidationLoss,
    /// The validation set's accuracy (higher is better).
    ValidationAccuracy,
    /// The training epoch's mean loss per example (lower is better).
    TrainingLoss,
    /// The training epoch's accuracy (higher is better).
    TrainingAccuracy,
}

#[cfg(feature = "std")]
impl Monitor {
    fn name(self) -> &'static str {
        match self {
            Monitor::ValidationLoss => "the validation loss",
            Monitor::ValidationAccuracy => "the validation accuracy",
            Monitor::TrainingLoss => "the training loss",
            Monitor::TrainingAccuracy => "the training accuracy",
        }
    }

    fn needs_validation(self) -> bool {
        matches!(self, Monitor::ValidationLoss | Monitor::ValidationAccuracy)
    }

    fn needs_classes(self) -> bool {
        matches!(
            self,
            Monitor::ValidationAccuracy | Monitor::TrainingAccuracy
        )
    }

    /// The monitored figure, signed so that lower is better.
    fn value<T: Scalar>(self, e: &EpochStats<T>) -> Option<f64> {
        match self {
            Monitor::ValidationLoss => e.validation.map(|v| v.mean_loss().as_f64()),
            Monitor::ValidationAccuracy => e.validation.and_then(|v| v.accuracy()).map(|a| -a),
            Monitor::TrainingLoss => Some(e.mean_loss().as_f64()),
            Monitor::TrainingAccuracy => e.accuracy().map(|a| -a),
        }
    }

    /// Checks that the figure will exist before training starts.
    fn check(self, accuracy: bool, validation: bool) -> Result<(), Error> {
        let reason = if self.needs_validation() && !validation {
            "fit was given no validation set"
        } else if self.needs_classes() && !accuracy {
            "accuracy needs class targets, or 0/1 targets with a binary cross-entropy"
        } else {
            return Ok(());
        };
        Err(Error::Unmonitorable {
            monitor: self.name(),
            reason,
        })
    }
}

/// Early stopping: stop when the monitored figure has not improved (by more
/// than `min_delta`) for `patience` epochs in a row; optionally put back the
/// weights of the best epoch at the end of training.
///
/// An epoch improves on the best so far `b` when its figure `v` satisfies
/// `v < b - min_delta` (losses) or `v > b + min_delta` (accuracies); NaN never
/// improves. Keras' `EarlyStopping(monitor, patience, min_delta,
/// restore_best_weights)`, except that the best weights are restored however
/// training ends (stopped early, all epochs done, or stopped by the
/// callback), not only when it stops early. With `patience = usize::MAX`
/// it never stops and only keeps the best weights.
///
/// ```
/// use stackgrad::train::{EarlyStopping, Monitor};
/// let stop = EarlyStopping::new(Monitor::ValidationLoss, 5).min_delta(1e-4).restore_best_weights();
/// assert_eq!((stop.patience, stop.restore_best), (5, true));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EarlyStopping {
    /// The figure watched.
    pub monitor: Monitor,
    /// Epochs without improvement before training stops.
    pub patience: usize,
    /// The least change that counts as an improvement (default 0).
    pub min_delta: f64,
    /// Whether the best epoch's weights (parameters and buffers) are put
    /// back at the end of training (default `false`).
    pub restore_best: bool,
}

impl EarlyStopping {
    /// Stops after `patience` epochs without improvement of `monitor`.
    #[must_use]
    pub fn new(monitor: Monitor, patience: usize) -> Self {
        Self {
            monitor,
            patience,
            min_delta: 0.0,
            restore_best: false,
        }
    }

    /// The same with a least improvement of `min_delta`.
    #[must_use]
    pub fn min_delta(mut self, min_delta: f64) -> Self {
        self.min_delta = min_delta;
        self
    }

    /// The same, putting back the best epoch's weights at the end.
    #[must_use]
    pub fn restore_best_weights(mut self) -> Self {
        self.restore_best = true;
        self
    }
}

#[cfg(feature = "std")]
/// The best value of a monitored figure so far (signed: lower is better).
#[derive(Debug, Clone, Copy)]
struct Best {
    value: Option<f64>,
    /// Epochs since the last improvement.
    stale: usize,
}

#[cfg(feature = "std")]
impl Best {
    const NONE: Self = Self {
        value: None,
        stale: 0,
    };

    /// Records `v`; whether it improves on the best by more than `min_delta`.
    fn observe(&mut self, v: Option<f64>, min_delta: f64) -> bool {
        let improved = match (v, self.value) {
            (Some(v), Some(b)) => v < b - min_delta,
            (Some(v), None) => !v.is_nan(),
            (None, _) => false,
        };
        if improved {
            self.value = v;
            self.stale = 0;
        } else {
            self.stale += 1;
        }
        improved
    }
}

/// Loss and accuracy of one batch (its real rows).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchStats<T> {
    /// The batch loss `k Σᵢ ℓᵢ` (see the module docs).
    pub loss: T,
    /// `Σᵢ ℓᵢ` over the real rows.
    pub example_loss: T,
    /// Real rows whose largest output is their class.
    pub correct: Option<usize>,
    /// Number of real rows.
    pub len: usize,
}

/// The forward pass, loss and backward pass of one batch: writes the parameter
/// gradients into `grads` (overwriting them) and returns the batch's loss and
/// accuracy. Padding rows contribute nothing (module docs, steps 1–4). No update
/// and no finiteness check; [`Training`] does both.
///
/// ```
/// use stackgrad::batch::{Batches, Dataset};
/// use stackgrad::loss::SoftmaxCrossEntropy;
/// use stackgrad::nn::{Dense, Params};
/// use stackgrad::train::backprop;
/// let x = [[1.0f64, 0.0], [0.0, 1.0], [1.0, 1.0]];
/// let y = [0usize, 1, 1];
/// let net = Dense::<f64, 2, 2>::zeros();
/// // One batch of 4 rows: 3 real, 1 padding.
/// let batch = Batches::<_, _, _, 4>::new(Dataset::new(&x, &y)?, &[0, 1, 2])?.next().unwrap();
/// let mut grads = net.zeros_like();
/// let stats = backprop(&net, &SoftmaxCrossEntropy::sum(), &batch, &mut grads)?;
/// // Zero logits: each example's loss is ln 2, its output gradient ±1/2.
/// assert!((stats.loss - 3.0 * 2f64.ln()).abs() < 1e-15);
/// assert_eq!((stats.len, stats.correct), (3, Some(1))); // ties go to class 0
/// // Rows (class 0, 1, 1) give bias gradients (-½, ½), (½, -½), (½, -½); the
/// // padding row (a copy of class 0) would cancel one of them if it counted.
/// assert_eq!(grads.bias, [0.5, -0.5]);
/// # Ok::<(), stackgrad::Error>(())
/// ```
///
/// # Errors
/// [`Error::LabelOutOfRange`] for a class index `>= C` (the data-set row named).
#[inline(always)]
pub fn backprop<T, P, Lo, Y, const B: usize, const N: usize, const C: usize>(
    net: &P,
    loss: &Lo,
    batch: &Batch<T, B, N, Y>,
    grads: &mut P,
) -> Result<BatchStats<T>, Error>
where
    T: Scalar,
    P: Layer<Matrix<T, B, N>, Output = Matrix<T, B, C>>,
    Lo: Loss<Matrix<T, 1, C>, Y::One, Value = T> + Reduced,
    Y: Target<C>,
{
    let (mut z, mut cache) = net.forward(&batch.x);
    if batch.len() < B {
        // Batch statistics over the real rows only.
        net.forward_train(&batch.x, &Ctx::new(batch.len(), 0, 0), &mut z, &mut cache);
    }
    loss_rows(
        &z,
        loss,
        batch,
        #[inline(always)]
        |dz| net.backward_params(&batch.x, &z, &cache, dz, grads),
    )
}

/// [`backprop`] with the network's output, cache and scratch cache kept by the
/// caller across batches: the first call makes them (one more forward pass,
/// for the scratch), later ones overwrite them in place
/// ([`Layer::forward_into`], [`Layer::backward_params_into`]) instead of
/// building and moving new ones.
#[inline(always)]
fn backprop_reusing<T, P, Lo, Y, const B: usize, const N: usize, const C: usize>(
    net: &P,
    loss: &Lo,
    batch: &Batch<T, B, N, Y>,
    grads: &mut P,
    cache: &mut Option<Reused<Matrix<T, B, C>, P::Cache>>,
    ctx: &Ctx,
) -> Result<BatchStats<T>, Error>
where
    T: Scalar,
    P: Layer<Matrix<T, B, N>, Output = Matrix<T, B, C>>,
    Lo: Loss<Matrix<T, 1, C>, Y::One, Value = T> + Reduced,
    Y: Target<C>,
{
    let (z, cache, scratch) = match cache {
        Some((z, c, s)) => {
            net.forward_train(&batch.x, ctx, z, c);
            (z, c, s)
        }
        None => {
            let ((z, c), (_, s)) = (net.forward(&batch.x), net.forward(&batch.x));
            let (z, c, s) = cache.insert((z, c, s));
            net.forward_train(&batch.x, ctx, z, c);
            (z, c, s)
        }
    };
    let (z, cache) = (&*z, &*cache);
    loss_rows(
        z,
        loss,
        batch,
        #[inline(always)]
        |dz| net.backward_params_into(&batch.x, z, cache, scratch, dz, grads),
    )
}

/// What the training loop keeps of a network's passes: its output, its cache
/// and a scratch cache for [`Layer::backward_params_into`].
type Reused<Out, Cache> = (Out, Cache, Cache);

/// Steps 2–3: per-example loss on the real rows, then `f(∂L/∂Z)`.
#[inline(always)]
fn loss_rows<T, Lo, Y, const B: usize, const N: usize, const C: usize>(
    z: &Matrix<T, B, C>,
    loss: &Lo,
    batch: &Batch<T, B, N, Y>,
    f: impl FnOnce(&Matrix<T, B, C>),
) -> Result<BatchStats<T>, Error>
where
    T: Scalar,
    Lo: Loss<Matrix<T, 1, C>, Y::One, Value = T> + Reduced,
    Y: Target<C>,
{
    let r = batch.len();
    let k = match loss.reduction() {
        Reduction::Sum => T::one(),
        Reduction::Mean | Reduction::BatchMean => T::one() / T::from_usize(r.max(1)),
    };
    // The loss writes each row's gradient into `dz`, scaled here in place;
    // the padding rows' gradients are zeroed.
    let (mut rows, mut dz) = ([T::zero(); B], Matrix::<T, B, C>::zeros());
    loss.rows_into(z, &batch.y, batch.indices(), &mut rows, &mut dz)?;
    let mut example_loss = T::zero();
    let mut correct = Some(0usize);
    for (row, (&l, d)) in rows.iter().zip(dz.as_array_mut()).enumerate() {
        if row >= r {
            *d = [T::zero(); C];
            continue;
        }
        example_loss += l;
        for d in d.iter_mut() {
            *d *= k;
        }
        correct = correct
            .zip(batch.y.get(row).and_then(|t| loss.correct(z.row(row), t)))
            .map(|(n, right)| n + usize::from(right));
    }
    f(&dz);
    Ok(BatchStats {
        loss: example_loss * k,
        example_loss,
        correct,
        len: r,
    })
}

/// The first tensor of `grads` holding a NaN or infinity.
///
/// Every gradient is swept once without branching (an OR of `!is_finite`,
/// which vectorizes; a float sum would be a serial chain of adds, and `any`
/// branches per element), and only a hit looks for the tensor.
#[inline(always)]
fn first_non_finite<T: Scalar, P: Params<T>>(grads: &P) -> Option<ParamName> {
    let mut bad = false;
    for k in 0..P::TENSORS {
        if let Some(t) = grads.tensor(k) {
            for &g in t.data {
                bad |= !g.is_finite();
            }
        }
    }
    if !bad {
        return None;
    }
    (0..P::TENSORS)
        .filter_map(|k| grads.tensor(k))
        .find(|t| t.data.iter().any(|g| !g.is_finite()))
        .map(|t| t.name)
}

/// What [`Training::epoch`] keeps between batches and between epochs: a
/// gradient value of the network's type (`∂L/∂θ` of the last batch), the
/// network's output and forward cache for input `In`, written in place by
/// [`Layer::forward_into`] from the second batch on, and a scratch cache in
/// which [`Layer::backward_params_into`] passes the gradients between layers.
///
/// Without it every epoch would build its first batch's cache anew with
/// [`Layer::forward`] and move it into place: for notebook 001's network
/// (2 -> 25 -> 4, f64, batches of 5) about 6 KB of copies per epoch, a few
/// percent of an epoch of one batch. Make one per network and reuse it.
///
/// ```
/// use stackgrad::batch::Dataset;
/// use stackgrad::loss::SoftmaxCrossEntropy;
/// use stackgrad::nn::{Dense, Params, Sigmoid, input};
/// use stackgrad::optim::Sgd;
/// use stackgrad::train::{Training, Workspace};
/// let mut net = input::<2>()
///     .then(Dense::<f64, 2, 3>::zeros())
///     .then(Sigmoid)
///     .then(Dense::<f64, 3, 2>::zeros())
///     .build();
/// let x = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
/// let y = [0, 1, 1];
/// let mut training = Training::new(SoftmaxCrossEntropy::sum(), Sgd::new(0.1)).batch::<2>();
/// let mut work = Workspace::new(&net);
/// for epoch in 1..=3 {
///     let stats = training.epoch(epoch, &mut net, &mut work, Dataset::new(&x, &y)?, &[2, 0, 1])?;
///     assert_eq!((stats.examples, stats.batches), (3, 2));
/// }
/// // The last batch is row 1 alone (class 1): the output bias gradient is
/// // p - e₁ = (p₀, p₁ - 1) for the softmax output p.
/// assert!(work.grads.layers.2.bias[0] > 0.0 && work.grads.layers.2.bias[1] < 0.0);
/// # Ok::<(), stackgrad::Error>(())
/// ```
pub struct Workspace<P: Layer<In>, In> {
    /// The gradient of the last batch's loss, one value per parameter of the
    /// network (overwritten by each batch).
    pub grads: P,
    /// The parameters before the last optimizer step, put back if the step
    /// makes a weight NaN or infinite.
    before: P,
    cache: Option<Reused<P::Output, P::Cache>>,
}

impl<P: Layer<In>, In> Workspace<P, In> {
    /// A workspace for `net`: zero gradients, no cache yet.
    #[must_use]
    pub fn new<T: Scalar>(net: &P) -> Self
    where
        P: Params<T>,
    {
        Self {
            grads: net.zeros_like(),
            before: net.zeros_like(),
            cache: None,
        }
    }
}

impl<P: Layer<In> + core::fmt::Debug, In> core::fmt::Debug for Workspace<P, In> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Workspace")
            .field("grads", &self.grads)
            .field(
                "cache",
                &if self.cache.is_some() {
                    "filled"
                } else {
                    "empty"
                },
            )
            .finish_non_exhaustive()
    }
}

/// Copies tensors `0..count` of [`Params::state`] (the parameters, then the
/// buffers) from `from` into `to`, which has the same type.
#[inline(always)]
fn copy_state<T: Scalar, P: Params<T>>(from: &P, to: &mut P, count: usize) {
    for k in 0..count {
        if let (Some(a), Some(b)) = (from.state(k), to.state_mut(k)) {
            b.data.copy_from_slice(a.data);
        }
    }
}

/// A training configuration: loss, optimizer, batch size `B`, epochs, seed,
/// shuffling, and optionally a learning-rate schedule `S`, gradient
/// clipping, early stopping, a checkpoint and a progress display. Run it
/// with `fit` (feature `std`) or epoch by epoch with
/// [`epoch`](Training::epoch).
///
/// ```
/// use core::ops::ControlFlow;
/// use stackgrad::batch::Dataset;
/// use stackgrad::loss::SoftmaxCrossEntropy;
/// use stackgrad::nn::{input, Dense, Tanh};
/// use stackgrad::optim::{Adam, Clip};
/// use stackgrad::rand::{SeedableRng, rngs::StdRng};
/// use stackgrad::schedule::CosineAnnealing;
/// use stackgrad::train::{EarlyStopping, Monitor, Training};
///
/// // Two classes: the sign of the first feature; every fifth row validates.
/// let x: Vec<[f64; 2]> = (0..50).map(|i| [i as f64 / 5.0 - 4.9, 1.0]).collect();
/// let y: Vec<usize> = (0..50).map(|i| usize::from(i >= 25)).collect();
/// let (tx, vx): (Vec<_>, Vec<_>) = x.iter().enumerate().partition(|(i, _)| i % 5 != 4);
/// let (ty, vy): (Vec<_>, Vec<_>) = y.iter().enumerate().partition(|(i, _)| i % 5 != 4);
/// let strip = |v: Vec<(usize, &[f64; 2])>| v.into_iter().map(|(_, x)| *x).collect::<Vec<_>>();
/// let strip_y = |v: Vec<(usize, &usize)>| v.into_iter().map(|(_, y)| *y).collect::<Vec<_>>();
/// let (tx, vx, ty, vy) = (strip(tx), strip(vx), strip_y(ty), strip_y(vy));
///
/// let mut rng = StdRng::seed_from_u64(0);
/// let mut net = input::<2>()
///     .then(Dense::<f64, 2, 8>::xavier_uniform(&mut rng))
///     .then(Tanh)
///     .then(Dense::<f64, 8, 2>::xavier_uniform(&mut rng))
///     .build();
/// let mut training = Training::new(SoftmaxCrossEntropy::mean(), Adam::new(0.05).decoupled_weight_decay(1e-4))
///     .batch::<8>()
///     .epochs(40)
///     .schedule(CosineAnnealing::new(40, 0.0)?)
///     .clip(Clip::norm(1.0)?)
///     .early_stopping(EarlyStopping::new(Monitor::ValidationLoss, 5).restore_best_weights());
/// let history = training.fit_with(
///     &mut net,
///     Dataset::new(&tx, &ty)?,
///     Some(Dataset::new(&vx, &vy)?),
///     |e, _steer| {
///         let v = e.validation.unwrap();
///         println!("epoch {:2}  lr {:.4}  loss {:.4}  validation {:.4}", e.epoch, e.lr, e.mean_loss(), v.mean_loss());
///         ControlFlow::Continue(())
///     },
///     |_batch| {},
/// )?;
/// let last = history.last().unwrap();
/// assert_eq!(last.validation.unwrap().accuracy(), Some(1.0));
/// assert_eq!(history[0].lr, 0.05);
/// # Ok::<(), stackgrad::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Training<Lo, O, const B: usize = 1, S = Constant> {
    /// The loss.
    pub loss: Lo,
    /// The optimizer (with its state).
    pub optimizer: O,
    /// Number of epochs (default 1).
    pub epochs: usize,
    /// Seed of the shuffling generator (default 0).
    pub seed: u64,
    /// When to reshuffle (default every epoch).
    pub shuffle: Shuffle,
    /// The learning-rate schedule (default [`Constant`]).
    pub schedule: S,
    /// Gradient clipping before each optimizer step (default none).
    pub clip: Option<Clip>,
    /// Early stopping (default none).
    pub early_stopping: Option<EarlyStopping>,
    /// Where to save the weights whenever the monitored figure improves
    /// (default none).
    #[cfg(feature = "std")]
    pub checkpoint: Option<(std::path::PathBuf, Monitor)>,
    /// What `fit` prints while it trains (default nothing).
    #[cfg(feature = "std")]
    pub progress: crate::progress::Progress,
}

impl<Lo, O> Training<Lo, O, 1> {
    /// One epoch with batches of one, seed 0, reshuffled every epoch, no
    /// schedule, clipping, early stopping, checkpoint or progress display;
    /// set the rest with the builder methods ([`batch`](Training::batch),
    /// [`epochs`](Training::epochs), ...).
    #[must_use]
    pub fn new(loss: Lo, optimizer: O) -> Self {
        Self {
            loss,
            optimizer,
            epochs: 1,
            seed: 0,
            shuffle: Shuffle::EveryEpoch,
            schedule: Constant,
            clip: None,
            early_stopping: None,
            #[cfg(feature = "std")]
            checkpoint: None,
            #[cfg(feature = "std")]
            progress: crate::progress::Progress::Quiet,
        }
    }
}

impl<Lo, O, const B: usize, S> Training<Lo, O, B, S> {
    /// The same configuration with batches of `B2` rows.
    #[must_use]
    pub fn batch<const B2: usize>(self) -> Training<Lo, O, B2, S> {
        Training {
            loss: self.loss,
            optimizer: self.optimizer,
            epochs: self.epochs,
            seed: self.seed,
            shuffle: self.shuffle,
            schedule: self.schedule,
            clip: self.clip,
            early_stopping: self.early_stopping,
            #[cfg(feature = "std")]
            checkpoint: self.checkpoint,
            #[cfg(feature = "std")]
            progress: self.progress,
        }
    }

    /// The same configuration with learning-rate schedule `schedule`
    /// (see [`schedule`](crate::schedule)): its base rate is the optimizer's
    /// rate when `fit` starts, and it sets the rate before the first epoch
    /// and after each epoch (after the callback, from the rate the callback
    /// left).
    #[must_use]
    pub fn schedule<S2>(self, schedule: S2) -> Training<Lo, O, B, S2> {
        Training {
            loss: self.loss,
            optimizer: self.optimizer,
            epochs: self.epochs,
            seed: self.seed,
            shuffle: self.shuffle,
            schedule,
            clip: self.clip,
            early_stopping: self.early_stopping,
            #[cfg(feature = "std")]
            checkpoint: self.checkpoint,
            #[cfg(feature = "std")]
            progress: self.progress,
        }
    }

    /// Sets the number of epochs.
    #[must_use]
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }

    /// Sets the seed of the batch order.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets when the batch order is reshuffled.
    #[must_use]
    pub fn shuffle(mut self, shuffle: Shuffle) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// Clips every batch's gradients (after the finiteness check, before the
    /// optimizer step); the norm before clipping goes to the per-batch hook
    /// and, as the epoch's largest, into [`EpochStats::max_grad_norm`].
    #[must_use]
    pub fn clip(mut self, clip: Clip) -> Self {
        self.clip = Some(clip);
        self
    }

    /// Stops training early (and optionally restores the best weights), see
    /// [`EarlyStopping`].
    #[must_use]
    pub fn early_stopping(mut self, early_stopping: EarlyStopping) -> Self {
        self.early_stopping = Some(early_stopping);
        self
    }

    /// Saves the network (parameters and buffers, with [`io::save`](crate::io::save))
    /// to `path` after every epoch whose `monitor` figure is the best so far,
    /// so the file holds the best weights seen. Writing the file allocates;
    /// epochs that do not improve write nothing.
    #[cfg(feature = "std")]
    #[must_use]
    pub fn checkpoint(mut self, path: impl Into<std::path::PathBuf>, monitor: Monitor) -> Self {
        self.checkpoint = Some((path.into(), monitor));
        self
    }

    /// Sets what `fit` prints while it trains (see
    /// [`Progress`](crate::progress::Progress)).
    #[cfg(feature = "std")]
    #[must_use]
    pub fn progress(mut self, progress: crate::progress::Progress) -> Self {
        self.progress = progress;
        self
    }

    /// One epoch over `order` (no heap): for each batch, [`backprop`], the
    /// finiteness check, clipping, then the optimizer step and the check of
    /// the weights it produced. `work` holds the gradients and the forward
    /// cache across batches and epochs (see [`Workspace`]); after the call,
    /// `work.grads` holds the last batch's gradients.
    ///
    /// # Errors
    /// [`Error::NonFinite`] (weights left as before the offending batch),
    /// [`Error::NonFiniteStep`] (weights left as before the offending step),
    /// [`Error::BatchOrder`], [`Error::LabelOutOfRange`].
    pub fn epoch<T, P, Y, const N: usize, const C: usize>(
        &mut self,
        epoch: usize,
        net: &mut P,
        work: &mut Workspace<P, Matrix<T, B, N>>,
        data: Dataset<'_, T, N, Y>,
        order: &[usize],
    ) -> Result<EpochStats<T>, Error>
    where
        T: Scalar,
        P: Layer<Matrix<T, B, N>, Output = Matrix<T, B, C>> + Params<T>,
        Lo: Loss<Matrix<T, 1, C>, Y::One, Value = T> + Reduced,
        O: Optimizer<T, P>,
        Y: Target<C>,
    {
        self.epoch_with(epoch, net, work, data, order, None)
    }

    /// [`epoch`](Training::epoch), calling `on_batch` after each optimizer
    /// step.
    ///
    /// # Errors
    /// As [`epoch`](Training::epoch).
    pub fn epoch_with<T, P, Y, const N: usize, const C: usize>(
        &mut self,
        epoch: usize,
        net: &mut P,
        work: &mut Workspace<P, Matrix<T, B, N>>,
        data: Dataset<'_, T, N, Y>,
        order: &[usize],
        mut on_batch: Option<BatchHook<'_, T>>,
    ) -> Result<EpochStats<T>, Error>
    where
        T: Scalar,
        P: Layer<Matrix<T, B, N>, Output = Matrix<T, B, C>> + Params<T>,
        Lo: Loss<Matrix<T, 1, C>, Y::One, Value = T> + Reduced,
        O: Optimizer<T, P>,
        Y: Target<C>,
    {
        // A small network's epoch runs in one runtime SIMD dispatch, its
        // layers inlined (see `crate::simd::run_epoch`).
        crate::simd::run_epoch::<T, P, _>(
            #[inline(always)]
            || {
                let mut stats = EpochStats::new(epoch);
                stats.lr = self.optimizer.learning_rate();
                let Workspace {
                    grads,
                    before,
                    cache,
                } = &mut *work;
                // One batch, refilled in place (`stats` counts the batches):
                // an iterator moved every batch through memory.
                let mut batches = Batches::<T, N, Y, B>::new(data, order)?;
                let Some(mut batch) = batches.next() else {
                    return Ok(stats);
                };
                // Steps counted over the whole run, so that every batch of
                // every epoch draws its own dropout mask.
                let per_epoch = order.len().div_ceil(B);
                let first_step = (epoch.max(1) as u64 - 1) * per_epoch as u64;
                loop {
                    let ctx = Ctx::new(batch.len(), first_step + stats.batches as u64, self.seed);
                    let s = backprop_reusing(net, &self.loss, &batch, grads, cache, &ctx)?;
                    let bad = if s.loss.is_finite() {
                        first_non_finite(grads).map(Some)
                    } else {
                        Some(None)
                    };
                    if let Some(tensor) = bad {
                        return Err(Error::NonFinite {
                            epoch,
                            batch: stats.batches + 1,
                            tensor,
                        });
                    }
                    let grad_norm = self.clip.map(|c| c.apply(grads));
                    // The step, checked: a weight made NaN or infinite (by a
                    // huge learning rate, say) puts every parameter back.
                    copy_state(net, before, P::TENSORS);
                    self.optimizer.step(net, grads);
                    if let Some(tensor) = first_non_finite(net) {
                        copy_state(before, net, P::TENSORS);
                        return Err(Error::NonFiniteStep {
                            epoch,
                            batch: stats.batches + 1,
                            tensor,
                        });
                    }
                    if let Some((_, c, _)) = cache.as_ref() {
                        net.update(&batch.x, c); // running statistics
                    }
                    stats.add(&s);
                    if let Some(n) = grad_norm {
                        stats.max_grad_norm = Some(stats.max_grad_norm.map_or(n, |m| m.max(n)));
                    }
                    if let Some(f) = on_batch.as_mut() {
                        f(&BatchEnd {
                            epoch,
                            batch: stats.batches,
                            batches: per_epoch,
                            stats: s,
                            so_far: stats,
                            grad_norm,
                        });
                    }
                    if !batches.refill(&mut batch) {
                        return Ok(stats);
                    }
                }
            },
        )
    }

    /// Trains `net` on `data` for the configured epochs, calling `on_epoch`
    /// after each epoch with its statistics and a [`Steer`] (the network, and
    /// the optimizer to adjust), and returns every epoch's statistics.
    /// `on_epoch` returns `()` or a [`ControlFlow`](core::ops::ControlFlow):
    /// `Break(())` stops training after that epoch. The same seed, data,
    /// network and build give bit-identical weights and history.
    ///
    /// [`fit_with`](Training::fit_with) adds a validation set and a
    /// per-batch hook.
    ///
    /// # Where it runs, and what it costs
    /// The epochs (and `on_epoch`) run on a worker thread whose stack is
    /// sized from the network's types, [`fit_stack_bytes`]: the gradients,
    /// the forward cache and the batch live there, once per `fit`, so a
    /// convolutional network trains in a debug build (whose temporaries take
    /// several times the release build's stack) whatever the calling
    /// thread's stack. Hence the `Send` bounds; a panic in `on_epoch` is
    /// resumed on the calling thread. Should the system refuse a thread,
    /// training runs on the calling thread instead. Allocations: the
    /// thread's stack, the index order and the history, once per `fit`;
    /// nothing per step. [`epoch`](Training::epoch) runs on the caller's
    /// thread and stack (also without `std`).
    ///
    /// # Errors
    /// Before training: [`Error::LabelOutOfRange`] (checked for every row),
    /// [`Error::ZeroBatchSize`], [`Error::InvalidSetting`] (the optimizer's
    /// or the schedule's settings, also checked after every callback and
    /// every scheduled rate), [`Error::Unmonitorable`]. While training:
    /// [`Error::NonFinite`], which stops training with the weights from
    /// before the offending batch, and [`Error::NonFiniteStep`], with the
    /// weights from before the offending step; [`Error::Io`] when a
    /// checkpoint cannot be written.
    #[cfg(feature = "std")]
    pub fn fit<'a, T, P, Y, R, D, const N: usize, const C: usize>(
        &mut self,
        net: &mut P,
        data: D,
        on_epoch: impl FnMut(&EpochStats<T>, &mut Steer<'_, P, O>) -> R + Send,
    ) -> Result<std::vec::Vec<EpochStats<T>>, Error>
    where
        D: DataFor<'a, T, N, Y>,
        T: Scalar + 'a,
        Y: 'a,
        P: Layer<Matrix<T, B, N>, Output = Matrix<T, B, C>> + Params<T> + Send,
        Lo: Loss<Matrix<T, 1, C>, Y::One, Value = T> + Reduced + Send,
        O: Optimizer<T, P> + Send,
        S: crate::schedule::Schedule + Send,
        Y: Target<C> + Sync,
        R: Flow,
    {
        self.fit_with(net, data, None, on_epoch, |_: &BatchEnd<T>| {})
    }

    /// [`fit`](Training::fit) with an optional validation set, evaluated in
    /// evaluation mode ([`Layer::infer`]) after every epoch into
    /// [`EpochStats::validation`], and a hook `on_batch` called after every
    /// optimizer step.
    ///
    /// # Errors
    /// As [`fit`](Training::fit); [`Error::LabelOutOfRange`] also for the
    /// validation set.
    #[cfg(feature = "std")]
    pub fn fit_with<'a, T, P, Y, R, D, const N: usize, const C: usize>(
        &mut self,
        net: &mut P,
        data: D,
        validation: Option<D>,
        on_epoch: impl FnMut(&EpochStats<T>, &mut Steer<'_, P, O>) -> R + Send,
        on_batch: impl FnMut(&BatchEnd<T>) + Send,
    ) -> Result<std::vec::Vec<EpochStats<T>>, Error>
    where
        D: DataFor<'a, T, N, Y>,
        T: Scalar + 'a,
        Y: 'a,
        P: Layer<Matrix<T, B, N>, Output = Matrix<T, B, C>> + Params<T> + Send,
        Lo: Loss<Matrix<T, 1, C>, Y::One, Value = T> + Reduced + Send,
        O: Optimizer<T, P> + Send,
        S: crate::schedule::Schedule + Send,
        Y: Target<C> + Sync,
        R: Flow,
    {
        let (data, validation) = (data.dataset(), validation.map(DataFor::dataset));
        let bytes = fit_stack_bytes::<P, Matrix<T, B, N>>();
        on_worker(bytes, || {
            self.fit_here(net, data, validation, on_epoch, on_batch)
        })
    }

    /// Sets the optimizer's rate to the schedule's `lr`, refusing a rate
    /// that is negative or not finite.
    #[cfg(feature = "std")]
    fn set_rate<T: Scalar, P: Params<T>>(&mut self, lr: f64) -> Result<(), Error>
    where
        O: Optimizer<T, P>,
    {
        crate::optim::require(
            lr.is_finite() && lr >= 0.0,
            "schedule",
            "lr",
            lr,
            "finite and at least 0",
        )?;
        self.optimizer.set_learning_rate(T::from_f64(lr));
        self.optimizer.check()
    }

    /// [`fit_with`](Training::fit_with) on the calling thread.
    #[cfg(feature = "std")]
    fn fit_here<T, P, Y, R, const N: usize, const C: usize>(
        &mut self,
        net: &mut P,
        data: Dataset<'_, T, N, Y>,
        validation: Option<Dataset<'_, T, N, Y>>,
        mut on_epoch: impl FnMut(&EpochStats<T>, &mut Steer<'_, P, O>) -> R,
        mut on_batch: impl FnMut(&BatchEnd<T>),
    ) -> Result<std::vec::Vec<EpochStats<T>>, Error>
    where
        T: Scalar,
        P: Layer<Matrix<T, B, N>, Output = Matrix<T, B, C>> + Params<T>,
        Lo: Loss<Matrix<T, 1, C>, Y::One, Value = T> + Reduced,
        O: Optimizer<T, P>,
        S: crate::schedule::Schedule,
        Y: Target<C>,
        R: Flow,
    {
        use rand::SeedableRng;
        for set in core::iter::once(data).chain(validation) {
            for (i, y) in set.targets().iter().enumerate() {
                y.one(i)?;
            }
        }
        if B == 0 {
            return Err(Error::ZeroBatchSize);
        }
        self.optimizer.check()?;
        self.schedule.check()?;
        let stopping = self.early_stopping;
        let checkpoint = self.checkpoint.clone();
        for m in stopping
            .map(|s| s.monitor)
            .into_iter()
            .chain(checkpoint.as_ref().map(|c| c.1))
        {
            let accuracy = data
                .targets()
                .first()
                .is_some_and(|y| self.loss.correct(&[T::zero(); C], y).is_some());
            m.check(accuracy, validation.is_some())?;
        }
        // The schedule runs in f64 from the optimizer's rate; `scheduled`
        // is the last rate it set, so that a rate the callback changed is
        // read back from the optimizer and one it left keeps its f64 bits.
        let base = self.optimizer.learning_rate().as_f64();
        let mut scheduled = self.schedule.lr(0, base, base);
        self.set_rate::<T, P>(scheduled)?;

        let mut rng = rand::rngs::StdRng::seed_from_u64(self.seed);
        let mut order: std::vec::Vec<usize> = (0..data.len()).collect();
        let validation_order: std::vec::Vec<usize> =
            (0..validation.map_or(0, |v| v.len())).collect();
        let mut work = Workspace::new(net);
        let (mut best_stop, mut best_saved) = (Best::NONE, Best::NONE);
        let mut best_net: Option<P> = None;
        let mut progress = self.progress.start(self.epochs);
        let mut history = std::vec::Vec::new(); // not with_capacity(epochs): any epoch count is valid
        for epoch in 1..=self.epochs {
            if self.shuffle == Shuffle::EveryEpoch || (self.shuffle == Shuffle::Once && epoch == 1)
            {
                crate::batch::shuffle(&mut order, &mut rng);
            }
            let mut hook = |b: &BatchEnd<T>| {
                progress.batch(b);
                on_batch(b);
            };
            let mut stats =
                self.epoch_with(epoch, net, &mut work, data, &order, Some(&mut hook))?;
            if let Some(v) = validation {
                let e = Self::evaluate_here(&self.loss, net, v, &validation_order)?;
                stats.validation = Some(e.into());
            }
            progress.epoch(&stats);
            let mut stop = false;
            if let Some(es) = stopping {
                if best_stop.observe(es.monitor.value(&stats), es.min_delta) && es.restore_best {
                    let snapshot = best_net.get_or_insert_with(|| net.zeros_like());
                    copy_state(net, snapshot, P::TENSORS + P::BUFFERS);
                }
                stop = best_stop.stale >= es.patience;
            }
            if let Some((path, monitor)) = &checkpoint
                && best_saved.observe(monitor.value(&stats), 0.0)
            {
                crate::io::save(net, path, &[])?;
            }
            let flow = on_epoch(
                &stats,
                &mut Steer {
                    net,
                    optimizer: &mut self.optimizer,
                },
            )
            .flow();
            history.push(stats);
            self.optimizer.check()?;
            if stop || flow.is_break() {
                break;
            }
            if epoch < self.epochs {
                let lr = self.optimizer.learning_rate();
                let current = if lr == T::from_f64(scheduled) {
                    scheduled
                } else {
                    lr.as_f64()
                };
                scheduled = self.schedule.lr(epoch, base, current);
                self.set_rate::<T, P>(scheduled)?;
            }
        }
        if let Some(best) = &best_net {
            copy_state(best, net, P::TENSORS + P::BUFFERS);
        }
        Ok(history)
    }

    /// Loss and accuracy of `net` on `data` (in order, batches of `B`, no
    /// update, evaluation mode); `epoch` is 0 in the result. Like
    /// [`fit`](Training::fit), it runs on a worker thread whose stack is
    /// sized from the network's types.
    ///
    /// # Errors
    /// [`Error::LabelOutOfRange`], [`Error::ZeroBatchSize`].
    #[cfg(feature = "std")]
    pub fn evaluate<'a, T, P, Y, D, const N: usize, const C: usize>(
        &self,
        net: &P,
        data: D,
    ) -> Result<EpochStats<T>, Error>
    where
        D: DataFor<'a, T, N, Y>,
        T: Scalar + 'a,
        Y: 'a,
        P: Layer<Matrix<T, B, N>, Output = Matrix<T, B, C>> + Sync,
        Lo: Loss<Matrix<T, 1, C>, Y::One, Value = T> + Reduced + Sync,
        Y: Target<C> + Sync,
    {
        let data = data.dataset();
        let bytes = fit_stack_bytes::<P, Matrix<T, B, N>>();
        let loss = &self.loss;
        on_worker(bytes, || {
            let order: std::vec::Vec<usize> = (0..data.len()).collect();
            Self::evaluate_here(loss, net, data, &order)
        })
    }

    /// [`evaluate`](Training::evaluate) on the calling thread, over `order`.
    #[cfg(feature = "std")]
    fn evaluate_here<T, P, Y, const N: usize, const C: usize>(
        loss: &Lo,
        net: &P,
        data: Dataset<'_, T, N, Y>,
        order: &[usize],
    ) -> Result<EpochStats<T>, Error>
    where
        T: Scalar,
        P: Layer<Matrix<T, B, N>, Output = Matrix<T, B, C>>,
        Lo: Loss<Matrix<T, 1, C>, Y::One, Value = T> + Reduced,
        Y: Target<C>,
    {
        let mut stats = EpochStats::new(0);
        if B == 0 {
            return Err(Error::ZeroBatchSize);
        }
        for batch in Batches::<T, N, Y, B>::new(data, order)? {
            let z = net.infer(&batch.x);
            stats.add(&loss_rows(&z, loss, &batch, |_| {})?);
        }
        Ok(stats)
    }
}

/// The stack [`Training::fit`] and [`Training::evaluate`] give their worker
/// thread for a network `P` fed batches `In`: 8 MiB (the usual main thread's
/// stack, for the callback and the code around the network), plus 48 times
/// the bytes of the network, its gradients, its forward output, two caches
/// (the forward's and the backward's scratch) and the batch. The factor
/// covers a debug build, which gives every temporary of the inlined
/// training step a stack slot of its own: example 07's residual CNN at batch
/// 32 needed between 24 and 32 times those bytes in debug (a release build
/// needs a small part of it). Plus 8 times the network's bytes for the two
/// copies of its weights the loop keeps (before each step, and the best
/// epoch's for early stopping), made once and written in place. The stack
/// is reserved, not touched: the system commits only the pages a run uses.
/// For a hand-written
/// pass, see [`stack_bytes`](crate::nn::stack_bytes).
///
/// ```
/// use stackgrad::nn::{Dense, Net, Relu};
/// use stackgrad::train::fit_stack_bytes;
/// use stackgrad::Matrix;
/// type Mlp = Net<(Dense<f32, 64, 64>, Relu, Dense<f32, 64, 10>)>;
/// let bytes = fit_stack_bytes::<Mlp, Matrix<f32, 32, 64>>();
/// assert!(bytes > 8 << 20 && bytes < 16 << 20);
/// ```
#[must_use]
pub const fn fit_stack_bytes<P: Layer<In>, In>() -> usize {
    let values =
        2 * size_of::<P>() + size_of::<In>() + size_of::<P::Output>() + 2 * size_of::<P::Cache>();
    // The weights before each step and the best epoch's weights, made once
    // and written in place.
    (8 << 20) + 48 * values + 8 * size_of::<P>()
}

/// Runs `f` on a scoped worker thread with a stack of `bytes`, or on this
/// thread if the system refuses the thread; a panic in `f` is resumed here.
#[cfg(feature = "std")]
fn on_worker<R: Send>(bytes: usize, f: impl FnOnce() -> R + Send) -> R {
    let slot = std::sync::Mutex::new(Some(f));
    let take = || slot.lock().ok().and_then(|mut f| f.take());
    let spawned = std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("stackgrad-train".into())
            .stack_size(bytes)
            .spawn_scoped(scope, || take().map(|f| f()))
            .ok()?;
        Some(match worker.join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        })
    });
    match spawned.flatten() {
        Some(r) => r,
        // No thread: `f` is still in its slot.
        None => (take().expect("f ran neither on a worker nor here"))(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{Dense, Sigmoid};
    use core::ops::ControlFlow;
    use rand::{SeedableRng, rngs::StdRng};

    type Net = (Dense<f64, 2, 5>, Sigmoid, Dense<f64, 5, 3>);

    fn net(seed: u64) -> Net {
        let mut rng = StdRng::seed_from_u64(seed);
        (
            Dense::xavier_uniform(&mut rng),
            Sigmoid,
            Dense::xavier_uniform(&mut rng),
        )
    }

    fn data() -> (Vec<[f64; 2]>, Vec<usize>) {
        let x = (0..13)
            .map(|i| [(i as f64 * 0.7).sin() * 2.0, (i as f64 * 1.3).cos()])
            .collect();
        let y = (0..13).map(|i| i % 3).collect();
        (x, y)
    }

    /// A padded batch (3 real rows of 8) gives bit for bit the loss and
    /// gradients of the same 3 rows as a batch of 3 through the batch loss, for
    /// both reductions; the 5 padding rows add nothing.
    #[test]
    fn padding_rows_change_neither_loss_nor_gradients() {
        let (x, y) = data();
        let ds = Dataset::new(&x, &y).unwrap();
        let order = [4, 11, 7];
        let n = net(3);
        for lossf in [SoftmaxCrossEntropy::sum(), SoftmaxCrossEntropy::mean()] {
            let padded = Batches::<f64, 2, usize, 8>::new(ds, &order)
                .unwrap()
                .next()
                .unwrap();
            assert_eq!(padded.len(), 3);
            let mut g_pad = n.zeros_like();
            let s = backprop(&n, &lossf, &padded, &mut g_pad).unwrap();

            let exact = Batches::<f64, 2, usize, 3>::new(ds, &order)
                .unwrap()
                .next()
                .unwrap();
            let (z, cache) = n.forward(&exact.x);
            let labels = Labels::<3, 3>::new(exact.y).unwrap();
            let (l, dz) = lossf.loss_and_grad(&z, &labels);
            let mut g_exact = n.zeros_like();
            n.backward(&exact.x, &z, &cache, &dz, &mut g_exact);

            assert_eq!(s.loss, l);
            assert_eq!(s.len, 3);
            for k in 0..<Net as Params<f64>>::TENSORS {
                assert_eq!(
                    g_pad.tensor(k).unwrap().data,
                    g_exact.tensor(k).unwrap().data
                );
            }
            assert!(g_pad.tensor(0).unwrap().data.iter().any(|&g| g != 0.0));
        }
    }

    #[test]
    #[cfg(feature = "std")] // `fit` needs std
    fn every_sample_is_used_once_per_epoch() {
        let (x, y) = data();
        let mut n = net(1);
        let mut t = Training::new(SoftmaxCrossEntropy::sum(), crate::optim::Sgd::new(0.0))
            .batch::<5>()
            .epochs(3);
        let h = t
            .fit(&mut n, Dataset::new(&x, &y).unwrap(), |_, _| {})
            .unwrap();
        // Learning rate 0: the weights never change, so each epoch's summed loss
        // is the loss of the whole data set in one batch.
        let (z, _) = Layer::<Matrix<f64, 13, 2>>::forward(&n, &Matrix::from_fn(|r, c| x[r][c]));
        let mut labels = [0; 13];
        labels.copy_from_slice(&y);
        let whole: f64 =
            SoftmaxCrossEntropy::sum().loss(&z, &Labels::<13, 3>::new(labels).unwrap());
        for e in &h {
            assert_eq!((e.examples, e.batches), (13, 3));
            assert!(
                (e.total_loss - whole).abs() < 1e-12,
                "{} vs {whole}",
                e.total_loss
            );
        }
    }

    #[test]
    #[cfg(feature = "std")] // `fit` needs std
    fn out_of_range_label_is_an_error_before_training() {
        let x = [[0.0f64; 2]; 3];
        let y = [0usize, 3, 1];
        let mut n = net(0);
        let before = n;
        let mut t = Training::new(SoftmaxCrossEntropy::sum(), crate::optim::Sgd::new(0.1));
        let e = t
            .fit(&mut n, Dataset::new(&x, &y).unwrap(), |_, _| {})
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "label 3 at row 1 is out of range: there are 3 classes (0..=2)"
        );
        assert_eq!(n, before);
    }

    /// A NaN input in the third batch stops training at epoch 1, batch 3, with
    /// the weights reached after batches 1 and 2 (checked against training on
    /// those 4 rows alone).
    #[test]
    #[cfg(feature = "std")] // `fit` needs std
    fn non_finite_loss_stops_with_epoch_and_batch_and_keeps_weights() {
        let (mut x, y) = data();
        x[5][1] = f64::NAN;
        let sgd = crate::optim::Sgd::new(0.1);
        let mut n = net(2);
        let mut t = Training::new(SoftmaxCrossEntropy::sum(), sgd)
            .batch::<2>()
            .epochs(4)
            .shuffle(Shuffle::Never);
        let e = t
            .fit(&mut n, Dataset::new(&x, &y).unwrap(), |_, _| {})
            .unwrap_err();
        assert_eq!(
            e,
            Error::NonFinite {
                epoch: 1,
                batch: 3,
                tensor: None
            }
        );
        assert_eq!(
            e.to_string(),
            "training stopped at epoch 1, batch 3: the loss is not finite (weights kept from before this batch)"
        );
        let mut want = net(2);
        Training::new(SoftmaxCrossEntropy::sum(), sgd)
            .batch::<2>()
            .shuffle(Shuffle::Never)
            .fit(
                &mut want,
                Dataset::new(&x[..4], &y[..4]).unwrap(),
                |_, _| {},
            )
            .unwrap();
        assert_eq!(n, want);
        assert_ne!(n, net(2));
    }

    /// A loss whose value is finite but whose gradient is infinite for one class.
    #[cfg(feature = "std")]
    #[derive(Clone, Copy)]
    struct InfGrad;
    #[cfg(feature = "std")]
    impl Loss<Matrix<f64, 1, 3>, Labels<1, 3>> for InfGrad {
        type Value = f64;
        fn loss(&self, _: &Matrix<f64, 1, 3>, _: &Labels<1, 3>) -> f64 {
            1.0
        }
        fn loss_and_grad(
            &self,
            _: &Matrix<f64, 1, 3>,
            y: &Labels<1, 3>,
        ) -> (f64, Matrix<f64, 1, 3>) {
            let g = if y.as_array()[0] == 2 {
                f64::INFINITY
            } else {
                0.5
            };
            (1.0, Matrix::splat(g))
        }
    }
    #[cfg(feature = "std")]
    impl Reduced for InfGrad {
        fn reduction(&self) -> Reduction {
            Reduction::Sum
        }
    }

    #[test]
    #[cfg(feature = "std")] // `fit` needs std
    fn non_finite_gradient_names_the_tensor_and_keeps_weights() {
        let (x, y) = data(); // row 2 is the first of class 2
        let mut n = net(4);
        let mut t = Training::new(InfGrad, crate::optim::Sgd::new(0.1))
            .batch::<2>()
            .epochs(2)
            .shuffle(Shuffle::Never);
        let e = t
            .fit(&mut n, Dataset::new(&x, &y).unwrap(), |_, _| {})
            .unwrap_err();
        assert!(
            matches!(e, Error::NonFinite { epoch: 1, batch: 2, tensor: Some(name) } if name == "0.weight"),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "training stopped at epoch 1, batch 2: the gradient of 0.weight is not finite (weights kept from before this batch)"
        );
        assert!(n.tensor(0).unwrap().data.iter().all(|w| w.is_finite()));
    }

    /// Regression targets (`[T; C]` rows) with both squared errors: a linear
    /// layer fits `y = 2x + 1` exactly (the least-squares solution), and no
    /// accuracy is reported.
    #[test]
    #[cfg(feature = "std")] // `fit` needs std
    fn regression_targets_fit_a_line() {
        let x: Vec<[f64; 1]> = (0..10).map(|i| [i as f64 / 5.0 - 1.0]).collect();
        let y: Vec<[f64; 1]> = x.iter().map(|v| [2.0 * v[0] + 1.0]).collect();
        let data = Dataset::new(&x, &y).unwrap();
        let mut a = Dense::<f64, 1, 1>::zeros();
        let h = Training::new(HalfSquaredError, crate::optim::Sgd::new(0.05))
            .batch::<4>()
            .epochs(300)
            .fit(&mut a, data, |_, _| {})
            .unwrap();
        let mut b = Dense::<f64, 1, 1>::zeros();
        Training::new(MeanSquaredError, crate::optim::Momentum::new(0.05, 0.9))
            .batch::<3>()
            .epochs(300)
            .fit(&mut b, data, |_, _| {})
            .unwrap();
        for l in [a, b] {
            assert!((l.weight[(0, 0)] - 2.0).abs() < 1e-9, "{:?}", l);
            assert!((l.bias[0] - 1.0).abs() < 1e-9, "{:?}", l);
        }
        assert_eq!(h[299].accuracy(), None);
        assert!(h[299].total_loss < 1e-18);
    }

    /// Element-wise losses through the loop, every reduction: a padded
    /// batch (3 real rows of 8) gives the loss and gradients of the batch of
    /// its 3 real rows (to rounding: the loop sums per-row means).
    #[test]
    fn elementwise_losses_ignore_padding_rows() {
        fn check<L>(loss: L)
        where
            L: Loss<Matrix<f64, 1, 3>, Matrix<f64, 1, 3>, Value = f64>
                + Loss<Matrix<f64, 3, 3>, Matrix<f64, 3, 3>, Value = f64>
                + Reduced,
        {
            let x: Vec<[f64; 2]> = (0..13)
                .map(|i| [(i as f64 * 0.7).sin(), (i as f64 * 1.3).cos()])
                .collect();
            let y: Vec<[f64; 3]> = (0..13)
                .map(|i| [(i % 2) as f64, 0.25 * (i % 5) as f64, 0.9])
                .collect();
            let ds = Dataset::new(&x, &y).unwrap();
            let order = [4, 11, 7];
            let n = Dense::<f64, 2, 3>::xavier_uniform(&mut StdRng::seed_from_u64(3));
            let padded = Batches::<f64, 2, [f64; 3], 8>::new(ds, &order)
                .unwrap()
                .next()
                .unwrap();
            let mut g_pad = n.zeros_like();
            let s = backprop(&n, &loss, &padded, &mut g_pad).unwrap();
            let exact = Batches::<f64, 2, [f64; 3], 3>::new(ds, &order)
                .unwrap()
                .next()
                .unwrap();
            let (z, cache) = n.forward(&exact.x);
            let (l, dz) = loss.loss_and_grad(&z, &Matrix::from_array(exact.y));
            let mut g_exact = n.zeros_like();
            n.backward(&exact.x, &z, &cache, &dz, &mut g_exact);
            assert!((s.loss - l).abs() <= 1e-15 * l.abs(), "{} vs {l}", s.loss);
            for k in 0..2 {
                let (a, b) = (
                    g_pad.tensor(k).unwrap().data,
                    g_exact.tensor(k).unwrap().data,
                );
                for (a, b) in a.iter().zip(b) {
                    assert!((a - b).abs() <= 1e-15, "{a} vs {b}");
                }
            }
        }
        for r in [Reduction::Sum, Reduction::Mean, Reduction::BatchMean] {
            check(MeanSquaredError.with(r));
            check(HalfSquaredError.with(r));
            check(BinaryCrossEntropyWithLogits { reduction: r });
        }
        check(MeanSquaredError);
        check(HalfSquaredError::batch_mean());
    }

    /// The binary cross-entropies report binary accuracy (a logit above 0,
    /// a probability above ½, where the target is 1): zero weights predict
    /// "negative" everywhere, right on the 10 negatives of 20; a trained
    /// logistic regression separates the line.
    #[test]
    #[cfg(feature = "std")] // `fit` needs std
    fn binary_cross_entropies_report_binary_accuracy() {
        let x: Vec<[f64; 1]> = (0..20).map(|i| [i as f64 - 9.5]).collect();
        let y: Vec<[f64; 1]> = x
            .iter()
            .map(|v| [f64::from(u8::from(v[0] > 0.0))])
            .collect();
        let data = Dataset::new(&x, &y).unwrap();

        let mut a = Dense::<f64, 1, 1>::zeros();
        let mut t = Training::new(
            BinaryCrossEntropyWithLogits::default(),
            crate::optim::Sgd::new(0.5),
        )
        .batch::<4>()
        .epochs(30);
        assert_eq!(t.evaluate(&a, data).unwrap().accuracy(), Some(0.5));
        t.fit(&mut a, data, |_, _| {}).unwrap();
        assert_eq!(t.evaluate(&a, data).unwrap().accuracy(), Some(1.0));

        let mut b = (Dense::<f64, 1, 1>::zeros(), Sigmoid);
        let mut t = Training::new(BinaryCrossEntropy::default(), crate::optim::Sgd::new(0.5))
            .batch::<4>()
            .epochs(30)
            .early_stopping(EarlyStopping::new(Monitor::TrainingAccuracy, 100));
        assert_eq!(t.evaluate(&b, data).unwrap().accuracy(), Some(0.5));
        t.fit(&mut b, data, |_, _| {}).unwrap();
        assert_eq!(t.evaluate(&b, data).unwrap().accuracy(), Some(1.0));

        // A wrapped binary cross-entropy keeps its accuracy; squared errors have none.
        let bce = BinaryCrossEntropyWithLogits::default().with(Reduction::Sum);
        assert_eq!(bce.correct(&[0.3], &[1.0]), Some(true));
        assert_eq!(bce.correct(&[0.3], &[0.0]), Some(false));
        assert_eq!(MeanSquaredError.correct(&[0.3], &[1.0]), None);
        let e = Training::new(MeanSquaredError, crate::optim::Sgd::new(0.1))
            .batch::<4>()
            .early_stopping(EarlyStopping::new(Monitor::TrainingAccuracy, 3))
            .fit(&mut a, data, |_, _| {})
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot monitor the training accuracy: accuracy needs class targets, or 0/1 targets with a binary cross-entropy"
        );
    }

    /// Training data split into a training part and a validation part.
    #[cfg(feature = "std")]
    type Split = (Vec<[f64; 2]>, Vec<usize>, Vec<[f64; 2]>, Vec<usize>);

    #[cfg(feature = "std")]
    fn split() -> Split {
        let x: Vec<[f64; 2]> = (0..40)
            .map(|i| [(i as f64 * 0.7).sin() * 2.0, (i as f64 * 1.3).cos()])
            .collect();
        let y: Vec<usize> = (0..40).map(|i| (i * 7 % 11) % 3).collect(); // hard to fit: overfits
        let (mut tx, mut ty, mut vx, mut vy) = (vec![], vec![], vec![], vec![]);
        for (i, (x, y)) in x.into_iter().zip(y).enumerate() {
            if i % 4 == 3 {
                vx.push(x);
                vy.push(y);
            } else {
                tx.push(x);
                ty.push(y);
            }
        }
        (tx, ty, vx, vy)
    }

    /// Early stopping with restore-best-weights puts back, bit for bit, the
    /// weights the network had after the best validation epoch: the same
    /// run without early stopping, stopped by the callback at that epoch,
    /// ends with exactly those weights.
    #[test]
    #[cfg(feature = "std")]
    fn early_stopping_restores_the_best_weights_bit_for_bit() {
        let (tx, ty, vx, vy) = split();
        let (train, val) = (
            Dataset::new(&tx, &ty).unwrap(),
            Dataset::new(&vx, &vy).unwrap(),
        );
        let config = || {
            Training::new(SoftmaxCrossEntropy::mean(), crate::optim::Adam::new(0.05))
                .batch::<4>()
                .epochs(200)
                .seed(7)
        };
        let mut n = net(5);
        let stopping = EarlyStopping::new(Monitor::ValidationLoss, 4).restore_best_weights();
        let h = config()
            .early_stopping(stopping)
            .fit_with(&mut n, train, Some(val), |_, _| {}, |_| {})
            .unwrap();
        assert!(h.len() < 200, "never stopped");
        let losses: Vec<f64> = h
            .iter()
            .map(|e| e.validation.unwrap().mean_loss())
            .collect();
        let best = (0..losses.len())
            .min_by(|&a, &b| losses[a].total_cmp(&losses[b]))
            .unwrap();
        // It stopped `patience` epochs after the best one.
        assert_eq!(h.len(), best + 1 + 4, "{losses:?}");
        assert!(best + 1 < h.len());
        // The best epoch's weights, from the same run stopped there.
        let mut want = net(5);
        config()
            .fit(&mut want, train, |e, _| {
                if e.epoch == best + 1 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .unwrap();
        assert_eq!(n, want);
        // And not the last epoch's: without restoring, the weights differ.
        let mut last = net(5);
        config()
            .early_stopping(EarlyStopping::new(Monitor::ValidationLoss, 4))
            .fit_with(&mut last, train, Some(val), |_, _| {}, |_| {})
            .unwrap();
        assert_ne!(last, want);
        // The validation loss of the restored network is the best one.
        let e = config().evaluate(&n, val).unwrap();
        assert_eq!(e.mean_loss(), losses[best]);
    }

    /// A step that overflows the weights (learning rate `f32::MAX`) stops
    /// training with the error and leaves every weight as it was before that
    /// step; the callback never sees the epoch.
    #[test]
    #[cfg(feature = "std")]
    fn a_non_finite_step_stops_training_and_keeps_the_weights() {
        let x: Vec<[f32; 2]> = (0..12).map(|i| [i as f32 * 0.3 - 1.0, 0.5]).collect();
        let y: Vec<usize> = (0..12).map(|i| i % 3).collect();
        let mut rng = StdRng::seed_from_u64(3);
        let start: (Dense<f32, 2, 4>, Sigmoid, Dense<f32, 4, 3>) = (
            Dense::xavier_uniform(&mut rng),
            Sigmoid,
            Dense::xavier_uniform(&mut rng),
        );
        // Three finite steps at a small rate, then a callback sets f32::MAX.
        let mut n = start;
        let mut epochs_seen = 0;
        let e = Training::new(SoftmaxCrossEntropy::sum(), crate::optim::Sgd::new(0.01f32))
            .batch::<4>()
            .epochs(3)
            .shuffle(Shuffle::Never)
            .fit(&mut n, Dataset::new(&x, &y).unwrap(), |_, steer| {
                epochs_seen += 1;
                steer.optimizer().lr = f32::MAX;
            })
            .unwrap_err();
        assert_eq!(epochs_seen, 1);
        assert!(
            matches!(e, Error::NonFiniteStep { epoch: 2, batch: 1, tensor } if tensor == "2.bias"),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "training stopped at epoch 2, batch 1: the optimizer step made 2.bias not finite (weights kept from before this step)"
        );
        // The weights after epoch 1, bit for bit.
        let mut want = start;
        Training::new(SoftmaxCrossEntropy::sum(), crate::optim::Sgd::new(0.01f32))
            .batch::<4>()
            .shuffle(Shuffle::Never)
            .fit(&mut want, Dataset::new(&x, &y).unwrap(), |_, _| {})
            .unwrap();
        assert_eq!(n, want);
        assert_ne!(n, start);
        // Through `epoch` too, with Adam: the step is refused in place.
        let mut t = Training::new(
            SoftmaxCrossEntropy::sum(),
            crate::optim::Adam::new(f32::MAX),
        )
        .batch::<4>();
        let mut n = start;
        let mut work = Workspace::new(&n);
        let e = t
            .epoch(
                1,
                &mut n,
                &mut work,
                Dataset::new(&x, &y).unwrap(),
                &[0, 1, 2, 3],
            )
            .unwrap_err();
        assert!(
            matches!(
                e,
                Error::NonFiniteStep {
                    epoch: 1,
                    batch: 1,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(n, start);
    }

    /// The callback stops training with `ControlFlow::Break`, and changes the
    /// learning rate without borrowing the `Training`; a bad rate set there
    /// is an error naming the setting before the next epoch.
    #[test]
    #[cfg(feature = "std")]
    fn the_callback_steers_and_stops() {
        let (x, y) = data();
        let data = Dataset::new(&x, &y).unwrap();
        let mut t = Training::new(SoftmaxCrossEntropy::sum(), crate::optim::Sgd::new(0.1))
            .batch::<4>()
            .epochs(10);
        let h = t
            .fit(&mut net(0), data, |e, steer| {
                steer.optimizer().lr = 0.1 / (e.epoch + 1) as f64;
                if e.epoch == 4 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .unwrap();
        assert_eq!(h.len(), 4);
        let lrs: Vec<f64> = h.iter().map(|e| e.lr).collect();
        assert_eq!(lrs, [0.1, 0.1 / 2.0, 0.1 / 3.0, 0.1 / 4.0]);
        let e = t
            .fit(&mut net(0), data, |_, steer| steer.optimizer().lr = -0.5)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "SGD: lr = -0.5 must be finite and at least 0"
        );
        let e = Training::new(
            SoftmaxCrossEntropy::sum(),
            crate::optim::Adam::new(f64::NAN),
        )
        .fit(&mut net(0), data, |_, _| {})
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Adam: lr = NaN must be finite and at least 0"
        );
    }

    /// A schedule sets the rate of each epoch as PyTorch's scheduler would:
    /// the history's rates are the schedule's, bit for bit; a rate changed
    /// by the callback carries on through a recurrent schedule.
    #[test]
    #[cfg(feature = "std")]
    fn the_schedule_sets_each_epochs_rate() {
        use crate::schedule::{CosineAnnealing, Exponential, Schedule};
        let (x, y) = data();
        let data = Dataset::new(&x, &y).unwrap();
        let cosine = CosineAnnealing::new(6, 0.001).unwrap();
        let h = Training::new(SoftmaxCrossEntropy::sum(), crate::optim::Adam::new(0.1))
            .batch::<4>()
            .epochs(9)
            .schedule(cosine)
            .fit(&mut net(0), data, |_, _| {})
            .unwrap();
        let want: Vec<f64> = { cosine }.rates(0.1).take(9).collect();
        let got: Vec<f64> = h.iter().map(|e| e.lr).collect();
        assert_eq!(got, want);
        // Exponential decay from a rate the callback halved after epoch 2.
        let h = Training::new(SoftmaxCrossEntropy::sum(), crate::optim::Sgd::new(1.0))
            .batch::<4>()
            .epochs(4)
            .schedule(Exponential::new(0.5).unwrap())
            .fit(&mut net(0), data, |e, steer| {
                if e.epoch == 2 {
                    steer.optimizer().lr *= 0.5;
                }
            })
            .unwrap();
        let got: Vec<f64> = h.iter().map(|e| e.lr).collect();
        assert_eq!(got, [1.0, 0.5, 0.125, 0.0625]);
        // A closure's rate that is negative stops training, naming it.
        let e = Training::new(SoftmaxCrossEntropy::sum(), crate::optim::Sgd::new(1.0))
            .epochs(3)
            .schedule(crate::schedule::Lambda(|e: usize| 1.0 - e as f64))
            .fit(&mut net(0), data, |_, _| {})
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "schedule: lr = -1 must be finite and at least 0"
        );
    }

    /// Validation runs in evaluation mode after every epoch, recorded in the
    /// history; the per-batch hook sees every step; monitors that cannot
    /// exist are refused before training.
    #[test]
    #[cfg(feature = "std")]
    fn validation_per_batch_hook_and_monitors() {
        use crate::nn::Dropout;
        let (tx, ty, vx, vy) = split();
        let (train, val) = (
            Dataset::new(&tx, &ty).unwrap(),
            Dataset::new(&vx, &vy).unwrap(),
        );
        // Dropout: training mode would draw masks; evaluation mode does not.
        let mut rng = StdRng::seed_from_u64(1);
        let mut n = (
            Dense::<f64, 2, 6>::xavier_uniform(&mut rng),
            Dropout::new(0.5).unwrap(),
            Dense::<f64, 6, 3>::xavier_uniform(&mut rng),
        );
        let mut t = Training::new(SoftmaxCrossEntropy::mean(), crate::optim::Sgd::new(0.1))
            .batch::<8>()
            .epochs(3);
        let mut seen = Vec::new();
        let mut nets = Vec::new();
        let h = t
            .fit_with(
                &mut n,
                train,
                Some(val),
                |_, steer| nets.push(*steer.net()),
                |b| seen.push((b.epoch, b.batch, b.batches, b.so_far.examples)),
            )
            .unwrap();
        assert_eq!(seen.len(), 3 * 4); // 30 rows: batches of 8, 8, 8, 6
        assert_eq!(seen[3], (1, 4, 4, 30));
        assert_eq!(seen[4], (2, 1, 4, 8));
        for (e, n) in h.iter().zip(&nets) {
            let want: Evaluation<f64> = t.evaluate(n, val).unwrap().into();
            assert_eq!(e.validation, Some(want));
            assert_eq!(want.examples, 10);
        }
        let e = t
            .clone()
            .early_stopping(EarlyStopping::new(Monitor::ValidationLoss, 2))
            .fit(&mut n, train, |_, _| {})
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot monitor the validation loss: fit was given no validation set"
        );
        let x = [[0.0f64; 2]; 3];
        let y = [[1.0f64, 0.0, 0.0]; 3];
        let e = Training::new(SoftmaxCrossEntropy::mean(), crate::optim::Sgd::new(0.1))
            .early_stopping(EarlyStopping::new(Monitor::TrainingAccuracy, 2))
            .fit(&mut net(0), Dataset::new(&x, &y).unwrap(), |_, _| {})
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot monitor the training accuracy: accuracy needs class targets, or 0/1 targets with a binary cross-entropy"
        );
    }

    /// The checkpoint file holds the weights of the best epoch.
    #[test]
    #[cfg(feature = "std")]
    fn the_checkpoint_holds_the_best_weights() {
        let (tx, ty, vx, vy) = split();
        let (train, val) = (
            Dataset::new(&tx, &ty).unwrap(),
            Dataset::new(&vx, &vy).unwrap(),
        );
        let path =
            std::env::temp_dir().join(format!("stackgrad-best-{}.safetensors", std::process::id()));
        let config = || {
            Training::new(SoftmaxCrossEntropy::mean(), crate::optim::Adam::new(0.05))
                .batch::<4>()
                .epochs(30)
                .seed(7)
        };
        let mut nets = Vec::new();
        let h = config()
            .checkpoint(&path, Monitor::ValidationLoss)
            .fit_with(
                &mut net(5),
                train,
                Some(val),
                |_, s| nets.push(*s.net()),
                |_| {},
            )
            .unwrap();
        let losses: Vec<f64> = h
            .iter()
            .map(|e| e.validation.unwrap().mean_loss())
            .collect();
        let best = (0..losses.len())
            .min_by(|&a, &b| losses[a].total_cmp(&losses[b]))
            .unwrap();
        assert!(
            best + 1 < h.len(),
            "the last epoch was the best: {losses:?}"
        );
        let mut saved = net(0);
        crate::io::load(&mut saved, &path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(saved, nets[best]);
    }

    /// Same seed, data and settings (schedule, clipping, validation, early
    /// stopping): bit-identical weights and history.
    #[test]
    #[cfg(feature = "std")]
    fn runs_with_every_option_are_bit_identical() {
        let (tx, ty, vx, vy) = split();
        let (train, val) = (
            Dataset::new(&tx, &ty).unwrap(),
            Dataset::new(&vx, &vy).unwrap(),
        );
        let run = || {
            let mut n = net(2);
            let h = Training::new(
                SoftmaxCrossEntropy::mean(),
                crate::optim::Adam::new(0.05).decoupled_weight_decay(0.01),
            )
            .batch::<4>()
            .epochs(12)
            .seed(3)
            .schedule(crate::schedule::LinearWarmup::new(0.1, 1.0, 4).unwrap())
            .clip(Clip::norm(0.5).unwrap())
            .early_stopping(
                EarlyStopping::new(Monitor::ValidationAccuracy, 3).restore_best_weights(),
            )
            .fit_with(&mut n, train, Some(val), |_, _| {}, |_| {})
            .unwrap();
            (n, h)
        };
        let (a, ha) = run();
        let (b, hb) = run();
        assert_eq!(a, b);
        assert_eq!(ha, hb);
        assert!(ha.iter().all(|e| e.max_grad_norm.is_some()));
    }
}
