//! Optimizers: update a network's parameters from gradients of the same type.
//!
//! | optimizer | update for each parameter `θ` with gradient `g` | state |
//! |---|---|---|
//! | [`Sgd`] (notebook 001) | `θ ← θ - η g` | none |
//! | [`Momentum`] | `v ← μ v + g`, `θ ← θ - η v` | `v` |
//! | [`Adam`] | `m ← β₁ m + (1-β₁) g`, `v ← β₂ v + (1-β₂) g²`, `θ ← θ - η m̂ / (√v̂ + ε)` with `m̂ = m / (1-β₁ᵗ)`, `v̂ = v / (1-β₂ᵗ)` | `m`, `v`, `t` |
//!
//! The state is stored as values of the network's own type (made by
//! [`Params::zeros_like`] at the first step), walked tensor by tensor with
//! [`Params::tensor_mut`], so a step touches no heap and dispatches nothing
//! dynamically.
//!
//! ```
//! use stackgrad::nn::{Dense, Params};
//! use stackgrad::optim::{Optimizer, Sgd};
//! let mut layer = Dense::<f64, 1, 1>::zeros();
//! let mut grads = layer.zeros_like();
//! grads.weight[(0, 0)] = 2.0;
//! grads.bias = [-1.0];
//! Sgd::new(0.5).step(&mut layer, &grads);
//! assert_eq!((layer.weight[(0, 0)], layer.bias), (-1.0, [0.5]));
//! ```

use crate::Scalar;
use crate::nn::Params;

/// Updates parameters `P` from their gradients (a value of the same type).
pub trait Optimizer<T: Scalar, P: Params<T>> {
    /// One update of `params` from `grads`.
    fn step(&mut self, params: &mut P, grads: &P);
}

/// Plain gradient descent, `θ ← θ - η g` (notebook 001's update `W -= lr * dW`).
///
/// ```
/// use stackgrad::optim::Sgd;
/// assert_eq!(Sgd::new(1e-3f32).lr, 1e-3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sgd<T> {
    /// The learning rate `η`.
    pub lr: T,
}

impl<T: Scalar> Sgd<T> {
    /// Gradient descent with learning rate `lr`.
    #[must_use]
    pub const fn new(lr: T) -> Self {
        Self { lr }
    }
}

impl<T: Scalar, P: Params<T>> Optimizer<T, P> for Sgd<T> {
    #[inline(always)]
    fn step(&mut self, params: &mut P, grads: &P) {
        for k in 0..P::TENSORS {
            if let (Some(p), Some(g)) = (params.tensor_mut(k), grads.tensor(k)) {
                for (p, &g) in p.data.iter_mut().zip(g.data) {
                    *p -= self.lr * g;
                }
            }
        }
    }
}

/// Gradient descent with (heavy-ball) momentum: `v ← μ v + g`, `θ ← θ - η v`
/// (PyTorch's `SGD(momentum=μ)` without dampening); `v` starts at zero.
///
/// ```
/// use stackgrad::nn::{Dense, Params};
/// use stackgrad::optim::{Momentum, Optimizer};
/// let mut p = Dense::<f64, 1, 1>::zeros();
/// let mut g = p.zeros_like();
/// g.bias = [1.0];
/// let mut opt = Momentum::new(0.1, 0.9);
/// opt.step(&mut p, &g); // v = 1
/// opt.step(&mut p, &g); // v = 1.9
/// assert!((p.bias[0] + 0.1 * (1.0 + 1.9)).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Momentum<T, P> {
    /// The learning rate `η`.
    pub lr: T,
    /// The momentum `μ` (0.9 is usual).
    pub momentum: T,
    velocity: Option<P>,
}

impl<T: Scalar, P> Momentum<T, P> {
    /// Momentum SGD with learning rate `lr` and momentum `momentum`.
    #[must_use]
    pub const fn new(lr: T, momentum: T) -> Self {
        Self {
            lr,
            momentum,
            velocity: None,
        }
    }

    /// The velocity `v` (`None` before the first step).
    #[must_use]
    pub fn velocity(&self) -> Option<&P> {
        self.velocity.as_ref()
    }
}

impl<T: Scalar, P: Params<T>> Optimizer<T, P> for Momentum<T, P> {
    #[inline(always)]
    fn step(&mut self, params: &mut P, grads: &P) {
        let v = self.velocity.get_or_insert_with(|| grads.zeros_like());
        for k in 0..P::TENSORS {
            if let (Some(p), Some(v), Some(g)) =
                (params.tensor_mut(k), v.tensor_mut(k), grads.tensor(k))
            {
                for ((p, v), &g) in p.data.iter_mut().zip(v.data.iter_mut()).zip(g.data) {
                    *v = self.momentum * *v + g;
                    *p -= self.lr * *v;
                }
            }
        }
    }
}

