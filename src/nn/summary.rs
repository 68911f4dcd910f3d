//! [`Summarize`]: a network's layers, one row each (path, type, output
//! shape, parameters, buffers) and the totals, the way `torchinfo` prints a
//! PyTorch model. The counts are also compile-time constants
//! ([`Params::PARAMS`], [`Params::BUFFER_VALUES`], `size_of`).
//!
//! See [`Net::summary`].

use core::fmt;
use core::marker::PhantomData;

use super::{
    AvgPool2d, BatchNorm1d, BatchNorm2d, Concat, Connect, Conv2d, Custom, Dense, Dropout, Elu,
    Flatten, Gelu, GeluTanh, Identity, Layer, LayerNorm, LeakyRelu, Linear, MAX_NAME_DEPTH,
    MaxPool2d, Net, Params, Projected, Relu, Residual, Sigmoid, Silu, Softmax, Softplus, Tanh,
    Unflatten,
};
use crate::shape::{At, Unknown};
use crate::{Elements, Scalar};

/// One row of a [`Summary`].
#[derive(Clone, Copy, Debug)]
pub struct Row<'a> {
    /// The layer's position, outermost first (`[4, 0, 1]` is `"4.0.1"`).
    pub path: &'a [u16],
    /// The layer's type without module paths (`Dense<f32, 64, 32>`); for a
    /// block, its name alone (`Residual`), its layers follow as rows of their own.
    pub kind: &'a str,
    /// The output's dimensions for the summarized input (`[1, 32]`).
    pub output: &'static [usize],
    /// Trainable values in this layer (blocks: in all their layers).
    pub params: usize,
    /// Buffer values (running statistics) in this layer.
    pub buffers: usize,
}

/// A layer or network that lists its layers for a summary, fed input `In`,
/// with parameters of type `T`.
pub trait Summarize<In, T: Scalar>: Params<T> + Sized {
    /// Calls `f` with this layer's row and, for networks and blocks, their
    /// layers' rows, depth first; `path` is this layer's position.
    fn rows(&self, path: &mut Path, f: &mut dyn FnMut(&Row<'_>));
}

/// A layer path under construction (at most [`MAX_NAME_DEPTH`] levels).
#[derive(Clone, Copy, Debug, Default)]
pub struct Path {
    at: [u16; MAX_NAME_DEPTH],
    depth: usize,
}

impl Path {
    /// The indices so far.
    #[must_use]
    pub fn indices(&self) -> &[u16] {
        &self.at[..self.depth]
    }

    /// Runs `f` one level down, at `index`.
    pub fn within(&mut self, index: usize, f: impl FnOnce(&mut Path)) {
        if self.depth < MAX_NAME_DEPTH {
            self.at[self.depth] = index.min(u16::MAX as usize) as u16;
            self.depth += 1;
            f(self);
            self.depth -= 1;
        }
    }
}

/// The printable summary of a network fed `In`: see [`Net::summary`].
pub struct Summary<'a, P, In, T> {
    net: &'a P,
    _in: PhantomData<fn(In) -> T>,
}

impl<'a, P, In, T> Summary<'a, P, In, T> {
    /// The summary of `net`.
    #[must_use]
    pub fn new(net: &'a P) -> Self {
        Self {
            net,
            _in: PhantomData,
        }
    }
}

impl<P: Summarize<In, T>, In, T: Scalar> fmt::Display for Summary<'_, P, In, T> {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            out,
            "{:<7} {:<30} {:<15} {:>8} {:>8}",
            "layer", "type", "output", "params", "buffers"
        )?;
        let mut result = Ok(());
        self.net.rows(&mut Path::default(), &mut |row| {
            if result.is_err() {
                return;
            }
            result = write_row(out, row);
        });
        result?;
        let params = P::PARAMS;
        writeln!(
            out,
            "total: {params} parameters ({:.1} KiB), {} buffer values; the network takes {:.1} KiB",
            (params * size_of::<T>()) as f64 / 1024.0,
            P::BUFFER_VALUES,
            size_of::<P>() as f64 / 1024.0
        )
    }
}

fn write_row(out: &mut fmt::Formatter<'_>, row: &Row<'_>) -> fmt::Result {
    let mut path = Cell::<12>::default();
    if row.path.is_empty() {
        use fmt::Write;
        path.write_char('-')?;
    }
    for (i, p) in row.path.iter().enumerate() {
        use fmt::Write;
        if i > 0 {
            path.write_char('.')?;
        }
        write!(path, "{p}")?;
    }
    let mut shape = Cell::<32>::default();
    for (i, d) in row.output.iter().enumerate() {
        use fmt::Write;
        if i > 0 {
            shape.write_str(" x ")?;
        }
        write!(shape, "{d}")?;
    }
    writeln!(
        out,
        "{:<7} {:<30} {:<15} {:>8} {:>8}",
        path.as_str(),
        row.kind,
        shape.as_str(),
        row.params,
        row.buffers
    )
}

