//! The gradient checker: backprop against central differences, for every
//! parameter and for the input, with a verdict that points at the bug.
//!
//! [`GradCheck::check`] takes a network (any [`Layer`] with [`Params`]), a
//! [`Loss`] and one batch `(x, y)`, and compares
//!
//! - the analytic gradient `a = ∂J/∂θ` from the network's backward pass, with
//! - the numerical gradient `n = (J(θ + h) - J(θ - h)) / 2h`, one element of
//!   `θ` at a time, each perturbed element restored to its saved original bits,
//!
//! for every parameter tensor (walked with [`Params::tensor_mut`]) and for the
//! input. The numerical side is always computed in f64, on an f64 copy of the
//! network ([`Recast`]), so an f32 network is judged against an accurate
//! reference instead of f32 differences (which are useless at small steps).
//!
//! | measure | formula | where |
//! |---|---|---|
//! | tensor error | `‖a - n‖ / (‖a‖ + ‖n‖)`, 0 when both are exactly 0 | the verdict, per tensor |
//! | element error | `\|a - n\| / max(1e-8, \|a\| + \|n\|)` | picks the worst element |
//! | step | `h = cbrt(ε) · max(1, \|θ\|)`, `ε` = f64's machine epsilon | configurable |
//! | tolerance | fail above `1e-6` (f64 network), `1e-5` (f32 network) | configurable |
//!
//! One global number hides bugs (a flipped bias sign is 0.09 globally and 1.0
//! per tensor), so every tensor has its own verdict. The defaults come from the
//! measurements in `docs/DESIGN.md`, section 6, in the repository: correct gradients score about `1e-9` (f64)
//! and `1e-7` (f32 against the f64 reference); structural bugs score `0.6` or more.
//!
//! Coordinates where a layer with kinks (ReLU, leaky ReLU, max-pooling) changes
//! its [`Pattern`] between `θ - h`, `θ` and `θ + h` are *kinks*: counted and
//! reported, left out of the error. When a failing tensor's analytic gradient is
//! a constant multiple of the numerical one, or its transpose, the report says
//! so ([`Hint`]; a whole ratio is put down to the batch only when it is the
//! batch size). A check never passes vacuously: a network without parameters,
//! one whose every gradient is zero both ways, or a tensor whose gradient is zero
//! both ways although the loss depends on it, is an [`Error`]. Nor does it
//! difference noise: the forward pass is evaluated twice first, and a result
//! that differs (a dropout drawing a new mask per call) is
//! [`Error::NondeterministicForward`].
//!
//! End to end, a wrong input gradient shows up in the tensors of the layers
//! *below* the faulty one, and a layer without parameters has none to fail.
//! [`GradCheck::check_layers`] checks each layer on its own, at the input it
//! receives, and names the faulty layer (see [below](self#layer-by-layer)):
//!
//! | check | compares | names |
//! |---|---|---|
//! | [`check`](GradCheck::check) | `∂J/∂θ` of a loss, every parameter and the input | tensors |
//! | [`check_layers`](GradCheck::check_layers) | each layer's backward against its own forward, for a random `dy` | layers, and the first faulty one |
//! | [`check_layer`](GradCheck::check_layer) | one layer the same way | that layer |
//! | [`check_vjp`](GradCheck::check_vjp) | a hand-written `∂/∂x Σ f(x) ⊙ dy` | the input |
//!
//! A relative error is only meaningful above rounding: a vanishing gradient
//! (1e-7 next to a loss of 0.2) carries a relative error of 1e-5 from rounding
//! alone. Each tensor's [`noise`](TensorReport::noise) is measured (the same
//! backprop run on the f64 copy gives the network type's own rounding; the
//! central difference adds `ε |J| / h`), and a tensor whose `‖a - n‖` is below
//! it passes as [`Verdict::BelowNoise`], shown as such in the report.
//!
//! # Layer by layer
//!
//! For each layer `L` of the network's [`Walk`](crate::nn::Walk) (tuples,
//! nested networks, and each block both as one layer and path by path), with
//! `x` the input it receives and `dy` a seeded standard-normal upstream
//! gradient, `J_L = Σ L(x) ⊙ dy` is differenced in every coordinate of `x`
//! and of `L`'s parameters, on `L`'s f64 copy, and compared with what `L`'s
//! backward returns for `dy`. A layer is *faulty* when it fails and no layer
//! inside it does. [`LayerReport`] lists every layer with its tensors;
//! [`LayerReport::conclusion`] is the summary: `the backward of layer 2 (Relu)
//! is wrong: its input gradient disagrees with its forward; layers 0, 1, 3 are
//! consistent`. On 28 planted bugs, one per kind of layer and block, it names
//! the faulty layer in every case, in f64 and f32, over 20 seeds
//! (`tests/gradcheck_layers.rs` in the repository).
//!
//! # Cost
//!
//! The check itself never touches the heap: the reference copy, the numerical
//! gradients and the [`Report`] live on the stack (a test with a counting global
//! allocator proves it). Formatting the report may allocate. Stack use is the
//! network's gradients plus three f64 copies of the network (reference, its
//! backprop, the numerical gradients): check MNIST-sized networks on a thread
//! with a stack several times the f64 network's size. Layer by layer, the
//! copies are of one layer at a time, plus a forward pass to feed the next
//! (example 04's digits CNN at batch 1 in a debug build: at most 1.25 MiB
//! of stack layer by layer, at most 2 MiB end to end).
//!
//! ```
//! use stackgrad::gradcheck::GradCheck;
//! use stackgrad::loss::HalfSquaredError;
//! use stackgrad::nn::{Linear, Net, Sigmoid};
//! use stackgrad::Matrix;
//!
//! // Notebook 000's 2 -> 3 -> 1 network.
//! let net = Net::new((
//!     Linear::new(Matrix::from_array([[1.62434536, -0.61175641, -0.52817175],
//!                                     [-1.07296862, 0.86540763, -2.3015387]])),
//!     Sigmoid,
//!     Linear::new(Matrix::from_array([[1.74481176], [-0.7612069], [0.3190391]])),
//!     Sigmoid,
//! ));
//! let x = Matrix::from_array([[0.3, 1.0], [0.5, 0.2], [1.0, 0.4]]);
//! let y = Matrix::from_array([[0.75], [0.82], [0.93]]);
//! let report = GradCheck::new().check(&net, &HalfSquaredError, &x, &y)?;
//! assert!(report.passed());
//! assert!(report.tensor("2.weight").unwrap().error < 1e-9);
//! println!("{report}"); // a table: tensor, shape, error, worst element, kinks, verdict
//! # Ok::<(), stackgrad::Error>(())
//! ```

use core::fmt;

use crate::loss::{Labels, Loss};
use crate::nn::{Feeds, Layer, LayerName, ParamName, Params, Pattern, Recast, Shape};
use crate::{Elements, Error, Matrix, Scalar};

mod layers;
pub use layers::{CheckLayer, Conclusion, LayerReport, LayerResult, MAX_LAYER_TENSORS, MAX_LAYERS};

/// How many tensors (parameter tensors plus the input) a [`Report`] holds.
/// Larger networks use [`GradCheck::check_each`].
pub const MAX_TENSORS: usize = 32;

/// The checker's settings, set builder-style; [`check`](GradCheck::check) runs it.
///
/// ```
/// use stackgrad::gradcheck::GradCheck;
/// let strict = GradCheck::new().step(1e-7).tolerance(2e-7).check_input(false);
/// # let _ = strict;
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GradCheck {
    step: Step,
    tolerance: Option<f64>,
    check_input: bool,
    seed: u64,
}

/// The finite-difference step `h` for an element whose value is `θ`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    /// `h = r · max(1, |θ|)`.
    Relative(f64),
    /// `h` fixed.
    Absolute(f64),
}

