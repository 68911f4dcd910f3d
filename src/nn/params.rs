//! The parameter visitor: every parameter tensor of a layer or network, with a
//! name (`"0.weight"`, `"2.bias"`), a shape and its values as a flat slice.
//!
//! Gradients have the same type as the parameters (the gradient of a
//! `Dense<f32, 2, 25>` is a `Dense<f32, 2, 25>`), so one visitor walks both, and
//! optimizers, the gradient checker and the weight files build on it.

use core::fmt;

use crate::Scalar;

/// Deepest nesting of sub-networks a [`ParamName`] can express.
pub const MAX_NAME_DEPTH: usize = 6;

/// The name of a parameter tensor: a path of layer indices and a leaf name,
/// displayed as `"1.weight"` or, inside a nested network, `"0.2.bias"`.
///
/// Stored inline (no heap). Compare with a string with `==`:
///
/// ```
/// use stackgrad::nn::ParamName;
/// let name = ParamName::leaf("weight").within(1);
/// assert!(name == "1.weight");
/// assert_eq!(name.to_string(), "1.weight");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ParamName {
    path: [u16; MAX_NAME_DEPTH],
    depth: u8,
    leaf: &'static str,
}

impl ParamName {
    /// A name with no layer path (as a single layer reports its own tensors).
    #[must_use]
    pub const fn leaf(leaf: &'static str) -> Self {
        Self {
            path: [0; MAX_NAME_DEPTH],
            depth: 0,
            leaf,
        }
    }

    /// The same name inside layer `index` of an enclosing network (`"weight"`
    /// becomes `"3.weight"`). Beyond [`MAX_NAME_DEPTH`] levels the outermost
    /// indices are kept and the innermost dropped.
    #[inline]
    #[must_use]
    pub fn within(self, index: usize) -> Self {
        let mut path = [0; MAX_NAME_DEPTH];
        path[0] = index.min(u16::MAX as usize) as u16;
        let depth = (self.depth as usize + 1).min(MAX_NAME_DEPTH);
        path[1..depth].copy_from_slice(&self.path[..depth - 1]);
        Self {
            path,
            depth: depth as u8,
            leaf: self.leaf,
        }
    }

    /// The layer indices, outermost first.
    #[must_use]
    pub fn path(&self) -> &[u16] {
        &self.path[..self.depth as usize]
    }

    /// The tensor's own name within its layer (`"weight"`, `"bias"`).
    #[must_use]
    pub fn leaf_name(&self) -> &'static str {
        self.leaf
    }
}

impl fmt::Display for ParamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for i in self.path() {
            write!(f, "{i}.")?;
        }
        f.write_str(self.leaf)
    }
}

impl fmt::Debug for ParamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

impl PartialEq<str> for ParamName {
    /// Compares the displayed name with `s` without allocating.
    fn eq(&self, s: &str) -> bool {
        let mut rest = s;
        for i in self.path() {
            let mut buf = [0u8; 6];
            let digits = fmt_u16(*i, &mut buf);
            match rest.strip_prefix(digits).and_then(|r| r.strip_prefix('.')) {
                Some(r) => rest = r,
                None => return false,
            }
        }
        rest == self.leaf
    }
}

impl PartialEq<&str> for ParamName {
    fn eq(&self, s: &&str) -> bool {
        *self == **s
    }
}

fn fmt_u16(mut n: u16, buf: &mut [u8; 6]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    core::str::from_utf8(&buf[i..]).unwrap_or("")
}

/// The shape of a parameter tensor: up to four dimensions, outermost first
/// (a dense weight is `[inputs, outputs]`, a bias `[outputs]`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shape {
    dims: [usize; 4],
    rank: u8,
}

impl Shape {
    /// A shape from its dimensions (at most four; extra dimensions are an error
    /// in the layer that reports them, so this keeps the first four).
    #[inline]
    #[must_use]
    pub fn new(dims: &[usize]) -> Self {
        let rank = dims.len().min(4);
        let mut d = [1; 4];
        d[..rank].copy_from_slice(&dims[..rank]);
        Self {
            dims: d,
            rank: rank as u8,
        }
    }

    /// The dimensions, outermost first.
    #[must_use]
    pub fn dims(&self) -> &[usize] {
        &self.dims[..self.rank as usize]
    }

    /// Number of elements (the product of the dimensions).
    #[must_use]
    pub fn len(&self) -> usize {
        self.dims().iter().product()
    }