/// A fixed-size text buffer (no heap); text beyond `N` bytes is cut.
struct Cell<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Cell<N> {
    fn as_str(&self) -> &str {
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl<const N: usize> Default for Cell<N> {
    fn default() -> Self {
        Self {
            buf: [0; N],
            len: 0,
        }
    }
}

impl<const N: usize> fmt::Write for Cell<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if self.len < N {
                self.buf[self.len] = b;
                self.len += 1;
            }
        }
        Ok(())
    }
}

/// `name` without module paths: `a::b::Dense<f32, 2, 3>` is `Dense<f32, 2, 3>`.
fn short(name: &'static str) -> &'static str {
    // Module paths end at the last `::` before the first `<`.
    let head = name.find('<').unwrap_or(name.len());
    match name[..head].rfind("::") {
        Some(i) => &name[i + 2..],
        None => name,
    }
}

/// The name of a block type without its parameters: `Residual`.
fn head(name: &'static str) -> &'static str {
    let s = short(name);
    &s[..s.find('<').unwrap_or(s.len())]
}

/// The row of a leaf layer (what [`params!`](crate::params) layers use).
#[doc(hidden)]
pub fn leaf<In, T: Scalar, L: Layer<In> + Params<T>>(path: &Path, f: &mut dyn FnMut(&Row<'_>))
where
    L::Output: Elements,
{
    f(&Row {
        path: path.indices(),
        kind: short(core::any::type_name::<L>()),
        output: <L::Output as Elements>::DIMS,
        params: L::PARAMS,
        buffers: L::BUFFER_VALUES,
    });
}

macro_rules! leaves {
    ($([$($g:tt)*] $ty:ty;)*) => {$(
        impl<In, T: Scalar, $($g)*> Summarize<In, T> for $ty
        where
            $ty: Layer<In> + Params<T>,
            <$ty as Layer<In>>::Output: Elements,
        {
            fn rows(&self, path: &mut Path, f: &mut dyn FnMut(&Row<'_>)) {
                leaf::<In, T, Self>(path, f);
            }
        }
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
    [L] Custom<L>;
}

impl<In, T: Scalar, L: Summarize<In, T> + Connect<Unknown, At<0>>> Summarize<In, T> for Net<L> {
    fn rows(&self, path: &mut Path, f: &mut dyn FnMut(&Row<'_>)) {
        self.layers.rows(path, f);
    }
}

#[cfg(feature = "std")]
impl<In, T: Scalar, L: Summarize<In, T>> Summarize<In, T> for std::boxed::Box<L> {
    fn rows(&self, path: &mut Path, f: &mut dyn FnMut(&Row<'_>)) {
        (**self).rows(path, f);
    }
}

/// A block's own row, then its paths' rows at `0` and `1`.
fn block_row<In, T: Scalar, L: Layer<In> + Params<T>>(path: &Path, f: &mut dyn FnMut(&Row<'_>))
where
    L::Output: Elements,
{
    f(&Row {
        path: path.indices(),
        kind: head(core::any::type_name::<L>()),
        output: <L::Output as Elements>::DIMS,
        params: L::PARAMS,
        buffers: L::BUFFER_VALUES,
    });
}

impl<In, T: Scalar, F> Summarize<In, T> for Residual<F>
where
    Self: Layer<In> + Params<T>,
    <Self as Layer<In>>::Output: Elements,
    F: Summarize<In, T>,
{
    fn rows(&self, path: &mut Path, f: &mut dyn FnMut(&Row<'_>)) {
        block_row::<In, T, Self>(path, f);
        path.within(0, |p| self.branch.rows(p, f));
    }
}

impl<In, T: Scalar, F, G> Summarize<In, T> for Projected<F, G>
where
    Self: Layer<In> + Params<T>,
    <Self as Layer<In>>::Output: Elements,
    F: Summarize<In, T>,
    G: Summarize<In, T>,
{
    fn rows(&self, path: &mut Path, f: &mut dyn FnMut(&Row<'_>)) {
        block_row::<In, T, Self>(path, f);
        path.within(0, |p| self.branch.rows(p, f));
        path.within(1, |p| self.skip.rows(p, f));
    }
}

impl<In, T: Scalar, F, G> Summarize<In, T> for Concat<F, G>
where
    Self: Layer<In> + Params<T>,
    <Self as Layer<In>>::Output: Elements,
    F: Summarize<In, T>,
    G: Summarize<In, T>,
{
    fn rows(&self, path: &mut Path, f: &mut dyn FnMut(&Row<'_>)) {
        block_row::<In, T, Self>(path, f);
        path.within(0, |p| self.first.rows(p, f));
        path.within(1, |p| self.second.rows(p, f));
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
}