impl Step {
    fn at(self, theta: f64) -> f64 {
        match self {
            Step::Relative(r) => r * theta.abs().max(1.0),
            Step::Absolute(h) => h,
        }
    }
}

impl Default for GradCheck {
    fn default() -> Self {
        Self::new()
    }
}

impl GradCheck {
    /// The defaults: step `cbrt(ε_f64) · max(1, |θ|)` (about `6e-6` for `|θ| ≤ 1`),
    /// tolerance `1e-6` for f64 networks and `1e-5` for f32 networks, input checked.
    #[must_use]
    pub fn new() -> Self {
        Self {
            step: Step::Relative(libm::cbrt(f64::EPSILON)),
            tolerance: None,
            check_input: true,
            seed: 0,
        }
    }

    /// A fixed step `h` for every element (notebook 004 uses `1e-7`).
    #[must_use]
    pub fn step(self, h: f64) -> Self {
        Self {
            step: Step::Absolute(h),
            ..self
        }
    }

    /// A step relative to each element's magnitude: `h = r · max(1, |θ|)`.
    #[must_use]
    pub fn relative_step(self, r: f64) -> Self {
        Self {
            step: Step::Relative(r),
            ..self
        }
    }

    /// Fail a tensor whose error `‖a - n‖ / (‖a‖ + ‖n‖)` exceeds `tol`.
    #[must_use]
    pub fn tolerance(self, tol: f64) -> Self {
        Self {
            tolerance: Some(tol),
            ..self
        }
    }

    /// Whether to check the gradient with respect to the input too (default:
    /// yes). For [`check`](Self::check); layer by layer, every layer's input
    /// gradient is checked (it is what the layer passes down).
    #[must_use]
    pub fn check_input(self, yes: bool) -> Self {
        Self {
            check_input: yes,
            ..self
        }
    }

    /// The seed of the random upstream gradients of the layer-by-layer check
    /// ([`check_layers`](Self::check_layers)); default 0. The same seed
    /// gives the same report.
    #[must_use]
    pub fn seed(self, seed: u64) -> Self {
        Self { seed, ..self }
    }

    /// The tolerance used for a network over `T`.
    #[must_use]
    pub fn tolerance_for<T: Scalar>(&self) -> f64 {
        self.tolerance.unwrap_or(if T::EPSILON.as_f64() < 1e-10 {
            1e-6
        } else {
            1e-5
        })
    }

    /// Checks every parameter tensor of `net` (and the input) with `loss` on the
    /// batch `(x, y)`; see the module docs for what is compared.
    ///
    /// # Errors
    /// [`Error::NothingToCheck`] when the network has no parameters or every
    /// parameter gradient is zero both ways (nothing was compared),
    /// [`Error::VacuousGradient`] when a tensor's gradient is zero both ways
    /// although the loss depends on it, [`Error::TooManyTensors`] beyond
    /// [`MAX_TENSORS`] tensors (use [`check_each`](Self::check_each)).
    pub fn check<N, X, Y, L>(&self, net: &N, loss: &L, x: &X, y: &Y) -> Result<Report, Error>
    where
        N: Checkable<X, Y, L>,
        X: Elements,
    {
        let tensors = N::TENSORS + usize::from(self.check_input);
        if tensors > MAX_TENSORS {
            return Err(Error::TooManyTensors {
                tensors,
                capacity: MAX_TENSORS,
            });
        }
        let mut report = Report {
            tensors: [TensorReport::empty(); MAX_TENSORS],
            len: 0,
            loss: 0.0,
            precision: N::Elem::NAME,
            tolerance: self.tolerance_for::<N::Elem>(),
        };
        report.loss = self.check_each(net, loss, x, y, |t| {
            if let Some(slot) = report.tensors.get_mut(report.len) {
                *slot = *t;
                report.len += 1;
            }
        })?;
        Ok(report)
    }

    /// Like [`check`](Self::check), but hands each tensor's result to `f` as it
    /// is computed instead of collecting them, for networks of any size. Returns
    /// the loss at the unperturbed parameters.
    ///
    /// # Errors
    /// As [`check`](Self::check), except that there is no tensor limit.
    pub fn check_each<N, X, Y, L>(
        &self,
        net: &N,
        loss: &L,
        x: &X,
        y: &Y,
        mut f: impl FnMut(&TensorReport),
    ) -> Result<f64, Error>
    where
        N: Checkable<X, Y, L>,
        X: Elements,
    {
        if N::PARAMS == 0 {
            return Err(Error::NothingToCheck);
        }
        let mut grads = net.zeros_like();
        let (value, dx) = net.backprop(loss, x, y, &mut grads);
        let mut reference = Reference::<N, X, Y, L>::new(net, loss, x, y);
        ensure_deterministic(&reference, None)?;
        let base = reference.eval();
        let judge =
            Judge::new(self.tolerance_for::<N::Elem>(), value, self.step).batch(batch_of(X::DIMS));
        let (numerical, numerical_x) =
            reference.numerical_gradients(self.step, base, self.check_input);
        let (grads64, dx64) = reference.backprop();

        let mut compared_any = false;
        for k in 0..N::TENSORS {
            let (Some(a), Some(n), Some(r)) =
                (grads.tensor(k), numerical.tensor(k), grads64.tensor(k))
            else {
                continue;
            };
            let report = compare(a.name, a.shape, a.data, n.data, r.data, judge);
            let coord = |i| Coord::Param(k, i);
            reject_vacuous(&mut reference, &report, a.name, coord, self.step, base)?;
            compared_any |= report.verdict != Verdict::Unused;
            f(&report);
        }
        if !compared_any {
            return Err(Error::NothingToCheck);
        }
        if self.check_input {
            let (a, n, r) = (dx.elems(), numerical_x.elems(), dx64.elems());
            let (name, shape) = (ParamName::leaf("input"), Shape::new(X::DIMS));
            let report = compare(name, shape, a, n, r, judge);
            reject_vacuous(&mut reference, &report, name, Coord::Input, self.step, base)?;
            f(&report);
        }
        Ok(value)
    }

    /// The numerical gradients alone, `(J(θ + h) - J(θ - h)) / 2h` for every
    /// parameter (as a network of the f64 copy's type, walked with [`Params`])
    /// and every input element; a kink's entry is NaN.
    ///
    /// ```
    /// use stackgrad::gradcheck::GradCheck;
    /// use stackgrad::loss::HalfSquaredError;
    /// use stackgrad::nn::Linear;
    /// use stackgrad::Matrix;
    /// // J = ½ (x w - y)², ∂J/∂w = (x w - y) x = (6 - 1) · 2
    /// let net = Linear::new(Matrix::from_array([[3.0f32]]));
    /// let x = Matrix::from_array([[2.0f32]]);
    /// let (dw, dx) = GradCheck::new().numerical_gradients(&net, &HalfSquaredError, &x, &Matrix::from_array([[1.0f32]]));
    /// assert!((dw.weight[(0, 0)] - 10.0).abs() < 1e-8);
    /// assert!((dx[(0, 0)] - 15.0).abs() < 1e-8);
    /// ```
    #[must_use]
    pub fn numerical_gradients<N, X, Y, L>(
        &self,
        net: &N,
        loss: &L,
        x: &X,
        y: &Y,
    ) -> (N::Reference, N::X64)
    where
        N: Checkable<X, Y, L>,
    {
        let mut reference = Reference::<N, X, Y, L>::new(net, loss, x, y);
        let base = reference.eval();
        reference.numerical_gradients(self.step, base, true)
    }

