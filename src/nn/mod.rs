//! Layers and their composition into networks.
//!
//! A layer maps an input tensor to an output tensor ([`Layer::forward`]) and
//! back-propagates a gradient ([`Layer::backward`]). Every shape is a type
//! parameter; a network is a tuple of layers, built with [`input`] and
//! [`Builder::then`], which checks each connection where it is made:
//!
//! ```
//! use stackgrad::nn::{input, Dense, Layer, Net, Sigmoid};
//! use stackgrad::Matrix;
//!
//! // The network's type names its layers and nothing else.
//! type Classifier = Net<(Dense<f64, 2, 25>, Sigmoid, Dense<f64, 25, 4>)>;
//!
//! let net: Classifier = input::<2>()
//!     .then(Dense::zeros())
//!     .then(Sigmoid)
//!     .then(Dense::zeros())
//!     .build();
//! let x = Matrix::<f64, 5, 2>::zeros(); // a batch of 5
//! let (logits, cache) = net.forward(&x);
//! assert_eq!(logits, Matrix::<f64, 5, 4>::zeros());
//! let mut grads = net.zeros_like();
//! let dx = net.backward(&x, &logits, &cache, &logits, &mut grads);
//! assert_eq!(dx, Matrix::zeros());
//! # use stackgrad::nn::Params;
//! ```
//!
//! A layer that does not fit is a compile error at that layer, once, with
//! its position (from 0, as in parameter names) and type:
//!
//! ```text
//! error[E0277]: layer 2 (Dense<f64, 24, 4>) expects 24 inputs but receives 25
//!   |
//!   |         .then(Dense::<f64, 24, 4>::zeros())
//!   |          ^^^^ layer 2 takes rows of 24 values, not 25
//! ```
//!
//! The same holds for a tuple wrapped with [`Net::new`] (checked where it is
//! built), a network whose type is an alias, a nested network, and the
//! input of `forward`, `infer` and `backward`; see [`Connect`] and
//! [`crate::shape`] for how.
//!
//! | layer | input | output | parameters |
//! |---|---|---|---|
//! | [`Dense<T, I, O>`](Dense) | `B x I` | `B x O` | `weight: I x O`, `bias: O` |
//! | [`Linear<T, I, O>`](Linear) (no bias) | `B x I` | `B x O` | `weight: I x O` |
//! | [`Identity`], [`Sigmoid`], [`Tanh`], [`Relu`] | any | the same | none |
//! | [`LeakyRelu`], [`Elu`], [`Softplus`] (settings as values) | any | the same | none |
//! | [`Gelu`], [`GeluTanh`], [`Silu`] | any | the same | none |
//! | [`Softmax`] | `B x N` | `B x N` (rows sum to 1) | none |
//! | [`Conv2d<T, C, F, K, S, P>`](Conv2d) | `B x C x H x W` | `B x F x OH x OW`, `OH = (H + 2P - K)/S + 1` | `weight: F x C x K x K`, `bias: F` |
//! | [`MaxPool2d<K, S>`](MaxPool2d), [`AvgPool2d<K, S>`](AvgPool2d) | `B x C x H x W` | `B x C x OH x OW`, `OH = (H - K)/S + 1` | none |
//! | [`Flatten`] / [`Unflatten<C, H, W>`](Unflatten) | `B x C x H x W` / `B x CHW` | `B x CHW` / `B x C x H x W` | none |
//! | [`BatchNorm1d<T, N>`](BatchNorm1d) | `B x N` | `B x N` | `weight`, `bias: N`; buffers `running_mean`, `running_var: N` |
//! | [`BatchNorm2d<T, C>`](BatchNorm2d) | `B x C x H x W` | `B x C x H x W` | `weight`, `bias: C`; buffers `running_mean`, `running_var: C` |
//! | [`LayerNorm<T, N>`](LayerNorm) | `B x N` | `B x N` | `weight`, `bias: N` |
//! | [`Dropout`] | any | the same | none |
//! | [`Residual<F>`](Residual), [`Projected<F, G>`](Projected) | `F`'s input | `F`'s output (= input for `Residual`) | `F`'s (`"0.*"`), `G`'s (`"1.*"`) |
//! | [`Concat<F, G>`](Concat) | `F`'s and `G`'s input | `F`'s and `G`'s outputs side by side (features or channels) | `F`'s (`"0.*"`), `G`'s (`"1.*"`) |
//! | [`Custom<L>`](Custom) | `L`'s | `L`'s | none |
//! | `(L0, L1, ..)`, [`Net`] | `L0`'s input | last layer's output | all layers' |
//! | `Box<L>` (with `std`) | `L`'s | `L`'s | `L`'s, on the heap |
//!
//! # Activations
//!
//! Each activation is a layer with its derivative beside it ([`Activation`]);
//! each type's page has its accuracy, limits and an example.
//!
//! | layer | `f(x)` | `f'`, from the input `x` or the output `y` | cost per element |
//! |---|---|---|---|
//! | [`Identity`] | `x` | `1` | none |
//! | [`Sigmoid`] | `1 / (1 + e^-x)` | `y (1 - y)` | one `exp` |
//! | [`Tanh`] | `tanh x` | `1 - y²` | one `exp` |
//! | [`Relu`] | `max(0, x)` | `1` if `y > 0`, `0` if `y ≤ 0` (the subgradient 0 at `x = 0`), NaN if `y` is NaN | a select |
//! | [`LeakyRelu`] | `x` if `x > 0`, else `slope · x` (slope 0.01) | `1` if `x > 0`, else `slope` | a select |
//! | [`Elu`] | `x` if `x > 0`, else `α (e^x - 1)` (`α` = 1) | `1` if `x > 0`, else `α e^x` | one `exp` each way |
//! | [`Gelu`] | `x Φ(x) = x (1 + erf(x/√2)) / 2` | `Φ(x) + x φ(x)` | `erf` and `exp`: about 130 / 170 operations |
//! | [`GeluTanh`] | `x σ(2u)`, `u = √(2/π) (x + 0.044715 x³)` | `σ(2u) + 2 x u' σ(2u) σ(-2u)` | one `exp` each way |
//! | [`Silu`] | `x σ(x)` | `σ(x) (1 + x σ(-x))` | one `exp` each way |
//! | [`Softplus`] | `ln(1 + e^{βx}) / β`, `x` where `βx > 20` | `σ(βx)`, `1` where `βx > 20` | `exp` and `log1p` / one `exp` |
//!
//! All are branch-free, so their loops vectorize; all are finite and
//! accurate in f32 and f64 for every finite input and take their limits at
//! `±∞`; NaN propagates through `f` and `f'`. Settings are values checked
//! when made (`LeakyRelu::new(slope)`, `Elu::new(alpha)`,
//! `Softplus::new(beta, threshold)`, each an [`Error::InvalidSetting`](crate::Error::InvalidSetting)
//! when out of range); `Default` gives PyTorch's defaults.
//!
//! Training and evaluation: see [`mode`]; layers of one's own: [`Custom`]
//! and [`params!`](crate::params).
//!
//! # Layers on the heap
//!
//! A layer of hundreds of thousands of parameters is too large to move around
//! on a thread's stack in a debug build. Write it as `Box<L>` in the network's
//! type and build it with a heap constructor such as
//! [`Dense::boxed_zeros`]; it is the same layer, its gradients are boxed too,
//! and the rest of the network stays inline (an MNIST-sized 784 -> 128 -> 10
//! network runs forward and backward in debug on a 2 MiB thread this way).

