//! Element-wise activations, each function beside its derivative.
//!
//! The table of formulas, derivatives and costs is in [`nn`](super)'s docs.
//!
//! An activation layer caches nothing: backward reads the input and the
//! output the network keeps, and each derivative uses whichever of the two
//! gives it accurately (a sigmoid's `y (1 - y)`; an ELU's `α e^x` from `x`,
//! not `y + α`, which cancels). The layers apply to any [`Elements`] tensor
//! (matrices and image batches), through loops that vectorize (every
//! function is branch-free) and run in the AVX2/AVX-512 copy of the run-time
//! dispatch when the work pays for it.
//!
//! Every one is finite and accurate in f32 and f64 for every finite input
//! (tested up to `|x| = 1e4`, and beyond where overflow could arise) and
//! takes its limit at `±∞` (`GELU(-∞) = SiLU(-∞) = 0`, where the textbook
//! formulas give `∞ · 0 = NaN`). NaN propagates: `f(NaN)` and `f'(NaN)` are
//! NaN (but the identity's slope, 1).
//!
//! Backward is `dx = dy ⊙ f'`, a product also where `f'` is 0: a NaN in
//! `dy` (or in `y`) gives NaN in `dx` at that element, never 0 (IEEE
//! `NaN · 0 = NaN`), so a NaN reaches the parameter gradients and the
//! training loop's finiteness check instead of vanishing at a ReLU.

use core::fmt::Debug;

use super::{Layer, Pattern};
use crate::{Elements, Scalar};

mod elu;
mod gelu;
mod leaky_relu;
mod silu;
mod softplus;

pub use elu::Elu;
pub use gelu::{Gelu, GeluTanh};
pub use leaky_relu::LeakyRelu;
pub use silu::Silu;
pub use softplus::Softplus;

/// An element-wise function `f` with its derivative `df`.
///
/// `df` receives both the input `x` and the output `y = f(x)` (backward has
/// both at hand) and reads whichever gives the derivative accurately and
/// cheaply: a sigmoid's `y (1 - y)`, a GELU's `Φ(x) + x φ(x)`. Settings (a
/// leaky ReLU's slope) are fields of the value, so `f` and `df` take `&self`.
///
/// ```
/// use stackgrad::nn::{Activation, Elu, Sigmoid};
/// assert_eq!(Sigmoid.f(0.0f64), 0.5);
/// assert_eq!(Sigmoid.df(0.0, 0.5f64), 0.25);
/// let elu = Elu::new(2.0)?;
/// assert_eq!(elu.df(0.0f64, elu.f(0.0)), 2.0); // α e^x at x ≤ 0
/// # Ok::<(), stackgrad::Error>(())
/// ```
pub trait Activation: Copy + Default + Debug {
    /// `f(x)`.
    fn f<T: Scalar>(&self, x: T) -> T;
    /// `f(x)` as evaluated where the CPU has fused multiply-add and the layer
    /// runs inside the run-time SIMD dispatch: the same function within the
    /// same error bound, free to round differently (sigmoid and tanh use
    /// [`FastMath`](crate::math::FastMath)'s `fused_` kernels). Default: `f`.
    #[inline(always)]
    fn f_fused<T: Scalar>(&self, x: T) -> T {
        self.f(x)
    }
    /// `f'(x)`, given the input `x` and the output `y = f(x)`.
    fn df<T: Scalar>(&self, x: T, y: T) -> T;
    /// `f'(x)` as evaluated inside the run-time SIMD dispatch with fused
    /// multiply-adds (see [`f_fused`](Activation::f_fused)). Default: `df`.
    #[inline(always)]
    fn df_fused<T: Scalar>(&self, x: T, y: T) -> T {
        self.df(x, y)
    }
    /// Whether `f` is piecewise linear (ReLU): its slope `df` then tells its
    /// pieces apart (the default [`piece`](Activation::piece)).
    const PIECEWISE_LINEAR: bool = false;
    /// Whether `f` has kinks, points where `f'` jumps (ReLU at 0, ELU at 0
    /// with `α ≠ 1`): its layer then writes [`piece`](Activation::piece) of
    /// every element into the [`Pattern`] the gradient checker uses to tell a
    /// kink from a wrong gradient. Default: [`PIECEWISE_LINEAR`](Activation::PIECEWISE_LINEAR).
    const KINKS: bool = Self::PIECEWISE_LINEAR;
    /// Which piece of `f` the input `x` (output `y`) is on, for a function
    /// with [`KINKS`](Activation::KINKS): two inputs on the same piece give
    /// the same word. Default: the bits of the slope `df(x, y)`, right for a
    /// piecewise-linear `f`.
    #[inline(always)]
    fn piece<T: Scalar>(&self, x: T, y: T) -> u64 {
        self.df(x, y).as_f64().to_bits()
    }
    /// Roughly how many arithmetic operations `f` costs per element: a layer
    /// applies `f` through a run-time SIMD dispatch when `COST` times its
    /// element count pays for the call (a transcendental pays from a handful of
    /// elements, a select only on large tensors).
    const COST: usize = 1;
    /// The same for `df`, which decides the dispatch of backward.
    const DF_COST: usize = 1;
}

