//! Shape checks that read in plain numbers.
//!
//! This module is the only place where shape rules are written as traits.
//! Each rule is a trait whose const parameters are the numbers being
//! compared (and whose first parameter is the layer it is about), with a
//! `#[diagnostic::on_unimplemented]` message that prints them, implemented
//! for the marker type [`Shapes`] only where the numbers agree. A mismatch
//! then reads
//!
//! ```text
//! error[E0277]: layer 2 (Dense<f64, 24, 4>) expects 24 inputs but receives 25
//! ```
//!
//! instead of a type mismatch between two `Matrix` types.
//!
//! A network is checked one layer at a time through
//! [`Connect<S, At<P>>`](crate::nn::Connect): each layer maps the shape `S`
//! it receives ([`Rows`], [`Image`], [`Channels`] or [`Unknown`]) to the shape
//! it produces, as the layer at position `P`. That needs no input, so
//! [`Net::new`](crate::nn::Net::new) checks its tuple; the builder checks each
//! layer from the input it starts with; `Net`'s `forward`, `infer` and
//! `backward` check from the input they are given ([`Feeds`](crate::nn::Feeds)),
//! the losses their targets ([`TargetShape`], [`LabelShape`]) and training its
//! data ([`DataWidth`], [`DataScalar`]).
//!
//! | what is checked | sentence (numbers from the types) |
//! |---|---|
//! | consecutive layers | layer 2 (Dense<f64, 24, 4>) expects 24 inputs but receives 25 |
//! | convolution channels | layer 3 (Conv2d<..>) expects 8 input channels but receives 16 |
//! | convolution / pooling size | layer 0 (Conv2d<..>): a 5x5 convolution with stride 1 and padding 0 cannot be applied to an input of 3 x 3 |
//! | images into a rows layer | layer 2 (Dense<f32, 256, 10>) takes rows of values but receives 4 x 8 x 8 images (put a `Flatten` before it) |
//! | rows into an images layer | layer 2 (Conv2d<..>) takes images but receives rows of 64 values (put an `Unflatten<C, H, W>` before it) |
//! | scalar types | layer 2 (Dense<f64, 8, 2>) computes in f64 but receives f32 values |
//! | loss targets | the loss expects targets of shape 4 x 3 but got 4 x 1 |
//! | training data | the network takes rows of 64 values but the data set has rows of 49 |
//!
//! Rules that rustc must not decide while it is still inferring a layer's
//! type (a network whose type is an alias, built from `Dense::he_normal(..)`)
//! are asked of `Then<T, Shapes>` ([`Inferred`]), which waits for the
//! layer's scalar type `T`. The checks are zero-cost: every method here is an
//! identity that the compiler removes. Users never write these bounds; they
//! appear only in error messages.

use crate::Matrix;

/// The marker type the compile-time arithmetic below is implemented for;
/// it never appears in an error (the rules that wrap it are
/// `do_not_recommend`).
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Check;

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

/// A size computed at compile time ([`Dim<N>`]) as the shapes it makes:
/// `Rows<T, N>`, and images with `N` as a side or as the channels. The
/// shape checks build their output shapes through it, so that a computed
/// size is a number as soon as rustc normalizes the shape (an impl's
/// const parameter fixed by an `Out = Dim<N>` bound would be decided later,
/// and could be guessed from the next layer first).
#[doc(hidden)]
pub trait Side {
    /// `Rows<T, N>`.
    type Rows<T>;
    /// `Image<T, C, N, W>` for the side `W` (a `Dim` too).
    type Image<T, const C: usize, W: Side>;
    /// `Image<T, C, H, N>`.
    type ImageH<T, const C: usize, const H: usize>;
    /// `Image<T, N, H, W>`.
    type ImageC<T, const H: usize, const W: usize>;
}

impl<const N: usize> Side for Dim<N> {
    type Rows<T> = Rows<T, N>;
    type Image<T, const C: usize, W: Side> = W::ImageH<T, C, N>;
    type ImageH<T, const C: usize, const H: usize> = Image<T, C, H, N>;
    type ImageC<T, const H: usize, const W: usize> = Image<T, N, H, W>;
}

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
}

