//! Networks: tuples of layers, the [`Net`] wrapper, and the [`Builder`] that
//! checks every connection where it is made.
//!
//! A tuple `(L0, L1, .., Lk)` of up to 32 layers is itself a layer when each
//! layer accepts the previous one's output; its forward is `Lk(..L1(L0(x)))`,
//! its cache the tuple of the layers' caches with the outputs of all layers
//! but the last (each layer's input for backward, kept once), its backward the
//! layers' backwards in reverse order, and its parameters those of `L0`, then `L1`, ...
//! named `"0.weight"`, `"1.bias"`. Nest tuples (or `Net`s) for deeper networks.
//! All of it is static dispatch: the composed forward compiles to the same code
//! as the hand-written sequence of calls.

use core::marker::PhantomData;

use super::summary::Summary;
use super::walk::{Path as WalkPath, Visitor, Walk};
use super::{Connect, Ctx, Layer, Params, Pattern, Recast, Tensor, TensorMut};
use crate::gradcheck::CheckLayer;
use crate::shape::{At, Gradient, Image, Rows, Settled, Shaped, Unknown};
use crate::{Images, Matrix, Scalar};

/// A network: a tuple of layers (or any layer) behind a name that users put in
/// struct fields and signatures, `Net<(Dense<f32, 2, 25>, Sigmoid, Dense<f32, 25, 4>)>`.
///
/// Build it with [`input`] and [`Builder::then`] (each connection checked where it
/// is made) or wrap a tuple with [`Net::new`] (checked where it is wrapped).
/// `forward`, `infer` and `backward` are available as inherent methods, so no
/// trait import is needed.
///
/// ```
/// use stackgrad::nn::{Dense, Net, Relu};
/// use stackgrad::Matrix;
/// let net = Net::new((Dense::<f32, 3, 4>::zeros(), Relu));
/// let y = net.infer(&Matrix::<f32, 2, 3>::zeros());
/// assert_eq!(y, Matrix::<f32, 2, 4>::zeros());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Net<L> {
    /// The layers, in order (a tuple): `net.layers.0` is the first.
    pub layers: L,
}

impl<L> Net<L> {
    /// Wraps a layer or tuple of layers, checking that each layer takes what
    /// the one before it produces (as far as that is known without an input:
    /// the sides of images a network receives are known only from its input).
    /// A tuple that does not fit is a compile error here, in plain numbers,
    /// even if the network is never run:
    ///
    /// ```text
    /// error[E0277]: layer 2 (Dense<f32, 24, 4>) expects 24 inputs but receives 25
    /// ```
    ///
    /// Cost: none at run time.
    ///
    /// ```
    /// use stackgrad::nn::{Dense, Net, Relu};
    /// let net = Net::new((Dense::<f32, 2, 25>::zeros(), Relu, Dense::<f32, 25, 4>::zeros()));
    /// # let _ = net;
    /// ```
    #[must_use]
    pub const fn new(layers: L) -> Self
    where
        L: Connect<Unknown, At<0>>,
    {
        Self { layers }
    }

    /// The network's layers, one row each (path, type, output shape for
    /// input `In`, parameters, buffers) and the totals, printed by `Display`
    /// the way `torchinfo` prints a PyTorch model; `T` is the parameters'
    /// scalar type. No heap.
    ///
    /// ```
    /// use stackgrad::nn::{BatchNorm1d, Dense, Net, Relu};
    /// use stackgrad::Matrix;
    /// let net = Net::new((Dense::<f32, 64, 32>::zeros(), BatchNorm1d::<f32, 32>::new(), Relu, Dense::<f32, 32, 10>::zeros()));
    /// let table = net.summary::<Matrix<f32, 1, 64>, f32>().to_string();
    /// assert_eq!(table, "\
    /// layer   type                           output            params  buffers
    /// 0       Dense<f32, 64, 32>             1 x 32              2080        0
    /// 1       BatchNorm1d<f32, 32>           1 x 32                64       64
    /// 2       Relu                           1 x 32                 0        0
    /// 3       Dense<f32, 32, 10>             1 x 10               330        0
    /// total: 2474 parameters (9.7 KiB), 64 buffer values; the network takes 10.0 KiB
    /// ");
    /// ```
    #[must_use]
    pub fn summary<In, T: Scalar>(&self) -> Summary<'_, L, In, T>
    where
        L: Walk<In, T>,
    {
        Summary::new(&self.layers)
    }

    /// See [`Layer::forward`]. The input is checked against the network: a
    /// wrong width or image size is one error naming both ("layer 0
    /// (Dense<f32, 4, 8>) expects 4 inputs but receives 3").
    #[inline(always)]
    pub fn forward<In: Feeds<L>>(&self, x: &In) -> (In::Output, In::Cache) {
        In::net(&self.layers).forward(x)
    }