    /// Checks a hand-written vector-Jacobian product: `analytic` should be
    /// `∂/∂x Σ (f(x) ⊙ dy)`, the gradient that flows back to `x` when `dy`
    /// arrives at `f(x)` (notebook 003's `eval_numerical_gradient_array`). The
    /// numerical side is the central difference of [`numerical_vjp`] with this
    /// checker's step, evaluated in `T` (there is no f64 copy of an arbitrary
    /// function): check f64 functions, or give f32 ones a step near `1e-2`.
    ///
    /// A closure has no [`Pattern`], so kinks are found from its values: an
    /// element of `x` on a kink of `f` or within `h` of one (a leaky ReLU at
    /// exactly 0) makes the difference quotients over `±h/2` and `±h` disagree
    /// as no smooth function's do, and is reported as a kink, left out of the
    /// error. Cost: four evaluations of `f` per element of `x` (a layer checked
    /// with [`check_layer`](Self::check_layer) reads the layer's pattern instead
    /// and needs two).
    ///
    /// ```
    /// use stackgrad::gradcheck::GradCheck;
    /// use stackgrad::nn::{Layer, LeakyRelu};
    /// use stackgrad::Matrix;
    /// // D = X W: dX = dD Wᵀ (notebook 003, cell 4)
    /// let w = Matrix::from_array([[1.0f64, -2.0, 0.5], [0.3, 0.0, 1.5]]);
    /// let x = Matrix::from_array([[0.2, -0.7], [1.1, 0.4]]);
    /// let dd = Matrix::from_array([[1.0, 0.5, -1.0], [0.0, 2.0, 0.3]]);
    /// let r = GradCheck::new().check_vjp(|x| x.matmul(&w), &x, &dd, &dd.matmul_t(&w));
    /// assert!(r.passed() && r.worst.unwrap().error < 1e-9);
    ///
    /// // A leaky ReLU with an input exactly on its kink: a kink, not a failure.
    /// let leaky = LeakyRelu::default();
    /// let x = Matrix::from_array([[0.0f64, 1.5, -2.0]]);
    /// let dy = Matrix::from_array([[1.0, 1.0, 1.0]]);
    /// let (y, cache) = leaky.forward(&x);
    /// let dx = leaky.backward(&x, &y, &cache, &dy, &mut leaky.clone());
    /// let r = GradCheck::new().check_vjp(|x| leaky.infer(x), &x, &dy, &dx);
    /// assert!(r.passed() && (r.kinks, r.first_kink) == (1, Some(0)));
    /// ```
    #[must_use]
    pub fn check_vjp<T: Scalar, const R: usize, const C: usize, const P: usize, const Q: usize>(
        &self,
        f: impl Fn(&Matrix<T, R, C>) -> Matrix<T, P, Q>,
        x: &Matrix<T, R, C>,
        dy: &Matrix<T, P, Q>,
        analytic: &Matrix<T, R, C>,
    ) -> TensorReport {
        let tolerance = self.tolerance_for::<T>();
        let n = numerical_vjp_kinks(self.step, tolerance, f, x, dy);
        let judge = Judge {
            tolerance,
            noise: 0.0,
            batch: Some(R),
        };
        let (name, shape) = (ParamName::leaf("x"), Shape::new(&[R, C]));
        compare(name, shape, analytic.as_slice(), n.as_slice(), &[], judge)
    }
}

/// `∂/∂x Σ (f(x) ⊙ dy)` by central differences, one element of `x` at a time
/// with step `h` (restored bit for bit): notebook 003's
/// `eval_numerical_gradient_array(f, x, df, h)`. Sums in f64.
///
/// ```
/// use stackgrad::gradcheck::numerical_vjp;
/// use stackgrad::Matrix;
/// let g = numerical_vjp(|x| x.map(|v: f64| v * v), &Matrix::from_array([[3.0]]), &Matrix::from_array([[1.0]]), 1e-5);
/// assert!((g[(0, 0)] - 6.0).abs() < 1e-9);
/// ```
#[must_use]
pub fn numerical_vjp<T: Scalar, const R: usize, const C: usize, const P: usize, const Q: usize>(
    f: impl Fn(&Matrix<T, R, C>) -> Matrix<T, P, Q>,
    x: &Matrix<T, R, C>,
    dy: &Matrix<T, P, Q>,
    h: f64,
) -> Matrix<f64, R, C> {
    let mut x = *x;
    let mut grad = Matrix::<f64, R, C>::zeros();
    let dot = |y: Matrix<T, P, Q>| dot_f64(y.as_slice(), dy.as_slice());
    for (i, g) in grad.as_mut_slice().iter_mut().enumerate() {
        let original = x.as_slice()[i];
        let (plus, minus) = (original + T::from_f64(h), original - T::from_f64(h));
        x.as_mut_slice()[i] = plus;
        let up = dot(f(&x));
        x.as_mut_slice()[i] = minus;
        let down = dot(f(&x));
        x.as_mut_slice()[i] = original;
        *g = (up - down) / (plus.as_f64() - minus.as_f64());
    }
    grad
}

/// `Σ a_i b_i`, summed in f64.
fn dot_f64<T: Scalar>(a: &[T], b: &[T]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&a, &b)| a.as_f64() * b.as_f64())
        .sum()
}

/// The central differences of [`numerical_vjp`] at `h`, NaN (a kink) where
/// the values of `f` show a kink within `h` of the element.
///
/// With `J(t) = Σ f(x + t e_i) ⊙ dy` at `t = -h, -h/2, 0, h/2, h`, the four
/// slopes over the half steps of a smooth `J` grow by the same amount from
/// one to the next (`J'' h/2`, up to `J''' h²`). A kink in `[-h, h]` puts the
/// whole change of slope into one or two of the three increments and leaves
/// another at zero. An element is a kink when two increments differ by more
/// than `tolerance / 10` times the norm of the central differences over all
/// elements, plus the rounding of `J` (`16 ε_T Σ |f ⊙ dy| / (h/2)`). A kink
/// that this misses moves its central difference by at most three times
/// that much, and the tensor's relative error by less than the tolerance.
fn numerical_vjp_kinks<
    T: Scalar,
    const R: usize,
    const C: usize,
    const P: usize,
    const Q: usize,
>(
    step: Step,
    tolerance: f64,
    f: impl Fn(&Matrix<T, R, C>) -> Matrix<T, P, Q>,
    x: &Matrix<T, R, C>,
    dy: &Matrix<T, P, Q>,
) -> Matrix<f64, R, C> {
    let mut x = *x;
    let (mut grad, mut spread) = (Matrix::<f64, R, C>::zeros(), Matrix::<f64, R, C>::zeros());
    let y0 = f(&x);
    let j0 = dot_f64(y0.as_slice(), dy.as_slice());
    let size: f64 = y0
        .as_slice()
        .iter()
        .zip(dy.as_slice())
        .map(|(&y, &d)| (y.as_f64() * d.as_f64()).abs())
        .sum();
    let mut rounding: f64 = 0.0;
    for i in 0..R * C {
        let original = x.as_slice()[i];
        let h = step.at(original.as_f64());
        // (θ, J(θ)) at θ = original + t as rounded in T, for t in -h, -h/2, h/2, h.
        let mut at = |t: f64| {
            let v = original + T::from_f64(t);
            x.as_mut_slice()[i] = v;
            let j = dot_f64(f(&x).as_slice(), dy.as_slice());
            (v.as_f64(), j)
        };
        let (m2, m1, p1, p2) = (at(-h), at(-h / 2.0), at(h / 2.0), at(h));
        x.as_mut_slice()[i] = original;
        if p2.0 == m2.0 {
            continue; // a step lost to rounding moves nothing: 0
        }
        let central = (p2.1 - m2.1) / (p2.0 - m2.0);
        let mid = (original.as_f64(), j0);
        let slope = |a: (f64, f64), b: (f64, f64)| {
            if b.0 == a.0 {
                central
            } else {
                (b.1 - a.1) / (b.0 - a.0)
            }
        };
        let s = [slope(m2, m1), slope(m1, mid), slope(mid, p1), slope(p1, p2)];
        let inc = [s[1] - s[0], s[2] - s[1], s[3] - s[2]];
        spread.as_mut_slice()[i] = inc.iter().fold(0.0, |m: f64, a| {
            inc.iter().fold(m, |m, b| m.max((a - b).abs()))
        });
        grad.as_mut_slice()[i] = central;
        rounding = rounding.max(16.0 * T::EPSILON.as_f64() * size.max(j0.abs()) / (h / 2.0));
    }
    // A kink that moves an element by `e` moves the tensor's error by about
    // `e / ‖n‖`: flag what could matter against the tolerance.
    let norm = libm::sqrt(grad.as_slice().iter().map(|g| g * g).sum::<f64>());
    let limit = 0.1 * tolerance * norm + rounding;
    for (g, &s) in grad.as_mut_slice().iter_mut().zip(spread.as_slice()) {
        if s > limit {
            *g = f64::NAN;
        }
    }
    grad
}

