//! PyTorch's layout: load a `state_dict` that PyTorch saved as safetensors
//! into the stackgrad network that mirrors the module, save one that
//! PyTorch's `model.load_state_dict` takes, and print the module as Python.
//!
//! The rule, layer by layer ([`TorchModule`] holds it; `python` is what
//! [`python`] prints):
//!
//! | stackgrad | `python` | tensors in the file |
//! |---|---|---|
//! | `(A, B, ..)`, `Net<(A, B, ..)>` | `nn.Sequential(a, b, ..)` | layer `i`'s under `"i."` |
//! | [`Dense<T, I, O>`](Dense) | `nn.Linear(I, O)` | `weight: [O, I]` (stackgrad's `[I, O]` transposed), `bias: [O]` |
//! | [`Linear<T, I, O>`](Linear) | `nn.Linear(I, O, bias=False)` | `weight: [O, I]` |
//! | [`Conv2d<T, C, F, K, S, P>`](Conv2d) | `nn.Conv2d(C, F, K, stride=S, padding=P)` | `weight: [F, C, K, K]`, `bias: [F]` (as stackgrad's) |
//! | [`BatchNorm1d<T, N>`](BatchNorm1d), [`BatchNorm2d`] | `nn.BatchNorm1d(N, eps=.., momentum=..)` | `weight`, `bias`, `running_mean`, `running_var: [N]`; `num_batches_tracked` |
//! | [`LayerNorm<T, N>`](LayerNorm) | `nn.LayerNorm(N, eps=..)` | `weight`, `bias: [N]` |
//! | [`MaxPool2d<K, S>`](MaxPool2d), [`AvgPool2d`] | `nn.MaxPool2d(K, stride=S)` | none |
//! | [`Flatten`], [`Unflatten<C, H, W>`](Unflatten) | `nn.Flatten()`, `nn.Unflatten(1, (C, H, W))` | none |
//! | [`Relu`], [`Sigmoid`], [`Tanh`], [`Identity`], [`Softmax`], [`Dropout`] | `nn.ReLU()`, .., `nn.Softmax(dim=1)`, `nn.Dropout(p=..)` | none |
//! | [`Residual<F>`](Residual) | `Residual(f)`: `x + f(x)` | `f`'s under `"0."` |
//! | [`Projected<F, G>`](Projected) | `Projected(f, g)`: `f(x) + g(x)` | `f`'s under `"0."`, `g`'s under `"1."` |
//! | [`Concat<F, G>`](Concat) | `Concat(f, g)`: `torch.cat([f(x), g(x)], dim=1)` | `f`'s under `"0."`, `g`'s under `"1."` |
//! | `Box<L>` | `L`'s | `L`'s |
//!
//! PyTorch has no residual or concatenation module: [`python`] defines the
//! three small classes it uses (subclasses of `nn.ModuleList`, whose children
//! are named `"0"` and `"1"` as stackgrad names a block's paths). Settings
//! left at PyTorch's defaults are not printed. Only the names, shapes and
//! element types are checked on load: a network whose layers match a
//! module's in parameters but compute something else (a ReLU where PyTorch
//! has a GELU) loads; print the module with [`python`] and compare.
//!
//! A batch norm's `num_batches_tracked` (an `I64` PyTorch keeps) is accepted
//! on load and its value ignored: the running statistics move with a fixed
//! momentum, as PyTorch's do unless `momentum=None`. Saving leaves it out;
//! `load_state_dict` then keeps the module's own (a `state_dict` without it
//! is one PyTorch reads, strict or not).
//!
//! A layer with no PyTorch equivalent ([`Custom`](crate::nn::Custom), one's
//! own layers) does not implement [`TorchModule`], so a network holding one
//! is a compile error naming it:
//!
//! ```text
//! error[E0277]: `Custom<Scale>` has no PyTorch equivalent
//! ```
//!
//! (implement [`TorchModule`] for one's own layer to give it one).
//!
//! Files saved here record the architecture and the layout in their
//! metadata ([`LAYOUT_KEY`]): [`load`] refuses a file
//! saved in stackgrad's layout and [`io::load`](super::load) one saved in
//! PyTorch's, since a square dense weight would load either way, transposed.
//! A file PyTorch wrote carries no such record and is read as PyTorch's.
//!
//! ```
//! use stackgrad::io::{self, torch, Options};
//! use stackgrad::nn::{Dense, Net, Relu};
//!
//! type Mlp = Net<(Dense<f32, 64, 32>, Relu, Dense<f32, 32, 10>)>;
//! let net: Mlp = Net::new((Dense::zeros(), Relu, Dense::zeros()));
//! assert!(torch::python(&net).contains(
//!     "model = nn.Sequential(\n    nn.Linear(64, 32),\n    nn.ReLU(),\n    nn.Linear(32, 10),\n)"
//! ));
//!
//! let bytes = torch::to_bytes(&net, Options::new())?;
//! let file = io::File::parse(&bytes, "in memory")?;
//! assert_eq!(file.raw("0.weight").unwrap().1, &[32, 64]); // out x in
//!
//! let mut back: Mlp = Net::new((Dense::zeros(), Relu, Dense::zeros()));
//! torch::from_bytes(&mut back, &bytes, "in memory", Options::new())?;
//! let err = io::from_bytes(&mut back, &bytes, "in memory").unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "in memory holds PyTorch's layout (recorded in its metadata): load it with io::torch::load"
//! );
//! # Ok::<(), stackgrad::Error>(())
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::string::{String, ToString};
use std::vec::Vec;

