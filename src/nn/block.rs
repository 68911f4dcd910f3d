//! Blocks that are not a plain sequence: [`Residual`] (`y = x + f(x)`),
//! [`Projected`] (`y = g(x) + f(x)`, a residual block whose skip path has
//! layers of its own) and [`Concat`] (`y = [f(x), g(x)]` along the features
//! of matrices or the channels of images).
//!
//! Each block is a layer, so blocks nest inside networks and inside each
//! other; each is checked where it is built (the branches must agree in
//! plain numbers, see [`shape`](crate::shape)). Parameters are named by
//! position: the block's branch `f` is child `0`, the second path `g` child
//! `1`, so the first weight of the branch of a residual block at position 1
//! of a network is `"1.0.0.weight"`. Backward passes are exact: the gradient
//! reaching `x` is the sum over the paths that read it.
//!
//! Cost: the branches' own, plus one addition (or copy, for [`Concat`]) of
//! the output; the cache holds each branch's output and cache.

use super::{Connect, Ctx, Layer, Params, Pattern, Recast, Tensor, TensorMut};
use crate::shape::{Check, Dim, Join, Merge, SumSize};
use crate::{Elements, Images, Matrix, Scalar};

/// A residual block `y = x + f(x)`: the branch `f` must return its input's
/// shape (a mismatch is one error in numbers: "the residual branch returns
/// 32 values per example but its input has 64").
///
/// Backward: `∂L/∂x = ∂L/∂y + f'(x)ᵀ ∂L/∂y`. The branch's tensors are named
/// `"0.*"` inside the block.
///
/// ```
/// use stackgrad::nn::{Dense, Layer, Net, Relu, Residual, input};
/// use stackgrad::Matrix;
/// let net = input::<4>()
///     .then(Dense::<f64, 4, 8>::zeros())
///     .then(Residual::new(Net::new((Dense::<f64, 8, 8>::zeros(), Relu))))
///     .then(Dense::<f64, 8, 2>::zeros())
///     .build();
/// let y = net.infer(&Matrix::<f64, 3, 4>::zeros());
/// assert_eq!(y, Matrix::zeros());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Residual<F> {
    /// The branch `f`.
    pub branch: F,
}

impl<F> Residual<F> {
    /// `y = x + branch(x)`.
    pub const fn new(branch: F) -> Self {
        Self { branch }
    }
}

/// A residual block with a projection on its skip path, `y = g(x) + f(x)`
/// (for instance a 1x1 convolution or a dense layer where the branch
/// changes the width). Both paths must return the same shape.
///
/// Backward: `∂L/∂x = g'(x)ᵀ ∂L/∂y + f'(x)ᵀ ∂L/∂y`. Tensors: the branch
/// `"0.*"`, the skip path `"1.*"`.
///
/// ```
/// use stackgrad::nn::{Dense, Layer, Projected, Relu, Net};
/// use stackgrad::Matrix;
/// let block = Projected::new(
///     Net::new((Dense::<f64, 4, 6>::zeros(), Relu)),
///     Dense::<f64, 4, 6>::new(Matrix::splat(1.0), [0.0; 6]),
/// );
/// let y = block.infer(&Matrix::from_array([[1.0, 2.0, 3.0, 4.0]]));
/// assert_eq!(y.row(0), &[10.0; 6]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Projected<F, G> {
    /// The branch `f`.
    pub branch: F,
    /// The skip path `g`.
    pub skip: G,
}

impl<F, G> Projected<F, G> {
    /// `y = skip(x) + branch(x)`.
    pub const fn new(branch: F, skip: G) -> Self {
        Self { branch, skip }
    }
}