/// What the checker needs from a network `Self` with loss `L` on a batch of
/// inputs `X` and targets `Y`: backprop in the network's own float type, and
/// f64 copies of the network, input and target for the numerical reference.
///
/// Implemented for every combination that fits (a network that
/// [takes](Feeds) `X`, with [`Params`] and [`Recast<f64>`], an input that is [`Elements`], a target with
/// [`Recast<f64>`] such as a `Matrix` or [`Labels`], a loss defined in both
/// float types); users never implement it, and a generic function that calls
/// the checker needs only `N: Checkable<X, Y, L>`.
pub trait Checkable<X, Y, L>: Params<Self::Elem> + Sized {
    /// The network's float type.
    type Elem: Scalar;
    /// The f64 copy of the network.
    type Reference: Params<f64>;
    /// The f64 copy of the input.
    type X64: Elements<Elem = f64>;
    /// The f64 copy of the target.
    type Y64;

    /// One forward and backward pass: writes `∂J/∂θ` into `grads`, returns `J`
    /// and `∂J/∂x`.
    fn backprop(&self, loss: &L, x: &X, y: &Y, grads: &mut Self) -> (f64, X);

    /// The f64 copies of the network, input and target.
    fn reference(&self, x: &X, y: &Y) -> (Self::Reference, Self::X64, Self::Y64);

    /// [`backprop`](Checkable::backprop) on the f64 copies: the same code in f64,
    /// whose difference from `backprop` measures the network type's rounding.
    fn reference_backprop(
        net: &Self::Reference,
        loss: &L,
        x: &Self::X64,
        y: &Self::Y64,
        grads: &mut Self::Reference,
    ) -> Self::X64;

    /// `J` on the f64 copies, and the pieces the forward pass took.
    fn reference_loss(
        net: &Self::Reference,
        loss: &L,
        x: &Self::X64,
        y: &Self::Y64,
    ) -> (f64, Pattern);
}

type Recast64<A> = <A as Recast<f64>>::Output;

/// `N`, proven to take `X`.
type Net<N, X> = <X as Feeds<N>>::Net;

impl<N, X, Y, L, T> Checkable<X, Y, L> for N
where
    T: Scalar,
    X: Elements<Elem = T> + Recast<f64, Output: Elements<Elem = f64>>,
    Y: Recast<f64>,
    // The input is checked against the network through `Feeds` (a wrong
    // width is one error in plain numbers) before anything is inferred from
    // the network: `Feeds::Net` is `N` itself.
    X: Feeds<N>,
    N: Params<T>,
    // The f64 copy is made from the network proven to take `X`, so a wrong
    // input is one error (above), not a second one about the copy.
    Net<N, X>: Recast<f64, Output: Layer<Recast64<X>> + Params<f64>>,
    L: Loss<<X as Feeds<N>>::Output, Y, Value = T>
        + Loss<<Recast64<Net<N, X>> as Layer<Recast64<X>>>::Output, Recast64<Y>, Value = f64>,
{
    type Elem = T;
    type Reference = Recast64<Net<N, X>>;
    type X64 = Recast64<X>;
    type Y64 = Recast64<Y>;

    fn backprop(&self, loss: &L, x: &X, y: &Y, grads: &mut Self) -> (f64, X) {
        let net = X::net(self);
        let (out, cache) = net.forward(x);
        let (value, dout) = loss.loss_and_grad(&out, y);
        let dx = net.backward(x, &out, &cache, &dout, X::net_mut(grads));
        (value.as_f64(), dx)
    }

    fn reference(&self, x: &X, y: &Y) -> (Self::Reference, Self::X64, Self::Y64) {
        (X::net(self).recast(), x.recast(), y.recast())
    }

    fn reference_backprop(
        net: &Self::Reference,
        loss: &L,
        x: &Self::X64,
        y: &Self::Y64,
        grads: &mut Self::Reference,
    ) -> Self::X64 {
        let (out, cache) = net.forward(x);
        let (_, dout) = loss.loss_and_grad(&out, y);
        net.backward(x, &out, &cache, &dout, grads)
    }

    fn reference_loss(
        net: &Self::Reference,
        loss: &L,
        x: &Self::X64,
        y: &Self::Y64,
    ) -> (f64, Pattern) {
        let (out, cache) = net.forward(x);
        let mut pattern = Pattern::new();
        net.pattern(x, &out, &cache, &mut pattern);
        (loss.loss(&out, y), pattern)
    }
}

/// One element the checker perturbs: element `i` of parameter tensor `k`, or
/// element `i` of the input.
#[derive(Debug, Clone, Copy)]
enum Coord {
    Param(usize, usize),
    Input(usize),
}

/// The value and the pattern at one point.
type Point = (f64, Pattern);

/// The f64 side of a check: a scalar function `J` of the elements it
/// perturbs one at a time (a network's loss, or a layer's output dotted with
/// an upstream gradient).
trait Objective {
    /// `J` and the pieces the forward pass took, at the current point.
    fn eval(&self) -> Point;
    /// A fingerprint of everything the forward pass produced at the current
    /// point (its value, output and pattern), to tell whether it is deterministic.
    fn fingerprint(&self) -> u64;
    /// The element `c`.
    fn slot(&mut self, c: Coord) -> Option<&mut f64>;
}

/// FNV-1a over 64-bit words.
fn fnv(hash: u64, word: u64) -> u64 {
    (hash ^ word).wrapping_mul(0x0000_0100_0000_01b3)
}

/// Evaluates the forward pass twice at the same point: a random layer in
/// training mode (dropout drawing a new mask per call) makes every central
/// difference measure the randomness, so it is an error before any is taken.
fn ensure_deterministic<O: Objective>(o: &O, layer: Option<LayerName>) -> Result<(), Error> {
    if o.fingerprint() == o.fingerprint() {
        Ok(())
    } else {
        Err(Error::NondeterministicForward { layer })
    }
}

/// `J` and the pattern with element `c` set to `original ± h`, and the
/// element restored to its saved original bits afterwards.
fn probe<O: Objective>(o: &mut O, c: Coord, h: f64) -> Option<(f64, f64, Point, Point)> {
    let original = *o.slot(c)?;
    let (plus, minus) = (original + h, original - h);
    *o.slot(c)? = plus;
    let up = o.eval();
    *o.slot(c)? = minus;
    let down = o.eval();
    *o.slot(c)? = original;
    Some((plus, minus, up, down))
}

/// `(J(θ + h) - J(θ - h)) / ((θ + h) - (θ - h))` at element `c`, or NaN
/// (a kink) when the pattern at `θ ± h` differs from the one at `θ`.
fn central<O: Objective>(o: &mut O, c: Coord, step: Step, base: Point) -> f64 {
    let original = o.slot(c).map_or(0.0, |v| *v);
    match probe(o, c, step.at(original)) {
        // A step lost to rounding (θ ± h == θ) moves nothing: difference 0.
        Some((plus, minus, ..)) if plus == minus => 0.0,
        Some((plus, minus, up, down)) if up.1 == base.1 && down.1 == base.1 => {
            (up.0 - down.0) / (plus - minus)
        }
        _ => f64::NAN,
    }
}