use super::{
    ARCHITECTURE_KEY, Dtype, LAYOUT_KEY, Options, architecture, load_state, read_from,
    stored_state, write_file, write_to,
};
use crate::nn::{
    AvgPool2d, BatchNorm1d, BatchNorm2d, Concat, Conv2d, Dense, Dropout, Flatten, Identity,
    LayerNorm, Linear, MaxPool2d, Net, Params, Projected, Relu, Residual, Sigmoid, Softmax, Tanh,
    Unflatten,
};
use crate::{Error, Scalar};

/// A layer or network with a PyTorch equivalent: the module it prints as,
/// and which of its tensors PyTorch stores transposed (see the
/// [module](self)'s table).
///
/// ```
/// use stackgrad::io::torch::{Module, TorchModule};
/// use stackgrad::nn::{Dense, Relu};
/// let mut m = Module::new();
/// (Dense::<f32, 4, 2>::zeros(), Relu).module(&mut m);
/// assert_eq!(m.source(), "nn.Sequential(\n    nn.Linear(4, 2),\n    nn.ReLU(),\n)");
/// assert!(<(Dense<f32, 4, 2>, Relu)>::transposed(&[0], "weight"));
/// assert!(!<(Dense<f32, 4, 2>, Relu)>::transposed(&[0], "bias"));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no PyTorch equivalent",
    label = "this network holds a layer that no PyTorch module computes",
    note = "implement `stackgrad::io::torch::TorchModule` for the layer to give it one"
)]
pub trait TorchModule {
    /// Writes the module that computes this layer (`nn.Linear(64, 10)`;
    /// a container and its children for networks and blocks).
    fn module(&self, out: &mut Module);

    /// Whether PyTorch stores this layer's tensor `leaf` below the layer
    /// path `path` (relative to this layer) transposed: a dense weight,
    /// `out x in` where stackgrad's is `in x out`. Default: no tensor is.
    #[must_use]
    fn transposed(path: &[u16], leaf: &str) -> bool {
        let _ = (path, leaf);
        false
    }
}

/// Python source of a PyTorch module under construction: expressions,
/// nested containers indented by four spaces, and the helper classes they
/// use (written once, before the model, by [`python`]).
///
/// ```
/// use stackgrad::io::torch::Module;
/// let mut m = Module::new();
/// m.container("nn.Sequential", |m| {
///     m.leaf("nn.Identity()");
///     m.leaf("nn.Tanh()");
/// });
/// assert_eq!(m.source(), "nn.Sequential(\n    nn.Identity(),\n    nn.Tanh(),\n)");
/// ```
#[derive(Clone, Debug, Default)]
pub struct Module {
    source: String,
    depth: usize,
    classes: BTreeMap<&'static str, &'static str>,
}

