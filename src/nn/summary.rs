//! [`Summary`]: a network's layers, one row each (path, type, output
//! shape, parameters, buffers) and the totals, the way `torchinfo` prints a
//! PyTorch model: a [`Visitor`] on the network's [`Walk`]. The counts are
//! also compile-time constants ([`Params::PARAMS`](super::Params::PARAMS),
//! [`Params::BUFFER_VALUES`](super::Params::BUFFER_VALUES), `size_of`).
//!
//! See [`Net::summary`](super::Net::summary).

use core::fmt;
use core::marker::PhantomData;

use super::{Layer, LayerName, Path, Visitor, Walk};
use crate::gradcheck::CheckLayer;
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

/// The printable summary of a network fed `In`: see [`Net::summary`](super::Net::summary).
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

impl<P: Walk<In, T>, In, T: Scalar> fmt::Display for Summary<'_, P, In, T> {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            out,
            "{:<7} {:<30} {:<15} {:>8} {:>8}",
            "layer", "type", "output", "params", "buffers"
        )?;
        self.net
            .walk(&mut Path::default(), &(), &mut Rows { out })?;
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

/// The visitor that writes a row per layer and per block.
struct Rows<'a, 'b> {
    out: &'a mut fmt::Formatter<'b>,
}

impl<T: Scalar> Visitor<T> for Rows<'_, '_> {
    type Error = fmt::Error;
    /// Types only: no forward pass runs.
    type Value<X> = ();

    fn leaf<In, L: CheckLayer<In, T>>(&mut self, name: LayerName, _: &L, (): &()) -> fmt::Result {
        write_row(self.out, &row::<In, T, L>(&name))
    }

    fn block<In, L: CheckLayer<In, T>>(&mut self, name: LayerName, _: &L, (): &()) -> fmt::Result {
        write_row(self.out, &row::<In, T, L>(&name))
    }

    fn forward<In, L: Layer<In>>(&mut self, _: &L, (): &()) {}
}

fn row<In, T: Scalar, L: CheckLayer<In, T>>(name: &LayerName) -> Row<'_> {
    Row {
        path: name.path.indices(),
        kind: name.kind,
        output: <L::Output as Elements>::DIMS,
        params: L::PARAMS,
        buffers: L::BUFFER_VALUES,
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