/// Central differences for every element of every tensor of `numerical`
/// (the parameters of the objective's f64 copy, which it overwrites).
fn numerical_params<O: Objective, P: Params<f64>>(
    o: &mut O,
    numerical: &mut P,
    step: Step,
    base: Point,
) {
    for k in 0..P::TENSORS {
        let len = numerical.tensor(k).map_or(0, |t| t.data.len());
        for i in 0..len {
            let n = central(o, Coord::Param(k, i), step, base);
            if let Some(slot) = numerical.tensor_mut(k).and_then(|t| t.data.get_mut(i)) {
                *slot = n;
            }
        }
    }
}

/// Central differences for every input element, written over `numerical`.
fn numerical_input<O: Objective, X: Elements<Elem = f64>>(
    o: &mut O,
    numerical: &mut X,
    step: Step,
    base: Point,
) {
    for i in 0..X::LEN {
        let n = central(o, Coord::Input(i), step, base);
        if let Some(slot) = numerical.elems_mut().get_mut(i) {
            *slot = n;
        }
    }
}

/// A tensor whose gradient is zero both ways passes only if `J` does not
/// depend on it: perturbed by a much larger step (on the same linear
/// pieces), `J` must stay bit-for-bit the same. `name` is the tensor's name
/// in the error.
fn reject_vacuous<O: Objective>(
    o: &mut O,
    report: &TensorReport,
    name: ParamName,
    coord: impl Fn(usize) -> Coord,
    step: Step,
    base: Point,
) -> Result<(), Error> {
    if report.verdict != Verdict::Unused {
        return Ok(());
    }
    for i in 0..report.shape.len() {
        let c = coord(i);
        let original = o.slot(c).map_or(0.0, |v| *v);
        // 100 times the step, and at least 1e-4 · max(1, |θ|) (a step too
        // small to move J at all is one way to get zeros both ways).
        let large = (100.0 * step.at(original)).max(Step::Relative(1e-4).at(original));
        if let Some((_, _, up, down)) = probe(o, c, large) {
            let same_pieces = up.1 == base.1 && down.1 == base.1;
            if same_pieces && (up.0 != base.0 || down.0 != base.0) {
                return Err(Error::VacuousGradient { tensor: name });
            }
        }
    }
    Ok(())
}

/// The f64 copies the numerical side of a network check works on, perturbed
/// one element at a time.
struct Reference<'a, N: Checkable<X, Y, L>, X, Y, L> {
    net: N::Reference,
    x: N::X64,
    y: N::Y64,
    loss: &'a L,
}

impl<'a, N: Checkable<X, Y, L>, X, Y, L> Reference<'a, N, X, Y, L> {
    fn new(net: &N, loss: &'a L, x: &X, y: &Y) -> Self {
        let (net, x, y) = net.reference(x, y);
        Self { net, x, y, loss }
    }

    /// Backprop on the f64 copies.
    fn backprop(&self) -> (N::Reference, N::X64) {
        let mut grads = self.net.zeros_like();
        let dx = N::reference_backprop(&self.net, self.loss, &self.x, &self.y, &mut grads);
        (grads, dx)
    }

    /// Central differences for every parameter and (if `input`) input element.
    fn numerical_gradients(
        &mut self,
        step: Step,
        base: Point,
        input: bool,
    ) -> (N::Reference, N::X64) {
        let mut numerical = self.net.zeros_like();
        numerical_params(self, &mut numerical, step, base);
        let mut numerical_x = self.x;
        if input {
            numerical_input(self, &mut numerical_x, step, base);
        }
        (numerical, numerical_x)
    }
}

impl<N: Checkable<X, Y, L>, X, Y, L> Objective for Reference<'_, N, X, Y, L> {
    fn eval(&self) -> Point {
        N::reference_loss(&self.net, self.loss, &self.x, &self.y)
    }

    fn fingerprint(&self) -> u64 {
        let (value, pattern) = self.eval();
        fnv(fnv(0xcbf2_9ce4_8422_2325, value.to_bits()), pattern.value())
    }

    fn slot(&mut self, c: Coord) -> Option<&mut f64> {
        match c {
            Coord::Param(k, i) => self.net.tensor_mut(k).and_then(|t| t.data.get_mut(i)),
            Coord::Input(i) => self.x.elems_mut().get_mut(i),
        }
    }
}

/// What a tensor is judged against: the relative tolerance, the rounding
/// noise of the central difference, and the batch size a ratio can be.
#[derive(Debug, Clone, Copy)]
struct Judge {
    tolerance: f64,
    /// Per element, `4 ε_f64 |J| / h` (`h` the smallest step): `J(θ ± h)` are
    /// each rounded by about `ε |J|`, and the difference is divided by `2h`.
    noise: f64,
    /// The number of examples in the batch (the input's first dimension),
    /// to which a whole ratio is attributed only when it equals it.
    batch: Option<usize>,
}

impl Judge {
    fn new(tolerance: f64, scale: f64, step: Step) -> Self {
        let noise = 4.0 * f64::EPSILON * scale.abs() / step.at(0.0);
        Self {
            tolerance,
            noise,
            batch: None,
        }
    }

    fn batch(self, batch: Option<usize>) -> Self {
        Self { batch, ..self }
    }
}

/// The batch size of an input with dimensions `dims`: the first of at least
/// two (a matrix's rows, an image batch's images).
fn batch_of(dims: &[usize]) -> Option<usize> {
    (dims.len() >= 2).then(|| dims[0])
}

/// Compares one tensor's analytic gradient `a` with its numerical gradient `n`
/// (NaN marks a kink): the error, the worst element, the verdict and a hint.
/// `a64` is the same backprop run in f64 (empty when unavailable): `4 (a - a64)`
/// is the rounding noise backprop itself contributes in the network's type.
fn compare<T: Scalar>(
    name: ParamName,
    shape: Shape,
    a: &[T],
    n: &[f64],
    a64: &[f64],
    judge: Judge,
) -> TensorReport {
    let tol = judge.tolerance;
    let mut r = TensorReport {
        name,
        shape,
        tolerance: tol,
        ..TensorReport::empty()
    };
    let (mut diff2, mut a2, mut n2, mut noise2) = (0.0, 0.0, 0.0, 0.0);
    for (i, (&a, &n)) in a.iter().zip(n).enumerate() {
        if n.is_nan() {
            r.kinks += 1;
            r.first_kink.get_or_insert(i);
            continue;
        }
        let a = a.as_f64();
        r.compared += 1;
        let rounding = a64.get(i).map_or(0.0, |&r| 4.0 * (a - r));
        noise2 += rounding * rounding + judge.noise * judge.noise;
        diff2 += (a - n) * (a - n);
        a2 += a * a;
        n2 += n * n;
        let error = element_error(a, n);
        // A NaN error (a NaN analytic value) becomes the worst element.
        if r.worst.is_none_or(|w| error > w.error || error.is_nan()) {
            r.worst = Some(Element {
                index: i,
                analytic: a,
                numerical: n,
                error,
            });
        }
    }
    r.error = if a2 == 0.0 && n2 == 0.0 {
        0.0
    } else {
        libm::sqrt(diff2) / (libm::sqrt(a2) + libm::sqrt(n2))
    };
    r.noise = libm::sqrt(noise2);
    r.verdict = if r.error.is_nan() {
        Verdict::Fail
    } else if r.error > tol && libm::sqrt(diff2) <= r.noise {
        Verdict::BelowNoise
    } else if r.error > tol {
        Verdict::Fail
    } else if a2 == 0.0 && n2 == 0.0 {
        Verdict::Unused
    } else {
        Verdict::Pass
    };
    if r.verdict == Verdict::Fail {
        r.hint = diagnose(shape, a, n, tol, judge.batch);
    }
    r
}