/// Two paths over the same input, their outputs side by side: along the
/// features for matrices (`B x N1` and `B x N2` give `B x (N1 + N2)`) and
/// along the channels for images; the output width is computed at compile
/// time. Backward: each path gets its part of `∂L/∂y`, and `∂L/∂x` is the
/// sum of what they return. Tensors: `"0.*"` and `"1.*"`.
///
/// ```
/// use stackgrad::nn::{Concat, Dense, Layer, Relu};
/// use stackgrad::Matrix;
/// let block = Concat::new(Dense::<f64, 3, 2>::zeros(), Relu);
/// let y: Matrix<f64, 1, 5> = block.infer(&Matrix::from_array([[1.0, -2.0, 3.0]]));
/// assert_eq!(y.row(0), &[0.0, 0.0, 1.0, 0.0, 3.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Concat<F, G> {
    /// The first path (its output comes first).
    pub first: F,
    /// The second path.
    pub second: G,
}

impl<F, G> Concat<F, G> {
    /// `y = [first(x), second(x)]`.
    pub const fn new(first: F, second: G) -> Self {
        Self { first, second }
    }
}

// ----- Residual -----------------------------------------------------------

impl<X: Elements, F: Layer<X, Output = X>> Layer<X> for Residual<F> {
    type Output = X;
    type Cache = (X, F::Cache);

    #[inline(always)]
    fn forward(&self, x: &X) -> (X, Self::Cache) {
        let (fy, fc) = self.branch.forward(x);
        let mut y = fy;
        add_into(&mut y, x);
        (y, (fy, fc))
    }

    #[inline(always)]
    fn forward_into(&self, x: &X, y: &mut X, cache: &mut Self::Cache) {
        self.branch.forward_into(x, &mut cache.0, &mut cache.1);
        *y = cache.0;
        add_into(y, x);
    }

    #[inline(always)]
    fn forward_train(&self, x: &X, ctx: &Ctx, y: &mut X, cache: &mut Self::Cache) {
        self.branch
            .forward_train(x, &ctx.within(0), &mut cache.0, &mut cache.1);
        *y = cache.0;
        add_into(y, x);
    }

    #[inline(always)]
    fn update(&mut self, x: &X, cache: &Self::Cache) {
        self.branch.update(x, &cache.1);
    }

    #[inline(always)]
    fn infer(&self, x: &X) -> X {
        let mut y = self.branch.infer(x);
        add_into(&mut y, x);
        y
    }

    #[inline(always)]
    fn backward(&self, x: &X, _y: &X, cache: &Self::Cache, dy: &X, grads: &mut Self) -> X {
        let mut dx = self
            .branch
            .backward(x, &cache.0, &cache.1, dy, &mut grads.branch);
        add_into(&mut dx, dy);
        dx
    }

    fn pattern(&self, x: &X, _y: &X, cache: &Self::Cache, pattern: &mut Pattern) {
        self.branch.pattern(x, &cache.0, &cache.1, pattern);
    }
}

/// `y += x`, element by element.
#[inline(always)]
fn add_into<X: Elements>(y: &mut X, x: &X) {
    for (a, &b) in y.elems_mut().iter_mut().zip(x.elems()) {
        *a += b;
    }
}

// ----- Projected ----------------------------------------------------------