/// Numerically stable logistic function `σ(x) = 1 / (1 + e^-x)`.
///
/// Evaluated as `1 / (1 + e^-x)` for `x ≥ 0` and `e^x / (1 + e^x)` for `x < 0`,
/// so `e^{|x|}` is never formed: the result is finite and correctly signed for
/// every input (`σ(-1e4) = 0`, `σ(1e4) = 1`, in f32 and f64), without the wider
/// float type the notebooks needed. NaN gives NaN. Computed by
/// [`math::sigmoid`](crate::math::sigmoid): branch-free, within 2 ulp, so that the
/// [`Sigmoid`] layer's loop vectorizes.
///
/// ```
/// use stackgrad::nn::sigmoid;
/// assert_eq!(sigmoid(0.0f32), 0.5);
/// assert_eq!(sigmoid(-1e4f32), 0.0);
/// assert_eq!(sigmoid(1e4f64), 1.0);
/// assert!((sigmoid(1.0f64) - 0.7310585786300049).abs() < 1e-16);
/// ```
#[inline(always)]
#[must_use]
pub fn sigmoid<T: Scalar>(x: T) -> T {
    crate::math::sigmoid(x)
}

/// `f(x) = x`. A "linear" layer's activation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Identity;

impl Activation for Identity {
    #[inline(always)]
    fn f<T: Scalar>(&self, x: T) -> T {
        x
    }
    #[inline(always)]
    fn df<T: Scalar>(&self, _x: T, _y: T) -> T {
        T::one()
    }
}

/// The logistic sigmoid `σ(x) = 1 / (1 + e^-x)`, `σ' = σ (1 - σ)`; see [`sigmoid`].
///
/// ```
/// use stackgrad::nn::{Layer, Sigmoid};
/// use stackgrad::Matrix;
/// let x = Matrix::from_array([[0.0f64, 1e4, -1e4]]);
/// let (y, cache) = Sigmoid.forward(&x);
/// assert_eq!(y.into_array(), [[0.5, 1.0, 0.0]]);
/// let dx = Sigmoid.backward(&x, &y, &cache, &Matrix::splat(1.0), &mut Sigmoid);
/// assert_eq!(dx.into_array(), [[0.25, 0.0, 0.0]]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sigmoid;

impl Activation for Sigmoid {
    const COST: usize = crate::math::EXP_COST;
    #[inline(always)]
    fn f<T: Scalar>(&self, x: T) -> T {
        sigmoid(x)
    }
    #[inline(always)]
    fn f_fused<T: Scalar>(&self, x: T) -> T {
        x.fused_sigmoid()
    }
    #[inline(always)]
    fn df<T: Scalar>(&self, _x: T, y: T) -> T {
        y * (T::one() - y)
    }
}

/// The hyperbolic tangent, `tanh' = 1 - tanh²`.
///
/// ```
/// use stackgrad::nn::{Activation, Tanh};
/// assert_eq!(Tanh.f(1e4f32), 1.0);
/// assert_eq!(Tanh.df(0.0, 0.0f64), 1.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tanh;

impl Activation for Tanh {
    const COST: usize = crate::math::EXP_COST;
    #[inline(always)]
    fn f<T: Scalar>(&self, x: T) -> T {
        crate::math::tanh(x)
    }
    #[inline(always)]
    fn f_fused<T: Scalar>(&self, x: T) -> T {
        x.fused_tanh()
    }
    #[inline(always)]
    fn df<T: Scalar>(&self, _x: T, y: T) -> T {
        T::one() - y * y
    }
}

