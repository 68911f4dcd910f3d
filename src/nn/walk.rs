//! [`Walk`]: a network's layers visited one by one, with the input each
//! receives; see the trait.

use core::any::type_name;

use super::{
    AvgPool2d, BatchNorm1d, BatchNorm2d, Concat, Conv2d, Custom, Dense, Dropout, Elu, Flatten,
    Gelu, GeluTanh, Identity, Layer, LayerNorm, LeakyRelu, Linear, MAX_NAME_DEPTH, MaxPool2d, Net,
    ParamName, Projected, Relu, Residual, Sigmoid, Silu, Softmax, Softplus, Tanh, Unflatten,
};
use crate::Scalar;
use crate::gradcheck::CheckLayer;

/// A layer's position in a network: the indices from the outermost network
/// down (`[4, 0, 1]` is layer 1 of the first path of the block at position
/// 4), at most [`MAX_NAME_DEPTH`] deep. Displayed as `4.0.1`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Path {
    at: [u16; MAX_NAME_DEPTH],
    depth: usize,
}

impl Path {
    /// The indices, outermost first.
    #[must_use]
    pub fn indices(&self) -> &[u16] {
        &self.at[..self.depth]
    }

    /// Runs `f` one level down, at `index`, and returns what it returns.
    /// Beyond [`MAX_NAME_DEPTH`] levels the path stops growing (the deeper
    /// layers share their ancestor's path).
    pub fn within<R>(&mut self, index: usize, f: impl FnOnce(&mut Path) -> R) -> R {
        if self.depth < MAX_NAME_DEPTH {
            self.at[self.depth] = index.min(u16::MAX as usize) as u16;
            self.depth += 1;
            let r = f(self);
            self.depth -= 1;
            r
        } else {
            f(self)
        }
    }

    /// Whether `self` lies strictly inside `outer` (a layer of the block or
    /// network at `outer`).
    #[must_use]
    pub fn is_inside(&self, outer: &Path) -> bool {
        self.depth > outer.depth && self.indices().starts_with(outer.indices())
    }

    /// `name` as seen from the enclosing network: `"weight"` at path `2.0`
    /// is `"2.0.weight"`.
    #[must_use]
    pub fn name(&self, name: ParamName) -> ParamName {
        self.indices()
            .iter()
            .rev()
            .fold(name, |n, &i| n.within(usize::from(i)))
    }
}

impl core::fmt::Display for Path {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (k, i) in self.indices().iter().enumerate() {
            if k > 0 {
                f.write_str(".")?;
            }
            write!(f, "{i}")?;
        }
        Ok(())
    }
}

/// A layer's position and type, displayed the way reports name a layer:
/// `layer 2 (Relu)`, `layer 1.0.1 (Dense)`; a layer checked on its own,
/// outside a network, is just its type.
///
/// ```
/// use stackgrad::nn::{LayerName, Path};
/// let mut path = Path::default();
/// let name = path.within(2, |p| LayerName::new(p, "Relu"));
/// assert_eq!(name.to_string(), "layer 2 (Relu)");
/// assert_eq!(LayerName::new(&Path::default(), "Dense<f64, 2, 3>").to_string(), "Dense");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LayerName {
    /// Where the layer sits.
    pub path: Path,
    /// Its type without module paths (`Dense<f32, 64, 32>`, `Relu`).
    pub kind: &'static str,
}

impl LayerName {
    /// The layer of type `kind` at `path`.
    #[must_use]
    pub fn new(path: &Path, kind: &'static str) -> Self {
        Self { path: *path, kind }
    }

    /// The type without its parameters: `Dense` for `Dense<f32, 64, 32>`.
    #[must_use]
    pub fn short_kind(&self) -> &'static str {
        head(self.kind)
    }
}

impl core::fmt::Display for LayerName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.path.depth == 0 {
            f.write_str(self.short_kind())
        } else {
            write!(f, "layer {} ({})", self.path, self.short_kind())
        }
    }
}

/// What a walk calls at each layer; see [`Walk`].
///
/// What flows from layer to layer is the visitor's [`Value`](Visitor::Value):
/// the tensors themselves for a visitor that needs the input each layer
/// receives (the gradient checker), `()` for one that reads types only (a
/// summary, which then runs no forward pass at all).
pub trait Visitor<T: Scalar> {
    /// What stops the walk.
    type Error;
    /// What a walk carries in place of a tensor of type `X`: `X`, or `()`.
    type Value<X>;