    /// Whether the shape holds no elements.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.dims()).finish()
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.dims().iter().enumerate() {
            if i > 0 {
                f.write_str(" x ")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// A read-only view of one parameter tensor.
#[derive(Clone, Copy, Debug)]
pub struct Tensor<'a, T> {
    /// Where the tensor sits in the network (`"0.weight"`).
    pub name: ParamName,
    /// Its logical shape; `data.len() == shape.len()`.
    pub shape: Shape,
    /// The values in row-major order.
    pub data: &'a [T],
}

/// A mutable view of one parameter tensor.
#[derive(Debug)]
pub struct TensorMut<'a, T> {
    /// Where the tensor sits in the network (`"0.weight"`).
    pub name: ParamName,
    /// Its logical shape; `data.len() == shape.len()`.
    pub shape: Shape,
    /// The values in row-major order.
    pub data: &'a mut [T],
}

impl<'a, T> Tensor<'a, T> {
    /// Prefixes the name with the index of the enclosing layer.
    #[inline]
    #[must_use]
    pub fn within(self, index: usize) -> Self {
        Self {
            name: self.name.within(index),
            ..self
        }
    }
}

impl<'a, T> TensorMut<'a, T> {
    /// Prefixes the name with the index of the enclosing layer.
    #[inline]
    #[must_use]
    pub fn within(self, index: usize) -> Self {
        Self {
            name: self.name.within(index),
            ..self
        }
    }
}

/// A layer or network that owns parameter tensors, walked by index.
///
/// Tensor `k` for `k in 0..Self::TENSORS` is returned by [`tensor`](Params::tensor)
/// and [`tensor_mut`](Params::tensor_mut) in a fixed order (a layer's weight
/// before its bias, layers in network order). The counts are associated
/// constants, so a network's parameter count is known at compile time.
///
/// ```
/// use stackgrad::nn::{Dense, Params, Sigmoid};
/// let net = (Dense::<f64, 2, 25>::zeros(), Sigmoid, Dense::<f64, 25, 4>::zeros());
/// assert_eq!(<(Dense<f64, 2, 25>, Sigmoid, Dense<f64, 25, 4>) as Params<f64>>::PARAMS, 179);
/// let names: Vec<String> = (0..4).map(|k| net.tensor(k).unwrap().name.to_string()).collect();
/// assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
/// ```
pub trait Params<T: Scalar> {
    /// Number of parameter tensors.
    const TENSORS: usize;
    /// Total number of scalar parameters (the sum of the tensors' lengths).
    const PARAMS: usize;

    /// Tensor `k`, or `None` when `k >= Self::TENSORS`.
    fn tensor(&self, k: usize) -> Option<Tensor<'_, T>>;

    /// Tensor `k`, mutably, or `None` when `k >= Self::TENSORS`.
    fn tensor_mut(&mut self, k: usize) -> Option<TensorMut<'_, T>>;

    /// A value of the same type with every parameter zero and any
    /// configuration copied: the starting point for gradients and optimizer state.
    #[must_use]
    fn zeros_like(&self) -> Self
    where
        Self: Sized;

    /// Number of buffer tensors: state that is saved with the parameters but
    /// not trained (a batch norm's running mean and variance). Optimizers,
    /// gradients and the gradient checker see only the [`TENSORS`](Params::TENSORS)
    /// parameters; [`io`](crate::io) saves and loads both. Default 0.
    const BUFFERS: usize = 0;
    /// Total number of scalars in the buffers. Default 0.
    const BUFFER_VALUES: usize = 0;

    /// Buffer `k`, or `None` when `k >= Self::BUFFERS` (default: none).
    #[inline]
    fn buffer(&self, k: usize) -> Option<Tensor<'_, T>> {
        let _ = k;
        None
    }