    /// See [`Layer::forward_into`]: the output and cache written in place.
    #[inline(always)]
    pub fn forward_into<In: Feeds<L>>(&self, x: &In, y: &mut In::Output, cache: &mut In::Cache) {
        In::net(&self.layers).forward_into(x, y, cache);
    }

    /// See [`Layer::infer`].
    #[inline(always)]
    #[must_use]
    pub fn infer<In: Feeds<L>>(&self, x: &In) -> In::Output {
        In::net(&self.layers).infer(x)
    }

    /// See [`Layer::backward`]: from the input `x`, the output `y` and the
    /// cache of a forward pass and the upstream gradient `dy` (shaped like
    /// `y`, or it is an error naming both shapes), writes the parameter
    /// gradients into `grads` (a network of the same type) and returns the
    /// input gradient.
    #[inline(always)]
    pub fn backward<In: Feeds<L>, Dy: Gradient<In::Output>>(
        &self,
        x: &In,
        y: &In::Output,
        cache: &In::Cache,
        dy: &Dy,
        grads: &mut Self,
    ) -> In {
        In::net(&self.layers).backward(x, y, cache, dy.as_output(), In::net_mut(&mut grads.layers))
    }

    /// See [`Layer::backward_params`]: the parameter gradients only, without
    /// the first layer's input gradient (what a training step needs).
    #[inline(always)]
    pub fn backward_params<In: Feeds<L>, Dy: Gradient<In::Output>>(
        &self,
        x: &In,
        y: &In::Output,
        cache: &In::Cache,
        dy: &Dy,
        grads: &mut Self,
    ) {
        In::net(&self.layers).backward_params(
            x,
            y,
            cache,
            dy.as_output(),
            In::net_mut(&mut grads.layers),
        );
    }
}

/// An input that network `L` takes: a batch (`Matrix` or `Images`) whose
/// shape every layer of `L` accepts in turn, checked through [`Connect`]
/// from the first layer (position 0) with the numbers in the message.
/// [`Net`]'s `forward`, `infer` and `backward` require it; `Net` is `L`
/// itself once the check holds. Cost: none at run time (identities).
///
/// ```
/// use stackgrad::nn::{Dense, Feeds, Net, Relu};
/// use stackgrad::Matrix;
/// type Layers = (Dense<f32, 3, 4>, Relu);
/// // A batch of rows of 3 values feeds the network, with a 2 x 4 output.
/// fn output<In: Feeds<Layers>>(net: &Net<Layers>, x: &In) -> In::Output {
///     net.infer(x)
/// }
/// let y: Matrix<f32, 2, 4> = output(&Net::new((Dense::zeros(), Relu)), &Matrix::<f32, 2, 3>::zeros());
/// assert_eq!(y, Matrix::zeros());
/// ```
#[diagnostic::on_unimplemented(
    message = "the network `{L}` does not take inputs of type `{Self}`",
    label = "a network takes a `Matrix` (rows) or `Images` batch"
)]
pub trait Feeds<L>: Sized {
    /// `L`, proven to take `Self`.
    type Net: Layer<Self, Output = Self::Output, Cache = Self::Cache>;
    /// The network's output for this input.
    type Output;
    /// The network's cache for this input.
    type Cache;
    /// Identity.
    fn net(layers: &L) -> &Self::Net;
    /// Identity.
    fn net_mut(layers: &mut L) -> &mut Self::Net;
}

/// `L` once every layer is proven to take what it receives from input `X`.
type Proven<L, X> = <<L as Connect<<X as Shaped>::Shape, At<0>>>::Out as Settled>::Same<L>;

impl<T, const B: usize, const N: usize, L> Feeds<L> for Matrix<T, B, N>
where
    L: Connect<Rows<T, N>, At<0>, Out: Settled>,
    Proven<L, Self>: Layer<Self>,
{
    type Net = Proven<L, Self>;
    type Output = <Proven<L, Self> as Layer<Self>>::Output;
    type Cache = <Proven<L, Self> as Layer<Self>>::Cache;
    #[inline(always)]
    fn net(layers: &L) -> &Self::Net {
        <L::Out as Settled>::same_ref(layers)
    }
    #[inline(always)]
    fn net_mut(layers: &mut L) -> &mut Self::Net {
        <L::Out as Settled>::same_mut(layers)
    }
}

impl<T, const B: usize, const C: usize, const H: usize, const W: usize, L> Feeds<L>
    for Images<T, B, C, H, W>