    /// A single layer (not a network or block), fed `x`; returns the
    /// layer's output for the next layer.
    ///
    /// # Errors
    /// Whatever the visitor reports; the walk stops there.
    fn leaf<In, L: CheckLayer<In, T>>(
        &mut self,
        name: LayerName,
        layer: &L,
        x: &Self::Value<In>,
    ) -> Result<Self::Value<L::Output>, Self::Error>;

    /// A block (a layer made of paths over one input), before its paths are
    /// walked. Default: nothing.
    ///
    /// # Errors
    /// Whatever the visitor reports; the walk stops there.
    fn block<In, L: CheckLayer<In, T>>(
        &mut self,
        name: LayerName,
        layer: &L,
        x: &Self::Value<In>,
    ) -> Result<(), Self::Error> {
        let _ = (name, layer, x);
        Ok(())
    }

    /// A network's or block's output, from its input: `layer.forward(x).0`,
    /// or `()`.
    fn forward<In, L: Layer<In>>(
        &mut self,
        layer: &L,
        x: &Self::Value<In>,
    ) -> Self::Value<L::Output>;
}

/// A network's layers, visited one by one, depth first, each with its
/// position, its type and (when there is an input) the input it receives in
/// the network. One walk serves every tool that looks inside a
/// network: [`Net::summary`](super::Net::summary) prints a row per layer,
/// and [`GradCheck::check_layers`](crate::gradcheck::GradCheck::check_layers)
/// checks each layer's backward on its own.
///
/// | visited type | what the walk does |
/// |---|---|
/// | a layer (dense, activation, pooling, a [`Custom`] or [`params!`](crate::params) layer, one's own) | [`Visitor::leaf`], then its forward for the next layer's input |
/// | `(L0, L1, ..)`, [`Net`] | walks `L0` at path `.0` with the input, `L1` at `.1` with `L0`'s output, ... |
/// | [`Residual`], [`Projected`], [`Concat`] | [`Visitor::block`] (the block as one layer), then each path (`.0`, `.1`) with the block's input |
/// | `Box<L>` | as `L` (a boxed layer is visited as itself, so a check copies it on the heap) |
///
/// A layer of one's own gets the walk from an empty impl (the provided
/// methods treat it as a single layer); [`Custom`] and
/// [`params!`](crate::params) write that impl:
///
/// ```
/// use stackgrad::gradcheck::{CheckLayer, GradCheck};
/// use stackgrad::nn::{Connect, Layer, Net, ParamName, Params, Recast, Shape, Tanh, Tensor, TensorMut, Walk};
/// use stackgrad::{Matrix, Scalar};
///
/// /// `y = s x` with a learned scalar `s`, written out by hand.
/// #[derive(Clone, Copy, Debug)]
/// struct Scale<T>([T; 1]);
///
/// impl<T: Scalar, const B: usize, const N: usize> Layer<Matrix<T, B, N>> for Scale<T> {
///     type Output = Matrix<T, B, N>;
///     type Cache = ();
///     fn forward(&self, x: &Matrix<T, B, N>) -> (Matrix<T, B, N>, ()) {
///         (x.scale(self.0[0]), ())
///     }
///     fn backward(
///         &self,
///         x: &Matrix<T, B, N>,
///         _: &Matrix<T, B, N>,
///         (): &(),
///         dy: &Matrix<T, B, N>,
///         grads: &mut Self,
///     ) -> Matrix<T, B, N> {
///         grads.0 = [dy.hadamard(x).sum()];
///         dy.scale(self.0[0])
///     }
/// }
/// # impl<T: Scalar> Params<T> for Scale<T> {
/// #     const TENSORS: usize = 1;
/// #     const PARAMS: usize = 1;
/// #     fn tensor(&self, k: usize) -> Option<Tensor<'_, T>> {
/// #         let (name, shape) = (ParamName::leaf("scale"), Shape::new(&[1]));
/// #         (k == 0).then(|| Tensor { name, shape, data: &self.0[..] })
/// #     }
/// #     fn tensor_mut(&mut self, k: usize) -> Option<TensorMut<'_, T>> {
/// #         let (name, shape) = (ParamName::leaf("scale"), Shape::new(&[1]));
/// #         (k == 0).then(|| TensorMut { name, shape, data: &mut self.0[..] })
/// #     }
/// #     fn zeros_like(&self) -> Self { Scale([T::zero()]) }
/// # }
/// # impl<T: Scalar, U: Scalar> Recast<U> for Scale<T> {
/// #     type Output = Scale<U>;
/// #     fn recast(&self) -> Scale<U> { Scale([U::from_f64(self.0[0].as_f64())]) }
/// # }
/// // It keeps its input's shape:
/// impl<S, A, T> Connect<S, A> for Scale<T> {
///     type Out = S;
/// }
/// // With its `Params` and `Recast` (hidden here), the walk is one line:
/// impl<In, T: Scalar> Walk<In, T> for Scale<T> where Self: CheckLayer<In, T> {}
///
/// let net = Net::new((Scale([1.5f64]), Tanh));
/// let report = GradCheck::new().check_layers(&net, &Matrix::from_array([[0.3, -0.8]]))?;
/// assert_eq!(report.layer(&[0]).unwrap().name.to_string(), "layer 0 (Scale)");
/// assert!(report.passed());
/// # Ok::<(), stackgrad::Error>(())
/// ```
///
/// A block of one's own (several paths over one input) overrides
/// [`walk`](Walk::walk) as [`Residual`] does: [`Visitor::block`], then
/// each path within [`Path::within`].
///
/// No heap: the walk carries a [`Path`] of fixed size, and the outputs it
/// passes on are the layers' own values, as in a forward pass.
///
/// `In` is the input, `T` the parameters' float type. The [`CheckLayer`]
/// bound asks for what every layer of the library, every [`Custom`] layer
/// generic over its float type and every [`params!`](crate::params) layer
/// has: parameters, and an f64 copy fed the f64 copy of the input (the
/// gradient checker's reference).
pub trait Walk<In, T: Scalar>: CheckLayer<In, T> {
    /// Whether `Self` is a single layer rather than a network or block.
    const LEAF: bool = true;

