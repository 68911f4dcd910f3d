//! [`Pattern`]: a fingerprint of the linear pieces a forward pass went through,
//! so that the gradient checker can tell a wrong gradient from a kink.
//!
//! A piecewise-linear layer (ReLU, leaky ReLU, max-pooling) is differentiable
//! except where an input sits on a boundary between pieces. A central difference
//! `(J(θ + h) - J(θ - h)) / 2h` whose two evaluations fall on different pieces
//! measures an average of two slopes and disagrees with any (sub)gradient; that
//! is a kink, not a bug. Each such layer writes which piece every element took
//! into a `Pattern` through [`Layer::pattern`](super::Layer::pattern):
//!
//! | layer | what it writes |
//! |---|---|
//! | [`Relu`](super::Relu), [`LeakyRelu`](super::LeakyRelu) (any activation with [`Activation::PIECEWISE_LINEAR`](super::Activation::PIECEWISE_LINEAR)) | the derivative at every output (for ReLU: whether it is positive) |
//! | [`Elu`](super::Elu) with `α ≠ 1` (any activation with [`Activation::KINKS`](super::Activation::KINKS)) | [`Activation::piece`](super::Activation::piece) of every element (for ELU: the side of 0) |
//! | max-pooling | the index of the maximum in every window |
//! | smooth layers (dense, sigmoid, tanh, softmax) | nothing (the default) |
//!
//! A max-pooling layer, for instance, caches the argmax of every window and
//! implements `fn pattern(&self, cache: &Self::Cache, p: &mut Pattern)` as
//! `for &i in cache.argmax.iter() { p.write(i as u64) }`: a perturbation that
//! moves a window's maximum to another element is then a kink. Networks
//! forward the call to every layer in order, so one `Pattern` covers the whole
//! network. The checker computes it at `θ`, `θ + h` and `θ - h` and
//! reports a coordinate as a kink when they differ.

/// A running 64-bit fingerprint (FNV-1a over 64-bit words) of the pieces taken
/// by the piecewise-linear layers of a forward pass; see the module docs.
///
/// ```
/// use stackgrad::nn::{Layer, Pattern, Relu};
/// use stackgrad::Matrix;
/// let fingerprint = |x: f64| {
///     let x = Matrix::from_array([[x, 1.0]]);
///     let (y, cache) = Relu.forward(&x);
///     let mut p = Pattern::new();
///     Relu.pattern(&x, &y, &cache, &mut p);
///     p
/// };
/// assert_eq!(fingerprint(0.5), fingerprint(2.0)); // same piece
/// assert_ne!(fingerprint(0.5), fingerprint(-0.5)); // crossed the kink at 0
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pattern {
    hash: u64,
}

impl Pattern {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    /// The fingerprint of a pass through no piecewise-linear layer.
    #[must_use]
    pub const fn new() -> Self {
        Self { hash: Self::OFFSET }
    }

    /// Records one word (a piece index, an argmax, the bits of a slope).
    #[inline]
    pub fn write(&mut self, word: u64) {
        self.hash = (self.hash ^ word).wrapping_mul(Self::PRIME);
    }

    /// The fingerprint so far.
    #[must_use]
    pub const fn value(&self) -> u64 {
        self.hash
    }
}

impl Default for Pattern {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_values_matter() {
        let of = |words: &[u64]| {
            let mut p = Pattern::new();
            words.iter().for_each(|&w| p.write(w));
            p
        };
        assert_eq!(of(&[1, 0, 1]), of(&[1, 0, 1]));
        assert_ne!(of(&[1, 0, 1]), of(&[0, 1, 1]));
        assert_ne!(of(&[0]), of(&[]));
        assert_ne!(of(&[0, 0]), of(&[0]));
    }
}