#[macro_use]
mod connect;
mod activation;
mod block;
#[cfg(feature = "std")]
mod boxed;
mod conv2d;
mod custom;
mod dense;
mod dropout;
mod flat;
mod flatten;
mod linear;
pub mod mode;
mod net;
mod norm;
#[cfg(test)]
mod numgrad;
mod params;
mod pattern;
mod pool;
mod softmax;
mod summary;
mod walk;

pub use activation::{
    Activation, Elu, Gelu, GeluTanh, Identity, LeakyRelu, Relu, Sigmoid, Silu, Softplus, Tanh,
    sigmoid,
};
pub use block::{Concat, ConcatOut, Joins, Projected, Residual};
pub use conv2d::Conv2d;
pub use custom::{Custom, Field, Follow};
pub use dense::Dense;
pub use dropout::{Dropout, DropoutCache};
pub use flat::{Flat, FlatParams};
pub use flatten::{Flatten, Unflatten};
pub use linear::Linear;
pub use mode::Ctx;
pub use net::{AfterLayer32, Builder, Feeds, Net, Push, image_input, input};
pub use norm::{BatchNorm1d, BatchNorm2d, LayerNorm, NormStats, RowStats};
pub(crate) use params::no_params;
pub use params::{MAX_NAME_DEPTH, ParamName, Params, Recast, Shape, Tensor, TensorKind, TensorMut};
pub use pattern::Pattern;
pub use pool::{AvgPool2d, MaxPool2d};
pub(crate) use softmax::softmax_rows_and_shift_into;
pub use softmax::{Softmax, log_softmax_rows, softmax_rows};
pub use summary::{Row, Summary};
pub(crate) use walk::short;
pub use walk::{LayerName, Path, Visitor, Walk};