impl Module {
    /// An empty module.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn start(&mut self) {
        for _ in 0..self.depth {
            self.source.push_str("    ");
        }
    }

    fn end(&mut self) {
        if self.depth > 0 {
            self.source.push_str(",\n");
        }
    }

    /// A module without children: `expr` is a Python expression.
    pub fn leaf(&mut self, expr: &str) {
        self.start();
        self.source.push_str(expr);
        self.end();
    }

    /// A module `head(child, child, ..)` whose children `children` writes.
    pub fn container(&mut self, head: &str, children: impl FnOnce(&mut Self)) {
        self.start();
        self.source.push_str(head);
        self.source.push_str("(\n");
        self.depth += 1;
        children(self);
        self.depth -= 1;
        self.start();
        self.source.push(')');
        self.end();
    }

    /// Declares a Python class that the source uses (`source` defines
    /// `name`); [`python`] writes each once, before the model.
    pub fn class(&mut self, name: &'static str, source: &'static str) {
        self.classes.insert(name, source);
    }

    /// The module expression written so far.
    #[must_use]
    pub fn source(&self) -> &str {
        &self.source
    }
}

/// The Python source of a script that builds `net`'s PyTorch equivalent as
/// `model` (with `import torch` and `from torch import nn`, and the helper
/// classes of blocks), in `float64` for an `f64` network. `exec` it, or
/// save it as a `.py` file, then `model.load_state_dict(..)` takes what
/// [`save`] wrote.
///
/// ```
/// use stackgrad::io::torch;
/// use stackgrad::nn::{BatchNorm2d, Conv2d, Dense, Flatten, MaxPool2d, Net, Relu, Residual, Unflatten};
/// let net = Net::new((
///     Unflatten::<1, 8, 8>,
///     Conv2d::<f64, 1, 4, 3, 1, 1>::zeros(),
///     Residual::new(Net::new((BatchNorm2d::<f64, 4>::with(0.1, 1e-3)?, Relu))),
///     MaxPool2d::<2>,
///     Flatten,
///     Dense::<f64, 64, 10>::zeros(),
/// ));
/// let source = torch::python(&net);
/// assert!(source.contains("class Residual(nn.ModuleList):"));
/// assert!(source.ends_with(
///     "model = nn.Sequential(
///     nn.Unflatten(1, (1, 8, 8)),
///     nn.Conv2d(1, 4, 3, padding=1),
///     Residual(
///         nn.Sequential(
///             nn.BatchNorm2d(4, eps=0.001),
///             nn.ReLU(),
///         ),
///     ),
///     nn.MaxPool2d(2),
///     nn.Flatten(),
///     nn.Linear(64, 10),
/// ).double()
/// "
/// ));
/// # Ok::<(), stackgrad::Error>(())
/// ```
#[must_use]
pub fn python<T: Scalar, P: Params<T> + TorchModule>(net: &P) -> String {
    let mut m = Module::new();
    net.module(&mut m);
    let mut out = std::format!(
        "# PyTorch equivalent of stackgrad's {}\nimport torch\nfrom torch import nn\n\n",
        architecture::<P>()
    );
    for source in m.classes.values() {
        out.push_str(source);
        out.push_str("\n\n");
    }
    out.push_str("model = ");
    out.push_str(m.source());
    if Dtype::of::<T>() == Dtype::F64 {
        out.push_str(".double()");
    }
    out.push('\n');
    out
}

/// `net`'s state in PyTorch's layout as a safetensors file (names as
/// `state_dict`'s, dense weights `out x in`), in the element type that
/// `options` ask for, recording the architecture and the layout in the
/// metadata. `safetensors.torch.load_file` reads it, and
/// `model.load_state_dict` takes it.
///
/// # Errors
/// [`Error::ValueRange`] for a finite value the chosen type cannot hold;
/// [`Error::Format`] if a user-defined layer reports a tensor whose length
/// differs from its shape or a name twice.
pub fn to_bytes<T: Scalar, P: Params<T> + TorchModule>(
    net: &P,
    options: Options,
) -> Result<Vec<u8>, Error> {
    let architecture = architecture::<P>();
    let meta = [
        (ARCHITECTURE_KEY, architecture.as_str()),
        (LAYOUT_KEY, "torch"),
    ];
    let transposed = |name: &crate::nn::ParamName| P::transposed(name.path(), name.leaf_name());
    write_file(
        &stored_state(net, &transposed),
        &meta,
        options.dtype.unwrap_or(Dtype::of::<T>()),
    )
}