#[diagnostic::do_not_recommend]
impl<const N: usize, const K: usize, const S: usize> PoolOut<N, K, S> for Check
where
    Check: ConvOut<N, K, S, 0>,
{
    type Out = <Check as ConvOut<N, K, S, 0>>::Out;
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

// ---------------------------------------------------------------------------
// Shapes as the checks see them. A network is checked one layer at a time:
// each layer's `Connect<S, At<P>>` impl takes the shape `S` of what it
// receives and gives the shape of what it produces, so a tuple of layers can
// be checked without an input (`Net::new`: the first layer receives
// `Unknown`), from the builder's input (`input::<N>()`), or from the input
// of a call (`net.forward(&x)`). `P` is the layer's position in its tuple,
// printed in the messages.
// ---------------------------------------------------------------------------

use core::marker::PhantomData;

/// What a layer receives or produces: rows of `N` values of scalar `T` (a
/// `Matrix<T, B, N>` for any batch `B`); `T` is [`Unknown`] until a layer
/// with a scalar type fixes it.
#[derive(Debug, Clone, Copy)]
pub struct Rows<T, const N: usize>(PhantomData<T>);

/// What a layer receives or produces: images of `C` channels of `H x W`
/// pixels (an `Images<T, B, C, H, W>` for any batch `B`).
#[derive(Debug, Clone, Copy)]
pub struct Image<T, const C: usize, const H: usize, const W: usize>(PhantomData<T>);

/// What a layer receives or produces: images of `C` channels whose sides
/// are not known yet (a network that starts with a convolution and has not
/// been given an input).
#[derive(Debug, Clone, Copy)]
pub struct Channels<T, const C: usize>(PhantomData<T>);

/// A shape (or scalar type) nothing has fixed yet: the input of a network
/// checked without one, or the output of a layer whose shape the checks
/// cannot follow. A layer accepts it; the checks resume at the next layer
/// whose output shape is known.
#[derive(Debug, Clone, Copy)]
pub struct Unknown;

/// The position of a layer in its tuple (0 for the first), as the messages
/// print it ("layer 2 (...) expects ...").
#[derive(Debug, Clone, Copy)]
pub struct At<const P: usize>;

/// The shape the checks see for a batch: `Matrix<T, B, N>` is
/// [`Rows<T, N>`], `Images<T, B, C, H, W>` is [`Image<T, C, H, W>`].
pub trait Shaped {
    /// The batch's shape, without the batch size.
    type Shape;
}

impl<T, const B: usize, const N: usize> Shaped for Matrix<T, B, N> {
    type Shape = Rows<T, N>;
}

impl<T, const B: usize, const C: usize, const H: usize, const W: usize> Shaped
    for crate::Images<T, B, C, H, W>
{
    type Shape = Image<T, C, H, W>;
}

/// A shape that a chain of checks produced: holds exactly when every check
/// on the way held. `Same<X>` is `X`; when a check failed, the shape is an
/// error and so is `Same<X>`, which keeps one mistake to one error.
pub trait Settled {
    /// `X`.
    type Same<X>;
    /// Identity.
    fn same_ref<X>(x: &X) -> &Self::Same<X>;
    /// Identity.
    fn same_mut<X>(x: &mut X) -> &mut Self::Same<X>;
}

macro_rules! settled {
    ($([$($g:tt)*] $ty:ty),*) => {$(
        impl<$($g)*> Settled for $ty {
            type Same<X> = X;
            #[inline(always)]
            fn same_ref<X>(x: &X) -> &X {
                x
            }
            #[inline(always)]
            fn same_mut<X>(x: &mut X) -> &mut X {
                x
            }
        }
    )*};
}
settled!(
    [T, const N: usize] Rows<T, N>,
    [T, const C: usize, const H: usize, const W: usize] Image<T, C, H, W>,
    [T, const C: usize] Channels<T, C>,
    [] Unknown
);

/// `Then<X>` is `X` once the scalar type `Self` is known. A layer with a
/// scalar type checks itself as `<T as Inferred>::Then<Self>`, so that while
/// rustc is still inferring `T` (a layer built as `Dense::he_normal(..)` whose
/// type comes from a type alias at the end of the chain) the check waits
/// instead of guessing sizes from the layers around it.
pub trait Inferred {
    /// `X`.
    type Then<X>;
}

impl<T: crate::Scalar> Inferred for T {
    type Then<X> = X;
}

/// `L`, once its scalar type `T` is inferred (see [`Inferred`]).
pub type Then<T, L> = <T as Inferred>::Then<L>;

/// The type every rule below is implemented for, where the numbers agree;
/// the layer a rule is about is its first parameter, `L`. A layer with a
/// scalar type asks `Then<T, Shapes>` (see [`Inferred`]).
#[derive(Debug, Clone, Copy)]
pub struct Shapes;

/// Layer `P` (`L`) expects rows of `EXPECTED` values and receives `GOT`.
#[diagnostic::on_unimplemented(
    message = "layer {P} ({L}) expects {EXPECTED} inputs but receives {GOT}",
    label = "layer {P} takes rows of {EXPECTED} values, not {GOT}",
    note = "each layer's input size must equal the output size of the layer before it (or the network's input); layers are numbered from 0"
)]
pub trait Inputs<L, const P: usize, const GOT: usize, const EXPECTED: usize> {
    /// `X` when the sizes agree.
    type Same<X>;
}
impl<L, const P: usize, const N: usize> Inputs<L, P, N, N> for Shapes {
    type Same<X> = X;
}