    /// The type's name as reports show it: a single layer's type without
    /// module paths (`Dense<f32, 64, 32>`), a block's or network's name alone
    /// (`Residual`).
    #[must_use]
    fn kind() -> &'static str {
        if Self::LEAF {
            short(type_name::<Self>())
        } else {
            head(type_name::<Self>())
        }
    }

    /// Visits this layer (and, for networks and blocks, their layers in
    /// order) at `path`, fed `x`; returns the output for `x`, which a
    /// network passes to its next layer.
    ///
    /// # Errors
    /// The first error a visitor returns.
    fn walk<V: Visitor<T>>(
        &self,
        path: &mut Path,
        x: &V::Value<In>,
        v: &mut V,
    ) -> Result<V::Value<Self::Output>, V::Error> {
        v.leaf::<In, Self>(LayerName::new(path, Self::kind()), self, x)
    }
}

/// `name` without module paths: `a::b::Dense<f32, 2, 3>` is `Dense<f32, 2, 3>`.
pub(crate) fn short(name: &'static str) -> &'static str {
    // Module paths end at the last `::` before the first `<`.
    let head = name.find('<').unwrap_or(name.len());
    match name[..head].rfind("::") {
        Some(i) => &name[i + 2..],
        None => name,
    }
}

/// The name of a type without its parameters: `Residual`.
pub(crate) fn head(name: &'static str) -> &'static str {
    let s = short(name);
    &s[..s.find('<').unwrap_or(s.len())]
}

macro_rules! leaves {
    ($([$($g:tt)*] $ty:ty;)*) => {$(
        impl<In, T: Scalar, $($g)*> Walk<In, T> for $ty where $ty: CheckLayer<In, T> {}
    )*};
}

leaves! {
    [const I: usize, const O: usize] Dense<T, I, O>;
    [const I: usize, const O: usize] Linear<T, I, O>;
    [const C: usize, const F: usize, const K: usize, const S: usize, const P: usize] Conv2d<T, C, F, K, S, P>;
    [const K: usize, const S: usize] MaxPool2d<K, S>;
    [const K: usize, const S: usize] AvgPool2d<K, S>;
    [] Flatten;
    [const C: usize, const H: usize, const W: usize] Unflatten<C, H, W>;
    [] Identity;
    [] Sigmoid;
    [] Tanh;
    [] Relu;
    [] LeakyRelu;
    [] Elu;
    [] Gelu;
    [] GeluTanh;
    [] Silu;
    [] Softplus;
    [] Softmax;
    [] Dropout;
    [const N: usize] BatchNorm1d<T, N>;
    [const N: usize] BatchNorm2d<T, N>;
    [const N: usize] LayerNorm<T, N>;
}

/// A [`Custom`] layer is named after the layer it wraps.
impl<In, T: Scalar, L> Walk<In, T> for Custom<L>
where
    Self: CheckLayer<In, T>,
{
    fn kind() -> &'static str {
        short(type_name::<L>())
    }
}

impl<In, T: Scalar, L: Walk<In, T>> Walk<In, T> for Net<L>
where
    Self: CheckLayer<In, T>,
{
    const LEAF: bool = false;

    fn walk<V: Visitor<T>>(
        &self,
        path: &mut Path,
        x: &V::Value<In>,
        v: &mut V,
    ) -> Result<V::Value<Self::Output>, V::Error> {
        self.layers.walk(path, x, v)?;
        Ok(v.forward::<In, Self>(self, x))
    }
}

/// A boxed single layer is visited as the box (so that the copies a visitor
/// makes, such as the checker's f64 copy, are boxed too), named after the
/// layer inside; a boxed network is walked inside.
#[cfg(feature = "std")]
impl<In, T: Scalar, L: Walk<In, T>> Walk<In, T> for std::boxed::Box<L>
where
    Self: CheckLayer<In, T>,
{
    const LEAF: bool = L::LEAF;

    fn kind() -> &'static str {
        L::kind()
    }

    fn walk<V: Visitor<T>>(
        &self,
        path: &mut Path,
        x: &V::Value<In>,
        v: &mut V,
    ) -> Result<V::Value<Self::Output>, V::Error> {
        if L::LEAF {
            v.leaf::<In, Self>(LayerName::new(path, L::kind()), self, x)
        } else {
            (**self).walk(path, x, v)?;
            Ok(v.forward::<In, Self>(self, x))
        }
    }
}