where
    L: Connect<Image<T, C, H, W>, At<0>, Out: Settled>,
    Proven<L, Self>: Layer<Self>,
{
    type Net = Proven<L, Self>;
    type Output = <Proven<L, Self> as Layer<Self>>::Output;
    type Cache = <Proven<L, Self> as Layer<Self>>::Cache;
    #[inline(always)]
    fn net(layers: &L) -> &Self::Net {
        <L::Out as Settled>::same_ref(layers)
    }
    #[inline(always)]
    fn net_mut(layers: &mut L) -> &mut Self::Net {
        <L::Out as Settled>::same_mut(layers)
    }
}

impl<In, L: Layer<In>> Layer<In> for Net<L> {
    type Output = L::Output;
    type Cache = L::Cache;
    const HAS_PARAMS: bool = L::HAS_PARAMS;
    #[inline(always)]
    fn forward(&self, x: &In) -> (L::Output, L::Cache) {
        self.layers.forward(x)
    }
    #[inline(always)]
    fn forward_into(&self, x: &In, y: &mut L::Output, cache: &mut L::Cache) {
        self.layers.forward_into(x, y, cache);
    }
    #[inline(always)]
    fn forward_train(&self, x: &In, ctx: &Ctx, y: &mut L::Output, cache: &mut L::Cache) {
        self.layers.forward_train(x, ctx, y, cache);
    }
    #[inline(always)]
    fn update(&mut self, x: &In, cache: &L::Cache) {
        self.layers.update(x, cache);
    }
    #[inline(always)]
    fn infer(&self, x: &In) -> L::Output {
        self.layers.infer(x)
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
        self.layers.backward(x, y, cache, dy, &mut grads.layers)
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
        self.layers
            .backward_params(x, y, cache, dy, &mut grads.layers);
    }
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn backward_into(
        &self,
        x: &In,
        y: &L::Output,
        cache: &L::Cache,
        scratch: &mut L::Cache,
        dy: &L::Output,
        dx: &mut In,
        grads: &mut Self,
    ) {
        self.layers
            .backward_into(x, y, cache, scratch, dy, dx, &mut grads.layers);
    }
    #[inline(always)]
    fn backward_params_into(
        &self,
        x: &In,
        y: &L::Output,
        cache: &L::Cache,
        scratch: &mut L::Cache,
        dy: &L::Output,
        grads: &mut Self,
    ) {
        self.layers
            .backward_params_into(x, y, cache, scratch, dy, &mut grads.layers);
    }
    #[inline]
    fn pattern(&self, x: &In, y: &L::Output, cache: &L::Cache, pattern: &mut Pattern) {
        self.layers.pattern(x, y, cache, pattern);
    }
}

impl<S, A, L: Connect<S, A>> Connect<S, A> for Net<L> {
    type Out = L::Out;
}

// A network whose layers do not fit has no parameters to save, load or
// train: the same check as `Net::new`, for a `Net` made some other way
// (`Default`, the struct literal, a type alias handed to `io::load`).
impl<T: Scalar, L: Params<T> + Connect<Unknown, At<0>>> Params<T> for Net<L> {
    const TENSORS: usize = L::TENSORS;
    const PARAMS: usize = L::PARAMS;
    const BUFFERS: usize = L::BUFFERS;
    const BUFFER_VALUES: usize = L::BUFFER_VALUES;
    #[inline]
    fn buffer(&self, k: usize) -> Option<Tensor<'_, T>> {
        self.layers.buffer(k)
    }
    #[inline]
    fn buffer_mut(&mut self, k: usize) -> Option<TensorMut<'_, T>> {
        self.layers.buffer_mut(k)
    }
    #[inline]
    fn tensor(&self, k: usize) -> Option<Tensor<'_, T>> {
        self.layers.tensor(k)
    }
    #[inline]
    fn tensor_mut(&mut self, k: usize) -> Option<TensorMut<'_, T>> {
        self.layers.tensor_mut(k)
    }
    fn zeros_like(&self) -> Self {
        Self {
            layers: self.layers.zeros_like(),
        }
    }
}

impl<U: Scalar, L: Recast<U>> Recast<U> for Net<L> {
    type Output = Net<L::Output>;
    fn recast(&self) -> Net<L::Output> {
        Net {
            layers: self.layers.recast(),
        }
    }
}

/// Starts a network whose examples are rows of `N` features (see [`Builder`]).
///
/// ```
/// use stackgrad::nn::{input, Dense, Tanh};
/// let net = input::<3>().then(Dense::<f32, 3, 8>::zeros()).then(Tanh).build();
/// # let _ = net;
/// ```
#[must_use]
pub fn input<const N: usize>() -> Builder<Rows<Unknown, N>, ()> {
    Builder {
        layers: (),
        shape: PhantomData,
    }
}

