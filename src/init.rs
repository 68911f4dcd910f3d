//! Weight initializers: Xavier/Glorot, He, and scaled normal draws.
//!
//! Every initializer is deterministic for a given random-number generator state:
//! the same seed gives the same weights, bit for bit, on every platform (the
//! draws use only `Rng::random::<f64>()` and correctly rounded arithmetic, except
//! `ln`, `sqrt`, `cos` in the normal draw).
//!
//! | initializer | distribution of each weight |
//! |---|---|
//! | [`Init::XavierUniform`] | `U(-a, a)`, `a = sqrt(6 / (fan_in + fan_out))` (notebook 001) |
//! | [`Init::XavierNormal`] | `N(0, 2 / (fan_in + fan_out))` |
//! | [`Init::HeUniform`] | `U(-a, a)`, `a = sqrt(6 / fan_in)` |
//! | [`Init::HeNormal`] | `N(0, 2 / fan_in)` |
//! | [`Init::Normal`] | `N(0, std²)` (notebook 002 uses `std = 0.01`) |
//! | [`Init::Uniform`] | `U(-limit, limit)` |
//! | [`Init::Zeros`] | 0 |
//!
//! Biases are initialized to zero by the layers.

use rand::{Rng, RngExt};

use crate::Scalar;

/// How to draw a layer's initial weights; see the module docs for the formulas.
///
/// ```
/// use stackgrad::init::Init;
/// use stackgrad::rand::{SeedableRng, rngs::StdRng};
/// let mut w = [0.0f64; 50];
/// Init::XavierUniform.fill(&mut w, 2, 25, &mut StdRng::seed_from_u64(7));
/// let a = (6.0f64 / 27.0).sqrt();
/// assert!(w.iter().all(|&x| -a <= x && x < a));
/// assert!(w.iter().any(|&x| x != 0.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// Glorot & Bengio (2010), eq. 16: `U(-sqrt(6/(in+out)), sqrt(6/(in+out)))`.
    XavierUniform,
    /// Glorot normal: `N(0, 2/(in+out))`.
    XavierNormal,
    /// He et al. (2015), uniform: `U(-sqrt(6/in), sqrt(6/in))`, for ReLU layers.
    HeUniform,
    /// He et al. (2015), normal: `N(0, 2/in)`, for ReLU layers.
    HeNormal,
    /// `N(0, std²)`: a standard normal draw scaled by `std`.
    Normal {
        /// Standard deviation.
        std: f64,
    },
    /// `U(-limit, limit)`.
    Uniform {
        /// Half-width of the interval.
        limit: f64,
    },
    /// All zeros.
    Zeros,
}

impl Init {
    /// Fills `values` with draws for a layer with `fan_in` inputs and `fan_out`
    /// outputs per weight (for a convolution, `fan_in = C·K·K`, `fan_out = F·K·K`).
    pub fn fill<T: Scalar, R: Rng + ?Sized>(
        self,
        values: &mut [T],
        fan_in: usize,
        fan_out: usize,
        rng: &mut R,
    ) {
        let (fan_in, fan_out) = (fan_in.max(1) as f64, fan_out.max(1) as f64);
        let uniform = |limit: f64, values: &mut [T], rng: &mut R| {
            for v in values.iter_mut() {
                *v = T::from_f64(limit * (2.0 * rng.random::<f64>() - 1.0));
            }
        };
        let normal = |std: f64, values: &mut [T], rng: &mut R| {
            for v in values.iter_mut() {
                *v = T::from_f64(std * standard_normal(rng));
            }
        };
        match self {
            Init::XavierUniform => uniform(libm::sqrt(6.0 / (fan_in + fan_out)), values, rng),
            Init::XavierNormal => normal(libm::sqrt(2.0 / (fan_in + fan_out)), values, rng),
            Init::HeUniform => uniform(libm::sqrt(6.0 / fan_in), values, rng),
            Init::HeNormal => normal(libm::sqrt(2.0 / fan_in), values, rng),
            Init::Normal { std } => normal(std, values, rng),
            Init::Uniform { limit } => uniform(limit, values, rng),
            Init::Zeros => values.iter_mut().for_each(|v| *v = T::zero()),
        }
    }
}

/// One draw from `N(0, 1)` by the Box–Muller transform.
pub fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    // u1 in (0, 1] so that ln(u1) is finite.
    let u1 = 1.0 - rng.random::<f64>();
    let u2 = rng.random::<f64>();
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(core::f64::consts::TAU * u2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    fn mean_var(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let m = xs.iter().sum::<f64>() / n;
        (m, xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n)
    }

    #[test]
    fn variances_match_the_formulas() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut w = [0.0f64; 20000];
        for (init, var) in [
            (Init::XavierUniform, 2.0f64 / 30.0),
            (Init::XavierNormal, 2.0 / 30.0),
            (Init::HeUniform, 2.0 / 10.0),
            (Init::HeNormal, 2.0 / 10.0),
            (Init::Normal { std: 0.01 }, 1e-4),
        ] {
            init.fill(&mut w, 10, 20, &mut rng);
            let (m, v) = mean_var(&w);
            assert!(m.abs() < 0.02 * var.sqrt() * 3.0, "{init:?}: mean {m}");
            assert!(
                (v / var - 1.0).abs() < 0.05,
                "{init:?}: var {v}, expected {var}"
            );
        }
    }

    #[test]
    fn same_seed_same_weights() {
        let draw = |seed| {
            let mut w = [0.0f32; 16];
            Init::HeNormal.fill(&mut w, 4, 4, &mut StdRng::seed_from_u64(seed));
            w
        };
        assert_eq!(draw(3).map(f32::to_bits), draw(3).map(f32::to_bits));
        assert_ne!(draw(3), draw(4));
    }
}