impl<In, T: Scalar, F> Walk<In, T> for Residual<F>
where
    Self: CheckLayer<In, T>,
    F: Walk<In, T>,
{
    const LEAF: bool = false;

    fn walk<V: Visitor<T>>(
        &self,
        path: &mut Path,
        x: &V::Value<In>,
        v: &mut V,
    ) -> Result<V::Value<Self::Output>, V::Error> {
        v.block::<In, Self>(LayerName::new(path, <Self as Walk<In, T>>::kind()), self, x)?;
        path.within(0, |p| self.branch.walk(p, x, v))?;
        Ok(v.forward::<In, Self>(self, x))
    }
}

impl<In, T: Scalar, F, G> Walk<In, T> for Projected<F, G>
where
    Self: CheckLayer<In, T>,
    F: Walk<In, T>,
    G: Walk<In, T>,
{
    const LEAF: bool = false;

    fn walk<V: Visitor<T>>(
        &self,
        path: &mut Path,
        x: &V::Value<In>,
        v: &mut V,
    ) -> Result<V::Value<Self::Output>, V::Error> {
        v.block::<In, Self>(LayerName::new(path, <Self as Walk<In, T>>::kind()), self, x)?;
        path.within(0, |p| self.branch.walk(p, x, v))?;
        path.within(1, |p| self.skip.walk(p, x, v))?;
        Ok(v.forward::<In, Self>(self, x))
    }
}

impl<In, T: Scalar, F, G> Walk<In, T> for Concat<F, G>
where
    Self: CheckLayer<In, T>,
    F: Walk<In, T>,
    G: Walk<In, T>,
{
    const LEAF: bool = false;

    fn walk<V: Visitor<T>>(
        &self,
        path: &mut Path,
        x: &V::Value<In>,
        v: &mut V,
    ) -> Result<V::Value<Self::Output>, V::Error> {
        v.block::<In, Self>(LayerName::new(path, <Self as Walk<In, T>>::kind()), self, x)?;
        path.within(0, |p| self.first.walk(p, x, v))?;
        path.within(1, |p| self.second.walk(p, x, v))?;
        Ok(v.forward::<In, Self>(self, x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_their_module_paths() {
        assert_eq!(
            short("stackgrad::nn::dense::Dense<f32, 2, 3>"),
            "Dense<f32, 2, 3>"
        );
        assert_eq!(short("stackgrad::nn::activation::Relu"), "Relu");
        assert_eq!(
            head("stackgrad::nn::block::Residual<stackgrad::nn::net::Net<(x)>>"),
            "Residual"
        );
    }

    #[test]
    fn paths_nest_and_name_tensors() {
        let mut p = Path::default();
        let (inner, name) = p.within(4, |p| {
            p.within(0, |p| (*p, p.name(ParamName::leaf("weight"))))
        });
        assert_eq!(inner.indices(), &[4, 0]);
        assert_eq!(inner.to_string(), "4.0");
        assert!(name == "4.0.weight");
        let outer = p.within(4, |p| *p);
        assert!(inner.is_inside(&outer) && !outer.is_inside(&inner));
        assert!(!inner.is_inside(&inner));
        assert_eq!(p.indices(), &[] as &[u16]);
    }
}