/// Starts a network whose examples are `C x H x W` images (see [`Builder`]);
/// every later size is inferred.
///
/// ```
/// use stackgrad::nn::{image_input, Conv2d, Dense, Flatten, MaxPool2d, Relu};
/// use stackgrad::{Images, Matrix};
/// let net = image_input::<1, 8, 8>()
///     .then(Conv2d::<f32, 1, 4, 3, 1, 1>::zeros()) // 4 x 8 x 8
///     .then(Relu)
///     .then(MaxPool2d::<2>)                        // 4 x 4 x 4
///     .then(Flatten)                               // 64
///     .then(Dense::<f32, 64, 10>::zeros())
///     .build();
/// let y: Matrix<f32, 3, 10> = net.infer(&Images::<f32, 3, 1, 8, 8>::zeros());
/// # let _ = y;
/// ```
#[must_use]
pub fn image_input<const C: usize, const H: usize, const W: usize>()
-> Builder<Image<Unknown, C, H, W>, ()> {
    Builder {
        layers: (),
        shape: PhantomData,
    }
}

/// A network under construction whose last layer produces shape `S` (see
/// [`crate::shape`]); started by [`input`] or [`image_input`]. Each
/// [`then`](Builder::then) checks one connection, so a layer that does not
/// fit is one compile error, at that layer, in plain numbers:
///
/// ```text
/// error[E0277]: layer 2 (Dense<f64, 24, 4>) expects 24 inputs but receives 25
///  --> src/main.rs:7:10
///   |
/// 7 |         .then(Dense::<f64, 24, 4>::zeros())
///   |          ^^^^ layer 2 takes rows of 24 values, not 25
/// ```
///
/// A layer whose sizes rustc infers (`Dense::he_normal(&mut rng)` in a
/// network whose type is written elsewhere) is checked once its type is
/// known, with the same message at the same place.
#[derive(Debug, Clone, Copy)]
pub struct Builder<S, L> {
    layers: L,
    shape: PhantomData<fn() -> S>,
}

impl<S, L> Builder<S, L> {
    /// Appends a layer, checking that it accepts `S`.
    #[allow(clippy::type_complexity)]
    pub fn then<X>(
        self,
        layer: X,
    ) -> Builder<<X as Connect<S, L::Position>>::Out, <L as Push<X>>::Output>
    where
        L: Push<X>,
        X: Connect<S, L::Position>,
    {
        Builder {
            layers: self.layers.push(layer),
            shape: PhantomData,
        }
    }

    /// The finished network.
    #[must_use]
    pub fn build(self) -> Net<L> {
        Net {
            layers: self.layers,
        }
    }
}

/// Appends an element to a tuple: `(A, B).push(C) == (A, B, C)`, up to 32
/// elements; `Position` is the new element's position, `At<2>` here.
pub trait Push<X> {
    /// The longer tuple.
    type Output;
    /// The new element's position.
    type Position;
    /// Appends `x`.
    fn push(self, x: X) -> Self::Output;
}

macro_rules! tuple_push {
    ([$($L:ident),*], [$($i:tt),*], $n:tt) => {
        impl<$($L,)* X> Push<X> for ($($L,)*) {
            type Output = ($($L,)* X,);
            type Position = At<$n>;
            #[inline(always)]
            #[allow(clippy::unused_unit)]
            fn push(self, x: X) -> Self::Output {
                ($(self.$i,)* x,)
            }
        }
    };
}

/// A layer that would not fit in a tuple of 32 (implemented for `()` only,
/// which is no layer).
#[diagnostic::on_unimplemented(
    message = "a network holds at most 32 layers in one tuple; `{Self}` would be the 33rd",
    label = "one layer too many for one tuple",
    note = "group layers into a nested network, which is one layer: `.then(Net::new((a, b, c)))`, or a block (`Residual`, `Projected`, `Concat`)"
)]
pub trait AfterLayer32 {}
impl AfterLayer32 for () {}

macro_rules! tuple_push_full {
    ([$($L:ident),*], $n:tt) => {
        impl<$($L,)* X: AfterLayer32> Push<X> for ($($L,)*) {
            type Output = ($($L,)*);
            type Position = At<$n>;
            fn push(self, _: X) -> Self::Output {
                self
            }
        }
    };
}