/// An upper bound on the stack that one forward pass, loss and backward pass
/// of network `P` on input `In` needs in a **debug** build, in bytes:
/// 64 KiB, plus the product kernels' fixed buffers (261 KiB: the largest,
/// an `f64` convolution's weight gradient), plus 10 times the bytes of the
/// values such a pass holds (the network, its gradients, the input, the
/// output and the forward cache).
/// A release build needs about a third of the figure; [`Training::fit`]
/// sizes its own thread (see [`fit_stack_bytes`]).
///
/// Measured needs (debug / release, `cargo test --test debug_stack` checks
/// the bound on each of these networks): the digits MLP 64-64-10 at batch 32,
/// 0.6 MiB / 0.13 MiB (bound 0.9 MiB); example 04's CNN at batch 1,
/// 0.75 / 0.19 MiB (bound 1.4 MiB), at batch 16, 4.3 / 1.6 MiB (bound
/// 5.5 MiB); an MLP 784-128-10 at batch 32, 3.4 / 1.1 MiB (bound 9.4 MiB).
///
/// Being a `const fn`, it turns "this network overflows my thread" into a
/// compile-time error with a message of one's own:
///
/// ```
/// use stackgrad::nn::{Conv2d, Dense, Flatten, MaxPool2d, Net, Relu, Unflatten, stack_bytes};
/// use stackgrad::Matrix;
/// type Cnn = Net<(
///     Unflatten<1, 8, 8>,
///     Conv2d<f32, 1, 16, 3, 1, 1>,
///     Relu,
///     Conv2d<f32, 16, 32, 3, 1, 1>,
///     Relu,
///     MaxPool2d<2>,
///     Flatten,
///     Dense<f32, 512, 10>,
/// )>;
/// // One image at a time fits a 2 MiB test thread in debug...
/// const _: () = assert!(
///     stack_bytes::<Cnn, Matrix<f32, 1, 64>>() <= 2 << 20,
///     "the CNN's forward/backward at batch 1 needs more than 2 MiB of stack"
/// );
/// // ...a batch of 16 needs a bigger thread (or `Training::fit`).
/// assert!(stack_bytes::<Cnn, Matrix<f32, 16, 64>>() > 2 << 20);
/// ```
///
/// [`Training::fit`]: crate::train::Training::fit
/// [`fit_stack_bytes`]: crate::train::fit_stack_bytes
#[must_use]
pub const fn stack_bytes<P: Layer<In>, In>() -> usize {
    let values =
        2 * size_of::<P>() + size_of::<In>() + size_of::<P::Output>() + size_of::<P::Cache>();
    (64 << 10) + crate::kernel::STACK_BYTES + 10 * values
}