/// Layer `P` (`L`) normalizes `EXPECTED` features and receives `GOT`.
#[diagnostic::on_unimplemented(
    message = "layer {P} ({L}) normalizes {EXPECTED} features but receives {GOT}",
    label = "layer {P} keeps a scale and shift for each of {EXPECTED} features, not {GOT}",
    note = "a normalization layer's size must equal the output size of the layer before it; layers are numbered from 0"
)]
pub trait NormFeatures<L, const P: usize, const GOT: usize, const EXPECTED: usize> {
    /// `X` when the sizes agree.
    type Same<X>;
}
impl<L, const P: usize, const N: usize> NormFeatures<L, P, N, N> for Shapes {
    type Same<X> = X;
}

/// Layer `P` (`L`) normalizes `EXPECTED` channels and receives `GOT`.
#[diagnostic::on_unimplemented(
    message = "layer {P} ({L}) normalizes {EXPECTED} channels but receives {GOT}",
    label = "layer {P} keeps a scale and shift for each of {EXPECTED} channels, not {GOT}",
    note = "a normalization layer's channels must equal the output channels of the layer before it; layers are numbered from 0"
)]
pub trait NormChannels<L, const P: usize, const GOT: usize, const EXPECTED: usize> {
    /// `X` when the counts agree.
    type Same<X>;
}
impl<L, const P: usize, const N: usize> NormChannels<L, P, N, N> for Shapes {
    type Same<X> = X;
}

/// Convolution `P` (`L`) expects `EXPECTED` input channels and receives `GOT`.
#[diagnostic::on_unimplemented(
    message = "layer {P} ({L}) expects {EXPECTED} input channels but receives {GOT}",
    label = "layer {P} takes images of {EXPECTED} channels, not {GOT}",
    note = "a convolution's input channels must equal the output channels of the layer before it; layers are numbered from 0"
)]
pub trait InChannels<L, const P: usize, const GOT: usize, const EXPECTED: usize> {
    /// `X` when the counts agree.
    type Same<X>;
}
impl<L, const P: usize, const N: usize> InChannels<L, P, N, N> for Shapes {
    type Same<X> = X;
}

/// Layer `P` (`L`) computes in `EXPECTED` (`f32` or `f64`) and receives
/// values of `GOT` ([`Unknown`] is accepted).
#[diagnostic::on_unimplemented(
    message = "layer {P} ({L}) computes in {EXPECTED} but receives {GOT} values",
    label = "layer {P} is an {EXPECTED} layer",
    note = "every layer of a network uses one scalar type: write this layer with {GOT}, or make the others {EXPECTED} (a trained network converts with `Recast::recast`)"
)]
pub trait SameScalar<L, const P: usize, GOT, EXPECTED> {
    /// `X` when the types agree.
    type Same<X>;
}
impl<L, const P: usize, T: crate::Scalar> SameScalar<L, P, T, T> for Shapes {
    type Same<X> = X;
}
impl<L, const P: usize, T: crate::Scalar> SameScalar<L, P, Unknown, T> for Shapes {
    type Same<X> = X;
}

/// The position of no layer: the never-met rules below hold only there, so
/// that rustc quotes that one line when they fail instead of every impl
/// that led to them.
#[doc(hidden)]
pub const NO_LAYER: usize = usize::MAX;

/// Layer `P` (`L`) takes rows and receives `C x H x W` images: never holds
/// for a layer; the layer needs a [`Flatten`](crate::nn::Flatten) before it.
#[diagnostic::on_unimplemented(
    message = "layer {P} ({L}) takes rows of values but receives {C} x {H} x {W} images",
    label = "layer {P} needs a `Flatten` before it",
    note = "put a `Flatten` before this layer: it turns each {C} x {H} x {W} image into a row of C·H·W values"
)]
pub trait TakesRows<L, const P: usize, const C: usize, const H: usize, const W: usize> {
    /// `X` (only where the rule holds).
    type Same<X>;
}
impl<L> TakesRows<L, NO_LAYER, 0, 0, 0> for Shapes {
    type Same<X> = X;
}

/// Layer `P` (`L`) takes rows and receives images of `C` channels (of
/// sides not known yet): never holds for a layer.
#[diagnostic::on_unimplemented(
    message = "layer {P} ({L}) takes rows of values but receives images of {C} channels",
    label = "layer {P} needs a `Flatten` before it",
    note = "put a `Flatten` before this layer: it turns each image into a row of channels·height·width values"
)]
pub trait TakesRowsNotMaps<L, const P: usize, const C: usize> {
    /// `X` (only where the rule holds).
    type Same<X>;
}
impl<L> TakesRowsNotMaps<L, NO_LAYER, 0> for Shapes {
    type Same<X> = X;
}