/// Loads a `state_dict` in PyTorch's layout (as PyTorch's
/// `safetensors.torch.save_file(model.state_dict(), ..)` writes it, or
/// [`to_bytes`]) into `net`. `net` is changed only when the whole file fits.
///
/// ```
/// use stackgrad::io::{torch, Options};
/// use stackgrad::nn::Dense;
/// let mut layer = Dense::<f32, 3, 2>::zeros();
/// let stackgrad_layout = stackgrad::io::encode(
///     &[("weight", &[3, 2], &[0.0f32; 6]), ("bias", &[2], &[0.0; 2])], &[])?;
/// let err = torch::from_bytes(&mut layer, &stackgrad_layout, "w", Options::new()).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "w: tensor \"weight\" has shape [3, 2] but the network expects [2, 3] in PyTorch's layout \
///      (out x in; [3, 2] in stackgrad's, which the file holds: load it with io::load)"
/// );
/// # Ok::<(), stackgrad::Error>(())
/// ```
///
/// # Errors
/// [`Error::Truncated`], [`Error::Format`] for a malformed file;
/// [`Error::Layout`] for a file saved in stackgrad's layout;
/// [`Error::Architecture`] when the file records another network;
/// [`Error::MissingTensor`], [`Error::UnexpectedTensor`],
/// [`Error::TensorDtype`] (another element type without
/// [`Options::convert`]), [`Error::TorchShape`] (shape in both layouts),
/// [`Error::ValueRange`] for the first tensor that does not fit.
pub fn from_bytes<T: Scalar, P: Params<T> + TorchModule>(
    net: &mut P,
    bytes: &[u8],
    source: &str,
    options: Options,
) -> Result<(), Error> {
    let transposed = |name: &crate::nn::ParamName| P::transposed(name.path(), name.leaf_name());
    load_state(net, bytes, source, options, Some(&transposed))
}

/// Writes `net`'s state to `path` in PyTorch's layout (see [`to_bytes`]).
///
/// # Errors
/// Those of [`to_bytes`]; [`Error::Io`] when the file cannot be written.
pub fn save<T: Scalar, P: Params<T> + TorchModule>(
    net: &P,
    path: impl AsRef<Path>,
    options: Options,
) -> Result<(), Error> {
    write_to(path.as_ref(), to_bytes(net, options)?)
}

/// Loads the file at `path`, in PyTorch's layout, into `net` (see
/// [`from_bytes`]).
///
/// # Errors
/// [`Error::Io`] when the file cannot be read, and those of [`from_bytes`].
pub fn load<T: Scalar, P: Params<T> + TorchModule>(
    net: &mut P,
    path: impl AsRef<Path>,
    options: Options,
) -> Result<(), Error> {
    let path = path.as_ref();
    from_bytes(net, &read_from(path)?, &path.display().to_string(), options)
}

// ----- The layers ---------------------------------------------------------

impl<T: Scalar, const I: usize, const O: usize> TorchModule for Dense<T, I, O> {
    fn module(&self, out: &mut Module) {
        out.leaf(&std::format!("nn.Linear({I}, {O})"));
    }
    fn transposed(path: &[u16], leaf: &str) -> bool {
        path.is_empty() && leaf == "weight"
    }
}

impl<T: Scalar, const I: usize, const O: usize> TorchModule for Linear<T, I, O> {
    fn module(&self, out: &mut Module) {
        out.leaf(&std::format!("nn.Linear({I}, {O}, bias=False)"));
    }
    fn transposed(path: &[u16], leaf: &str) -> bool {
        path.is_empty() && leaf == "weight"
    }
}

impl<T: Scalar, const C: usize, const F: usize, const K: usize, const S: usize, const P: usize>
    TorchModule for Conv2d<T, C, F, K, S, P>
{
    fn module(&self, out: &mut Module) {
        let mut s = std::format!("nn.Conv2d({C}, {F}, {K}");
        if S != 1 {
            s.push_str(&std::format!(", stride={S}"));
        }
        if P != 0 {
            s.push_str(&std::format!(", padding={P}"));
        }
        s.push(')');
        out.leaf(&s);
    }
}