/// `|a - n| / max(1e-8, |a| + |n|)`.
#[must_use]
pub fn element_error(a: f64, n: f64) -> f64 {
    (a - n).abs() / (a.abs() + n.abs()).max(1e-8)
}

/// Explains a failing tensor when the analytic gradient is the numerical one
/// transposed, or a constant multiple of it (a whole multiple is attributed
/// to the batch only when it is the batch size).
fn diagnose<T: Scalar>(
    shape: Shape,
    a: &[T],
    n: &[f64],
    tol: f64,
    batch: Option<usize>,
) -> Option<Hint> {
    let pairs = || a.iter().map(|&a| a.as_f64()).zip(n.iter().copied());
    let valid = |(a, n): (f64, f64)| a.is_finite() && n.is_finite();
    if let &[rows, cols] = shape.dims() {
        // The analytic buffer read as `cols x rows` against the numerical `rows x cols`.
        if rows > 1 && cols > 1 && a.len() == rows * cols && n.len() == rows * cols {
            let (mut d2, mut s2) = (0.0, 0.0);
            for r in 0..rows {
                for c in 0..cols {
                    let (at, nv) = (a[c * rows + r].as_f64(), n[r * cols + c]);
                    if valid((at, nv)) {
                        d2 += (at - nv) * (at - nv);
                        s2 += at * at + nv * nv;
                    }
                }
            }
            if s2 > 0.0 && libm::sqrt(d2 / s2) <= tol {
                return Some(Hint::Transposed);
            }
        }
    }
    // Least-squares ratio c = <a, n> / <n, n>; a constant ratio leaves no residual.
    let (an, nn, aa) = pairs()
        .filter(|&p| valid(p))
        .fold((0.0, 0.0, 0.0), |s, (a, n)| {
            (s.0 + a * n, s.1 + n * n, s.2 + a * a)
        });
    if nn == 0.0 || aa == 0.0 {
        return None;
    }
    let c = an / nn;
    let residual: f64 = pairs()
        .filter(|&p| valid(p))
        .map(|(a, n)| (a - c * n) * (a - c * n))
        .sum();
    if libm::sqrt(residual / aa) > 1e-3 {
        return None;
    }
    let near = |x: f64, target: f64| (x - target).abs() <= 1e-3 * target.abs();
    let whole = |x: f64| {
        let m = libm::round(x);
        ((2.0..=1e6).contains(&m) && near(x, m)).then_some(m as usize)
    };
    if near(c, 1.0) {
        return None; // proportional with ratio 1: noise, not a structural bug
    }
    Some(if near(c, -1.0) {
        Hint::SignFlipped
    } else if let Some(m) = whole(1.0 / c) {
        if batch == Some(m) {
            Hint::DividedByBatch(m)
        } else {
            Hint::DividedBy(m)
        }
    } else if let Some(m) = whole(c) {
        if batch == Some(m) {
            Hint::MultipliedByBatch(m)
        } else {
            Hint::MultipliedBy(m)
        }
    } else {
        Hint::Scaled(c)
    })
}

/// The outcome for one tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The error is within the tolerance.
    Pass,
    /// The error exceeds the tolerance (or is NaN).
    Fail,
    /// Zero both ways, and the loss does not depend on the tensor (a dead ReLU
    /// unit's weights): correct, but nothing was compared. Counts as a pass.
    Unused,
    /// The relative error exceeds the tolerance, but `‖a - n‖` is below the
    /// rounding noise expected for a gradient this small next to the loss
    /// (see [`TensorReport::noise`]): a vanishing gradient whose relative error
    /// measures rounding, not the code. Counts as a pass; shown in the report.
    BelowNoise,
}

/// Why a failing tensor may be wrong, found from the shape of the mismatch:
/// the analytic gradient `a` against the numerical `n`. A constant ratio is
/// named as the ratio it is; it is put down to the batch (a mean where a sum
/// belongs, or the reverse) only when it equals the batch size, the input's
/// first dimension.
///
/// ```
/// use stackgrad::gradcheck::Hint;
/// assert_eq!(Hint::DividedBy(4).to_string(), "scaled by 1/4: analytic = numerical / 4");
/// assert_eq!(
///     Hint::MultipliedByBatch(5).to_string(),
///     "scaled by 5, the batch size: analytic = 5 x numerical; a missing 1/5 (a sum where the forward takes the mean)?"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Hint {
    /// `a = -n`.
    SignFlipped,
    /// `a = n / m` for a whole `m ≥ 2` that is not the batch size (an
    /// average pool's `1/K²` applied twice: `m = K²`).
    DividedBy(usize),
    /// `a = m · n` for a whole `m ≥ 2` that is not the batch size (an
    /// average pool's backward without its `1/K²`: `m = K²`).
    MultipliedBy(usize),
    /// `a = n / B`, `B` the batch size: a mean over the batch where the
    /// forward pass sums.
    DividedByBatch(usize),
    /// `a = B · n`, `B` the batch size: a missing `1/B`, a sum over the
    /// batch where the forward pass takes the mean.
    MultipliedByBatch(usize),
    /// `a = c · n` for another constant `c`.
    Scaled(f64),
    /// The analytic buffer holds the numerical gradient transposed.
    Transposed,
}

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hint::SignFlipped => f.write_str("sign flipped: analytic = -numerical"),
            Hint::DividedBy(m) => write!(f, "scaled by 1/{m}: analytic = numerical / {m}"),
            Hint::MultipliedBy(m) => write!(f, "scaled by {m}: analytic = {m} x numerical"),
            Hint::DividedByBatch(m) => write!(
                f,
                "scaled by 1/{m}, the batch size: analytic = numerical / {m}; \
                 a mean over the batch where the forward sums?"
            ),
            Hint::MultipliedByBatch(m) => write!(
                f,
                "scaled by {m}, the batch size: analytic = {m} x numerical; \
                 a missing 1/{m} (a sum where the forward takes the mean)?"
            ),
            Hint::Scaled(c) => write!(f, "scaled by {c:.4}: analytic = {c:.4} x numerical"),
            Hint::Transposed => f.write_str(
                "transposed? the analytic gradient matches the numerical one transposed",
            ),
        }
    }
}

/// One element of a tensor: its flat index, both gradients and their relative error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Element {
    /// Row-major index into the tensor.
    pub index: usize,
    /// Backprop's value.
    pub analytic: f64,
    /// The central difference.
    pub numerical: f64,
    /// `|a - n| / max(1e-8, |a| + |n|)`.
    pub error: f64,
}

/// The result for one tensor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TensorReport {
    /// `"0.weight"`, or `"input"`.
    pub name: ParamName,
    /// The tensor's shape.
    pub shape: Shape,
    /// `‖a - n‖ / (‖a‖ + ‖n‖)` over the elements that are not kinks (0 when both are 0).
    pub error: f64,
    /// The tolerance the error was judged against.
    pub tolerance: f64,
    /// The rounding noise expected in `‖a - n‖`: the norm over the elements of
    /// `4 (a - a64)` (backprop's own rounding in the network's type, measured by
    /// running the same backprop on the f64 copy; 0 for an f64 network) and
    /// `4 ε_f64 |J| / h` (the central difference's rounding). A tensor whose
    /// relative error exceeds the tolerance while `‖a - n‖` is below this is
    /// [`Verdict::BelowNoise`].
    pub noise: f64,
    /// The element with the largest relative error (`None` if every element is a kink).
    pub worst: Option<Element>,
    /// Elements compared (not kinks).
    pub compared: usize,
    /// Elements at a kink, left out of the error.
    pub kinks: usize,
    /// The first kink's index.
    pub first_kink: Option<usize>,
    /// The verdict.
    pub verdict: Verdict,
    /// A diagnosis, for failing tensors whose mismatch has a recognizable shape.
    pub hint: Option<Hint>,
}

