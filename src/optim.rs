//! Optimizers: update a network's parameters from gradients of the same type.
//!
//! Each matches the PyTorch optimizer of the same settings (float64, to 1e-12
//! over several steps: `tests/optim_reference.rs`). For each parameter `θ` with
//! gradient `g`, learning rate `η` and weight decay `λ`:
//!
//! | optimizer | update | state | PyTorch |
//! |---|---|---|---|
//! | [`Sgd`] (notebook 001) | `d = g + λθ`, `θ ← θ - η d` | none | `SGD(lr, weight_decay)` |
//! | [`Momentum`] | `d = g + λθ`, `v ← μ v + d`, `θ ← θ - η v` (Nesterov: `θ ← θ - η (d + μ v)`) | `v` | `SGD(lr, momentum, nesterov, weight_decay)` |
//! | [`Adam`] | `d = g + λθ`, `m ← β₁ m + (1-β₁) d`, `v ← β₂ v + (1-β₂) d²`, `θ ← θ - η m̂ / (√v̂ + ε)` | `m`, `v`, `t` | `Adam` |
//! | [`Adam`], decoupled decay | `θ ← (1 - ηλ) θ`, then the above with `d = g` | `m`, `v`, `t` | `AdamW` |
//! | [`RmsProp`] | `d = g + λθ`, `s ← α s + (1-α) d²`, `θ ← θ - η d / (√s + ε)` (optionally centered, with momentum) | `s` (`ḡ`, `b`) | `RMSprop` |
//!
//! The weight decay `λθ` added to the gradient ("coupled", an L2 penalty
//! `½λ‖θ‖²` on the loss) is what `SGD`, `Adam` and `RMSprop` do in PyTorch;
//! AdamW's decoupled decay shrinks the weights directly, so Adam's scaling of
//! the gradient does not scale the decay.
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

use crate::nn::Params;
use crate::{Error, Scalar};

/// Updates parameters `P` from their gradients (a value of the same type).
///
/// A training loop reads and sets the learning rate through
/// [`learning_rate`](Optimizer::learning_rate) and
/// [`set_learning_rate`](Optimizer::set_learning_rate) (schedules, a
/// callback's changes), and calls [`check`](Optimizer::check) before
/// training and after every change, so that a bad setting is an error that
/// names it rather than NaN weights later.
///
/// ```
/// use stackgrad::nn::{Dense, Params};
/// use stackgrad::optim::{Optimizer, Sgd};
/// let mut opt = Sgd::new(0.1f32);
/// <Sgd<f32> as Optimizer<f32, Dense<f32, 1, 1>>>::set_learning_rate(&mut opt, 0.01);
/// assert_eq!(opt.lr, 0.01);
/// opt.lr = -1.0;
/// let err = <Sgd<f32> as Optimizer<f32, Dense<f32, 1, 1>>>::check(&opt).unwrap_err();
/// assert_eq!(err.to_string(), "SGD: lr = -1 must be finite and at least 0");
/// ```
pub trait Optimizer<T: Scalar, P: Params<T>> {
    /// One update of `params` from `grads`.
    fn step(&mut self, params: &mut P, grads: &P);

    /// The learning rate `η`.
    fn learning_rate(&self) -> T;

    /// Sets the learning rate `η`, keeping the state (moments, velocity).
    fn set_learning_rate(&mut self, lr: T);

    /// Checks every hyper-parameter (default: nothing to check).
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] naming the optimizer, the setting and its
    /// valid range.
    fn check(&self) -> Result<(), Error> {
        Ok(())
    }
}

/// `Ok` when `ok`, else [`Error::InvalidSetting`] for `what`'s `setting`.
pub(crate) fn require<T: Scalar>(
    ok: bool,
    what: &'static str,
    setting: &'static str,
    value: T,
    expected: &'static str,
) -> Result<(), Error> {
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidSetting {
            layer: what,
            setting,
            value: value.as_f64(),
            expected,
        })
    }
}

/// `x` is finite and at least 0 (NaN fails).
fn non_negative<T: Scalar>(x: T) -> bool {
    x.is_finite() && x >= T::zero()
}