/// A differentiable map from `In` to [`Output`](Layer::Output) with a
/// hand-written backward pass.
///
/// `forward` returns the output and a statically typed cache: what backward
/// needs besides the layer's input and output, which the caller keeps and
/// passes back (a network keeps every layer's output once, in its own cache).
/// A dense layer or an activation needs nothing more (`Cache = ()`): the
/// dense layer's backward reads its input `X`, a sigmoid's its output.
/// `backward` takes the input, the output, the cache and the gradient of the
/// loss with respect to the output, writes the gradient with respect to every
/// parameter into `grads` (a value of the layer's own type, see [`Params`])
/// and returns the gradient with respect to the input. Nothing is allocated on
/// the heap and nothing is dispatched dynamically; a network's forward and
/// backward are plain nested calls.
///
/// The input type is a trait parameter, so shape-polymorphic layers (activations)
/// work for any size, and a layer with a fixed input size simply has no impl for
/// other sizes.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a layer for inputs of type `{In}`",
    label = "`{In}` is not an input of this layer"
)]
pub trait Layer<In>: Sized {
    /// The output tensor type.
    type Output;
    /// What backward needs from forward besides the input and the output.
    type Cache;

    /// Whether [`backward_params`](Layer::backward_params) writes anything:
    /// `false` for a layer without parameters (an activation, a pooling or
    /// reshaping layer), whose `backward_params` then does nothing. A
    /// network whose first layer has none skips its second layer's input
    /// gradient in training (for a CNN that starts with `Unflatten`, the
    /// first convolution's input gradient). The default, `true`, is always
    /// correct.
    const HAS_PARAMS: bool = true;

    /// Computes the output and the cache for [`backward`](Layer::backward).
    fn forward(&self, x: &In) -> (Self::Output, Self::Cache);

    /// [`forward`](Layer::forward), writing the output into `y` and the cache
    /// into `cache` (both from an earlier call, overwritten) instead of
    /// returning them. The training loop keeps one output and cache across
    /// its batches: a network then writes each layer's output once, in place,
    /// instead of returning it and copying it into the network's cache. The
    /// default calls `forward` and assigns; networks, dense layers and
    /// activations override it.
    ///
    /// ```
    /// use stackgrad::nn::{Dense, Layer, Relu, input};
    /// use stackgrad::Matrix;
    /// let net = input::<2>().then(Dense::<f64, 2, 3>::zeros()).then(Relu).build();
    /// let x = Matrix::from_array([[1.0, -1.0]]);
    /// let (y, cache) = net.forward(&x);
    /// let (mut y2, mut reused) = net.forward(&Matrix::<f64, 1, 2>::zeros());
    /// net.forward_into(&x, &mut y2, &mut reused);
    /// assert_eq!((y2, reused), (y, cache));
    /// ```
    #[inline(always)]
    fn forward_into(&self, x: &In, y: &mut Self::Output, cache: &mut Self::Cache) {
        (*y, *cache) = self.forward(x);
    }

    /// [`forward_into`](Layer::forward_into) in training mode with the
    /// step's [`Ctx`]: a batch norm takes its statistics over the first
    /// `ctx.rows()` rows only (the rest are padding), a dropout draws the mask
    /// of `ctx.step()`. What the training loop calls; see [`mode`]
    /// for the contract. The default ignores `ctx` and calls `forward_into`:
    /// right for every layer without batch statistics or randomness.
    ///
    /// ```
    /// use stackgrad::nn::{BatchNorm1d, Ctx, Layer};
    /// use stackgrad::Matrix;
    /// let bn = BatchNorm1d::<f64, 1>::new();
    /// // Two real rows and a padding row of zeros: the statistics see 1 and 3.
    /// let x = Matrix::from_array([[1.0], [3.0], [0.0]]);
    /// let (mut y, mut cache) = bn.forward(&x);
    /// bn.forward_train(&x, &Ctx::new(2, 0, 0), &mut y, &mut cache);
    /// assert!((y[(0, 0)] + 1.0).abs() < 1e-5 && (y[(1, 0)] - 1.0).abs() < 1e-5);
    /// ```
    #[inline(always)]
    fn forward_train(&self, x: &In, ctx: &Ctx, y: &mut Self::Output, cache: &mut Self::Cache) {
        let _ = ctx;
        self.forward_into(x, y, cache);
    }

    /// After a training step: updates the state the layer keeps across steps
    /// (a batch norm's running statistics) from the input and cache of that
    /// step's forward pass. Called by the training loop after the optimizer;
    /// call it after each step of a hand-written loop. The default does
    /// nothing.
    #[inline(always)]
    fn update(&mut self, x: &In, cache: &Self::Cache) {
        let _ = (x, cache);
    }