macro_rules! pool_module {
    ($($Pool:ident),*) => {$(
        impl<const K: usize, const S: usize> TorchModule for $Pool<K, S> {
            fn module(&self, out: &mut Module) {
                out.leaf(&if S == K {
                    std::format!("nn.{}({K})", stringify!($Pool))
                } else {
                    std::format!("nn.{}({K}, stride={S})", stringify!($Pool))
                });
            }
        }
    )*};
}
pool_module!(MaxPool2d, AvgPool2d);

macro_rules! fixed_module {
    ($($ty:ty => $py:literal),* $(,)?) => {$(
        impl TorchModule for $ty {
            fn module(&self, out: &mut Module) {
                out.leaf($py);
            }
        }
    )*};
}
fixed_module! {
    Relu => "nn.ReLU()",
    Sigmoid => "nn.Sigmoid()",
    Tanh => "nn.Tanh()",
    Identity => "nn.Identity()",
    Softmax => "nn.Softmax(dim=1)",
    Flatten => "nn.Flatten()",
}

impl<const C: usize, const H: usize, const W: usize> TorchModule for Unflatten<C, H, W> {
    fn module(&self, out: &mut Module) {
        out.leaf(&std::format!("nn.Unflatten(1, ({C}, {H}, {W}))"));
    }
}

impl TorchModule for Dropout {
    fn module(&self, out: &mut Module) {
        out.leaf(&std::format!("nn.Dropout(p={:?})", self.p()));
    }
}

/// `, eps=..` and `, momentum=..` where they differ from PyTorch's defaults.
fn norm_settings<T: Scalar>(eps: T, momentum: Option<T>) -> String {
    let mut s = String::new();
    if eps != T::from_f64(1e-5) {
        s.push_str(&std::format!(", eps={eps:?}"));
    }
    if let Some(m) = momentum.filter(|&m| m != T::from_f64(0.1)) {
        s.push_str(&std::format!(", momentum={m:?}"));
    }
    s
}

macro_rules! batch_norm_module {
    ($($Norm:ident),*) => {$(
        impl<T: Scalar, const N: usize> TorchModule for $Norm<T, N> {
            fn module(&self, out: &mut Module) {
                out.leaf(&std::format!(
                    "nn.{}({N}{})",
                    stringify!($Norm),
                    norm_settings(self.eps(), Some(self.momentum()))
                ));
            }
        }
    )*};
}
batch_norm_module!(BatchNorm1d, BatchNorm2d);

impl<T: Scalar, const N: usize> TorchModule for LayerNorm<T, N> {
    fn module(&self, out: &mut Module) {
        out.leaf(&std::format!(
            "nn.LayerNorm({N}{})",
            norm_settings(self.eps(), None)
        ));
    }
}

impl<L: TorchModule> TorchModule for Net<L> {
    fn module(&self, out: &mut Module) {
        self.layers.module(out);
    }
    fn transposed(path: &[u16], leaf: &str) -> bool {
        L::transposed(path, leaf)
    }
}

impl<L: TorchModule> TorchModule for std::boxed::Box<L> {
    fn module(&self, out: &mut Module) {
        (**self).module(out);
    }
    fn transposed(path: &[u16], leaf: &str) -> bool {
        L::transposed(path, leaf)
    }
}

/// `path`'s first index and the rest, when the first is `index`.
fn below(path: &[u16], index: u16) -> Option<&[u16]> {
    path.split_first()
        .and_then(|(&i, rest)| (i == index).then_some(rest))
}

const RESIDUAL: &str = "class Residual(nn.ModuleList):
    \"\"\"stackgrad's Residual: y = x + f(x); the branch f is child \"0\".\"\"\"

    def __init__(self, branch):
        super().__init__([branch])

    def forward(self, x):
        return x + self[0](x)
";

const PROJECTED: &str = "class Projected(nn.ModuleList):
    \"\"\"stackgrad's Projected: y = f(x) + g(x); the branch f is child \"0\", the skip path g \"1\".\"\"\"

    def __init__(self, branch, skip):
        super().__init__([branch, skip])

    def forward(self, x):
        return self[0](x) + self[1](x)