/// The body of a tuple's `backward_params`: the last layer's `backward` down to
/// the second's, then the first layer's `backward_params`. Each layer gets its
/// input and output from their places (`x`, `y` or the tuple's stored outputs).
macro_rules! params_chain {
    (
        $self:ident, $cache:ident, $dy:ident, $grads:ident,
        last (0, [$($lin:tt)+], [$($lout:tt)+]), mid [], first ($($first:tt)*)
    ) => {
        $self.0.backward_params(&$($lin)+, &$($lout)+, &$cache.0.0, $dy, &mut $grads.0)
    };
    (
        $self:ident, $cache:ident, $dy:ident, $grads:ident,
        last ($li:tt, [$($lin:tt)+], [$($lout:tt)+]),
        mid [$(($mi:tt, [$($min:tt)+], [$($mout:tt)+])),*],
        first ([$($fin:tt)+], [$($fout:tt)+])
    ) => {{
        let d = $self.$li.backward(&$($lin)+, &$($lout)+, &$cache.0.$li, $dy, &mut $grads.$li);
        $(let d = $self.$mi.backward(&$($min)+, &$($mout)+, &$cache.0.$mi, &d, &mut $grads.$mi);)*
        $self.0.backward_params(&$($fin)+, &$($fout)+, &$cache.0.0, &d, &mut $grads.0)
    }};
}

/// `backward_into` of a tuple's layers from the last down to the second, each
/// writing its input gradient where the one before reads its output gradient.
macro_rules! into_chain {
    (
        $self:ident, $cache:ident, $scratch:ident, $grads:ident,
        [$(($i:tt, [$($x:tt)+], [$($y:tt)+], [$($dy:tt)+], [$($dx:tt)+])),*]
    ) => {
        $($self.$i.backward_into(
            &$($x)+,
            &$($y)+,
            &$cache.0.$i,
            &mut $scratch.0.$i,
            &$($dy)+,
            &mut $($dx)+,
            &mut $grads.$i,
        );)*
    };
}

/// [`into_chain`] for a tuple whose first layer has no parameters: the
/// second layer (index 1) computes its parameters' gradients only, and the
/// first layer nothing.
macro_rules! params_into_chain {
    (
        $self:ident, $cache:ident, $scratch:ident, $grads:ident,
        [$(($i:tt, [$($x:tt)+], [$($y:tt)+], [$($dy:tt)+], [$($dx:tt)+])),*]
    ) => {
        $(if $i == 1 {
            $self.$i.backward_params_into(
                &$($x)+,
                &$($y)+,
                &$cache.0.$i,
                &mut $scratch.0.$i,
                &$($dy)+,
                &mut $grads.$i,
            );
        } else {
            $self.$i.backward_into(
                &$($x)+,
                &$($y)+,
                &$cache.0.$i,
                &mut $scratch.0.$i,
                &$($dy)+,
                &mut $($dx)+,
                &mut $grads.$i,
            );
        })*
    };
}