impl<X: Elements, Y: Elements, F, G> Layer<X> for Projected<F, G>
where
    F: Layer<X, Output = Y>,
    G: Layer<X, Output = Y>,
{
    type Output = Y;
    type Cache = ((Y, F::Cache), (Y, G::Cache));

    #[inline(always)]
    fn forward(&self, x: &X) -> (Y, Self::Cache) {
        let (fy, fc) = self.branch.forward(x);
        let (gy, gc) = self.skip.forward(x);
        let mut y = fy;
        add_into(&mut y, &gy);
        (y, ((fy, fc), (gy, gc)))
    }

    #[inline(always)]
    fn forward_into(&self, x: &X, y: &mut Y, cache: &mut Self::Cache) {
        let ((fy, fc), (gy, gc)) = cache;
        self.branch.forward_into(x, fy, fc);
        self.skip.forward_into(x, gy, gc);
        *y = *fy;
        add_into(y, gy);
    }

    #[inline(always)]
    fn forward_train(&self, x: &X, ctx: &Ctx, y: &mut Y, cache: &mut Self::Cache) {
        let ((fy, fc), (gy, gc)) = cache;
        self.branch.forward_train(x, &ctx.within(0), fy, fc);
        self.skip.forward_train(x, &ctx.within(1), gy, gc);
        *y = *fy;
        add_into(y, gy);
    }

    #[inline(always)]
    fn update(&mut self, x: &X, cache: &Self::Cache) {
        self.branch.update(x, &cache.0.1);
        self.skip.update(x, &cache.1.1);
    }

    #[inline(always)]
    fn infer(&self, x: &X) -> Y {
        let mut y = self.branch.infer(x);
        add_into(&mut y, &self.skip.infer(x));
        y
    }

    #[inline(always)]
    fn backward(&self, x: &X, _y: &Y, cache: &Self::Cache, dy: &Y, grads: &mut Self) -> X {
        let ((fy, fc), (gy, gc)) = cache;
        let mut dx = self.branch.backward(x, fy, fc, dy, &mut grads.branch);
        add_into(&mut dx, &self.skip.backward(x, gy, gc, dy, &mut grads.skip));
        dx
    }

    fn pattern(&self, x: &X, _y: &Y, cache: &Self::Cache, pattern: &mut Pattern) {
        self.branch.pattern(x, &cache.0.0, &cache.0.1, pattern);
        self.skip.pattern(x, &cache.1.0, &cache.1.1, pattern);
    }
}

// ----- Concat -------------------------------------------------------------

/// Splits and joins the outputs of a [`Concat`]'s two paths.
pub trait Joins<A, B>: Sized {
    /// `[a, b]`.
    fn join(a: &A, b: &B, out: &mut Self);
    /// The parts of `self` that belong to each path.
    fn split(&self, a: &mut A, b: &mut B);
}

impl<T: Scalar, const R: usize, const N1: usize, const N2: usize, const L: usize>
    Joins<Matrix<T, R, N1>, Matrix<T, R, N2>> for Matrix<T, R, L>
{
    #[inline(always)]
    fn join(a: &Matrix<T, R, N1>, b: &Matrix<T, R, N2>, out: &mut Self) {
        for r in 0..R {
            let row = &mut out.as_array_mut()[r];
            row[..N1].copy_from_slice(a.row(r));
            row[N1..].copy_from_slice(b.row(r));
        }
    }
    #[inline(always)]
    fn split(&self, a: &mut Matrix<T, R, N1>, b: &mut Matrix<T, R, N2>) {
        for r in 0..R {
            let row = self.row(r);
            a.as_array_mut()[r].copy_from_slice(&row[..N1]);
            b.as_array_mut()[r].copy_from_slice(&row[N1..]);
        }
    }
}

impl<
    T: Scalar,
    const N: usize,
    const C1: usize,
    const C2: usize,
    const L: usize,
    const H: usize,
    const W: usize,
> Joins<Images<T, N, C1, H, W>, Images<T, N, C2, H, W>> for Images<T, N, L, H, W>
{
    #[inline(always)]
    fn join(a: &Images<T, N, C1, H, W>, b: &Images<T, N, C2, H, W>, out: &mut Self) {
        for n in 0..N {
            let img = &mut out.as_array_mut()[n];
            img[..C1].copy_from_slice(a.image(n));
            img[C1..].copy_from_slice(b.image(n));
        }
    }
    #[inline(always)]
    fn split(&self, a: &mut Images<T, N, C1, H, W>, b: &mut Images<T, N, C2, H, W>) {
        for n in 0..N {
            let img = self.image(n);
            a.as_array_mut()[n].copy_from_slice(&img[..C1]);
            b.as_array_mut()[n].copy_from_slice(&img[C1..]);
        }
    }
}