/// Layer `P` (`L`) takes images and receives rows of `N` values: never
/// holds for a layer; the rows need an [`Unflatten`](crate::nn::Unflatten).
#[diagnostic::on_unimplemented(
    message = "layer {P} ({L}) takes images but receives rows of {N} values",
    label = "layer {P} needs an `Unflatten<C, H, W>` before it",
    note = "put an `Unflatten<C, H, W>` with C·H·W = {N} before this layer: it turns each row into a C x H x W image"
)]
pub trait TakesImages<L, const P: usize, const N: usize> {
    /// `X` (only where the rule holds).
    type Same<X>;
}
impl<L> TakesImages<L, NO_LAYER, 0> for Shapes {
    type Same<X> = X;
}

/// A `Flatten` at position `P` receives rows of `N` values, which are flat
/// already: never holds for a layer.
#[diagnostic::on_unimplemented(
    message = "layer {P} ({L}) receives rows of {N} values, which are flat already",
    label = "nothing to flatten",
    note = "remove this `Flatten`: it turns images into rows, and the layer before it produces rows"
)]
pub trait FlatAlready<L, const P: usize, const N: usize> {
    /// `X` (only where the rule holds).
    type Same<X>;
}
impl<L> FlatAlready<L, NO_LAYER, 0> for Shapes {
    type Same<X> = X;
}

/// A `K x K` convolution with stride `S` and padding `PAD` at position `P`
/// (`L`) on `H x W` images: its output images, `Out<T, F>`, are
/// `F x OH x OW` with `OH = (H + 2 PAD - K) / S + 1`, computed at compile time.
#[diagnostic::on_unimplemented(
    message = "layer {P} ({L}): a {K}x{K} convolution with stride {S} and padding {PAD} cannot be applied to an input of {H} x {W}",
    label = "kernel size {K} must fit the padded input {H} x {W} + 2*{PAD}, and every size must be at most 1024",
    note = "the output size is (N + 2*P - K) / S + 1 along each side: it needs K <= N + 2*P, K >= 1 and S >= 1"
)]
pub trait ConvSides<
    L,
    const P: usize,
    const H: usize,
    const W: usize,
    const K: usize,
    const S: usize,
    const PAD: usize,
>
{
    /// `Image<T, F, OH, OW>`.
    type Out<T, const F: usize>;
}
#[diagnostic::do_not_recommend]
impl<
    L,
    const P: usize,
    const H: usize,
    const W: usize,
    const K: usize,
    const S: usize,
    const PAD: usize,
> ConvSides<L, P, H, W, K, S, PAD> for Shapes
where
    Check: ConvOut<H, K, S, PAD> + ConvOut<W, K, S, PAD>,
    <Check as ConvOut<H, K, S, PAD>>::Out: Side,
    <Check as ConvOut<W, K, S, PAD>>::Out: Side,
{
    type Out<T, const F: usize> = <<Check as ConvOut<H, K, S, PAD>>::Out as Side>::Image<
        T,
        F,
        <Check as ConvOut<W, K, S, PAD>>::Out,
    >;
}

/// A `K x K` pooling window with stride `S` at position `P` (`L`) on
/// `H x W` images: its output images, `Out<T, C>`, are `C x OH x OW` with
/// `OH = (H - K) / S + 1`.
#[diagnostic::on_unimplemented(
    message = "layer {P} ({L}): a {K}x{K} pooling window with stride {S} cannot be applied to an input of {H} x {W}",
    label = "window size {K} must fit the input {H} x {W}, and every size must be at most 1024",
    note = "the output size is (N - K) / S + 1 along each side: it needs K <= N, K >= 1 and S >= 1"
)]
pub trait PoolSides<
    L,
    const P: usize,
    const H: usize,
    const W: usize,
    const K: usize,
    const S: usize,
>
{
    /// `Image<T, C, OH, OW>`.
    type Out<T, const C: usize>;
}
#[diagnostic::do_not_recommend]
impl<L, const P: usize, const H: usize, const W: usize, const K: usize, const S: usize>
    PoolSides<L, P, H, W, K, S> for Shapes
where
    Check: PoolOut<H, K, S> + PoolOut<W, K, S>,
    <Check as PoolOut<H, K, S>>::Out: Side,
    <Check as PoolOut<W, K, S>>::Out: Side,
{
    type Out<T, const C: usize> =
        <<Check as PoolOut<H, K, S>>::Out as Side>::Image<T, C, <Check as PoolOut<W, K, S>>::Out>;
}