/// The rectifier `max(0, x)`; its derivative is 1 where the output is positive
/// and 0 where it is 0 (the subgradient 0 is used at `x = 0`). NaN propagates
/// both ways: `f(NaN)` and `f'(NaN)` are NaN, and backward multiplies
/// (`dx = dy · f'(y)`), so a NaN upstream gradient stays NaN also where the
/// output is 0.
///
/// ```
/// use stackgrad::nn::{Activation, Layer, Relu};
/// use stackgrad::Matrix;
/// assert_eq!(Relu.f(-2.0f32), 0.0);
/// assert_eq!(Relu.f(3.0f32), 3.0);
/// assert!(Relu.f(f64::NAN).is_nan() && Relu.df(f64::NAN, f64::NAN).is_nan());
///
/// let x = Matrix::from_array([[-2.0f64, 3.0, f64::NAN]]);
/// let (y, cache) = Relu.forward(&x);
/// let dx = Relu.backward(&x, &y, &cache, &Matrix::from_array([[f64::NAN, f64::NAN, 1.0]]), &mut Relu);
/// assert!(dx.as_slice().iter().all(|v| v.is_nan()));
/// let dx = Relu.backward(&x, &y, &cache, &Matrix::from_array([[5.0, 5.0, 5.0]]), &mut Relu);
/// assert_eq!(dx.as_slice()[..2], [0.0, 5.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Relu;

impl Activation for Relu {
    const PIECEWISE_LINEAR: bool = true;
    #[inline(always)]
    fn f<T: Scalar>(&self, x: T) -> T {
        if x < T::zero() { T::zero() } else { x }
    }
    #[inline(always)]
    fn df<T: Scalar>(&self, _x: T, y: T) -> T {
        // Two selects (blends in the vectorized backward loop), no branch.
        let slope = if y > T::zero() { T::one() } else { T::zero() };
        if y.is_nan() { y } else { slope }
    }
}

macro_rules! activation_layers {
    ($($act:ty),*) => {$(
        impl $act {
            /// `y = f(x)` element by element, in the dispatched copy with
            /// fused multiply-adds where the work is worth it.
            #[inline(always)]
            fn apply<X: Elements>(&self, x: &X, y: &mut X) {
                // Moved into the kernel by value: its settings are then
                // locals of the dispatched copy, hoisted out of the loop.
                // (Behind a reference, which the compiler cannot tell
                // apart from `y`, they were read per element and the loop
                // stayed scalar: a leaky ReLU ran 4x slower than a ReLU.)
                let act = *self;
                crate::simd::run_if_fused(
                    X::LEN * <$act as Activation>::COST,
                    #[inline(always)]
                    move |fused| {
                        crate::simd::map_lanes(
                            x.elems(),
                            y.elems_mut(),
                            #[inline(always)]
                            move |v| if fused { act.f_fused(v) } else { act.f(v) },
                        );
                    },
                );
            }
        }

        impl<X: Elements> Layer<X> for $act {
            type Output = X;
            /// Nothing: backward reads the input `x` and the output `y = f(x)`.
            type Cache = ();
            const HAS_PARAMS: bool = false;

            #[inline(always)]
            fn forward(&self, x: &X) -> (X, ()) {
                (self.infer(x), ())
            }

            // f writes the output from x in one pass.
            #[inline(always)]
            fn forward_into(&self, x: &X, y: &mut X, (): &mut ()) {
                self.apply(x, y);
            }

            #[inline(always)]
            fn infer(&self, x: &X) -> X {
                // A value to overwrite (`Elements` has no constructor).
                let mut y = *x;
                self.apply(x, &mut y);
                y
            }

            // dx = dy ⊙ f'(x), with f'(x) computed from x or y.
            #[inline(always)]
            fn backward(&self, x: &X, y: &X, (): &(), dy: &X, grads: &mut Self) -> X {
                // A value to overwrite (`Elements` has no constructor).
                let mut dx = *dy;
                self.backward_into(x, y, &(), &mut (), dy, &mut dx, grads);
                dx
            }

            // In one pass into the caller's buffer.
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn backward_into(
                &self,
                x: &X,
                y: &X,
                (): &(),
                (): &mut (),
                dy: &X,
                dx: &mut X,
                _: &mut Self,
            ) {
                // By value, as in `apply`.
                let act = *self;
                crate::simd::run_if_fused(
                    X::LEN * <$act as Activation>::DF_COST,
                    #[inline(always)]
                    move |fused| {
                        let points = x.elems().iter().zip(y.elems());
                        let grads = dx.elems_mut().iter_mut().zip(dy.elems());
                        for ((d, &g), (&x, &y)) in grads.zip(points) {
                            *d = g * if fused { act.df_fused(x, y) } else { act.df(x, y) };
                        }
                    },
                );
            }

            // An activation with kinks records the piece of each element.
            #[inline]
            fn pattern(&self, x: &X, y: &X, (): &(), pattern: &mut Pattern) {
                if <$act as Activation>::KINKS {
                    for (&x, &y) in x.elems().iter().zip(y.elems()) {
                        pattern.write(self.piece(x, y));
                    }
                }
            }
        }

        same_shape_connect!($act);

        super::no_params!($act);
    )*};
}