/// Adam (Kingma and Ba, 2015, Algorithm 1): per-parameter steps from running
/// means of the gradient and of its square, with bias correction.
///
/// `m ← β₁ m + (1-β₁) g`, `v ← β₂ v + (1-β₂) g²`,
/// `θ ← θ - η m̂ / (√v̂ + ε)` with `m̂ = m / (1-β₁ᵗ)`, `v̂ = v / (1-β₂ᵗ)` at step `t`.
/// The first step therefore moves every parameter with a nonzero gradient by
/// almost exactly `η` against the gradient's sign.
///
/// ```
/// use stackgrad::nn::{Dense, Params};
/// use stackgrad::optim::{Adam, Optimizer};
/// let mut p = Dense::<f64, 1, 1>::zeros();
/// let mut g = p.zeros_like();
/// g.weight[(0, 0)] = -250.0;
/// g.bias = [0.003];
/// let mut adam = Adam::new(0.01);
/// adam.step(&mut p, &g);
/// assert!((p.weight[(0, 0)] - 0.01).abs() < 1e-12);
/// assert!((p.bias[0] + 0.01).abs() < 1e-7);
/// assert_eq!(adam.steps(), 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adam<T, P> {
    /// The learning rate `η` (default 1e-3).
    pub lr: T,
    /// Decay of the gradient mean `β₁` (default 0.9).
    pub beta1: T,
    /// Decay of the squared-gradient mean `β₂` (default 0.999).
    pub beta2: T,
    /// Added to `√v̂` to avoid dividing by zero `ε` (default 1e-8).
    pub eps: T,
    /// `(m, v)`, made at the first step.
    moments: Option<(P, P)>,
    /// `β₁ᵗ` and `β₂ᵗ`, kept as running products (exact and no `powi`).
    beta1_t: T,
    beta2_t: T,
    t: u64,
}

impl<T: Scalar, P> Adam<T, P> {
    /// Adam with learning rate `lr` and the paper's defaults `β₁ = 0.9`,
    /// `β₂ = 0.999`, `ε = 1e-8`.
    #[must_use]
    pub fn new(lr: T) -> Self {
        Self::with_betas(lr, T::from_f64(0.9), T::from_f64(0.999), T::from_f64(1e-8))
    }

    /// Adam with every hyper-parameter given.
    #[must_use]
    pub fn with_betas(lr: T, beta1: T, beta2: T, eps: T) -> Self {
        Self {
            lr,
            beta1,
            beta2,
            eps,
            moments: None,
            beta1_t: T::one(),
            beta2_t: T::one(),
            t: 0,
        }
    }

    /// Number of steps taken (`t`).
    #[must_use]
    pub fn steps(&self) -> u64 {
        self.t
    }

    /// The moment estimates `(m, v)` (`None` before the first step).
    #[must_use]
    pub fn moments(&self) -> Option<&(P, P)> {
        self.moments.as_ref()
    }
}