/// `C x H x W` images flattened at position `P` (`L`): rows of
/// `C·H·W` values, `Out<T>`, computed at compile time (up to 16384).
#[diagnostic::on_unimplemented(
    message = "layer {P} ({L}) cannot flatten a {C} x {H} x {W} image: stackgrad's shape arithmetic supports flattened sizes up to 16384 and sides up to 1024",
    label = "{C} x {H} x {W} is too large to flatten",
    note = "reduce the image with a strided convolution or pooling before flattening"
)]
pub trait Flattens<L, const P: usize, const C: usize, const H: usize, const W: usize> {
    /// `Rows<T, C·H·W>`.
    type Out<T>;
}
#[diagnostic::do_not_recommend]
impl<L, const P: usize, const C: usize, const H: usize, const W: usize> Flattens<L, P, C, H, W>
    for Shapes
where
    Check: FlatSize<C, H, W>,
    <Check as FlatSize<C, H, W>>::Out: Side,
{
    type Out<T> = <<Check as FlatSize<C, H, W>>::Out as Side>::Rows<T>;
}

/// The size `C·H·W` of the images an `Unflatten<C, H, W>` at position `P`
/// (`L`) makes is within the compile-time shape arithmetic (up to 16384).
#[diagnostic::on_unimplemented(
    message = "layer {P} ({L}) cannot make {C} x {H} x {W} images: stackgrad's shape arithmetic supports sizes C·H·W up to 16384 and sides up to 1024",
    label = "{C} x {H} x {W} is too large",
    note = "use smaller images or fewer channels"
)]
pub trait UnflatSize<L, const P: usize, const C: usize, const H: usize, const W: usize> {}
#[diagnostic::do_not_recommend]
impl<L, const P: usize, const C: usize, const H: usize, const W: usize> UnflatSize<L, P, C, H, W>
    for Shapes
where
    Check: FlatSize<C, H, W>,
{
}

/// An `Unflatten<C, H, W>` at position `P` (`L`) receives rows of `GOT`
/// values: it reshapes rows of `C·H·W` values.
#[diagnostic::on_unimplemented(
    message = "layer {P} ({L}) reshapes rows into {C} x {H} x {W} images but receives rows of {GOT} values",
    label = "rows of {GOT} values are not {C} x {H} x {W} images",
    note = "an `Unflatten<C, H, W>` takes rows of C·H·W values (at most 16384); layers are numbered from 0"
)]
pub trait Reshapes<
    L,
    const P: usize,
    const GOT: usize,
    const C: usize,
    const H: usize,
    const W: usize,
>
{
    /// `X` when `GOT = C·H·W`.
    type Same<X>;
}
#[diagnostic::do_not_recommend]
impl<L, const P: usize, const GOT: usize, const C: usize, const H: usize, const W: usize>
    Reshapes<L, P, GOT, C, H, W> for Shapes
where
    Check: FlatSize<C, H, W>,
    Dim<GOT>: Is<<Check as FlatSize<C, H, W>>::Out>,
{
    type Same<X> = X;
}

/// `Self` and `X` are the same type.
#[doc(hidden)]
pub trait Is<X> {}
impl<X> Is<X> for X {}

/// An upstream gradient `Self` for a network whose output is `Out`: the same
/// type (shape), or an error naming both.
#[diagnostic::on_unimplemented(
    message = "the upstream gradient is a `{Self}` but the network's output is a `{Out}`",
    label = "must have the output's shape",
    note = "backward takes dy = ∂L/∂y, shaped like the output y of the forward pass"
)]
pub trait Gradient<Out> {
    /// Identity.
    fn as_output(&self) -> &Out;
}
impl<X> Gradient<X> for X {
    #[inline(always)]
    fn as_output(&self) -> &X {
        self
    }
}

// ----- Blocks: two shapes that must agree, or that are joined -------------

/// The residual branch returns `GOT` values per example (features, or
/// channels of images) and the skip path carries `EXPECTED`.
#[diagnostic::on_unimplemented(
    message = "the residual branch returns {GOT} values per example but the skip path carries {EXPECTED}",
    label = "this block adds a branch of width {GOT} to a skip path of width {EXPECTED}",
    note = "y = x + f(x) needs f(x) shaped like x; use `Projected` to give the skip path layers of its own"
)]
pub trait BranchWidth<L, const GOT: usize, const EXPECTED: usize> {
    /// `X` when the widths agree.
    type Same<X>;
}
impl<L, const N: usize> BranchWidth<L, N, N> for Shapes {
    type Same<X> = X;
}