    /// Computes the output only, in evaluation mode (batch norm with its
    /// running statistics, dropout as the identity). For every other layer
    /// the same values as `forward(x).0`; layers override it when building
    /// the cache costs something.
    fn infer(&self, x: &In) -> Self::Output {
        self.forward(x).0
    }

    /// Back-propagates `dy = ∂L/∂output` through the layer that mapped `x`
    /// to `y` (with `cache` from the same `forward`): writes `∂L/∂θ` for each
    /// parameter `θ` into the matching field of `grads` (overwriting it) and
    /// returns `∂L/∂x`.
    fn backward(
        &self,
        x: &In,
        y: &Self::Output,
        cache: &Self::Cache,
        dy: &Self::Output,
        grads: &mut Self,
    ) -> In;

    /// [`backward`](Layer::backward) writing `∂L/∂x` into `dx` (overwritten)
    /// instead of returning it. `scratch` is a second cache of the same layer
    /// (from any forward pass; overwritten): a network keeps the gradients
    /// between its layers in the output slots of its scratch cache and hands
    /// each layer the place for its input gradient, so no gradient is copied
    /// on its way down. The training loop keeps the scratch in its
    /// `Workspace`. The default calls
    /// `backward` and assigns; networks, dense layers and activations
    /// override it.
    ///
    /// ```
    /// use stackgrad::nn::{Dense, Layer, Params, Relu, input};
    /// use stackgrad::Matrix;
    /// let net = input::<2>().then(Dense::<f64, 2, 3>::new(
    ///     Matrix::from_array([[1.0, -2.0, 0.5], [0.0, 1.0, 1.0]]), [0.1; 3],
    /// )).then(Relu).build();
    /// let x = Matrix::from_array([[1.0, -1.0]]);
    /// let (y, cache) = net.forward(&x);
    /// let (_, mut scratch) = net.forward(&x);
    /// let dy = Matrix::from_array([[1.0, 2.0, 3.0]]);
    /// let (mut a, mut b) = (net.zeros_like(), net.zeros_like());
    /// let dx = net.backward(&x, &y, &cache, &dy, &mut a);
    /// let mut dx2 = Matrix::zeros();
    /// net.backward_into(&x, &y, &cache, &mut scratch, &dy, &mut dx2, &mut b);
    /// assert_eq!((dx2, b), (dx, a));
    /// ```
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn backward_into(
        &self,
        x: &In,
        y: &Self::Output,
        cache: &Self::Cache,
        scratch: &mut Self::Cache,
        dy: &Self::Output,
        dx: &mut In,
        grads: &mut Self,
    ) {
        let _ = scratch;
        *dx = self.backward(x, y, cache, dy, grads);
    }

    /// [`backward_params`](Layer::backward_params) with a scratch cache, so
    /// that a network passes its gradients down in place (see
    /// [`backward_into`](Layer::backward_into)): what the training loop
    /// calls. The default calls `backward_params`.
    #[inline(always)]
    fn backward_params_into(
        &self,
        x: &In,
        y: &Self::Output,
        cache: &Self::Cache,
        scratch: &mut Self::Cache,
        dy: &Self::Output,
        grads: &mut Self,
    ) {
        let _ = scratch;
        self.backward_params(x, y, cache, dy, grads);
    }

    /// [`backward`](Layer::backward) for a caller that does not need `∂L/∂x`:
    /// writes the same parameter gradients into `grads` and skips what only
    /// the input gradient needs. Training calls it on a network, whose first
    /// layer then skips its input gradient (a dense layer its `D Wᵀ`, a third
    /// of a two-layer step's products); every other layer still passes its
    /// gradient down. The default calls `backward` and drops the result.
    ///
    /// ```
    /// use stackgrad::nn::{Dense, Layer, Params};
    /// use stackgrad::Matrix;
    /// let w = Matrix::from_array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// let layer = Dense::<f64, 2, 3>::new(w, [0.0; 3]);
    /// let x = Matrix::from_array([[1.0, -1.0]]);
    /// let (y, cache) = layer.forward(&x);
    /// let dy = Matrix::from_array([[1.0, 0.5, 0.0]]);
    /// let (mut a, mut b) = (layer.zeros_like(), layer.zeros_like());
    /// let _dx = layer.backward(&x, &y, &cache, &dy, &mut a);
    /// layer.backward_params(&x, &y, &cache, &dy, &mut b);
    /// assert_eq!(a, b);
    /// ```
    #[inline(always)]
    fn backward_params(
        &self,
        x: &In,
        y: &Self::Output,
        cache: &Self::Cache,
        dy: &Self::Output,
        grads: &mut Self,
    ) {
        let _ = self.backward(x, y, cache, dy, grads);
    }