activation_layers!(
    Identity, Sigmoid, Tanh, Relu, LeakyRelu, Elu, Gelu, GeluTanh, Silu, Softplus
);

/// `(σ(x), σ(-x))` from one exponential `e^-|x|`, each with its relative
/// accuracy (neither is formed as `1 - σ`), for the derivatives of the
/// sigmoid-weighted activations. NaN gives NaN in both.
#[inline(always)]
fn sigmoid_pair<T: Scalar>(x: T, fused: bool) -> (T, T) {
    let e = (-x.abs()).exp_nonpos(fused);
    let big = T::one() / (T::one() + e);
    let small = e * big;
    if x < T::zero() {
        (small, big)
    } else {
        (big, small)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each derivative against a central difference of its function, at points
    /// away from the ReLU kink.
    #[test]
    fn derivatives_match_central_differences() {
        fn check<A: Activation>(a: A) {
            for &x in &[-3.0f64, -0.7, -0.1, 0.2, 0.9, 2.5] {
                let h = 1e-6;
                let num = (a.f(x + h) - a.f(x - h)) / (2.0 * h);
                let ana = a.df(x, a.f(x));
                assert!((num - ana).abs() < 1e-8, "{a:?} at {x}: {ana} vs {num}");
            }
        }
        check(Identity);
        check(Sigmoid);
        check(Tanh);
        check(Relu);
        check(LeakyRelu::new(0.2).unwrap());
        check(Elu::new(1.5).unwrap());
        check(Gelu);
        check(GeluTanh);
        check(Silu);
        check(Softplus::default());
        check(Softplus::new(3.0, 5.0).unwrap());
    }

    /// A tensor large enough for the run-time dispatch (fused multiply-adds
    /// where the CPU has them) gives, element by element, the scalar `f` and
    /// `df` within a few ulps, forward and backward, in both precisions.
    #[test]
    fn dispatched_loops_match_the_scalar_functions() {
        fn check<A, T: Scalar>(a: A)
        where
            A: Activation
                + Layer<crate::Matrix<T, 32, 128>, Output = crate::Matrix<T, 32, 128>, Cache = ()>,
        {
            // Every 1/32 from -64 to 64, then the ends.
            let mut x = crate::Matrix::<T, 32, 128>::from_fn(|b, j| {
                T::from_f64((b * 128 + j) as f64 / 32.0 - 64.0)
            });
            let specials = [-1e4, 1e4, -1e-8, 1e-8, f64::INFINITY, f64::NEG_INFINITY];
            for (k, v) in specials.into_iter().enumerate() {
                x.as_mut_slice()[k] = T::from_f64(v);
            }
            let (y, ()) = a.forward(&x);
            let dy = crate::Matrix::splat(T::one());
            let mut grads = a;
            let dx = a.backward(&x, &y, &(), &dy, &mut grads);
            let close = |got: T, want: T| {
                got == want || (got - want).abs() <= T::from_f64(8.0) * T::EPSILON * want.abs()
            };
            for k in 0..32 * 128 {
                let (xk, yk) = (x.as_slice()[k], y.as_slice()[k]);
                assert!(close(yk, a.f(xk)), "{a:?} f({xk}): {yk} vs {}", a.f(xk));
                assert!(close(a.f_fused(xk), a.f(xk)), "{a:?} f_fused({xk})");
                let d = a.df(xk, yk);
                assert!(
                    close(dx.as_slice()[k], d),
                    "{a:?} df({xk}): {} vs {d}",
                    dx.as_slice()[k]
                );
                assert!(close(a.df_fused(xk, yk), d), "{a:?} df_fused({xk})");
            }
        }
        const { assert!(32 * 128 >= crate::simd::MIN_WORK) };
        fn both<A>(a: A)
        where
            A: Activation
                + Layer<crate::Matrix<f32, 32, 128>, Output = crate::Matrix<f32, 32, 128>, Cache = ()>
                + Layer<crate::Matrix<f64, 32, 128>, Output = crate::Matrix<f64, 32, 128>, Cache = ()>,
        {
            check::<A, f32>(a);
            check::<A, f64>(a);
        }
        both(Sigmoid);
        both(Tanh);
        both(LeakyRelu::default());
        both(Elu::default());
        both(Gelu);
        both(GeluTanh);
        both(Silu);
        both(Softplus::default());
    }

    /// A NaN upstream gradient stays NaN through every activation's
    /// backward (ReLU's zeros included), and a NaN output gives a NaN input
    /// gradient; small tensors run inline, large ones in the dispatched loop.
    #[test]
    fn backward_propagates_nan() {
        fn check<A, const B: usize, const N: usize>(a: A, nan_slope: bool)
        where
            A: Activation
                + Layer<crate::Matrix<f32, B, N>, Output = crate::Matrix<f32, B, N>, Cache = ()>,
        {
            // Negative and positive inputs (ReLU outputs 0 and x), one NaN input.
            let mut x = crate::Matrix::<f32, B, N>::from_fn(|b, j| ((b * N + j) % 7) as f32 - 3.0);
            x.as_mut_slice()[1] = f32::NAN;
            let (y, ()) = a.forward(&x);
            let mut dy = crate::Matrix::splat(1.0);
            // NaN upstream at every element whose input is ≤ 0 or positive.
            for k in [0, 3, 4, B * N - 1] {
                dy.as_mut_slice()[k] = f32::NAN;
            }
            let mut grads = a;
            let dx = a.backward(&x, &y, &(), &dy, &mut grads);
            for (k, d) in dx.as_slice().iter().enumerate() {
                // f'(NaN) is NaN but for the identity, whose slope is 1.
                let want = dy.as_slice()[k].is_nan() || (k == 1 && nan_slope);
                assert_eq!(
                    d.is_nan(),
                    want,
                    "{a:?} at {k}: x = {}, dx = {d}",
                    x.as_slice()[k]
                );
            }
        }
        check::<_, 3, 5>(Identity, false);
        check::<_, 3, 5>(Sigmoid, true);
        check::<_, 3, 5>(Tanh, true);
        check::<_, 3, 5>(Relu, true);
        const { assert!(32 * 128 >= crate::simd::MIN_WORK) };
        check::<_, 3, 5>(LeakyRelu::default(), true);
        check::<_, 3, 5>(Elu::default(), true);
        check::<_, 3, 5>(Gelu, true);
        check::<_, 3, 5>(GeluTanh, true);
        check::<_, 3, 5>(Silu, true);
        check::<_, 3, 5>(Softplus::default(), true);
        check::<_, 32, 128>(Sigmoid, true);
        check::<_, 32, 128>(Relu, true);
        check::<_, 32, 128>(LeakyRelu::default(), true);
        check::<_, 32, 128>(Elu::default(), true);
        check::<_, 32, 128>(Gelu, true);
        check::<_, 32, 128>(GeluTanh, true);
        check::<_, 32, 128>(Silu, true);
        check::<_, 32, 128>(Softplus::default(), true);
        assert!(Relu.df(f64::NAN, f64::NAN).is_nan() && Relu.df(-0.0, -0.0f64) == 0.0);
        assert_eq!(Relu.df(f32::INFINITY, f32::INFINITY), 1.0);
    }

    #[test]
    fn sigmoid_is_finite_and_accurate_at_the_extremes() {
        for &x in &[-1e4f32, -100.0, -20.0, 20.0, 100.0, 1e4] {
            let y = sigmoid(x);
            assert!(y.is_finite() && (0.0..=1.0).contains(&y));
            let want = 1.0 / (1.0 + (-(x as f64)).exp());
            // Relative accuracy, down to the subnormal range where one ulp is 1.4e-45.
            assert!(
                (y as f64 - want).abs() <= want * 1e-6 + 1e-44,
                "{x}: {y} vs {want}"
            );
        }
        for &x in &[-1e4f64, -700.0, -30.0, 30.0, 700.0, 1e4] {
            let y = sigmoid(x);
            assert!(y.is_finite());
            // σ(x) = e^x for x ≪ 0 to double precision (relative).
            if x < -30.0 && x > -700.0 {
                assert!((y / x.exp() - 1.0).abs() < 1e-14);
            }
        }
        assert_eq!(sigmoid(-1e4f64), 0.0);
        assert_eq!(sigmoid(1e4f64), 1.0);
    }
}