/// The residual branch returns `GH x GW` images and the skip path carries `H x W`.
#[diagnostic::on_unimplemented(
    message = "the residual branch returns {GH} x {GW} images but the skip path carries {H} x {W}",
    label = "the two paths' images differ in size",
    note = "y = x + f(x) needs f(x) shaped like x: keep the sides with padding (K = 2P + 1, stride 1), or use `Projected` with a strided skip path"
)]
pub trait BranchSides<L, const GH: usize, const GW: usize, const H: usize, const W: usize> {
    /// `X` when the sides agree.
    type Same<X>;
}
impl<L, const H: usize, const W: usize> BranchSides<L, H, W, H, W> for Shapes {
    type Same<X> = X;
}

/// A block's two paths produce different kinds of values (rows and images):
/// never holds for a block.
#[diagnostic::on_unimplemented(
    message = "the two paths of `{L}` produce {A} and {B}",
    label = "one path produces rows, the other images",
    note = "both paths of a `Residual`, `Projected` or `Concat` block must produce rows, or both images"
)]
pub trait PathKinds<L, A, B> {
    /// `X` (only where the rule holds).
    type Same<X>;
}
impl PathKinds<(), (), ()> for Shapes {
    type Same<X> = X;
}

/// The output shapes `Self` and `Other` of a residual block's two paths (the
/// branch, and the input or skip path) agree; `Out` is their common shape.
pub trait Merge<L, Other> {
    /// The block's output shape.
    type Out;
}
impl<L, T, U, const N: usize, const M: usize> Merge<L, Rows<U, M>> for Rows<T, N>
where
    Shapes: BranchWidth<L, N, M>,
{
    type Out = <Shapes as BranchWidth<L, N, M>>::Same<Rows<U, M>>;
}
impl<
    L,
    T,
    U,
    const C: usize,
    const H: usize,
    const W: usize,
    const D: usize,
    const GH: usize,
    const GW: usize,
> Merge<L, Image<U, D, H, W>> for Image<T, C, GH, GW>
where
    Shapes: BranchWidth<L, C, D> + BranchSides<L, GH, GW, H, W>,
{
    type Out = <Shapes as BranchWidth<L, C, D>>::Same<
        <Shapes as BranchSides<L, GH, GW, H, W>>::Same<Image<U, D, H, W>>,
    >;
}
impl<L, T, U, const C: usize, const D: usize> Merge<L, Channels<U, D>> for Channels<T, C>
where
    Shapes: BranchWidth<L, C, D>,
{
    type Out = <Shapes as BranchWidth<L, C, D>>::Same<Channels<U, D>>;
}
impl<L, T, U, const C: usize, const D: usize, const H: usize, const W: usize>
    Merge<L, Image<U, D, H, W>> for Channels<T, C>
where
    Shapes: BranchWidth<L, C, D>,
{
    type Out = <Shapes as BranchWidth<L, C, D>>::Same<Image<U, D, H, W>>;
}
impl<L, T, U, const C: usize, const D: usize, const H: usize, const W: usize>
    Merge<L, Channels<U, D>> for Image<T, C, H, W>
where
    Shapes: BranchWidth<L, C, D>,
{
    type Out = <Shapes as BranchWidth<L, C, D>>::Same<Image<T, C, H, W>>;
}
impl<L, S> Merge<L, S> for Unknown {
    type Out = S;
}
impl<L, T, const N: usize> Merge<L, Unknown> for Rows<T, N> {
    type Out = Rows<T, N>;
}
impl<L, T, const C: usize, const H: usize, const W: usize> Merge<L, Unknown> for Image<T, C, H, W> {
    type Out = Image<T, C, H, W>;
}
impl<L, T, const C: usize> Merge<L, Unknown> for Channels<T, C> {
    type Out = Channels<T, C>;
}
impl<L, T, U, const N: usize, const C: usize, const H: usize, const W: usize>
    Merge<L, Image<U, C, H, W>> for Rows<T, N>
where
    Shapes: PathKinds<L, Rows<T, N>, Image<U, C, H, W>>,
{
    type Out = <Shapes as PathKinds<L, Rows<T, N>, Image<U, C, H, W>>>::Same<Unknown>;
}
impl<L, T, U, const N: usize, const C: usize, const H: usize, const W: usize> Merge<L, Rows<U, N>>
    for Image<T, C, H, W>
