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
//! rustc reports E0271 and drops the text. See `docs/DESIGN.md`, section 3, in the repository.
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

// ---------------------------------------------------------------------------
// The typenum bridge: sizes computed at compile time (convolution, pooling,
// flatten). Const generics cannot compute `(H + 2P - K) / S + 1` or `C * H * W`
// in a type on stable Rust, so each const is lifted to a typenum integer
// (`typenum::U<N>`, defined for 0..=1024), the arithmetic is done by typenum's
// operator traits, and the result is mapped back to a const through the
// generated table in `shape/dim_table.rs` (0..=16384). Each rule below is a
// trait over the plain numbers, so a failure prints them; the impls are marked
// `do_not_recommend` so that users never read typenum's `UInt<UInt<..>>`.
// ---------------------------------------------------------------------------

use core::ops::{Add, Div, Mul, Sub};
use typenum::{Const, Diff, Prod, Quot, Sum, ToUInt, U, U1, U2};

/// Largest size (convolution or pooling output, flattened `C * H * W`) that the
/// compile-time shape arithmetic maps back to a const generic; the inputs of the
/// arithmetic (heights, widths, channels, kernels, strides, paddings) go up to 1024.
pub const MAX_COMPUTED_SIZE: usize = 16384;

/// A dimension lifted to a type; the result of the compile-time shape arithmetic.
#[derive(Debug, Clone, Copy)]
pub struct Dim<const N: usize>;

/// Maps a typenum unsigned integer back to [`Dim<N>`] (generated table, 0..=16384).
#[diagnostic::on_unimplemented(
    message = "a computed size is larger than 16384, the largest size stackgrad's shape arithmetic maps back to a const generic",
    note = "conv/pool output sizes and flattened sizes (C*H*W) must be at most 16384"
)]
pub trait ToDim {
    /// `Dim<N>`.
    type Dim;
}

#[rustfmt::skip]
#[doc(hidden)]
pub mod dim_table;

/// The output size `(N + 2P - K) / S + 1` of a `K x K` convolution with stride
/// `S` and zero padding `P` along an input side of size `N`, computed at compile
/// time. Implemented for [`Check`] when `K >= 1`, `S >= 1`, `N + 2P >= K` and
/// every number is at most 1024.
#[diagnostic::on_unimplemented(
    message = "a {K}x{K} convolution with stride {S} and padding {P} cannot be applied to an input of size {N}",
    label = "kernel size {K} must fit the padded input size {N} + 2*{P}, and every size must be at most 1024",
    note = "the output size is (N + 2*P - K) / S + 1: it needs K <= N + 2*P, K >= 1 and S >= 1"
)]
pub trait ConvOut<const N: usize, const K: usize, const S: usize, const P: usize> {
    /// `Dim<(N + 2P - K) / S + 1>`.
    type Out;
    /// `X` itself when the convolution fits; unnameable otherwise (one error, no follow-ons).
    type Same<X>;
    /// Identity.
    fn same<X>(x: X) -> Self::Same<X>;
}

#[diagnostic::do_not_recommend]
impl<const N: usize, const K: usize, const S: usize, const P: usize> ConvOut<N, K, S, P> for Check
where
    Const<N>: ToUInt,
    Const<K>: ToUInt,
    Const<S>: ToUInt,
    Const<P>: ToUInt,
    U<K>: Sub<U1>,
    U<P>: Mul<U2>,
    U<N>: Add<Prod<U<P>, U2>>,
    Sum<U<N>, Prod<U<P>, U2>>: Sub<U<K>>,
    Diff<Sum<U<N>, Prod<U<P>, U2>>, U<K>>: Div<U<S>>,
    Quot<Diff<Sum<U<N>, Prod<U<P>, U2>>, U<K>>, U<S>>: Add<U1>,
    Sum<Quot<Diff<Sum<U<N>, Prod<U<P>, U2>>, U<K>>, U<S>>, U1>: ToDim,
{
    type Out = <Sum<Quot<Diff<Sum<U<N>, Prod<U<P>, U2>>, U<K>>, U<S>>, U1> as ToDim>::Dim;
    type Same<X> = X;
    #[inline(always)]
    fn same<X>(x: X) -> X {
        x
    }
}

/// The output size `(N - K) / S + 1` of a `K x K` pooling window with stride `S`
/// along an input side of size `N`, computed at compile time.
#[diagnostic::on_unimplemented(
    message = "a {K}x{K} pooling window with stride {S} cannot be applied to an input of size {N}",
    label = "window size {K} must fit the input size {N}, and every size must be at most 1024",
    note = "the output size is (N - K) / S + 1: it needs K <= N, K >= 1 and S >= 1"
)]
pub trait PoolOut<const N: usize, const K: usize, const S: usize> {
    /// `Dim<(N - K) / S + 1>`.
    type Out;
    /// `X` itself when the window fits; unnameable otherwise.
    type Same<X>;
    /// Identity.
    fn same<X>(x: X) -> Self::Same<X>;
}