/// A tuple of layers as a layer. Its cache is `(caches, outputs)`: the
/// layers' caches and the outputs of all layers but the last (whose output is
/// the tuple's). `io` gives each layer's input and output place: `*x`, a
/// stored output `cache.1.k`, or `*y`; `down` lists the layers from the last
/// to the second for the in-place backward, each with its input and output
/// places and its output and input gradient places: `*dy`, the scratch
/// cache's output slot `scratch.1.k`, or `*dx`.
macro_rules! tuple_network {
    (
        [$($L:ident),+],
        init [$($I:ident),*],
        first ($First:ident, $fi:tt),
        chain [$(($Prev:ident, $Cur:ident, $ci:tt)),*],
        pairs [$(($P:ident, $pi:tt)),+],
        last ($Last:ident, $li:tt, [$($lin:tt)+], [$($lout:tt)+]),
        io [$(($ii:tt, [$($in:tt)+], [$($out:tt)+])),+],
        rev [$(($ri:tt, [$($rin:tt)+], [$($rout:tt)+])),*],
        mid [$(($mi:tt, [$($min:tt)+], [$($mout:tt)+])),*],
        first_io ($($first_io:tt)*),
        down [$(($pi2:tt, [$($pin:tt)+], [$($pout:tt)+], [$($pdy:tt)+], [$($pdx:tt)+])),*],
        first_grad ([$($fgin:tt)+], [$($fgout:tt)+], [$($fgdy:tt)+]),
        places ($x:ident, $y:ident, $cache:ident, $scratch:ident, $dy:ident, $dx:ident),
        shapes [$(($SL:ident, $SIn:ident, $si:tt, $SOut:ident)),+], out $SLast:ident
    ) => {
        impl<In, $($L),+> Layer<In> for ($($L,)+)
        where
            $First: Layer<In>,
            $($Cur: Layer<$Prev::Output>,)*
        {
            type Output = $Last::Output;
            type Cache = (($($L::Cache,)+), ($($I::Output,)*));
            const HAS_PARAMS: bool =
                <$First as Layer<In>>::HAS_PARAMS $(|| <$Cur as Layer<$Prev::Output>>::HAS_PARAMS)*;

            #[inline(always)]
            #[allow(non_snake_case)]
            fn forward(&self, x: &In) -> (Self::Output, Self::Cache) {
                let $First = self.$fi.forward(x);
                $(let $Cur = self.$ci.forward(&$Prev.0);)*
                ($Last.0, (($($L.1,)+), ($($I.0,)*)))
            }

            // Each layer writes its output and cache in place in the tuple's.
            #[inline(always)]
            fn forward_into(&self, $x: &In, $y: &mut Self::Output, $cache: &mut Self::Cache) {
                $(self.$ii.forward_into(&$($in)+, &mut $($out)+, &mut $cache.0.$ii);)+
            }

            // The same, in training mode: layer `i` gets the context `ctx.within(i)`.
            #[inline(always)]
            fn forward_train(
                &self,
                $x: &In,
                ctx: &Ctx,
                $y: &mut Self::Output,
                $cache: &mut Self::Cache,
            ) {
                $(self.$ii.forward_train(
                    &$($in)+,
                    &ctx.within($ii),
                    &mut $($out)+,
                    &mut $cache.0.$ii,
                );)+
            }

            #[inline(always)]
            fn update(&mut self, $x: &In, $cache: &Self::Cache) {
                $(self.$ii.update(&$($in)+, &$cache.0.$ii);)+
            }

            #[inline(always)]
            #[allow(non_snake_case)]
            fn infer(&self, x: &In) -> Self::Output {
                let $First = self.$fi.infer(x);
                $(let $Cur = self.$ci.infer(&$Prev);)*
                $Last
            }

            #[inline(always)]
            fn backward(
                &self,
                $x: &In,
                $y: &Self::Output,
                $cache: &Self::Cache,
                dy: &Self::Output,
                grads: &mut Self,
            ) -> In {
                let d = self.$li.backward(&$($lin)+, &$($lout)+, &$cache.0.$li, dy, &mut grads.$li);
                $(let d = self.$ri.backward(&$($rin)+, &$($rout)+, &$cache.0.$ri, &d, &mut grads.$ri);)*
                d
            }

            // Every layer's `backward`, except the first one's `backward_params`.
            #[inline(always)]
            fn backward_params(
                &self,
                $x: &In,
                $y: &Self::Output,
                $cache: &Self::Cache,
                dy: &Self::Output,
                grads: &mut Self,
            ) {
                params_chain!(
                    self, $cache, dy, grads,
                    last ($li, [$($lin)+], [$($lout)+]),
                    mid [$(($mi, [$($min)+], [$($mout)+])),*],
                    first ($($first_io)*)
                );
            }

            // Each layer's input gradient goes into the scratch cache's slot
            // for that output, which the layer before reads as its output
            // gradient; each layer gets its own part of the scratch.
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn backward_into(
                &self,
                $x: &In,
                $y: &Self::Output,
                $cache: &Self::Cache,
                $scratch: &mut Self::Cache,
                $dy: &Self::Output,
                $dx: &mut In,
                grads: &mut Self,
            ) {
                into_chain!(self, $cache, $scratch, grads,
                    [$(($pi2, [$($pin)+], [$($pout)+], [$($pdy)+], [$($pdx)+])),*]);
                self.0.backward_into(
                    &$($fgin)+,
                    &$($fgout)+,
                    &$cache.0.0,
                    &mut $scratch.0.0,
                    &$($fgdy)+,
                    $dx,
                    &mut grads.0,
                );
            }

            // The same chain, then the first layer's parameters only. A
            // first layer without parameters needs no output gradient: the
            // second layer then computes its parameters' gradients only.
            #[inline(always)]
            fn backward_params_into(
                &self,
                $x: &In,
                $y: &Self::Output,
                $cache: &Self::Cache,
                $scratch: &mut Self::Cache,
                $dy: &Self::Output,
                grads: &mut Self,
            ) {
                if !<$First as Layer<In>>::HAS_PARAMS {
                    params_into_chain!(self, $cache, $scratch, grads,
                        [$(($pi2, [$($pin)+], [$($pout)+], [$($pdy)+], [$($pdx)+])),*]);
                    return;
                }
                into_chain!(self, $cache, $scratch, grads,
                    [$(($pi2, [$($pin)+], [$($pout)+], [$($pdy)+], [$($pdx)+])),*]);
                self.0.backward_params_into(
                    &$($fgin)+,
                    &$($fgout)+,
                    &$cache.0.0,
                    &mut $scratch.0.0,
                    &$($fgdy)+,
                    &mut grads.0,
                );
            }

            #[inline]
            fn pattern(
                &self,
                $x: &In,
                $y: &Self::Output,
                $cache: &Self::Cache,
                pattern: &mut Pattern,
            ) {
                $(self.$ii.pattern(&$($in)+, &$($out)+, &$cache.0.$ii, pattern);)+
            }
        }

        // Layer 0 gets the tuple's input shape, each next layer the shape
        // the one before produces (named, so that a layer that does not fit
        // is blamed on its own bound, and rustc points at it); each is told
        // its position for the messages.
        impl<$($L,)+ $($SOut,)+ S, Ctx> Connect<S, Ctx> for ($($L,)+)
        where
            $($SL: Connect<$SIn, At<$si>, Out = $SOut>,)+
        {
            type Out = $SLast;
        }

        impl<In, T: Scalar, $($L),+> Walk<In, T> for ($($L,)+)
        where
            $First: Walk<In, T>,
            $($Cur: Walk<$Prev::Output, T>,)*
            Self: CheckLayer<In, T>,
        {
            const LEAF: bool = false;

            // Each layer is walked with the previous one's output.
            #[allow(non_snake_case)]
            fn walk<V: Visitor<T>>(
                &self,
                path: &mut WalkPath,
                x: &V::Value<In>,
                v: &mut V,
            ) -> Result<V::Value<Self::Output>, V::Error> {
                let $First = path.within($fi, |p| self.$fi.walk(p, x, v))?;
                $(let $Cur = path.within($ci, |p| self.$ci.walk(p, &$Prev, v))?;)*
                // The network's output, typed as the network's.
                let _ = $Last;
                Ok(v.forward::<In, Self>(self, x))
            }
        }

        impl<T: Scalar, $($L: Params<T>),+> Params<T> for ($($L,)+) {
            const TENSORS: usize = 0 $(+ $L::TENSORS)+;
            const PARAMS: usize = 0 $(+ $L::PARAMS)+;

            #[inline]
            fn tensor(&self, k: usize) -> Option<Tensor<'_, T>> {
                let mut k = k;
                $(
                    if k < $P::TENSORS {
                        return self.$pi.tensor(k).map(|t| t.within($pi));
                    }
                    k -= $P::TENSORS;
                )+
                let _ = k;
                None
            }

            #[inline]
            fn tensor_mut(&mut self, k: usize) -> Option<TensorMut<'_, T>> {
                let mut k = k;
                $(
                    if k < $P::TENSORS {
                        return self.$pi.tensor_mut(k).map(|t| t.within($pi));
                    }
                    k -= $P::TENSORS;
                )+
                let _ = k;
                None
            }

            const BUFFERS: usize = 0 $(+ $L::BUFFERS)+;
            const BUFFER_VALUES: usize = 0 $(+ $L::BUFFER_VALUES)+;

            #[inline]
            fn buffer(&self, k: usize) -> Option<Tensor<'_, T>> {
                let mut k = k;
                $(
                    if k < $P::BUFFERS {
                        return self.$pi.buffer(k).map(|t| t.within($pi));
                    }
                    k -= $P::BUFFERS;
                )+
                let _ = k;
                None
            }

            #[inline]
            fn buffer_mut(&mut self, k: usize) -> Option<TensorMut<'_, T>> {
                let mut k = k;
                $(
                    if k < $P::BUFFERS {
                        return self.$pi.buffer_mut(k).map(|t| t.within($pi));
                    }
                    k -= $P::BUFFERS;
                )+
                let _ = k;
                None
            }

            fn zeros_like(&self) -> Self {
                ($(self.$pi.zeros_like(),)+)
            }
        }

        impl<U: Scalar, $($L: Recast<U>),+> Recast<U> for ($($L,)+) {
            type Output = ($($L::Output,)+);
            fn recast(&self) -> Self::Output {
                ($(self.$pi.recast(),)+)
            }
        }
    };
}