/// `x` is in `[0, 1)` (NaN fails).
fn unit<T: Scalar>(x: T) -> bool {
    x >= T::zero() && x < T::one()
}

const NON_NEGATIVE: &str = "finite and at least 0";
const UNIT: &str = "in [0, 1)";

/// The learning rate and weight decay every optimizer checks.
fn check_lr_and_decay<T: Scalar>(what: &'static str, lr: T, weight_decay: T) -> Result<(), Error> {
    require(non_negative(lr), what, "lr", lr, NON_NEGATIVE)?;
    require(
        non_negative(weight_decay),
        what,
        "weight_decay",
        weight_decay,
        NON_NEGATIVE,
    )
}

/// `g + λθ` (the gradient itself when `λ = 0`, as PyTorch skips the term).
#[inline(always)]
fn decayed<T: Scalar>(g: T, theta: T, weight_decay: T) -> T {
    if weight_decay == T::zero() {
        g
    } else {
        g + weight_decay * theta
    }
}

/// Gradient descent, `θ ← θ - η (g + λθ)` (notebook 001's update `W -= lr * dW`
/// when `λ = 0`; PyTorch's `SGD(lr, weight_decay=λ)`).
///
/// ```
/// use stackgrad::nn::{Dense, Params};
/// use stackgrad::optim::{Optimizer, Sgd};
/// let mut p = Dense::<f64, 1, 1>::zeros();
/// p.bias = [2.0];
/// let g = p.zeros_like(); // no gradient: only the decay moves θ
/// Sgd::new(0.5).weight_decay(0.1).step(&mut p, &g);
/// assert_eq!(p.bias, [2.0 - 0.5 * 0.1 * 2.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sgd<T> {
    /// The learning rate `η`.
    pub lr: T,
    /// The weight decay `λ` added to the gradient as `λθ` (default 0).
    pub weight_decay: T,
}

impl<T: Scalar> Sgd<T> {
    /// Gradient descent with learning rate `lr` and no weight decay.
    #[must_use]
    pub fn new(lr: T) -> Self {
        Self {
            lr,
            weight_decay: T::zero(),
        }
    }

    /// The same with weight decay `λ` (coupled: `λθ` added to the gradient).
    #[must_use]
    pub fn weight_decay(mut self, weight_decay: T) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// Momentum SGD with this learning rate and weight decay, and momentum
    /// `μ` (see [`Momentum`]).
    ///
    /// ```
    /// use stackgrad::optim::{Momentum, Sgd};
    /// use stackgrad::nn::Dense;
    /// let opt: Momentum<f32, Dense<f32, 2, 2>> = Sgd::new(0.1).momentum(0.9).nesterov();
    /// assert_eq!((opt.lr, opt.momentum, opt.nesterov), (0.1, 0.9, true));
    /// ```
    #[must_use]
    pub fn momentum<P>(self, momentum: T) -> Momentum<T, P> {
        Momentum::new(self.lr, momentum).weight_decay(self.weight_decay)
    }
}

impl<T: Scalar, P: Params<T>> Optimizer<T, P> for Sgd<T> {
    #[inline(always)]
    fn step(&mut self, params: &mut P, grads: &P) {
        let (lr, wd) = (self.lr, self.weight_decay);
        for k in 0..P::TENSORS {
            if let (Some(p), Some(g)) = (params.tensor_mut(k), grads.tensor(k)) {
                for (p, &g) in p.data.iter_mut().zip(g.data) {
                    *p -= lr * decayed(g, *p, wd);
                }
            }
        }
    }
    fn learning_rate(&self) -> T {
        self.lr
    }
    fn set_learning_rate(&mut self, lr: T) {
        self.lr = lr;
    }
    fn check(&self) -> Result<(), Error> {
        check_lr_and_decay("SGD", self.lr, self.weight_decay)
    }
}