impl<T: Scalar, P: Params<T>> Optimizer<T, P> for Adam<T, P> {
    #[inline(always)]
    fn step(&mut self, params: &mut P, grads: &P) {
        let (m, v) = self
            .moments
            .get_or_insert_with(|| (grads.zeros_like(), grads.zeros_like()));
        self.t += 1;
        self.beta1_t *= self.beta1;
        self.beta2_t *= self.beta2;
        let (b1, b2) = (self.beta1, self.beta2);
        let (c1, c2) = (T::one() - self.beta1_t, T::one() - self.beta2_t);
        for k in 0..P::TENSORS {
            if let (Some(p), Some(m), Some(v), Some(g)) = (
                params.tensor_mut(k),
                m.tensor_mut(k),
                v.tensor_mut(k),
                grads.tensor(k),
            ) {
                // η m̂ / (√v̂ + ε) as PyTorch evaluates it, with the bias
                // corrections folded into two scalars: (η / c₁) m / (√v · c₂^-½ + ε),
                // one square root and one division per element (three
                // divisions before: 4.4 -> 2.3 µs for 4810 parameters).
                let (step, inv_sqrt_c2, eps) = (self.lr / c1, T::one() / c2.sqrt(), self.eps);
                // Worth the run-time SIMD dispatch from 128 elements.
                crate::simd::run_if(
                    p.data.len() * 16,
                    #[inline(always)]
                    || {
                        for (((p, m), v), &g) in p
                            .data
                            .iter_mut()
                            .zip(m.data.iter_mut())
                            .zip(v.data.iter_mut())
                            .zip(g.data)
                        {
                            *m = b1 * *m + (T::one() - b1) * g;
                            *v = b2 * *v + (T::one() - b2) * g * g;
                            *p -= step * *m / (v.sqrt() * inv_sqrt_c2 + eps);
                        }
                    },
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Matrix;
    use crate::nn::{Dense, Sigmoid};

    type Net = (Dense<f64, 2, 3>, Sigmoid, Dense<f64, 3, 2>);

    fn net() -> Net {
        (
            Dense::new(
                Matrix::from_fn(|i, o| (i * 3 + o) as f64 * 0.1 - 0.2),
                [0.1, -0.1, 0.0],
            ),
            Sigmoid,
            Dense::new(Matrix::from_fn(|i, o| (i + o) as f64 * 0.05), [0.3, -0.3]),
        )
    }

    fn grads(scale: f64) -> Net {
        let mut g = net();
        let mut i = 0.0f64;
        for k in 0..<Net as Params<f64>>::TENSORS {
            for x in g.tensor_mut(k).unwrap().data {
                i += 1.0;
                *x = scale * (i * 0.37).sin();
            }
        }
        g
    }

    fn flat(p: &Net) -> Vec<f64> {
        let mut out = Vec::new();
        p.for_each_tensor(|t| out.extend_from_slice(t.data));
        out
    }

    #[test]
    fn sgd_is_theta_minus_lr_g_for_every_tensor() {
        let mut p = net();
        let g = grads(1.0);
        Sgd::new(0.25).step(&mut p, &g);
        for ((a, b), gi) in flat(&p).iter().zip(flat(&net())).zip(flat(&g)) {
            assert_eq!(*a, b - 0.25 * gi);
        }
    }

    /// With a constant gradient `g`, momentum's velocity after `t` steps is the
    /// geometric sum `g (1 - μᵗ) / (1 - μ)`, and the parameter has moved by
    /// `η g Σ_{s=1..t} (1 - μˢ) / (1 - μ)`.
    #[test]
    fn momentum_matches_the_geometric_series_for_a_constant_gradient() {
        let (lr, mu, steps) = (0.01, 0.8, 7);
        let mut p = net();
        let g = grads(1.0);
        let mut opt = Momentum::new(lr, mu);
        for _ in 0..steps {
            opt.step(&mut p, &g);
        }
        let moved: f64 = (1..=steps).map(|s| (1.0 - mu.powi(s)) / (1.0 - mu)).sum();
        for ((a, b), gi) in flat(&p).iter().zip(flat(&net())).zip(flat(&g)) {
            assert!(
                (a - (b - lr * gi * moved)).abs() < 1e-14,
                "{a} vs {}",
                b - lr * gi * moved
            );
        }
        let v = flat(opt.velocity().unwrap());
        for (vi, gi) in v.iter().zip(flat(&g)) {
            assert!((vi - gi * (1.0 - mu.powi(steps)) / (1.0 - mu)).abs() < 1e-14);
        }
    }

    /// With a constant gradient, Adam's bias-corrected `m̂ = g` and `v̂ = g²` at every
    /// step, so each step moves each parameter by `η g / (|g| + ε)`: `η` against the
    /// gradient's sign, whatever its scale (the invariance the paper states).
    #[test]
    fn adam_steps_by_lr_against_the_sign_of_a_constant_gradient() {
        for scale in [1e-3, 1.0, 1e3] {
            let mut p = net();
            let g = grads(scale);
            let mut opt = Adam::new(0.01);
            for _ in 0..5 {
                opt.step(&mut p, &g);
            }
            for ((a, b), gi) in flat(&p).iter().zip(flat(&net())).zip(flat(&g)) {
                let want = b - 5.0 * 0.01 * gi / (gi.abs() + 1e-8);
                assert!((a - want).abs() < 1e-14, "{a} vs {want}");
                assert!((a - (b - 5.0 * 0.01 * gi.signum())).abs() < 1e-4);
            }
        }
    }

    /// On `f(θ) = ½ Σ c_i θ_i²` with very different curvatures, Adam and momentum
    /// both drive every coordinate to the minimum at 0.
    #[test]
    fn adam_and_momentum_minimize_an_ill_conditioned_quadratic() {
        let curv = |i: usize| 10f64.powi(i as i32 % 3 - 1); // 0.1, 1, 10
        let grad_of = |p: &Net| {
            let mut g = *p;
            let mut i = 0;
            for k in 0..<Net as Params<f64>>::TENSORS {
                for x in g.tensor_mut(k).unwrap().data {
                    *x *= curv(i);
                    i += 1;
                }
            }
            g
        };
        let mut a = net();
        let mut adam = Adam::new(0.05);
        let mut m = net();
        let mut mom = Momentum::new(0.05, 0.9);
        for _ in 0..2000 {
            let g = grad_of(&a);
            adam.step(&mut a, &g);
            let g = grad_of(&m);
            mom.step(&mut m, &g);
        }
        assert!(flat(&a).iter().all(|x| x.abs() < 1e-3), "{:?}", flat(&a));
        assert!(flat(&m).iter().all(|x| x.abs() < 1e-6), "{:?}", flat(&m));
    }

    #[test]
    fn adam_hyper_parameters_are_configurable() {
        let mut p = Dense::<f32, 1, 1>::zeros();
        let mut g = p.zeros_like();
        g.bias = [2.0];
        // β₁ = 0: m̂ = g; β₂ = 0: v̂ = g²; ε = 2: step = η g / (|g| + 2) = η / 2.
        let mut opt = Adam::with_betas(0.1f32, 0.0, 0.0, 2.0);
        opt.step(&mut p, &g);
        assert_eq!(p.bias, [-0.05]);
        let (m, v) = opt.moments().unwrap();
        assert_eq!((m.bias, v.bias), ([2.0], [4.0]));
    }
}