";

const CONCAT: &str = "class Concat(nn.ModuleList):
    \"\"\"stackgrad's Concat: [f(x), g(x)] along dimension 1 (features or channels); f is child \"0\", g \"1\".\"\"\"

    def __init__(self, first, second):
        super().__init__([first, second])

    def forward(self, x):
        return torch.cat([self[0](x), self[1](x)], dim=1)
";

impl<F: TorchModule> TorchModule for Residual<F> {
    fn module(&self, out: &mut Module) {
        out.class("Residual", RESIDUAL);
        out.container("Residual", |out| self.branch.module(out));
    }
    fn transposed(path: &[u16], leaf: &str) -> bool {
        below(path, 0).is_some_and(|rest| F::transposed(rest, leaf))
    }
}

impl<F: TorchModule, G: TorchModule> TorchModule for Projected<F, G> {
    fn module(&self, out: &mut Module) {
        out.class("Projected", PROJECTED);
        out.container("Projected", |out| {
            self.branch.module(out);
            self.skip.module(out);
        });
    }
    fn transposed(path: &[u16], leaf: &str) -> bool {
        below(path, 0).is_some_and(|rest| F::transposed(rest, leaf))
            || below(path, 1).is_some_and(|rest| G::transposed(rest, leaf))
    }
}

impl<F: TorchModule, G: TorchModule> TorchModule for Concat<F, G> {
    fn module(&self, out: &mut Module) {
        out.class("Concat", CONCAT);
        out.container("Concat", |out| {
            self.first.module(out);
            self.second.module(out);
        });
    }
    fn transposed(path: &[u16], leaf: &str) -> bool {
        below(path, 0).is_some_and(|rest| F::transposed(rest, leaf))
            || below(path, 1).is_some_and(|rest| G::transposed(rest, leaf))
    }
}