/// Gradient descent with (heavy-ball) momentum, PyTorch's
/// `SGD(lr, momentum=μ, nesterov, weight_decay=λ)` without dampening:
///
/// `d = g + λθ`, `v ← μ v + d`, then `θ ← θ - η v`, or with Nesterov's
/// look-ahead `θ ← θ - η (d + μ v)`. `v` starts at zero, so the first
/// step's velocity is `d`.
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
///
/// // Nesterov: the step is η (g + μ v): 0.1 (1 + 0.9 · 1) on the first step.
/// let mut q = Dense::<f64, 1, 1>::zeros();
/// Momentum::new(0.1, 0.9).nesterov().step(&mut q, &g);
/// assert!((q.bias[0] + 0.1 * 1.9).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Momentum<T, P> {
    /// The learning rate `η`.
    pub lr: T,
    /// The momentum `μ` (0.9 is usual), in `[0, 1)`.
    pub momentum: T,
    /// Nesterov's look-ahead (default off; needs `μ > 0`).
    pub nesterov: bool,
    /// The weight decay `λ` added to the gradient as `λθ` (default 0).
    pub weight_decay: T,
    velocity: Option<P>,
}

impl<T: Scalar, P> Momentum<T, P> {
    /// Momentum SGD with learning rate `lr` and momentum `momentum`, no
    /// Nesterov look-ahead, no weight decay.
    #[must_use]
    pub fn new(lr: T, momentum: T) -> Self {
        Self {
            lr,
            momentum,
            nesterov: false,
            weight_decay: T::zero(),
            velocity: None,
        }
    }

    /// The same with Nesterov's look-ahead.
    #[must_use]
    pub fn nesterov(mut self) -> Self {
        self.nesterov = true;
        self
    }

    /// The same with weight decay `λ` (coupled: `λθ` added to the gradient).
    #[must_use]
    pub fn weight_decay(mut self, weight_decay: T) -> Self {
        self.weight_decay = weight_decay;
        self
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
        let (lr, mu, wd, nesterov) = (self.lr, self.momentum, self.weight_decay, self.nesterov);
        let v = self.velocity.get_or_insert_with(|| grads.zeros_like());
        for k in 0..P::TENSORS {
            if let (Some(p), Some(v), Some(g)) =
                (params.tensor_mut(k), v.tensor_mut(k), grads.tensor(k))
            {
                for ((p, v), &g) in p.data.iter_mut().zip(v.data.iter_mut()).zip(g.data) {
                    let d = decayed(g, *p, wd);
                    *v = mu * *v + d;
                    *p -= lr * if nesterov { d + mu * *v } else { *v };
                }
            }
        }
    }
    fn learning_rate(&self) -> T {
        self.lr
    }
    fn set_learning_rate(&mut self, lr: T) {
        self.lr = lr;
    }
    fn check(&self) -> Result<(), Error> {
        check_lr_and_decay("SGD", self.lr, self.weight_decay)?;
        require(unit(self.momentum), "SGD", "momentum", self.momentum, UNIT)?;
        require(
            !self.nesterov || self.momentum > T::zero(),
            "SGD",
            "momentum",
            self.momentum,
            "above 0 for Nesterov momentum",
        )
    }
}

/// Adam (Kingma and Ba, 2015, Algorithm 1): per-parameter steps from running
/// means of the gradient and of its square, with bias correction; with
/// coupled weight decay (PyTorch's `Adam(weight_decay=λ)`) or decoupled
/// weight decay (AdamW, Loshchilov and Hutter, 2019; PyTorch's `AdamW`).
///
/// At step `t`, with `d = g + λθ` (coupled) or `d = g` and first
/// `θ ← (1 - ηλ) θ` (decoupled):
/// `m ← β₁ m + (1-β₁) d`, `v ← β₂ v + (1-β₂) d²`,
/// `θ ← θ - η m̂ / (√v̂ + ε)` with `m̂ = m / (1-β₁ᵗ)`, `v̂ = v / (1-β₂ᵗ)`.
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
///
/// // AdamW: with a zero gradient only the decay moves θ, by ηλθ.
/// let mut q = Dense::<f64, 1, 1>::zeros();
/// q.bias = [1.0];
/// let zero = q.zeros_like();
/// Adam::new(0.01).decoupled_weight_decay(0.1).step(&mut q, &zero);
/// assert!((q.bias[0] - (1.0 - 0.01 * 0.1)).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adam<T, P> {
    /// The learning rate `η` (default 1e-3).
    pub lr: T,
    /// Decay of the gradient mean `β₁` (default 0.9), in `[0, 1)`.
    pub beta1: T,
    /// Decay of the squared-gradient mean `β₂` (default 0.999), in `[0, 1)`.
    pub beta2: T,
    /// Added to `√v̂` to avoid dividing by zero `ε` (default 1e-8).
    pub eps: T,
    /// The weight decay `λ` (default 0).
    pub weight_decay: T,
    /// Whether the decay is decoupled (AdamW: `θ ← (1 - ηλ) θ`) rather than
    /// added to the gradient (default `false`).
    pub decoupled: bool,
    /// `(m, v)`, made at the first step.
    moments: Option<(P, P)>,
    /// `β₁ᵗ` and `β₂ᵗ`, kept as running products (exact and no `powi`).
    beta1_t: T,
    beta2_t: T,
    t: u64,
}

