//! Training and evaluation modes, and the [`Ctx`] a training step hands its
//! layers.
//!
//! # The contract
//!
//! | call | mode | batch norm | dropout |
//! |---|---|---|---|
//! | [`Layer::forward`], [`Layer::forward_into`] | training | statistics of the whole batch | the mask of step 0 |
//! | [`Layer::forward_train`] with a [`Ctx`] | training | statistics of the first [`Ctx::rows`] rows | the mask of [`Ctx::step`] |
//! | [`Layer::infer`] | evaluation | running statistics | identity |
//! | [`Layer::update`], after a training step | — | running statistics move towards the batch's | — |
//!
//! [`Training::fit`](crate::train::Training::fit) and
//! [`Training::epoch`](crate::train::Training::epoch) call `forward_train`
//! with the batch's count of real rows (the padding rows of a partial last
//! batch never enter batch statistics) and a step counter, then `backward`,
//! the optimizer and `update`; [`Training::evaluate`](crate::train::Training::evaluate)
//! and accuracy reports call `infer`. The gradient checker differentiates
//! `forward` (training mode with a fixed mask). Layers without batch
//! statistics or randomness behave the same in both modes.
//!
//! Nothing needs interior mutability: `forward_train(&self, ..)` draws
//! dropout's mask from the step and the layer's position, a pure function,
//! and writes batch statistics into the cache; `update(&mut self, cache)`
//! moves the running statistics afterwards.
//!
//! [`Layer::forward`]: super::Layer::forward
//! [`Layer::forward_into`]: super::Layer::forward_into
//! [`Layer::forward_train`]: super::Layer::forward_train
//! [`Layer::infer`]: super::Layer::infer
//! [`Layer::update`]: super::Layer::update

/// What a training step tells its layers besides the input: how many rows of
/// the batch are real (the rest are padding), the step number, and a salt
/// that makes each layer's random draws its own.
///
/// ```
/// use stackgrad::nn::Ctx;
/// let ctx = Ctx::new(3, 7, 42);
/// assert_eq!((ctx.rows(), ctx.step()), (3, 7));
/// // Each position in a network draws differently, reproducibly.
/// assert_ne!(ctx.within(0).draw(5), ctx.within(1).draw(5));
/// assert_eq!(ctx.within(1).draw(5), Ctx::new(3, 7, 42).within(1).draw(5));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ctx {
    rows: usize,
    step: u64,
    salt: u64,
}

impl Ctx {
    /// A context for a batch whose first `rows` rows are real (at least 1;
    /// 0 counts as 1), at training step `step`, with random draws seeded by
    /// `seed`.
    #[must_use]
    pub const fn new(rows: usize, step: u64, seed: u64) -> Self {
        Self {
            rows: if rows == 0 { 1 } else { rows },
            step,
            salt: mix(seed ^ 0x5354_4143_4B47_5244),
        }
    }

    /// The context of a plain [`forward`](super::Layer::forward): every row
    /// real, step 0, seed 0.
    #[must_use]
    pub const fn full(rows: usize) -> Self {
        Self::new(rows, 0, 0)
    }

    /// The number of real rows (the first ones) of the batch.
    #[must_use]
    pub const fn rows(&self) -> usize {
        self.rows
    }

    /// The training step, counted by the training loop.
    #[must_use]
    pub const fn step(&self) -> u64 {
        self.step
    }

    /// The context of layer `index` of a network: same rows and step, its
    /// own salt.
    #[must_use]
    pub const fn within(self, index: usize) -> Self {
        Self {
            salt: mix(self.salt ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            ..self
        }
    }

    /// A uniform random number in `[0, 1)` for element `i` of this step and
    /// layer: a hash of the salt, the step and `i` (SplitMix64's finalizer),
    /// so the same seed, step, position and element always draw the same.
    #[must_use]
    pub const fn draw(&self, i: usize) -> f64 {
        let h = mix(self.salt ^ mix(self.step ^ ((i as u64) << 20) ^ (i as u64)));
        (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// SplitMix64's finalizer: a bijection of `u64` that mixes every bit.
const fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_uniform_enough() {
        let ctx = Ctx::new(4, 3, 9).within(2);
        let n = 100_000;
        let (mut sum, mut below_tenth) = (0.0, 0);
        for i in 0..n {
            let u = ctx.draw(i);
            assert!((0.0..1.0).contains(&u));
            sum += u;
            below_tenth += usize::from(u < 0.1);
        }
        let mean = sum / n as f64;
        assert!((mean - 0.5).abs() < 0.005, "{mean}");
        let frac = below_tenth as f64 / n as f64;
        assert!((frac - 0.1).abs() < 0.005, "{frac}");
    }

    #[test]
    fn steps_and_seeds_draw_differently() {
        let a = Ctx::new(4, 0, 1);
        let same = (0..64)
            .filter(|&i| a.draw(i) == Ctx::new(4, 1, 1).draw(i))
            .count();
        assert_eq!(same, 0);
        let same = (0..64)
            .filter(|&i| a.draw(i) == Ctx::new(4, 0, 2).draw(i))
            .count();
        assert_eq!(same, 0);
    }
}