macro_rules! tuple_module {
    ($(($L:ident, $i:tt)),+) => {
        impl<$($L: TorchModule),+> TorchModule for ($($L,)+) {
            fn module(&self, out: &mut Module) {
                out.container("nn.Sequential", |out| {
                    $(self.$i.module(out);)+
                });
            }
            fn transposed(path: &[u16], leaf: &str) -> bool {
                $(
                    if let Some(rest) = below(path, $i) {
                        return $L::transposed(rest, leaf);
                    }
                )+
                false
            }
        }
    };
}
// Generated by `python3 tools/gen_tuple_impls.py torch`.
#[rustfmt::skip]
mod tuples {
    use super::*;
    tuple_module!((L0, 0));
    tuple_module!((L0, 0), (L1, 1));
    tuple_module!((L0, 0), (L1, 1), (L2, 2));
    tuple_module!((L0, 0), (L1, 1), (L2, 2), (L3, 3));
    tuple_module!((L0, 0), (L1, 1), (L2, 2), (L3, 3), (L4, 4));
    tuple_module!((L0, 0), (L1, 1), (L2, 2), (L3, 3), (L4, 4), (L5, 5));
    tuple_module!((L0, 0), (L1, 1), (L2, 2), (L3, 3), (L4, 4), (L5, 5), (L6, 6));
    tuple_module!((L0, 0), (L1, 1), (L2, 2), (L3, 3), (L4, 4), (L5, 5), (L6, 6), (L7, 7));
    tuple_module!((L0, 0), (L1, 1), (L2, 2), (L3, 3), (L4, 4), (L5, 5), (L6, 6), (L7, 7), (L8, 8));
    tuple_module!((L0, 0), (L1, 1), (L2, 2), (L3, 3), (L4, 4), (L5, 5), (L6, 6), (L7, 7), (L8, 8), (L9, 9));
    tuple_module!((L0, 0), (L1, 1), (L2, 2), (L3, 3), (L4, 4), (L5, 5), (L6, 6), (L7, 7), (L8, 8), (L9, 9), (L10, 10));
    tuple_module!((L0, 0), (L1, 1), (L2, 2), (L3, 3), (L4, 4), (L5, 5), (L6, 6), (L7, 7), (L8, 8), (L9, 9), (L10, 10), (L11, 11));
    tuple_module!((L0, 0), (L1, 1), (L2, 2), (L3, 3), (L4, 4), (L5, 5), (L6, 6), (L7, 7), (L8, 8), (L9, 9), (L10, 10), (L11, 11), (L12, 12));
    tuple_module!((L0, 0), (L1, 1), (L2, 2), (L3, 3), (L4, 4), (L5, 5), (L6, 6), (L7, 7), (L8, 8), (L9, 9), (L10, 10), (L11, 11), (L12, 12), (L13, 13));
    tuple_module!((L0, 0), (L1, 1), (L2, 2), (L3, 3), (L4, 4), (L5, 5), (L6, 6), (L7, 7), (L8, 8), (L9, 9), (L10, 10), (L11, 11), (L12, 12), (L13, 13), (L14, 14));
    tuple_module!((L0, 0), (L1, 1), (L2, 2), (L3, 3), (L4, 4), (L5, 5), (L6, 6), (L7, 7), (L8, 8), (L9, 9), (L10, 10), (L11, 11), (L12, 12), (L13, 13), (L14, 14), (L15, 15));
    tuple_module!((L0, 0), (L1, 1), (L2, 2), (L3, 3), (L4, 4), (L5, 5), (L6, 6), (L7, 7), (L8, 8), (L9, 9), (L10, 10), (L11, 11), (L12, 12), (L13, 13), (L14, 14), (L15, 15), (L16, 16));
    tuple_module!((L0, 0), (L1, 1), (L2, 2), (L3, 3), (L4, 4), (L5, 5), (L6, 6), (L7, 7), (L8, 8), (L9, 9), (L10, 10), (L11, 11), (L12, 12), (L13, 13), (L14, 14), (L15, 15), (L16, 16), (L17, 17));
    tuple_module!((L0, 0), (L1, 1), (L2, 2), (L3, 3), (L4, 4), (L5, 5), (L6, 6), (L7, 7), (L8, 8), (L9, 9), (L10, 10), (L11, 11), (L12, 12), (L13, 13), (L14, 14), (L15, 15), (L16, 16), (L17, 17), (L18, 18));
    tuple_module!((L0, 0), (L1, 1), (L2, 2), (L3, 3), (L4, 4), (L5, 5), (L6, 6), (L7, 7), (L8, 8), (L9, 9), (L10, 10), (L11, 11), (L12, 12), (L13, 13), (L14, 14), (L15, 15), (L16, 16), (L17, 17), (L18, 18), (L19, 19));
    tuple_module!((L0, 0), (L1, 1), (L2, 2), (L3, 3), (L4, 4), (L5, 5), (L6, 6), (L7, 7), (L8, 8), (L9, 9), (L10, 10), (L11, 11), (L12, 12), (L13, 13), (L14, 14), (L15, 15), (L16, 16), (L17, 17), (L18, 18), (L19, 19), (L20, 20));
    tuple_module!((L0, 0), (L1, 1), (L2, 2), (L3, 3), (L4, 4), (L5, 5), (L6, 6), (L7, 7), (L8, 8), (L9, 9), (L10, 10), (L11, 11), (L12, 12), (L13, 13), (L14, 14), (L15, 15), (L16, 16), (L17, 17), (L18, 18), (L19, 19), (L20, 20), (L21, 21));
    tuple_module!((L0, 0), (L1, 1), (L2, 2), (L3, 3), (L4, 4), (L5, 5), (L6, 6), (L7, 7), (L8, 8), (L9, 9), (L10, 10), (L11, 11), (L12, 12), (L13, 13), (L14, 14), (L15, 15), (L16, 16), (L17, 17), (L18, 18), (L19, 19), (L20, 20), (L21, 21), (L22, 22));
    tuple_module!((L0, 0), (L1, 1), (L2, 2), (L3, 3), (L4, 4), (L5, 5), (L6, 6), (L7, 7), (L8, 8), (L9, 9), (L10, 10), (L11, 11), (L12, 12), (L13, 13), (L14, 14), (L15, 15), (L16, 16), (L17, 17), (L18, 18), (L19, 19), (L20, 20), (L21, 21), (L22, 22), (L23, 23));
    tuple_module!((L0, 0), (L1, 1), (L2, 2), (L3, 3), (L4, 4), (L5, 5), (L6, 6), (L7, 7), (L8, 8), (L9, 9), (L10, 10), (L11, 11), (L12, 12), (L13, 13), (L14, 14), (L15, 15), (L16, 16), (L17, 17), (L18, 18), (L19, 19), (L20, 20), (L21, 21), (L22, 22), (L23, 23), (L24, 24));
    tuple_module!((L0, 0), (L1, 1), (L2, 2), (L3, 3), (L4, 4), (L5, 5), (L6, 6), (L7, 7), (L8, 8), (L9, 9), (L10, 10), (L11, 11), (L12, 12), (L13, 13), (L14, 14), (L15, 15), (L16, 16), (L17, 17), (L18, 18), (L19, 19), (L20, 20), (L21, 21), (L22, 22), (L23, 23), (L24, 24), (L25, 25));
    tuple_module!((L0, 0), (L1, 1), (L2, 2), (L3, 3), (L4, 4), (L5, 5), (L6, 6), (L7, 7), (L8, 8), (L9, 9), (L10, 10), (L11, 11), (L12, 12), (L13, 13), (L14, 14), (L15, 15), (L16, 16), (L17, 17), (L18, 18), (L19, 19), (L20, 20), (L21, 21), (L22, 22), (L23, 23), (L24, 24), (L25, 25), (L26, 26));
    tuple_module!((L0, 0), (L1, 1), (L2, 2), (L3, 3), (L4, 4), (L5, 5), (L6, 6), (L7, 7), (L8, 8), (L9, 9), (L10, 10), (L11, 11), (L12, 12), (L13, 13), (L14, 14), (L15, 15), (L16, 16), (L17, 17), (L18, 18), (L19, 19), (L20, 20), (L21, 21), (L22, 22), (L23, 23), (L24, 24), (L25, 25), (L26, 26), (L27, 27));
    tuple_module!((L0, 0), (L1, 1), (L2, 2), (L3, 3), (L4, 4), (L5, 5), (L6, 6), (L7, 7), (L8, 8), (L9, 9), (L10, 10), (L11, 11), (L12, 12), (L13, 13), (L14, 14), (L15, 15), (L16, 16), (L17, 17), (L18, 18), (L19, 19), (L20, 20), (L21, 21), (L22, 22), (L23, 23), (L24, 24), (L25, 25), (L26, 26), (L27, 27), (L28, 28));
    tuple_module!((L0, 0), (L1, 1), (L2, 2), (L3, 3), (L4, 4), (L5, 5), (L6, 6), (L7, 7), (L8, 8), (L9, 9), (L10, 10), (L11, 11), (L12, 12), (L13, 13), (L14, 14), (L15, 15), (L16, 16), (L17, 17), (L18, 18), (L19, 19), (L20, 20), (L21, 21), (L22, 22), (L23, 23), (L24, 24), (L25, 25), (L26, 26), (L27, 27), (L28, 28), (L29, 29));
    tuple_module!((L0, 0), (L1, 1), (L2, 2), (L3, 3), (L4, 4), (L5, 5), (L6, 6), (L7, 7), (L8, 8), (L9, 9), (L10, 10), (L11, 11), (L12, 12), (L13, 13), (L14, 14), (L15, 15), (L16, 16), (L17, 17), (L18, 18), (L19, 19), (L20, 20), (L21, 21), (L22, 22), (L23, 23), (L24, 24), (L25, 25), (L26, 26), (L27, 27), (L28, 28), (L29, 29), (L30, 30));
    tuple_module!((L0, 0), (L1, 1), (L2, 2), (L3, 3), (L4, 4), (L5, 5), (L6, 6), (L7, 7), (L8, 8), (L9, 9), (L10, 10), (L11, 11), (L12, 12), (L13, 13), (L14, 14), (L15, 15), (L16, 16), (L17, 17), (L18, 18), (L19, 19), (L20, 20), (L21, 21), (L22, 22), (L23, 23), (L24, 24), (L25, 25), (L26, 26), (L27, 27), (L28, 28), (L29, 29), (L30, 30), (L31, 31));
}