impl<T: Scalar, P> Adam<T, P> {
    /// Adam with learning rate `lr` and the paper's defaults `β₁ = 0.9`,
    /// `β₂ = 0.999`, `ε = 1e-8`; no weight decay.
    #[must_use]
    pub fn new(lr: T) -> Self {
        Self::with_betas(lr, T::from_f64(0.9), T::from_f64(0.999), T::from_f64(1e-8))
    }

    /// Adam with every hyper-parameter given (no weight decay).
    #[must_use]
    pub fn with_betas(lr: T, beta1: T, beta2: T, eps: T) -> Self {
        Self {
            lr,
            beta1,
            beta2,
            eps,
            weight_decay: T::zero(),
            decoupled: false,
            moments: None,
            beta1_t: T::one(),
            beta2_t: T::one(),
            t: 0,
        }
    }

    /// The same with weight decay `λ` added to the gradient (PyTorch's
    /// `Adam(weight_decay=λ)`, an L2 penalty).
    #[must_use]
    pub fn weight_decay(mut self, weight_decay: T) -> Self {
        self.weight_decay = weight_decay;
        self.decoupled = false;
        self
    }

    /// The same with decoupled weight decay `λ`, `θ ← (1 - ηλ) θ` before
    /// each step: AdamW (PyTorch's `AdamW(weight_decay=λ)`, whose default
    /// is 0.01).
    #[doc(alias = "AdamW")]
    #[must_use]
    pub fn decoupled_weight_decay(mut self, weight_decay: T) -> Self {
        self.weight_decay = weight_decay;
        self.decoupled = true;
        self
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
        let (coupled, shrink) = match (self.decoupled, self.weight_decay == T::zero()) {
            (_, true) => (T::zero(), T::one()),
            (false, false) => (self.weight_decay, T::one()),
            (true, false) => (T::zero(), T::one() - self.lr * self.weight_decay),
        };
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
                        // The settings as locals of the dispatched copy: read
                        // through the closure's captures, they were reloaded
                        // for every element (the compiler could not tell them
                        // from the parameters it writes) and the loop stayed
                        // scalar, square root and division included.
                        let (b1, b2, step, inv_sqrt_c2, eps, coupled, shrink) =
                            (b1, b2, step, inv_sqrt_c2, eps, coupled, shrink);
                        for (((p, m), v), &g) in p
                            .data
                            .iter_mut()
                            .zip(m.data.iter_mut())
                            .zip(v.data.iter_mut())
                            .zip(g.data)
                        {
                            if shrink != T::one() {
                                *p *= shrink;
                            }
                            let d = decayed(g, *p, coupled);
                            *m = b1 * *m + (T::one() - b1) * d;
                            *v = b2 * *v + (T::one() - b2) * d * d;
                            *p -= step * *m / (v.sqrt() * inv_sqrt_c2 + eps);
                        }
                    },
                );
            }
        }
    }
    fn learning_rate(&self) -> T {
        self.lr
    }
    fn set_learning_rate(&mut self, lr: T) {
        self.lr = lr;
    }
    fn check(&self) -> Result<(), Error> {
        let what = if self.decoupled { "AdamW" } else { "Adam" };
        check_lr_and_decay(what, self.lr, self.weight_decay)?;
        require(unit(self.beta1), what, "beta1", self.beta1, UNIT)?;
        require(unit(self.beta2), what, "beta2", self.beta2, UNIT)?;
        require(non_negative(self.eps), what, "eps", self.eps, NON_NEGATIVE)
    }
}