    /// Buffer `k`, mutably, or `None` when `k >= Self::BUFFERS`.
    #[inline]
    fn buffer_mut(&mut self, k: usize) -> Option<TensorMut<'_, T>> {
        let _ = k;
        None
    }

    /// Tensor `k` of the whole state: the parameters (`k < TENSORS`), then
    /// the buffers. What [`io`](crate::io) saves and loads.
    #[inline]
    fn state(&self, k: usize) -> Option<Tensor<'_, T>> {
        if k < Self::TENSORS {
            self.tensor(k)
        } else {
            self.buffer(k - Self::TENSORS)
        }
    }

    /// [`state`](Params::state), mutably.
    #[inline]
    fn state_mut(&mut self, k: usize) -> Option<TensorMut<'_, T>> {
        if k < Self::TENSORS {
            self.tensor_mut(k)
        } else {
            self.buffer_mut(k - Self::TENSORS)
        }
    }

    /// Calls `f` on every parameter tensor, then on every buffer, each with
    /// its [`TensorKind`]: the whole state of a layer or network, in the
    /// order [`io`](crate::io) stores it.
    ///
    /// ```
    /// use stackgrad::nn::{BatchNorm1d, Dense, Params, TensorKind};
    /// let net = (Dense::<f64, 3, 2>::zeros(), BatchNorm1d::<f64, 2>::new());
    /// let mut listed = Vec::new();
    /// net.for_each_state(|t, kind| listed.push((t.name.to_string(), kind)));
    /// assert_eq!(listed, [
    ///     ("0.weight".to_string(), TensorKind::Parameter),
    ///     ("0.bias".to_string(), TensorKind::Parameter),
    ///     ("1.weight".to_string(), TensorKind::Parameter),
    ///     ("1.bias".to_string(), TensorKind::Parameter),
    ///     ("1.running_mean".to_string(), TensorKind::Buffer),
    ///     ("1.running_var".to_string(), TensorKind::Buffer),
    /// ]);
    /// ```
    fn for_each_state(&self, mut f: impl FnMut(Tensor<'_, T>, TensorKind)) {
        for k in 0..Self::TENSORS {
            if let Some(t) = self.tensor(k) {
                f(t, TensorKind::Parameter);
            }
        }
        for k in 0..Self::BUFFERS {
            if let Some(t) = self.buffer(k) {
                f(t, TensorKind::Buffer);
            }
        }
    }

    /// Calls `f` on every tensor in order.
    fn for_each_tensor(&self, mut f: impl FnMut(Tensor<'_, T>)) {
        for k in 0..Self::TENSORS {
            if let Some(t) = self.tensor(k) {
                f(t);
            }
        }
    }

    /// Calls `f` on every tensor of `self` together with the same tensor of
    /// `other` (for instance parameters and their gradients).
    fn zip_tensors_mut(&mut self, other: &Self, mut f: impl FnMut(TensorMut<'_, T>, &[T]))
    where
        Self: Sized,
    {
        for k in 0..Self::TENSORS {
            if let (Some(p), Some(g)) = (self.tensor_mut(k), other.tensor(k)) {
                f(p, g.data);
            }
        }
    }
}

/// What a tensor of a layer's state is to training.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TensorKind {
    /// Trained: has a gradient, updated by optimizers.
    Parameter,
    /// Not trained: saved and loaded with the parameters, updated (if at
    /// all) by the layer itself in training mode, such as a batch norm's
    /// running statistics.
    Buffer,
}

/// A copy of a layer or network with its parameters converted to another float
/// type: `Dense<f32, I, O>` becomes `Dense<f64, I, O>`. The gradient checker
/// computes its numerical reference on the f64 copy of an f32 network.
///
/// ```
/// use stackgrad::nn::{Dense, Recast, Sigmoid};
/// let net32 = (Dense::<f32, 2, 3>::zeros(), Sigmoid);
/// let net64: (Dense<f64, 2, 3>, Sigmoid) = net32.recast();
/// assert_eq!(net64.0.bias, [0.0f64; 3]);
/// ```
pub trait Recast<U: Scalar> {
    /// The same layer over `U`.
    type Output;
    /// Converts every parameter (rounding to nearest).
    #[must_use]
    fn recast(&self) -> Self::Output;
}

/// Implements [`Params`] with no tensors for a parameter-free layer type.
macro_rules! no_params {
    ($($ty:ty),* $(,)?) => {$(
        impl<T: $crate::Scalar> $crate::nn::Params<T> for $ty {
            const TENSORS: usize = 0;
            const PARAMS: usize = 0;
            #[inline]
            fn tensor(&self, _k: usize) -> Option<$crate::nn::Tensor<'_, T>> {
                None
            }
            #[inline]
            fn tensor_mut(&mut self, _k: usize) -> Option<$crate::nn::TensorMut<'_, T>> {
                None
            }
            #[inline]
            fn zeros_like(&self) -> Self {
                *self
            }
        }

        impl<U: $crate::Scalar> $crate::nn::Recast<U> for $ty {
            type Output = Self;
            #[inline]
            fn recast(&self) -> Self {
                *self
            }
        }
    )*};
}
pub(crate) use no_params;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_nest_and_compare_without_allocating() {
        let n = ParamName::leaf("bias").within(12).within(0);
        assert_eq!(n.path(), &[0, 12]);
        assert!(n == "0.12.bias");
        assert!(n != "0.1.bias");
        assert!(n != "0.12.bia");
        assert!(n != "0.12.bias.x");
        assert_eq!(format!("{n:?}"), "\"0.12.bias\"");
    }

    #[test]
    fn shape_reports_dims_and_len() {
        let s = Shape::new(&[3, 4]);
        assert_eq!(s.dims(), &[3, 4]);
        assert_eq!(s.len(), 12);
        assert_eq!(s.to_string(), "3 x 4");
    }
}