impl<X, A, B, Y, F, G> Layer<X> for Concat<F, G>
where
    X: Elements,
    A: Elements + Default,
    B: Elements + Default,
    Y: Joins<A, B> + Elements + Default,
    F: Layer<X, Output = A>,
    G: Layer<X, Output = B>,
    (F, G): ConcatOut<A, B, Out = Y>,
{
    type Output = Y;
    type Cache = ((A, F::Cache), (B, G::Cache));

    #[inline(always)]
    fn forward(&self, x: &X) -> (Y, Self::Cache) {
        let (a, fc) = self.first.forward(x);
        let (b, gc) = self.second.forward(x);
        let mut y = Y::default();
        Y::join(&a, &b, &mut y);
        (y, ((a, fc), (b, gc)))
    }

    #[inline(always)]
    fn forward_into(&self, x: &X, y: &mut Y, cache: &mut Self::Cache) {
        let ((a, fc), (b, gc)) = cache;
        self.first.forward_into(x, a, fc);
        self.second.forward_into(x, b, gc);
        Y::join(a, b, y);
    }

    #[inline(always)]
    fn forward_train(&self, x: &X, ctx: &Ctx, y: &mut Y, cache: &mut Self::Cache) {
        let ((a, fc), (b, gc)) = cache;
        self.first.forward_train(x, &ctx.within(0), a, fc);
        self.second.forward_train(x, &ctx.within(1), b, gc);
        Y::join(a, b, y);
    }

    #[inline(always)]
    fn update(&mut self, x: &X, cache: &Self::Cache) {
        self.first.update(x, &cache.0.1);
        self.second.update(x, &cache.1.1);
    }

    #[inline(always)]
    fn infer(&self, x: &X) -> Y {
        let mut y = Y::default();
        Y::join(&self.first.infer(x), &self.second.infer(x), &mut y);
        y
    }

    #[inline(always)]
    fn backward(&self, x: &X, _y: &Y, cache: &Self::Cache, dy: &Y, grads: &mut Self) -> X {
        let ((a, fc), (b, gc)) = cache;
        let (mut da, mut db) = (A::default(), B::default());
        dy.split(&mut da, &mut db);
        let mut dx = self.first.backward(x, a, fc, &da, &mut grads.first);
        add_into(
            &mut dx,
            &self.second.backward(x, b, gc, &db, &mut grads.second),
        );
        dx
    }

    fn pattern(&self, x: &X, _y: &Y, cache: &Self::Cache, pattern: &mut Pattern) {
        self.first.pattern(x, &cache.0.0, &cache.0.1, pattern);
        self.second.pattern(x, &cache.1.0, &cache.1.1, pattern);
    }
}

/// The output type of a [`Concat`] whose paths return `A` and `B`: the
/// widths (features or channels) added at compile time.
pub trait ConcatOut<A, B> {
    /// `A` and `B` side by side.
    type Out;
}

impl<F, G, T: Scalar, const R: usize, const N1: usize, const N2: usize, const L: usize>
    ConcatOut<Matrix<T, R, N1>, Matrix<T, R, N2>> for (F, G)
where
    Check: SumSize<N1, N2, Out = Dim<L>>,
{
    type Out = Matrix<T, R, L>;
}

impl<
    F,
    G,
    T: Scalar,
    const N: usize,
    const C1: usize,
    const C2: usize,
    const L: usize,
    const H: usize,
    const W: usize,
> ConcatOut<Images<T, N, C1, H, W>, Images<T, N, C2, H, W>> for (F, G)
where
    Check: SumSize<C1, C2, Out = Dim<L>>,
{
    type Out = Images<T, N, L, H, W>;
}

// ----- Shape checks where a block is built --------------------------------

// Each path is checked as the block's own position; then the paths' output
// shapes must agree (`Merge`) or are joined (`Join`), see `crate::shape`.

impl<S, A, F> Connect<S, A> for Residual<F>
where
    F: Connect<S, A, Out: Merge<Self, S>>,
{
    type Out = <F::Out as Merge<Self, S>>::Out;
}

impl<S, A, F, G> Connect<S, A> for Projected<F, G>
where
    F: Connect<S, A, Out: Merge<Self, G::Out>>,
    G: Connect<S, A>,
{
    type Out = <F::Out as Merge<Self, G::Out>>::Out;
}