/// RMSprop (Hinton's lecture 6e; PyTorch's `RMSprop`): steps scaled by a
/// running root mean square of the gradient.
///
/// With `d = g + λθ`: `s ← α s + (1-α) d²`; the denominator is
/// `r = √s + ε`, or, centered, `r = √(s - ḡ²) + ε` with `ḡ ← α ḡ + (1-α) d`;
/// then `θ ← θ - η d / r`, or with momentum `μ > 0`, `b ← μ b + d / r` and
/// `θ ← θ - η b`. All state starts at zero.
///
/// ```
/// use stackgrad::nn::{Dense, Params};
/// use stackgrad::optim::{Optimizer, RmsProp};
/// let mut p = Dense::<f64, 1, 1>::zeros();
/// let mut g = p.zeros_like();
/// g.bias = [3.0];
/// let mut opt = RmsProp::new(0.01);
/// opt.step(&mut p, &g);
/// // s = 0.01 · 9, so the step is η · 3 / (0.3 + ε), about 10 η.
/// assert!((p.bias[0] + 0.1).abs() < 1e-8);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RmsProp<T, P> {
    /// The learning rate `η` (PyTorch's default 0.01).
    pub lr: T,
    /// Decay of the squared-gradient mean `α` (default 0.99), in `[0, 1)`.
    pub alpha: T,
    /// Added to the root mean square `ε` (default 1e-8).
    pub eps: T,
    /// The weight decay `λ` added to the gradient as `λθ` (default 0).
    pub weight_decay: T,
    /// The momentum `μ` (default 0: none), in `[0, 1)`.
    pub momentum: T,
    /// Whether the mean square is centered by the gradient's running mean
    /// (default `false`).
    pub centered: bool,
    /// `s`, `ḡ` (centered only) and `b` (momentum only), made at the first step.
    square: Option<P>,
    mean: Option<P>,
    buffer: Option<P>,
}

impl<T: Scalar, P> RmsProp<T, P> {
    /// RMSprop with learning rate `lr` and PyTorch's defaults `α = 0.99`,
    /// `ε = 1e-8`, no weight decay, no momentum, not centered.
    #[must_use]
    pub fn new(lr: T) -> Self {
        Self {
            lr,
            alpha: T::from_f64(0.99),
            eps: T::from_f64(1e-8),
            weight_decay: T::zero(),
            momentum: T::zero(),
            centered: false,
            square: None,
            mean: None,
            buffer: None,
        }
    }

    /// The same with decay `α` of the squared-gradient mean.
    #[must_use]
    pub fn alpha(mut self, alpha: T) -> Self {
        self.alpha = alpha;
        self
    }

    /// The same with `ε`.
    #[must_use]
    pub fn eps(mut self, eps: T) -> Self {
        self.eps = eps;
        self
    }

    /// The same with weight decay `λ` (coupled: `λθ` added to the gradient).
    #[must_use]
    pub fn weight_decay(mut self, weight_decay: T) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// The same with momentum `μ`.
    #[must_use]
    pub fn momentum(mut self, momentum: T) -> Self {
        self.momentum = momentum;
        self
    }

    /// The same, centered.
    #[must_use]
    pub fn centered(mut self) -> Self {
        self.centered = true;
        self
    }

    /// The running mean square `s` (`None` before the first step).
    #[must_use]
    pub fn square_average(&self) -> Option<&P> {
        self.square.as_ref()
    }
}