#[rustfmt::skip]
mod tuples;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{Conv2d, Dense, Flatten, Linear, Params, Relu, Sigmoid, Unflatten};
    use crate::rand::{SeedableRng, rngs::StdRng};
    use crate::{Images, Matrix};

    /// `backward_params`, `backward_into` and `backward_params_into` write
    /// exactly the gradients of `backward`, whatever the first layer (dense,
    /// linear, boxed, convolution through the default, a lone layer) and
    /// however deep the tuple; `forward_into` over a stale output and cache
    /// overwrites both with those of `forward`.
    fn same_grads<In, L>(net: &L, x: &In, dy: impl Fn(&L::Output) -> L::Output)
    where
        L: Layer<In> + Params<f64> + PartialEq + core::fmt::Debug,
        L::Output: PartialEq + core::fmt::Debug,
        L::Cache: PartialEq + core::fmt::Debug,
        In: Clone + PartialEq + core::fmt::Debug,
    {
        let (y, cache) = net.forward(x);
        // The zero network's output and cache differ after the first layer.
        let (mut stale_y, mut stale) = net.zeros_like().forward(x);
        assert!(
            L::TENSORS <= 2 || stale != cache,
            "the stale cache must differ"
        );
        net.forward_into(x, &mut stale_y, &mut stale);
        assert_eq!((&stale_y, &stale), (&y, &cache));
        let dy = dy(&y);
        let garbage = || {
            let mut g = net.zeros_like();
            // Start from garbage: every path must overwrite every gradient.
            g.zip_tensors_mut(net, |g, _| g.data.fill(7.0));
            g
        };
        let mut a = net.zeros_like();
        let dx = net.backward(x, &y, &cache, &dy, &mut a);
        let mut b = garbage();
        net.backward_params(x, &y, &cache, &dy, &mut b);
        assert_eq!(a, b);
        // The scratch: any cache of the network (here the zero network's),
        // its contents overwritten.
        let scratch = || net.zeros_like().forward(x).1;
        let (mut c, mut dx_c) = (garbage(), x.clone());
        net.backward_into(x, &y, &cache, &mut scratch(), &dy, &mut dx_c, &mut c);
        assert_eq!((&a, &dx), (&c, &dx_c));
        let mut d = garbage();
        net.backward_params_into(x, &y, &cache, &mut scratch(), &dy, &mut d);
        assert_eq!(a, d);
        let mut nonzero = 0;
        a.for_each_tensor(|t| nonzero += t.data.iter().filter(|&&v| v != 0.0).count());
        assert!(nonzero > 0, "the check compared only zeros");
    }

    fn dy<const B: usize, const N: usize>(y: &Matrix<f64, B, N>) -> Matrix<f64, B, N> {
        y.map(|v| (v * 3.0).sin() + 0.5)
    }

    #[test]
    fn in_place_passes_match_the_plain_passes() {
        let mut rng = StdRng::seed_from_u64(5);
        let x = Matrix::<f64, 4, 3>::from_fn(|b, j| (b as f64 - 1.5) * 0.7 + j as f64 * 0.4);
        let dense: Net<(Dense<f64, 3, 5>, Sigmoid, Dense<f64, 5, 2>)> = input::<3>()
            .then(Dense::xavier_uniform(&mut rng))
            .then(Sigmoid)
            .then(Dense::xavier_uniform(&mut rng))
            .build();
        same_grads(&dense, &x, dy);
        same_grads(&(Dense::<f64, 3, 2>::xavier_uniform(&mut rng),), &x, dy);
        let linear = (
            Linear::<f64, 3, 4>::new(Matrix::from_fn(|i, j| (i + 2 * j) as f64 * 0.1 - 0.3)),
            Relu,
            Dense::<f64, 4, 2>::xavier_uniform(&mut rng),
        );
        same_grads(&linear, &x, dy);
        // `Box` is a layer with the `std` feature.
        #[cfg(feature = "std")]
        {
            let boxed = (
                Box::new(Dense::<f64, 3, 4>::xavier_uniform(&mut rng)),
                Dense::<f64, 4, 2>::xavier_uniform(&mut rng),
            );
            same_grads(&boxed, &x, dy);
        }
        let img = Images::<f64, 2, 1, 4, 4>::from_fn(|n, _, i, j| (n + i * 3 + j) as f64 * 0.1);
        let conv = (
            Conv2d::<f64, 1, 2, 3, 1, 1>::xavier_uniform(&mut rng),
            Flatten,
            Dense::<f64, 32, 3>::xavier_uniform(&mut rng),
        );
        same_grads(&conv, &img, dy);
        // A first layer without parameters: training skips the second
        // layer's input gradient, with the same parameter gradients.
        let rows = Matrix::<f64, 2, 16>::from_fn(|n, k| ((n * 16 + k) as f64 * 0.3).sin());
        let unflattened = (
            Unflatten::<1, 4, 4>,
            Conv2d::<f64, 1, 2, 3, 1, 1>::xavier_uniform(&mut rng),
            Flatten,
            Dense::<f64, 32, 3>::xavier_uniform(&mut rng),
        );
        const { assert!(!<Unflatten<1, 4, 4> as Layer<Matrix<f64, 2, 16>>>::HAS_PARAMS) };
        same_grads(&unflattened, &rows, dy);
        let relu_first = (Relu, Dense::<f64, 3, 4>::xavier_uniform(&mut rng), Sigmoid);
        same_grads(&relu_first, &x, dy);
    }
}