#[diagnostic::do_not_recommend]
impl<const N: usize, const K: usize, const S: usize> PoolOut<N, K, S> for Check
where
    Check: ConvOut<N, K, S, 0>,
{
    type Out = <Check as ConvOut<N, K, S, 0>>::Out;
    type Same<X> = X;
    #[inline(always)]
    fn same<X>(x: X) -> X {
        x
    }
}

/// The flattened size `C * H * W` of a `C x H x W` image, computed at compile time.
#[diagnostic::on_unimplemented(
    message = "cannot flatten a {C} x {H} x {W} image: stackgrad's shape arithmetic supports flattened sizes up to 16384 and sides up to 1024",
    label = "{C} x {H} x {W} is too large to flatten",
    note = "reduce the image with a strided convolution or pooling before flattening"
)]
pub trait FlatSize<const C: usize, const H: usize, const W: usize> {
    /// `Dim<C * H * W>`.
    type Out;
    /// `X` itself when the size is supported; unnameable otherwise.
    type Same<X>;
    /// Identity.
    fn same<X>(x: X) -> Self::Same<X>;
}

#[diagnostic::do_not_recommend]
impl<const C: usize, const H: usize, const W: usize> FlatSize<C, H, W> for Check
where
    Const<C>: ToUInt,
    Const<H>: ToUInt,
    Const<W>: ToUInt,
    U<C>: Mul<U<H>>,
    Prod<U<C>, U<H>>: Mul<U<W>>,
    Prod<Prod<U<C>, U<H>>, U<W>>: ToDim,
{
    type Out = <Prod<Prod<U<C>, U<H>>, U<W>> as ToDim>::Dim;
    type Same<X> = X;
    #[inline(always)]
    fn same<X>(x: X) -> X {
        x
    }
}

/// A convolution receives as many channels as it expects.
#[diagnostic::on_unimplemented(
    message = "convolution expects {EXPECTED} input channels but the previous layer produces {GOT}",
    label = "this layer takes {EXPECTED} channels, but receives {GOT}",
    note = "the output channels of each layer must equal the input channels of the next convolution"
)]
pub trait ChannelsMatch<const GOT: usize, const EXPECTED: usize> {
    /// `X` itself when the channel counts agree; unnameable otherwise.
    type Same<X>;
    /// Identity.
    fn same<X>(x: X) -> Self::Same<X>;
}
impl<const N: usize> ChannelsMatch<N, N> for Check {
    type Same<X> = X;
    #[inline(always)]
    fn same<X>(x: X) -> X {
        x
    }
}

/// A normalization layer (batch norm, layer norm) over `EXPECTED` features
/// or channels receives `GOT`.
#[diagnostic::on_unimplemented(
    message = "normalization over {EXPECTED} features or channels cannot follow a layer that produces {GOT}",
    label = "this layer normalizes {EXPECTED} features or channels, but receives {GOT}",
    note = "a normalization layer keeps one scale and shift per feature (rows) or channel (images) of its input"
)]
pub trait NormMatches<const GOT: usize, const EXPECTED: usize> {
    /// `X` itself when the counts agree; unnameable otherwise.
    type Same<X>;
    /// Identity.
    fn same<X>(x: X) -> Self::Same<X>;
}
impl<const N: usize> NormMatches<N, N> for Check {
    type Same<X> = X;
    #[inline(always)]
    fn same<X>(x: X) -> X {
        x
    }
}

/// A residual block's branch returns as many values per example (features,
/// or channels of same-sized images) as its input has.
#[diagnostic::on_unimplemented(
    message = "the residual branch returns {GOT} values per example but its input has {EXPECTED}",
    label = "this block adds a branch of width {GOT} to an input of width {EXPECTED}",
    note = "y = x + f(x) needs f(x) shaped like x; use `Projected` to give the skip path layers of its own"
)]
pub trait BranchMatches<const GOT: usize, const EXPECTED: usize> {
    /// `X` itself when the widths agree; unnameable otherwise.
    type Same<X>;
    /// Identity.
    fn same<X>(x: X) -> Self::Same<X>;
}
impl<const N: usize> BranchMatches<N, N> for Check {
    type Same<X> = X;
    #[inline(always)]
    fn same<X>(x: X) -> X {
        x
    }
}

/// The width `A + B` of two outputs side by side, computed at compile time.
#[diagnostic::on_unimplemented(
    message = "cannot concatenate widths {A} and {B}: stackgrad's shape arithmetic supports sums up to 16384 of sizes up to 1024",
    label = "{A} + {B} is out of range"
)]
pub trait SumSize<const A: usize, const B: usize> {
    /// `Dim<A + B>`.
    type Out;
}

#[diagnostic::do_not_recommend]
impl<const A: usize, const B: usize> SumSize<A, B> for Check
where
    Const<A>: ToUInt,
    Const<B>: ToUInt,
    U<A>: Add<U<B>>,
    Sum<U<A>, U<B>>: ToDim,
{
    type Out = <Sum<U<A>, U<B>> as ToDim>::Dim;
}