impl TensorReport {
    fn empty() -> Self {
        Self {
            name: ParamName::leaf(""),
            shape: Shape::new(&[]),
            error: 0.0,
            tolerance: 0.0,
            noise: 0.0,
            worst: None,
            compared: 0,
            kinks: 0,
            first_kink: None,
            verdict: Verdict::Pass,
            hint: None,
        }
    }

    /// Whether the tensor passed (any verdict but [`Verdict::Fail`]).
    #[must_use]
    pub fn passed(&self) -> bool {
        self.verdict != Verdict::Fail
    }
}

/// The result of [`GradCheck::check`]: one [`TensorReport`] per parameter tensor
/// and the input, stored inline. `Display` prints it as a table.
#[derive(Debug, Clone, Copy)]
pub struct Report {
    tensors: [TensorReport; MAX_TENSORS],
    len: usize,
    /// The loss at the unperturbed parameters.
    pub loss: f64,
    /// The network's float type (`"f32"`, `"f64"`).
    pub precision: &'static str,
    /// The tolerance applied.
    pub tolerance: f64,
}

impl Report {
    /// Every tensor's result, parameters in network order, then the input.
    #[must_use]
    pub fn tensors(&self) -> &[TensorReport] {
        &self.tensors[..self.len]
    }

    /// The result for the tensor named `name` (`"0.weight"`, `"input"`).
    #[must_use]
    pub fn tensor(&self, name: &str) -> Option<&TensorReport> {
        self.tensors().iter().find(|t| t.name == name)
    }

    /// Whether every tensor passed.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.tensors().iter().all(TensorReport::passed)
    }

    /// The failing tensors.
    pub fn failures(&self) -> impl Iterator<Item = &TensorReport> {
        self.tensors().iter().filter(|t| !t.passed())
    }

    /// Kinks over all tensors.
    #[must_use]
    pub fn kinks(&self) -> usize {
        self.tensors().iter().map(|t| t.kinks).sum()
    }
}

/// A flat index shown as a multi-index of `shape`: `[1, 2]`.
struct Index(Shape, usize);

impl fmt::Display for Index {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dims = self.0.dims();
        let mut idx = [0; 4];
        let mut rest = self.1;
        for (k, &d) in dims.iter().enumerate().rev() {
            idx[k] = rest % d.max(1);
            rest /= d.max(1);
        }
        f.write_str("[")?;
        for (k, i) in idx[..dims.len()].iter().enumerate() {
            if k > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{i}")?;
        }
        f.write_str("]")
    }
}

impl fmt::Display for TensorReport {
    /// One table row: name, shape, error, worst element, kinks, verdict; a hint
    /// on the next line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_tensor_row(f, self, 9, 0)
    }
}

/// A [`TensorReport`] as a table row, its shape in `shape_width` columns and
/// its hint on the next line, indented by `indent` more columns than the
/// row's own start.
fn write_tensor_row(
    f: &mut fmt::Formatter<'_>,
    t: &TensorReport,
    shape_width: usize,
    indent: usize,
) -> fmt::Result {
    let name = Padded(&t.name, 12);
    let shape = Padded(&t.shape, shape_width);
    write!(f, "{name} {shape} {:>10.2e}  ", t.error)?;
    match t.worst {
        Some(w) => {
            let idx = Padded(&Index(t.shape, w.index), 8);
            write!(f, "{idx} {:>13.6e} {:>13.6e}", w.analytic, w.numerical)?;
        }
        None => write!(f, "{:8} {:>13} {:>13}", "-", "-", "-")?,
    }
    let verdict = match t.verdict {
        Verdict::Pass => "pass",
        Verdict::Fail => "FAIL",
        Verdict::Unused => "pass (zero, unused)",
        Verdict::BelowNoise => "pass (below noise)",
    };
    write!(f, " {:>6}  {verdict}", t.kinks)?;
    if let Some(h) = t.hint {
        write!(f, "\n{:width$}hint: {h}", "", width = indent + 13)?;
    }
    Ok(())
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "gradient check: {} network against an f64 reference, loss {:.6e}, fail above {:.0e}",
            self.precision, self.loss, self.tolerance
        )?;
        writeln!(
            f,
            "{:12} {:9} {:>10}  {:8} {:>13} {:>13} {:>6}  verdict",
            "tensor", "shape", "error", "worst", "analytic", "numerical", "kinks"
        )?;
        for t in self.tensors() {
            writeln!(f, "{t}")?;
        }
        let failing = self.failures().count();
        write!(
            f,
            "overall: {} ({} tensors, {failing} failing, {} kinks)",
            if self.passed() { "PASS" } else { "FAIL" },
            self.len,
            self.kinks()
        )?;
        if failing > 0 {
            // A wrong input gradient fails the tensors of the layers below
            // the bug: the layer-by-layer check names the layer itself.
            write!(
                f,
                "\nGradCheck::check_layers names the layer whose backward is wrong"
            )?;
        }
        Ok(())
    }
}

/// Left-aligns a displayed value in `width` columns without allocating.
struct Padded<'a, D>(&'a D, usize);

impl<D: fmt::Display> fmt::Display for Padded<'_, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Count(usize);
        impl fmt::Write for Count {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                self.0 += s.chars().count();
                Ok(())
            }
        }
        let mut count = Count(0);
        fmt::write(&mut count, format_args!("{}", self.0))?;
        write!(f, "{}", self.0)?;
        for _ in count.0..self.1 {
            f.write_str(" ")?;
        }
        Ok(())
    }
}

// Inputs and targets are recast for the f64 reference like networks are.

impl<T: Scalar, U: Scalar, const R: usize, const C: usize> Recast<U> for Matrix<T, R, C> {
    type Output = Matrix<U, R, C>;
    fn recast(&self) -> Matrix<U, R, C> {
        self.cast()
    }
}