impl<T: Scalar, P: Params<T>> Optimizer<T, P> for RmsProp<T, P> {
    #[inline(always)]
    fn step(&mut self, params: &mut P, grads: &P) {
        let (lr, alpha, eps, wd, mu) = (
            self.lr,
            self.alpha,
            self.eps,
            self.weight_decay,
            self.momentum,
        );
        let square = self.square.get_or_insert_with(|| grads.zeros_like());
        let mut mean = self
            .centered
            .then(|| &mut *self.mean.get_or_insert_with(|| grads.zeros_like()));
        let mut buffer =
            (mu > T::zero()).then(|| &mut *self.buffer.get_or_insert_with(|| grads.zeros_like()));
        for k in 0..P::TENSORS {
            let (Some(p), Some(s), Some(g)) =
                (params.tensor_mut(k), square.tensor_mut(k), grads.tensor(k))
            else {
                continue;
            };
            let mut ga = mean.as_mut().and_then(|m| m.tensor_mut(k));
            let mut b = buffer.as_mut().and_then(|b| b.tensor_mut(k));
            for (i, (p, s)) in p.data.iter_mut().zip(s.data.iter_mut()).enumerate() {
                let d = decayed(g.data[i], *p, wd);
                *s = alpha * *s + (T::one() - alpha) * d * d;
                let r = match ga.as_mut().and_then(|t| t.data.get_mut(i)) {
                    Some(ga) => {
                        *ga += (T::one() - alpha) * (d - *ga);
                        (*s - *ga * *ga).sqrt() + eps
                    }
                    None => s.sqrt() + eps,
                };
                match b.as_mut().and_then(|t| t.data.get_mut(i)) {
                    Some(b) => {
                        *b = mu * *b + d / r;
                        *p -= lr * *b;
                    }
                    None => *p -= lr * d / r,
                }
            }
        }
    }
    fn learning_rate(&self) -> T {
        self.lr
    }
    fn set_learning_rate(&mut self, lr: T) {
        self.lr = lr;
    }
    fn check(&self) -> Result<(), Error> {
        check_lr_and_decay("RMSprop", self.lr, self.weight_decay)?;
        require(unit(self.alpha), "RMSprop", "alpha", self.alpha, UNIT)?;
        require(
            unit(self.momentum),
            "RMSprop",
            "momentum",
            self.momentum,
            UNIT,
        )?;
        require(
            non_negative(self.eps),
            "RMSprop",
            "eps",
            self.eps,
            NON_NEGATIVE,
        )
    }
}

/// The global norm of all gradients, `‖g‖ = √(Σ over every tensor and
/// element of g²)`: the norm PyTorch's `clip_grad_norm_` reports. Computed
/// scaled by the largest magnitude, so it neither overflows nor underflows
/// for finite gradients; NaN if any gradient is NaN, infinity if any is
/// infinite. One pass to find the scale, one to sum.
///
/// ```
/// use stackgrad::nn::{Dense, Params};
/// use stackgrad::optim::grad_norm;
/// let mut g = Dense::<f32, 1, 1>::zeros();
/// g.weight[(0, 0)] = 3e30;
/// g.bias = [4e30];
/// assert_eq!(grad_norm(&g), 5e30);
/// ```
#[must_use]
pub fn grad_norm<T: Scalar, P: Params<T>>(grads: &P) -> T {
    let (mut scale, mut nan) = (T::zero(), false);
    for k in 0..P::TENSORS {
        if let Some(t) = grads.tensor(k) {
            for &g in t.data {
                nan |= g.is_nan();
                scale = scale.max(g.abs());
            }
        }
    }
    if nan {
        return T::nan();
    }
    if scale == T::zero() || scale.is_infinite() {
        return scale;
    }
    let mut sum = T::zero();
    for k in 0..P::TENSORS {
        if let Some(t) = grads.tensor(k) {
            for &g in t.data {
                sum += (g / scale) * (g / scale);
            }
        }
    }
    scale * sum.sqrt()
}