    /// Writes which linear piece the forward pass from `x` to `y` took into
    /// `pattern` (see [`Pattern`]): ReLU writes the sign of every output,
    /// max-pooling the argmax of every window. The gradient checker reports a
    /// coordinate whose pattern differs between `θ - h`, `θ` and `θ + h` as a
    /// kink, not a failure. Smooth layers keep this default, which writes
    /// nothing; networks call it on every layer in order.
    #[inline]
    fn pattern(&self, x: &In, y: &Self::Output, cache: &Self::Cache, pattern: &mut Pattern) {
        let _ = (x, y, cache, pattern);
    }
}

/// What a layer does to the shape of what it receives, checked in plain
/// numbers: `Out` is the shape of its output when it receives shape `S` (a
/// [`Rows`](crate::shape::Rows), [`Image`](crate::shape::Image),
/// [`Channels`](crate::shape::Channels) or [`Unknown`](crate::shape::Unknown))
/// as the layer at position `A` ([`At<P>`](crate::shape::At)) of its tuple.
///
/// A network is checked through it one layer at a time: by
/// [`Builder::then`] where each layer is added, by [`Net::new`] where a tuple
/// of layers is wrapped (from an unknown input), and by `Net`'s `forward`,
/// `infer` and `backward` for the input they are given. A sized layer's
/// impl compares the numbers through a rule in [`shape`](crate::shape) whose
/// message prints them, so a mismatch is one error, in plain numbers, at the
/// offending layer:
///
/// ```text
/// error[E0277]: layer 2 (Dense<f64, 24, 4>) expects 24 inputs but receives 25
/// ```
///
/// Cost: none at run time; it exists only in types.
///
/// A layer of one's own that keeps its input's shape says so in one line (one
/// that changes it can be wrapped in [`Custom`], which follows its output
/// for a batch of one):
///
/// ```
/// use stackgrad::nn::{Connect, Dense, Layer, Net};
/// use stackgrad::{Matrix, Scalar};
///
/// #[derive(Clone, Copy)]
/// struct Double;
/// impl<T: Scalar, const B: usize, const N: usize> Layer<Matrix<T, B, N>> for Double {
///     type Output = Matrix<T, B, N>;
///     type Cache = ();
///     fn forward(&self, x: &Matrix<T, B, N>) -> (Matrix<T, B, N>, ()) {
///         (x.scale(T::from_f64(2.0)), ())
///     }
///     fn backward(
///         &self,
///         _x: &Matrix<T, B, N>,
///         _y: &Matrix<T, B, N>,
///         _: &(),
///         dy: &Matrix<T, B, N>,
///         _: &mut Self,
///     ) -> Matrix<T, B, N> {
///         dy.scale(T::from_f64(2.0))
///     }
/// }
/// impl<S, A> Connect<S, A> for Double {
///     type Out = S;
/// }
///
/// let net = Net::new((Dense::<f32, 2, 3>::zeros(), Double, Dense::<f32, 3, 1>::zeros()));
/// assert_eq!(net.infer(&Matrix::<f32, 4, 2>::zeros()), Matrix::zeros());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a layer stackgrad can check",
    label = "not a layer",
    note = "a layer implements `Layer` for its inputs and `Connect` for their shapes (`impl<S, A> Connect<S, A> for MyLayer {{ type Out = S; }}` for one that keeps its input's shape), or is wrapped in `Custom`"
)]
pub trait Connect<S, A>: Sized {
    /// The shape of the output.
    type Out;
}