where
    Shapes: PathKinds<L, Image<T, C, H, W>, Rows<U, N>>,
{
    type Out = <Shapes as PathKinds<L, Image<T, C, H, W>, Rows<U, N>>>::Same<Unknown>;
}
impl<L, T, U, const N: usize, const C: usize> Merge<L, Channels<U, C>> for Rows<T, N>
where
    Shapes: PathKinds<L, Rows<T, N>, Channels<U, C>>,
{
    type Out = <Shapes as PathKinds<L, Rows<T, N>, Channels<U, C>>>::Same<Unknown>;
}
impl<L, T, U, const N: usize, const C: usize> Merge<L, Rows<U, N>> for Channels<T, C>
where
    Shapes: PathKinds<L, Channels<T, C>, Rows<U, N>>,
{
    type Out = <Shapes as PathKinds<L, Channels<T, C>, Rows<U, N>>>::Same<Unknown>;
}

/// A `Concat`'s paths give `A` and `B` values per example, side by side
/// `A + B`, computed at compile time.
#[diagnostic::on_unimplemented(
    message = "cannot concatenate widths {A} and {B}: stackgrad's shape arithmetic supports sums up to 16384 of sizes up to 1024",
    label = "{A} + {B} is out of range"
)]
pub trait ConcatWidth<L, const A: usize, const B: usize> {
    /// `Dim<A + B>`.
    type Out: Side;
}
#[diagnostic::do_not_recommend]
impl<L, const A: usize, const B: usize> ConcatWidth<L, A, B> for Shapes
where
    Check: SumSize<A, B>,
    <Check as SumSize<A, B>>::Out: Side,
{
    type Out = <Check as SumSize<A, B>>::Out;
}

/// A `Concat`'s paths give images of `GH x GW` and `H x W` pixels.
#[diagnostic::on_unimplemented(
    message = "a `Concat` joins images of {GH} x {GW} and {H} x {W}: their sides must agree",
    label = "the two paths' images differ in size",
    note = "channels are joined side by side, so both paths must keep the images' size"
)]
pub trait ConcatSides<L, const GH: usize, const GW: usize, const H: usize, const W: usize> {
    /// `X` when the sides agree.
    type Same<X>;
}
impl<L, const H: usize, const W: usize> ConcatSides<L, H, W, H, W> for Shapes {
    type Same<X> = X;
}

/// The outputs `Self` and `Other` of a `Concat`'s two paths, side by side:
/// `Out` has their widths (or channels) summed.
pub trait Join<L, Other> {
    /// The block's output shape.
    type Out;
}
impl<L, T, U, const N1: usize, const N2: usize> Join<L, Rows<U, N2>> for Rows<T, N1>
where
    Shapes: ConcatWidth<L, N1, N2>,
{
    type Out = <<Shapes as ConcatWidth<L, N1, N2>>::Out as Side>::Rows<T>;
}
impl<
    L,
    T,
    U,
    const C1: usize,
    const C2: usize,
    const H1: usize,
    const W1: usize,
    const H: usize,
    const W: usize,
> Join<L, Image<U, C2, H, W>> for Image<T, C1, H1, W1>
where
    Shapes: ConcatWidth<L, C1, C2> + ConcatSides<L, H1, W1, H, W>,
{
    type Out = <Shapes as ConcatSides<L, H1, W1, H, W>>::Same<
        <<Shapes as ConcatWidth<L, C1, C2>>::Out as Side>::ImageC<T, H, W>,
    >;
}
impl<L, S> Join<L, S> for Unknown {
    type Out = Unknown;
}
// What the checks cannot follow gives `Unknown`; the layer itself is still
// checked when the network is used.
impl<L, T, const N: usize> Join<L, Unknown> for Rows<T, N> {
    type Out = Unknown;
}
impl<L, T, const C: usize, const H: usize, const W: usize> Join<L, Unknown> for Image<T, C, H, W> {
    type Out = Unknown;
}
impl<L, T, U, const C: usize, const H: usize, const W: usize, const D: usize>
    Join<L, Channels<U, D>> for Image<T, C, H, W>
{
    type Out = Unknown;
}
impl<L, T, const C: usize> Join<L, Unknown> for Channels<T, C> {
    type Out = Unknown;
}
impl<L, T, U, const C: usize, const D: usize> Join<L, Channels<U, D>> for Channels<T, C> {
    type Out = Unknown;
}
impl<L, T, U, const C: usize, const D: usize, const H: usize, const W: usize>
    Join<L, Image<U, D, H, W>> for Channels<T, C>
{
    type Out = Unknown;
}
impl<L, T, U, const N: usize, const C: usize> Join<L, Channels<U, C>> for Rows<T, N>
where
    Shapes: PathKinds<L, Rows<T, N>, Channels<U, C>>,
{
    type Out = <Shapes as PathKinds<L, Rows<T, N>, Channels<U, C>>>::Same<Unknown>;
}
impl<L, T, U, const N: usize, const C: usize> Join<L, Rows<U, N>> for Channels<T, C>
where
    Shapes: PathKinds<L, Channels<T, C>, Rows<U, N>>,
{
    type Out = <Shapes as PathKinds<L, Channels<T, C>, Rows<U, N>>>::Same<Unknown>;
}
impl<L, T, U, const N: usize, const C: usize, const H: usize, const W: usize>
    Join<L, Image<U, C, H, W>> for Rows<T, N>