/// Gradient clipping, applied to a batch's gradients before the optimizer
/// step.
///
/// | clipping | gradients after | PyTorch |
/// |---|---|---|
/// | [`Clip::norm(c)`](Clip::norm) | `g · c / (‖g‖ + 10⁻⁶)` when that factor is below 1, else `g` | `clip_grad_norm_(params, c)` |
/// | [`Clip::value(c)`](Clip::value) | each element clamped to `[-c, c]` | `clip_grad_value_(params, c)` |
///
/// `‖g‖` is the global norm over every tensor ([`grad_norm`]). Both cost one
/// or two passes over the gradients and allocate nothing.
///
/// ```
/// use stackgrad::nn::{Dense, Params};
/// use stackgrad::optim::Clip;
/// let mut g = Dense::<f64, 1, 1>::zeros();
/// g.weight[(0, 0)] = 3.0;
/// g.bias = [-4.0];
/// let norm = Clip::norm(1.0)?.apply(&mut g);
/// assert_eq!(norm, 5.0); // the norm before clipping, as clip_grad_norm_ returns
/// assert!((g.weight[(0, 0)] - 0.6).abs() < 1e-6 && (g.bias[0] + 0.8).abs() < 1e-6);
///
/// let mut h = Dense::<f64, 1, 1>::zeros();
/// h.weight[(0, 0)] = 3.0;
/// h.bias = [-0.5];
/// Clip::value(1.0)?.apply(&mut h);
/// assert_eq!((h.weight[(0, 0)], h.bias), (1.0, [-0.5]));
///
/// let err = Clip::norm(-1.0).unwrap_err();
/// assert_eq!(err.to_string(), "Clip: max_norm = -1 must be finite and at least 0");
/// # Ok::<(), stackgrad::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clip(ClipKind);

#[derive(Debug, Clone, Copy, PartialEq)]
enum ClipKind {
    Norm(f64),
    Value(f64),
}

impl Clip {
    /// Rescales the gradients to global norm at most `max_norm`.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for a negative or non-finite `max_norm`.
    pub fn norm(max_norm: f64) -> Result<Self, Error> {
        require(
            non_negative(max_norm),
            "Clip",
            "max_norm",
            max_norm,
            NON_NEGATIVE,
        )?;
        Ok(Self(ClipKind::Norm(max_norm)))
    }

    /// Clamps every gradient element to `[-limit, limit]`.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for a negative or non-finite `limit`.
    pub fn value(limit: f64) -> Result<Self, Error> {
        require(non_negative(limit), "Clip", "limit", limit, NON_NEGATIVE)?;
        Ok(Self(ClipKind::Value(limit)))
    }

