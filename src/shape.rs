//! Shape checks that read in plain numbers.
//!
//! This module is the only place where shape rules are written as traits. Each
//! rule is a trait whose const parameters are the numbers being compared, with a
//! `#[diagnostic::on_unimplemented]` message that prints them, implemented for the
//! marker type [`Check`] only where the numbers agree. A mismatch then reads
//!
//! ```text
//! error[E0277]: layer expects 24 inputs but the previous layer produces 25
//! ```
//!
//! instead of a type mismatch between two `Matrix` types. The unknown side of a
//! rule must sit in the `Self` position of the bound (here, always `Check`), or
//! rustc reports E0271 and drops the text. See `DESIGN.md` in the repository.
//!
//! The checks are zero-cost: every method here is an identity that the compiler
//! removes. Users never write these bounds; they appear only in error messages.

use crate::Matrix;

/// The marker type every shape rule is implemented for (see the module docs).
#[derive(Debug, Clone, Copy)]
pub struct Check;

/// Two consecutive layers fit: the previous layer produces `GOT` features and the
/// next one expects `EXPECTED`.
#[diagnostic::on_unimplemented(
    message = "layer expects {EXPECTED} inputs but the previous layer produces {GOT}",
    label = "this layer takes {EXPECTED} inputs, but receives {GOT}",
    note = "the output size of each layer must equal the input size of the next layer"
)]
pub trait SizeMatches<const GOT: usize, const EXPECTED: usize> {
    /// `X` itself when the sizes agree; unnameable otherwise, so that one mismatch
    /// produces one error and no follow-on errors further down the network.
    type Same<X>;
    /// Identity.
    fn same<X>(x: X) -> Self::Same<X>;
}
impl<const N: usize> SizeMatches<N, N> for Check {
    type Same<X> = X;
    #[inline(always)]
    fn same<X>(x: X) -> X {
        x
    }
}

/// Targets of a loss have the same `batch x width` shape as the predictions.
#[diagnostic::on_unimplemented(
    message = "the loss expects targets of shape {BATCH} x {WIDTH} (batch x outputs) but got {GOT_BATCH} x {GOT_WIDTH}",
    label = "targets must have one row per example and one column per output",
    note = "predictions are {BATCH} x {WIDTH}"
)]
pub trait TargetShapeMatches<
    const GOT_BATCH: usize,
    const GOT_WIDTH: usize,
    const BATCH: usize,
    const WIDTH: usize,
>
{
    /// Identity: reinterprets the target's shape as the prediction's (they are equal).
    fn as_pred_shape<T: Copy>(y: &Matrix<T, GOT_BATCH, GOT_WIDTH>) -> &Matrix<T, BATCH, WIDTH>;
}
impl<const B: usize, const W: usize> TargetShapeMatches<B, W, B, W> for Check {
    #[inline(always)]
    fn as_pred_shape<T: Copy>(y: &Matrix<T, B, W>) -> &Matrix<T, B, W> {
        y
    }
}

/// Class labels for a batch: `GOT_BATCH` labels over `GOT_CLASSES` classes, given to a
/// loss whose logits are `BATCH x CLASSES`.
#[diagnostic::on_unimplemented(
    message = "the loss expects labels for a batch of {BATCH} over {CLASSES} classes but got {GOT_BATCH} labels over {GOT_CLASSES} classes",
    label = "labels do not fit the predictions",
    note = "predictions are {BATCH} x {CLASSES} (batch x classes)"
)]
pub trait LabelShapeMatches<
    const GOT_BATCH: usize,
    const GOT_CLASSES: usize,
    const BATCH: usize,
    const CLASSES: usize,
>
{
    /// Identity on the label indices.
    fn as_batch(labels: &[usize; GOT_BATCH]) -> &[usize; BATCH];
}
impl<const B: usize, const C: usize> LabelShapeMatches<B, C, B, C> for Check {
    #[inline(always)]
    fn as_batch(labels: &[usize; B]) -> &[usize; B] {
        labels
    }
}