where
    Shapes: PathKinds<L, Rows<T, N>, Image<U, C, H, W>>,
{
    type Out = <Shapes as PathKinds<L, Rows<T, N>, Image<U, C, H, W>>>::Same<Unknown>;
}
impl<L, T, U, const N: usize, const C: usize, const H: usize, const W: usize> Join<L, Rows<U, N>>
    for Image<T, C, H, W>
where
    Shapes: PathKinds<L, Image<T, C, H, W>, Rows<U, N>>,
{
    type Out = <Shapes as PathKinds<L, Image<T, C, H, W>, Rows<U, N>>>::Same<Unknown>;
}

// ----- Losses ---------------------------------------------------------------

/// The targets of a loss (`L`) have the `batch x width` shape of the predictions.
#[diagnostic::on_unimplemented(
    message = "the loss expects targets of shape {BATCH} x {WIDTH} but got {GOT_BATCH} x {GOT_WIDTH}",
    label = "targets must have one row per example and one column per output",
    note = "the predictions are {BATCH} x {WIDTH} (batch x outputs)"
)]
pub trait TargetShape<
    L,
    const GOT_BATCH: usize,
    const GOT_WIDTH: usize,
    const BATCH: usize,
    const WIDTH: usize,
>
{
    /// Identity: the targets with the predictions' shape (they are equal).
    fn as_pred_shape<T>(y: &Matrix<T, GOT_BATCH, GOT_WIDTH>) -> &Matrix<T, BATCH, WIDTH>;
}
impl<L, const B: usize, const W: usize> TargetShape<L, B, W, B, W> for Shapes {
    #[inline(always)]
    fn as_pred_shape<T>(y: &Matrix<T, B, W>) -> &Matrix<T, B, W> {
        y
    }
}

/// Class labels for a loss (`L`): `GOT_BATCH` labels over `GOT_CLASSES`
/// classes, for predictions of `BATCH x CLASSES`.
#[diagnostic::on_unimplemented(
    message = "the loss expects labels for a batch of {BATCH} over {CLASSES} classes but got {GOT_BATCH} labels over {GOT_CLASSES} classes",
    label = "labels do not fit the predictions",
    note = "the predictions are {BATCH} x {CLASSES} (batch x classes)"
)]
pub trait LabelShape<
    L,
    const GOT_BATCH: usize,
    const GOT_CLASSES: usize,
    const BATCH: usize,
    const CLASSES: usize,
>
{
    /// Identity on the label indices.
    fn as_batch(labels: &[usize; GOT_BATCH]) -> &[usize; BATCH];
}
impl<L, const B: usize, const C: usize> LabelShape<L, B, C, B, C> for Shapes {
    #[inline(always)]
    fn as_batch(labels: &[usize; B]) -> &[usize; B] {
        labels
    }
}

/// The rows of a data set (`GOT` values each) fit the network's input
/// (`EXPECTED`).
#[diagnostic::on_unimplemented(
    message = "the network takes rows of {EXPECTED} values but the data set has rows of {GOT}",
    label = "rows of {GOT} values",
    note = "the network's first layer fixes the width of its input rows"
)]
pub trait DataWidth<L, const GOT: usize, const EXPECTED: usize> {
    /// Identity on the rows.
    fn as_rows<T>(rows: &[[T; GOT]]) -> &[[T; EXPECTED]];
}
impl<L, const N: usize> DataWidth<L, N, N> for Shapes {
    #[inline(always)]
    fn as_rows<T>(rows: &[[T; N]]) -> &[[T; N]] {
        rows
    }
}

/// The values of a data set (`GOT`) have the network's scalar type (`EXPECTED`).
#[diagnostic::on_unimplemented(
    message = "the network computes in {EXPECTED} but the data set holds {GOT} values",
    label = "a data set of {GOT}",
    note = "make the features {EXPECTED} (`features::<{EXPECTED}>()`), or the network {GOT}"
)]
pub trait DataScalar<L, GOT, EXPECTED> {
    /// Identity on the rows.
    fn as_rows<const N: usize>(rows: &[[GOT; N]]) -> &[[EXPECTED; N]];
}
impl<L, T> DataScalar<L, T, T> for Shapes {
    #[inline(always)]
    fn as_rows<const N: usize>(rows: &[[T; N]]) -> &[[T; N]] {
        rows
    }
}