impl<S, A, F, G> Connect<S, A> for Concat<F, G>
where
    F: Connect<S, A, Out: Join<Self, G::Out>>,
    G: Connect<S, A>,
{
    type Out = <F::Out as Join<Self, G::Out>>::Out;
}

macro_rules! two_path_params {
    ($Name:ident, $a:ident, $b:ident) => {
        impl<T: Scalar, F: Params<T>, G: Params<T>> Params<T> for $Name<F, G> {
            const TENSORS: usize = F::TENSORS + G::TENSORS;
            const PARAMS: usize = F::PARAMS + G::PARAMS;
            const BUFFERS: usize = F::BUFFERS + G::BUFFERS;
            const BUFFER_VALUES: usize = F::BUFFER_VALUES + G::BUFFER_VALUES;
            #[inline]
            fn tensor(&self, k: usize) -> Option<Tensor<'_, T>> {
                if k < F::TENSORS {
                    self.$a.tensor(k).map(|t| t.within(0))
                } else {
                    self.$b.tensor(k - F::TENSORS).map(|t| t.within(1))
                }
            }
            #[inline]
            fn tensor_mut(&mut self, k: usize) -> Option<TensorMut<'_, T>> {
                if k < F::TENSORS {
                    self.$a.tensor_mut(k).map(|t| t.within(0))
                } else {
                    self.$b.tensor_mut(k - F::TENSORS).map(|t| t.within(1))
                }
            }
            #[inline]
            fn buffer(&self, k: usize) -> Option<Tensor<'_, T>> {
                if k < F::BUFFERS {
                    self.$a.buffer(k).map(|t| t.within(0))
                } else {
                    self.$b.buffer(k - F::BUFFERS).map(|t| t.within(1))
                }
            }
            #[inline]
            fn buffer_mut(&mut self, k: usize) -> Option<TensorMut<'_, T>> {
                if k < F::BUFFERS {
                    self.$a.buffer_mut(k).map(|t| t.within(0))
                } else {
                    self.$b.buffer_mut(k - F::BUFFERS).map(|t| t.within(1))
                }
            }
            fn zeros_like(&self) -> Self {
                Self {
                    $a: self.$a.zeros_like(),
                    $b: self.$b.zeros_like(),
                }
            }
        }

        impl<U: Scalar, F: Recast<U>, G: Recast<U>> Recast<U> for $Name<F, G> {
            type Output = $Name<F::Output, G::Output>;
            fn recast(&self) -> Self::Output {
                $Name {
                    $a: self.$a.recast(),
                    $b: self.$b.recast(),
                }
            }
        }
    };
}
two_path_params!(Projected, branch, skip);
two_path_params!(Concat, first, second);

impl<T: Scalar, F: Params<T>> Params<T> for Residual<F> {
    const TENSORS: usize = F::TENSORS;
    const PARAMS: usize = F::PARAMS;
    const BUFFERS: usize = F::BUFFERS;
    const BUFFER_VALUES: usize = F::BUFFER_VALUES;
    #[inline]
    fn tensor(&self, k: usize) -> Option<Tensor<'_, T>> {
        self.branch.tensor(k).map(|t| t.within(0))
    }
    #[inline]
    fn tensor_mut(&mut self, k: usize) -> Option<TensorMut<'_, T>> {
        self.branch.tensor_mut(k).map(|t| t.within(0))
    }
    #[inline]
    fn buffer(&self, k: usize) -> Option<Tensor<'_, T>> {
        self.branch.buffer(k).map(|t| t.within(0))
    }
    #[inline]
    fn buffer_mut(&mut self, k: usize) -> Option<TensorMut<'_, T>> {
        self.branch.buffer_mut(k).map(|t| t.within(0))
    }
    fn zeros_like(&self) -> Self {
        Self::new(self.branch.zeros_like())
    }
}

impl<U: Scalar, F: Recast<U>> Recast<U> for Residual<F> {
    type Output = Residual<F::Output>;
    fn recast(&self) -> Self::Output {
        Residual::new(self.branch.recast())
    }
}