    /// Clips `grads` in place and returns their global norm before clipping
    /// ([`grad_norm`]). A NaN or infinite norm leaves norm clipping's
    /// gradients unchanged (training stops on such gradients before it
    /// clips); value clipping keeps NaN elements NaN.
    pub fn apply<T: Scalar, P: Params<T>>(&self, grads: &mut P) -> T {
        let norm = grad_norm(grads);
        let factor = match self.0 {
            ClipKind::Norm(max) => {
                let c = T::from_f64(max) / (norm + T::from_f64(1e-6));
                if c.is_nan() || c >= T::one() {
                    return norm;
                }
                Some(c)
            }
            ClipKind::Value(_) => None,
        };
        for k in 0..P::TENSORS {
            if let Some(t) = grads.tensor_mut(k) {
                for g in t.data {
                    *g = match (factor, self.0) {
                        (Some(c), _) => *g * c,
                        (None, ClipKind::Value(limit)) => {
                            let limit = T::from_f64(limit);
                            if *g > limit {
                                limit
                            } else if *g < -limit {
                                -limit
                            } else {
                                *g
                            }
                        }
                        (None, ClipKind::Norm(_)) => *g,
                    };
                }
            }
        }
        norm
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

    /// Every setting outside its range is an error that names the
    /// optimizer, the setting and the value; the defaults pass.
    #[test]
    fn bad_settings_are_errors_naming_the_setting() {
        fn err(o: &impl Optimizer<f64, Net>) -> String {
            o.check().unwrap_err().to_string()
        }
        Optimizer::<f64, Net>::check(&Sgd::new(0.1)).unwrap();
        Optimizer::<f64, Net>::check(&Momentum::new(0.1, 0.9).nesterov()).unwrap();
        Optimizer::<f64, Net>::check(&Adam::new(0.1).decoupled_weight_decay(0.01)).unwrap();
        Optimizer::<f64, Net>::check(&RmsProp::new(0.1).momentum(0.5).centered()).unwrap();
        assert_eq!(
            err(&Sgd::new(f64::NAN)),
            "SGD: lr = NaN must be finite and at least 0"
        );
        assert_eq!(
            err(&Sgd::new(0.1).weight_decay(-1e-4)),
            "SGD: weight_decay = -0.0001 must be finite and at least 0"
        );
        assert_eq!(
            err(&Momentum::<f64, Net>::new(0.1, 1.0)),
            "SGD: momentum = 1 must be in [0, 1)"
        );
        assert_eq!(
            err(&Momentum::<f64, Net>::new(0.1, 0.0).nesterov()),
            "SGD: momentum = 0 must be above 0 for Nesterov momentum"
        );
        assert_eq!(
            err(&Adam::<f64, Net>::new(f64::INFINITY)),
            "Adam: lr = inf must be finite and at least 0"
        );
        assert_eq!(
            err(&Adam::<f64, Net>::with_betas(0.1, 0.9, 1.0, 1e-8)),
            "Adam: beta2 = 1 must be in [0, 1)"
        );
        assert_eq!(
            err(&Adam::<f64, Net>::with_betas(0.1, -0.1, 0.9, 1e-8)),
            "Adam: beta1 = -0.1 must be in [0, 1)"
        );
        assert_eq!(
            err(&Adam::<f64, Net>::new(0.1).decoupled_weight_decay(-0.01)),
            "AdamW: weight_decay = -0.01 must be finite and at least 0"
        );
        assert_eq!(
            err(&Adam::<f64, Net>::with_betas(0.1, 0.9, 0.99, -1.0)),
            "Adam: eps = -1 must be finite and at least 0"
        );
        assert_eq!(
            err(&RmsProp::<f64, Net>::new(0.1).alpha(1.5)),
            "RMSprop: alpha = 1.5 must be in [0, 1)"
        );
        assert_eq!(
            err(&RmsProp::<f64, Net>::new(0.1).momentum(f64::NAN)),
            "RMSprop: momentum = NaN must be in [0, 1)"
        );
    }

    /// A learning rate set through the trait is the one the next step uses,
    /// and the state survives the change.
    #[test]
    fn set_learning_rate_keeps_the_state() {
        let g = grads(1.0);
        let mut a = net();
        let mut opt = Adam::new(0.01);
        opt.step(&mut a, &g);
        Optimizer::<f64, Net>::set_learning_rate(&mut opt, 0.0);
        assert_eq!(Optimizer::<f64, Net>::learning_rate(&opt), 0.0);
        let before = a;
        opt.step(&mut a, &g);
        assert_eq!(a, before);
        assert_eq!(opt.steps(), 2);
    }

    #[test]
    fn grad_norm_of_non_finite_and_zero_gradients() {
        let mut g = grads(0.0);
        assert_eq!(grad_norm(&g), 0.0);
        let before = g;
        assert_eq!(Clip::norm(1.0).unwrap().apply(&mut g), 0.0);
        assert_eq!(g, before);
        g.2.bias[1] = f64::INFINITY;
        assert_eq!(grad_norm(&g), f64::INFINITY);
        g.0.bias[0] = f64::NAN;
        assert!(grad_norm(&g).is_nan());
        // Norm clipping leaves gradients with a NaN norm as they are.
        let before = flat(&g);
        assert!(Clip::norm(1.0).unwrap().apply(&mut g).is_nan());
        assert_eq!(format!("{:?}", flat(&g)), format!("{before:?}"));
        // Value clipping clamps the infinity and keeps the NaN.
        Clip::value(2.0).unwrap().apply(&mut g);
        assert_eq!(g.2.bias[1], 2.0);
        assert!(g.0.bias[0].is_nan());
        assert_eq!(
            Clip::value(f64::NAN).unwrap_err().to_string(),
            "Clip: limit = NaN must be finite and at least 0"
        );
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