impl<U: Scalar, const B: usize, const C: usize> Recast<U> for Labels<B, C> {
    type Output = Self;
    fn recast(&self) -> Self {
        *self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::HalfSquaredError;
    use crate::nn::{Dense, FlatParams, Linear, Net, Relu, Sigmoid, Tensor, TensorMut};

    /// Perturbing and restoring leaves every parameter and input element with
    /// its original bits (`x + h - 2h + h` would not: 0.1 + 6.1e-6 - ... ≠ 0.1).
    #[test]
    fn perturbed_elements_are_restored_bit_for_bit() {
        let net = Net::new((
            Dense::<f64, 3, 2>::new(
                Matrix::from_fn(|i, o| 0.1 + 0.37 * (i * 2 + o) as f64),
                [0.3, -0.7],
            ),
            Sigmoid,
        ));
        let x = Matrix::<f64, 2, 3>::from_fn(|b, i| 0.1 * (b * 3 + i) as f64 - 0.3);
        let y = Matrix::<f64, 2, 2>::splat(0.5);
        let mut r = Reference::<_, _, _, HalfSquaredError>::new(&net, &HalfSquaredError, &x, &y);
        let base = r.eval();
        let _ = r.numerical_gradients(Step::Relative(libm::cbrt(f64::EPSILON)), base, true);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&r.net.to_flat()), bits(&net.to_flat()));
        assert_eq!(bits(r.x.as_slice()), bits(x.as_slice()));
        // The naive sequence does change bits for these values.
        let h = libm::cbrt(f64::EPSILON) * 1.21;
        let naive = ((1.21f64 + h) - 2.0 * h) + h;
        assert_ne!(naive.to_bits(), 1.21f64.to_bits());
    }

    #[test]
    fn a_network_without_parameters_is_an_error() {
        let x = Matrix::<f64, 2, 2>::splat(0.5);
        let err = GradCheck::new().check(&(Sigmoid,), &HalfSquaredError, &x, &x);
        assert_eq!(err.unwrap_err(), Error::NothingToCheck);
    }

    /// `Y = X W` whose backward forgets to write the weight gradient.
    #[derive(Debug, Clone, Copy)]
    struct Forgetful(Linear<f64, 2, 1>);

    impl Layer<Matrix<f64, 3, 2>> for Forgetful {
        type Output = Matrix<f64, 3, 1>;
        type Cache = ();
        fn forward(&self, x: &Matrix<f64, 3, 2>) -> (Matrix<f64, 3, 1>, ()) {
            (x.matmul(&self.0.weight), ())
        }
        fn backward(
            &self,
            _: &Matrix<f64, 3, 2>,
            _: &Matrix<f64, 3, 1>,
            _: &(),
            d: &Matrix<f64, 3, 1>,
            g: &mut Self,
        ) -> Matrix<f64, 3, 2> {
            g.0.weight = Matrix::zeros();
            d.matmul_t(&self.0.weight)
        }
    }

    impl<S, A> crate::nn::Connect<S, A> for Forgetful {
        type Out = crate::shape::Rows<f64, 1>;
    }

    impl Params<f64> for Forgetful {
        const TENSORS: usize = 1;
        const PARAMS: usize = 2;
        fn tensor(&self, k: usize) -> Option<Tensor<'_, f64>> {
            self.0.tensor(k)
        }
        fn tensor_mut(&mut self, k: usize) -> Option<TensorMut<'_, f64>> {
            self.0.tensor_mut(k)
        }
        fn zeros_like(&self) -> Self {
            Self(self.0.zeros_like())
        }
    }

    impl Recast<f64> for Forgetful {
        type Output = Self;
        fn recast(&self) -> Self {
            *self
        }
    }

    /// Zeros both ways are not a pass when the loss depends on the tensor: with
    /// a step lost to rounding (θ ± 1e-300 == θ), the forgotten gradient (0)
    /// agrees with the numerical one (0), and the checker refuses instead of passing.
    #[test]
    fn zero_both_ways_while_the_loss_depends_is_an_error() {
        let net = Forgetful(Linear::new(Matrix::from_array([[0.5], [-1.0]])));
        let x = Matrix::from_array([[1.0, 2.0], [0.5, -1.0], [3.0, 0.0]]);
        let y = Matrix::from_array([[1.0], [0.0], [1.0]]);
        let err = GradCheck::new()
            .step(1e-300)
            .check(&net, &HalfSquaredError, &x, &y);
        let Err(Error::VacuousGradient { tensor }) = err else {
            panic!("expected VacuousGradient, got {err:?}");
        };
        assert!(tensor == "weight");
        // At a normal step the same bug is simply a failure.
        let report = GradCheck::new()
            .check(&net, &HalfSquaredError, &x, &y)
            .unwrap();
        assert_eq!(report.tensor("weight").unwrap().verdict, Verdict::Fail);
    }

    /// A ReLU exactly at its kink: zero input row meets zero bias. Perturbing
    /// the bias moves that example across the kink (subgradient 0, numerical
    /// slope 1/2): reported as a kink, not a failure.
    #[test]
    fn relu_kinks_are_reported_not_failed() {
        let net = Net::new((
            Dense::<f64, 2, 1>::new(Matrix::from_array([[0.8], [-0.3]]), [0.0]),
            Relu,
        ));
        let x = Matrix::from_array([[0.0, 0.0], [1.0, 0.5]]);
        let y = Matrix::from_array([[1.0], [0.0]]);
        let report = GradCheck::new()
            .check(&net, &HalfSquaredError, &x, &y)
            .unwrap();
        let bias = report.tensor("0.bias").unwrap();
        assert_eq!((bias.kinks, bias.first_kink), (1, Some(0)));
        assert_eq!(bias.worst, None); // its only element was a kink
        // The zero row's inputs sit at the kink too; the weights do not move it.
        assert_eq!(report.tensor("input").unwrap().kinks, 2);
        assert_eq!(report.tensor("0.weight").unwrap().kinks, 0);
        assert!(report.passed());
        assert_eq!(report.kinks(), 3);
    }

    /// A constant ratio is named as the ratio it is, and put down to the
    /// batch only when it is the batch size.
    #[test]
    fn hints_read_the_ratio() {
        let s = Shape::new(&[4]);
        let n = [1.0, -2.0, 0.5, 3.0];
        let scaled = |c: f64| n.map(|v| v * c);
        let hint = |c: f64, batch| diagnose(s, &scaled(c), &n, 1e-6, batch);
        assert_eq!(hint(-1.0, None), Some(Hint::SignFlipped));
        assert_eq!(hint(0.2, None), Some(Hint::DividedBy(5)));
        assert_eq!(hint(0.2, Some(5)), Some(Hint::DividedByBatch(5)));
        assert_eq!(hint(0.2, Some(4)), Some(Hint::DividedBy(5)));
        assert_eq!(hint(0.25, Some(3)), Some(Hint::DividedBy(4)));
        assert_eq!(hint(8.0, None), Some(Hint::MultipliedBy(8)));
        assert_eq!(hint(8.0, Some(8)), Some(Hint::MultipliedByBatch(8)));
        assert_eq!(hint(4.0, Some(2)), Some(Hint::MultipliedBy(4)));
        assert_eq!(hint(0.37, Some(2)), Some(Hint::Scaled(0.37)));
        assert_eq!(hint(-2.0, Some(2)), Some(Hint::Scaled(-2.0)));
        assert_eq!(diagnose(s, &[1.0, 2.0, 3.0, 4.0], &n, 1e-6, None), None);
        // A 2 x 3 gradient stored as its 3 x 2 transpose.
        let n = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let t = [1.0, 4.0, 2.0, 5.0, 3.0, 6.0];
        assert_eq!(
            diagnose(Shape::new(&[2, 3]), &t, &n, 1e-6, Some(2)),
            Some(Hint::Transposed)
        );
        // What the report says.
        assert_eq!(
            Hint::MultipliedBy(4).to_string(),
            "scaled by 4: analytic = 4 x numerical"
        );
        assert_eq!(
            Hint::DividedByBatch(5).to_string(),
            "scaled by 1/5, the batch size: analytic = numerical / 5; \
             a mean over the batch where the forward sums?"
        );
        assert_eq!(
            Hint::Scaled(0.37).to_string(),
            "scaled by 0.3700: analytic = 0.3700 x numerical"
        );
    }

    #[test]
    fn metrics_follow_their_definitions() {
        assert_eq!(element_error(0.0, 0.0), 0.0);
        assert_eq!(element_error(1.0, -1.0), 1.0);
        assert!((element_error(1e-9, 0.0) - 0.1).abs() < 1e-15); // floor 1e-8
        let judge = Judge {
            tolerance: 1e-6,
            noise: 0.0,
            batch: None,
        };
        let r = compare(
            ParamName::leaf("t"),
            Shape::new(&[2]),
            &[3.0f64, 0.0],
            &[0.0, 4.0],
            &[],
            judge,
        );
        assert!((r.error - 5.0 / 7.0).abs() < 1e-15); // ‖(3, -4)‖ / (‖(3, 0)‖ + ‖(0, 4)‖)
        assert_eq!(r.verdict, Verdict::Fail);
        let r = compare(
            ParamName::leaf("t"),
            Shape::new(&[2]),
            &[0.0f64; 2],
            &[0.0; 2],
            &[],
            judge,
        );
        assert_eq!((r.error, r.verdict), (0.0, Verdict::Unused));
        let r = compare(
            ParamName::leaf("t"),
            Shape::new(&[1]),
            &[f64::NAN],
            &[1.0],
            &[],
            judge,
        );
        assert_eq!(r.verdict, Verdict::Fail);
    }
}
