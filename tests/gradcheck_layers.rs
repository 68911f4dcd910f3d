//! Mutation suite for the layer-by-layer check (issue 19): for each kind of
//! layer in the library, a copy whose backward pass has one planted bug,
//! written here as a user's layer (a `Custom` layer, a `params!` layer, or a
//! block of one's own with its own `Walk`); the library is never edited. Each
//! copy sits inside a small network of correct library layers, and for every
//! seed, in f64 and f32, the report's summary must name the mutated layer,
//! by path and type, and it alone; every other layer must be consistent.
//!
//! `cargo test --test gradcheck_layers -- --nocapture` prints the count and
//! what the end-to-end check (`GradCheck::check`) blamed for the same bugs.

use stackgrad::gradcheck::{CheckLayer, GradCheck, Hint, LayerReport};
use stackgrad::init::standard_normal;
use stackgrad::loss::HalfSquaredError;
use stackgrad::nn::{
    AvgPool2d, BatchNorm1d, BatchNorm2d, Concat, Connect, Conv2d, Ctx, Custom, Dense, Dropout, Elu,
    Flatten, Gelu, GeluTanh, Layer, LayerName, LayerNorm, LeakyRelu, Linear, MaxPool2d, Net,
    NormStats, Params, Path, Pattern, Projected, Recast, Relu, Residual, RowStats, Sigmoid, Silu,
    Softmax, Softplus, Tanh, Tensor, TensorMut, Unflatten, Visitor, Walk, sigmoid,
};
use stackgrad::rand::{Rng, SeedableRng, rngs::StdRng};
use stackgrad::{Elements, Error, Images, Matrix, Scalar};

const SEEDS: u64 = 20;

// ----- Activations: the library's forward, a wrong derivative -------------

/// A copy of an activation layer: the library's `f` (and pattern, for the
/// kinks), a planted derivative `df(act, x, y)`.
macro_rules! bad_activation {
    ($($(#[$doc:meta])* $name:ident($act:expr) => |$a:ident, $x:ident, $y:ident| $df:expr;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq)]
        struct $name;

        impl $name {
            #[allow(unused_variables)]
            fn df<T: Scalar>($x: T, $y: T) -> T {
                let $a = $act;
                $df
            }
        }

        impl<X: Elements> Layer<X> for $name {
            type Output = X;
            type Cache = ();
            fn forward(&self, x: &X) -> (X, ()) {
                ($act).forward(x)
            }
            fn backward(&self, x: &X, y: &X, (): &(), dy: &X, _: &mut Self) -> X {
                let mut dx = *dy;
                let points = x.elems().iter().zip(y.elems());
                for (d, (&x, &y)) in dx.elems_mut().iter_mut().zip(points) {
                    *d *= Self::df(x, y);
                }
                dx
            }
            fn pattern(&self, x: &X, y: &X, (): &(), p: &mut Pattern) {
                ($act).pattern(x, y, &(), p);
            }
        }
    )*};
}

bad_activation! {
    /// Passes the gradient through where the input is negative: `f' = 1`.
    BadRelu(Relu) => |a, x, y| T::one();
    /// The two pieces' slopes swapped.
    BadLeakyRelu(LeakyRelu::default()) => |a, x, y| {
        if x > T::zero() { T::from_f64(0.01) } else { T::one() }
    };
    /// `y` where `y + α` belongs below zero.
    BadElu(Elu::default()) => |a, x, y| if x > T::zero() { T::one() } else { y };
    /// `Φ(x)` without the `x φ(x)` term.
    BadGelu(Gelu) => |a, x, y| {
        (T::one() + stackgrad::math::erf(x * T::from_f64(core::f64::consts::FRAC_1_SQRT_2)))
            * T::from_f64(0.5)
    };
    /// `σ(2u)` without its second term.
    BadGeluTanh(GeluTanh) => |a, x, y| {
        let u = T::from_f64((2.0 / core::f64::consts::PI).sqrt())
            * (x + T::from_f64(0.044715) * x * x * x);
        sigmoid(u + u)
    };
    /// `σ(x)` without `x σ(x) σ(-x)`.
    BadSilu(Silu) => |a, x, y| sigmoid(x);
    /// `σ(x)` where `σ(βx)` belongs (β = 2).
    BadSoftplus(Softplus::new(2.0, 20.0).unwrap()) => |a, x, y| sigmoid(x);
    /// The derivative taken at the output: `σ(y) (1 - σ(y))`.
    BadSigmoid(Sigmoid) => |a, x, y| sigmoid(y) * (T::one() - sigmoid(y));
    /// `1 - y` where `1 - y²` belongs.
    BadTanh(Tanh) => |a, x, y| T::one() - y;
}

// ----- Dense, linear, softmax -----------------------------------------------

/// `Y = X W + b` on a square layer whose input gradient is `D W`, not `D Wᵀ`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct BadDense<T, const N: usize> {
    weight: Matrix<T, N, N>,
    bias: [T; N],
}
stackgrad::params! { impl<T, const N: usize> BadDense<T, N> { weight: [N, N], bias: [N] } }

impl<T: Scalar, const B: usize, const N: usize> Layer<Matrix<T, B, N>> for BadDense<T, N> {
    type Output = Matrix<T, B, N>;
    type Cache = ();
    fn forward(&self, x: &Matrix<T, B, N>) -> (Matrix<T, B, N>, ()) {
        (x.matmul(&self.weight).add_row(&self.bias), ())
    }
    fn backward(
        &self,
        x: &Matrix<T, B, N>,
        _: &Matrix<T, B, N>,
        (): &(),
        d: &Matrix<T, B, N>,
        g: &mut Self,
    ) -> Matrix<T, B, N> {
        g.weight = x.t_matmul(d);
        g.bias = d.sum_rows();
        d.matmul(&self.weight) // the bug: D W
    }
}

/// `Y = X W` whose weight gradient is the mean over the batch, not the sum.
#[derive(Clone, Copy, Debug, PartialEq)]
struct BadLinear<T, const I: usize, const O: usize> {
    weight: Matrix<T, I, O>,
}
stackgrad::params! { impl<T, const I: usize, const O: usize> BadLinear<T, I, O> { weight: [I, O] } }

impl<T: Scalar, const B: usize, const I: usize, const O: usize> Layer<Matrix<T, B, I>>
    for BadLinear<T, I, O>
{
    type Output = Matrix<T, B, O>;
    type Cache = ();
    fn forward(&self, x: &Matrix<T, B, I>) -> (Matrix<T, B, O>, ()) {
        (x.matmul(&self.weight), ())
    }
    fn backward(
        &self,
        x: &Matrix<T, B, I>,
        _: &Matrix<T, B, O>,
        (): &(),
        d: &Matrix<T, B, O>,
        g: &mut Self,
    ) -> Matrix<T, B, I> {
        g.weight = x.t_matmul(d).scale(T::one() / T::from_usize(B)); // the bug
        d.matmul_t(&self.weight)
    }
}

/// Softmax whose backward uses the first row's `Σ dy ⊙ y` for every row.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct BadSoftmax;

impl<T: Scalar, const B: usize, const N: usize> Layer<Matrix<T, B, N>> for BadSoftmax {
    type Output = Matrix<T, B, N>;
    type Cache = ();
    fn forward(&self, x: &Matrix<T, B, N>) -> (Matrix<T, B, N>, ()) {
        Softmax.forward(x)
    }
    fn backward(
        &self,
        _: &Matrix<T, B, N>,
        y: &Matrix<T, B, N>,
        (): &(),
        dy: &Matrix<T, B, N>,
        _: &mut Self,
    ) -> Matrix<T, B, N> {
        let dot = (0..N).fold(T::zero(), |s, j| s + dy[(0, j)] * y[(0, j)]);
        Matrix::from_fn(|r, j| y[(r, j)] * (dy[(r, j)] - dot))
    }
}

// ----- Pooling, flatten ----------------------------------------------------

/// Max pooling that routes each gradient to the maximum's row but the
/// window's first column.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct BadMaxPool<const K: usize, const S: usize>;

/// The first maximum of the `K x K` window at `(i0, j0)`.
fn argmax<T: Scalar, const H: usize, const W: usize>(
    ch: &[[T; W]; H],
    i0: usize,
    j0: usize,
    k: usize,
) -> (usize, usize) {
    let mut best = (i0, j0);
    for i in i0..i0 + k {
        for j in j0..j0 + k {
            if ch[i][j] > ch[best.0][best.1] {
                best = (i, j);
            }
        }
    }
    best
}

impl<
    T: Scalar,
    const N: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const K: usize,
    const S: usize,
    const OH: usize,
    const OW: usize,
> Layer<Images<T, N, C, H, W>> for BadMaxPool<K, S>
where
    MaxPool2d<K, S>: Layer<Images<T, N, C, H, W>, Output = Images<T, N, C, OH, OW>, Cache = ()>,
{
    type Output = Images<T, N, C, OH, OW>;
    type Cache = ();
    fn forward(&self, x: &Images<T, N, C, H, W>) -> (Self::Output, ()) {
        MaxPool2d::<K, S>.forward(x)
    }
    fn backward(
        &self,
        x: &Images<T, N, C, H, W>,
        _: &Self::Output,
        (): &(),
        dy: &Self::Output,
        _: &mut Self,
    ) -> Images<T, N, C, H, W> {
        let mut dx = Images::zeros();
        for n in 0..N {
            for c in 0..C {
                let ch = &x.as_array()[n][c];
                for a in 0..OH {
                    for b in 0..OW {
                        let (i, _) = argmax(ch, a * S, b * S, K);
                        dx.as_array_mut()[n][c][i][b * S] += dy.as_array()[n][c][a][b];
                    }
                }
            }
        }
        dx
    }
    fn pattern(&self, x: &Images<T, N, C, H, W>, y: &Self::Output, (): &(), p: &mut Pattern) {
        MaxPool2d::<K, S>.pattern(x, y, &(), p);
    }
}

/// Average pooling whose backward spreads `dY` without the `1/K²`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct BadAvgPool<const K: usize, const S: usize>;

impl<
    T: Scalar,
    const N: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const K: usize,
    const S: usize,
    const OH: usize,
    const OW: usize,
> Layer<Images<T, N, C, H, W>> for BadAvgPool<K, S>
where
    AvgPool2d<K, S>: Layer<Images<T, N, C, H, W>, Output = Images<T, N, C, OH, OW>, Cache = ()>,
{
    type Output = Images<T, N, C, OH, OW>;
    type Cache = ();
    fn forward(&self, x: &Images<T, N, C, H, W>) -> (Self::Output, ()) {
        AvgPool2d::<K, S>.forward(x)
    }
    fn backward(
        &self,
        _: &Images<T, N, C, H, W>,
        _: &Self::Output,
        (): &(),
        dy: &Self::Output,
        _: &mut Self,
    ) -> Images<T, N, C, H, W> {
        let mut dx = Images::zeros();
        for n in 0..N {
            for c in 0..C {
                for a in 0..OH {
                    for b in 0..OW {
                        for i in a * S..a * S + K {
                            for j in b * S..b * S + K {
                                dx.as_array_mut()[n][c][i][j] += dy.as_array()[n][c][a][b];
                            }
                        }
                    }
                }
            }
        }
        dx
    }
}

/// Flatten whose backward reads the gradient in channel-last (NHWC) order.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct BadFlatten;

impl<T: Scalar, const N: usize, const C: usize, const H: usize, const W: usize, const L: usize>
    Layer<Images<T, N, C, H, W>> for BadFlatten
where
    Flatten: Layer<Images<T, N, C, H, W>, Output = Matrix<T, N, L>, Cache = ()>,
{
    type Output = Matrix<T, N, L>;
    type Cache = ();
    fn forward(&self, x: &Images<T, N, C, H, W>) -> (Matrix<T, N, L>, ()) {
        Flatten.forward(x)
    }
    fn backward(
        &self,
        _: &Images<T, N, C, H, W>,
        _: &Matrix<T, N, L>,
        (): &(),
        dy: &Matrix<T, N, L>,
        _: &mut Self,
    ) -> Images<T, N, C, H, W> {
        Images::from_fn(|n, c, i, j| dy[(n, (i * W + j) * C + c)])
    }
}

/// Unflatten whose backward writes the gradient in channel-last (NHWC) order.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct BadUnflatten<const C: usize, const H: usize, const W: usize>;

impl<T: Scalar, const N: usize, const L: usize, const C: usize, const H: usize, const W: usize>
    Layer<Matrix<T, N, L>> for BadUnflatten<C, H, W>
where
    Unflatten<C, H, W>: Layer<Matrix<T, N, L>, Output = Images<T, N, C, H, W>, Cache = ()>,
{
    type Output = Images<T, N, C, H, W>;
    type Cache = ();
    fn forward(&self, x: &Matrix<T, N, L>) -> (Images<T, N, C, H, W>, ()) {
        Unflatten::<C, H, W>.forward(x)
    }
    fn backward(
        &self,
        _: &Matrix<T, N, L>,
        _: &Images<T, N, C, H, W>,
        (): &(),
        dy: &Images<T, N, C, H, W>,
        _: &mut Self,
    ) -> Matrix<T, N, L> {
        Matrix::from_fn(|n, k| {
            let (c, pixel) = (k % C, k / C);
            dy.as_array()[n][c][pixel / W][pixel % W]
        })
    }
}

// ----- Convolution ----------------------------------------------------------

/// Which path of [`BadConv`]'s backward is wrong.
const PADDING: usize = 0;
const STRIDE: usize = 1;
const BIAS: usize = 2;

/// A convolution whose backward, written out pixel by pixel, has one bug:
/// the input gradient ignores the padding offset (`PADDING`), the weight
/// gradient steps by 1 instead of the stride (`STRIDE`), or the bias
/// gradient sums only the first output pixel (`BIAS`).
#[derive(Clone, Copy, Debug, PartialEq)]
struct BadConv<
    T,
    const C: usize,
    const F: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const BUG: usize,
> {
    weight: Images<T, F, C, K, K>,
    bias: [T; F],
}
stackgrad::params! {
    impl<T, const C: usize, const F: usize, const K: usize, const S: usize, const P: usize, const BUG: usize>
        BadConv<T, C, F, K, S, P, BUG> { weight: [F, C, K, K], bias: [F] }
}

impl<
    T: Scalar,
    const C: usize,
    const F: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const BUG: usize,
> BadConv<T, C, F, K, S, P, BUG>
{
    fn conv(&self) -> Conv2d<T, C, F, K, S, P> {
        Conv2d::new(*self.weight.as_array(), self.bias)
    }
}

/// `(a S + k - P)` when it falls inside `0..n`.
fn inside(a: usize, s: usize, k: usize, p: usize, n: usize) -> Option<usize> {
    (a * s + k).checked_sub(p).filter(|&i| i < n)
}

impl<
    T: Scalar,
    const N: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const F: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const BUG: usize,
    const OH: usize,
    const OW: usize,
> Layer<Images<T, N, C, H, W>> for BadConv<T, C, F, K, S, P, BUG>
where
    Conv2d<T, C, F, K, S, P>: Layer<Images<T, N, C, H, W>, Output = Images<T, N, F, OH, OW>>,
{
    type Output = Images<T, N, F, OH, OW>;
    type Cache = ();
    fn forward(&self, x: &Images<T, N, C, H, W>) -> (Self::Output, ()) {
        (self.conv().forward(x).0, ())
    }
    // The definition's indices, as the module docs of `Conv2d` write them.
    #[allow(clippy::needless_range_loop)]
    fn backward(
        &self,
        x: &Images<T, N, C, H, W>,
        _: &Self::Output,
        (): &(),
        dy: &Self::Output,
        g: &mut Self,
    ) -> Images<T, N, C, H, W> {
        let (w, x) = (self.weight.as_array(), x.as_array());
        let mut dx = Images::<T, N, C, H, W>::zeros();
        let mut dw = Images::<T, F, C, K, K>::zeros();
        let mut db = [T::zero(); F];
        for n in 0..N {
            for f in 0..F {
                for a in 0..OH {
                    for b in 0..OW {
                        let d = dy.as_array()[n][f][a][b];
                        if BUG != BIAS || (a, b) == (0, 0) {
                            db[f] += d;
                        }
                        for c in 0..C {
                            for ki in 0..K {
                                for kj in 0..K {
                                    let pad = if BUG == PADDING { 0 } else { P };
                                    let at = (inside(a, S, ki, pad, H), inside(b, S, kj, pad, W));
                                    if let (Some(i), Some(j)) = at {
                                        dx.as_array_mut()[n][c][i][j] += d * w[f][c][ki][kj];
                                    }
                                    let s = if BUG == STRIDE { 1 } else { S };
                                    let at = (inside(a, s, ki, P, H), inside(b, s, kj, P, W));
                                    if let (Some(i), Some(j)) = at {
                                        dw.as_array_mut()[f][c][ki][kj] += d * x[n][c][i][j];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        g.weight = dw;
        g.bias = db;
        dx
    }
}

// ----- Normalization, dropout ----------------------------------------------

/// Batch norm over features whose input gradient drops the `- Σ dy` term.
#[derive(Clone, Copy, Debug, PartialEq)]
struct BadBatchNorm1d<T, const N: usize> {
    weight: [T; N],
    bias: [T; N],
}
stackgrad::params! { impl<T, const N: usize> BadBatchNorm1d<T, N> { weight: [N], bias: [N] } }

impl<T: Scalar, const B: usize, const N: usize> Layer<Matrix<T, B, N>> for BadBatchNorm1d<T, N> {
    type Output = Matrix<T, B, N>;
    type Cache = NormStats<T, N>;
    fn forward(&self, x: &Matrix<T, B, N>) -> (Matrix<T, B, N>, NormStats<T, N>) {
        let mut bn = BatchNorm1d::<T, N>::new();
        (bn.weight, bn.bias) = (self.weight, self.bias);
        bn.forward(x)
    }
    fn backward(
        &self,
        x: &Matrix<T, B, N>,
        _: &Matrix<T, B, N>,
        s: &NormStats<T, N>,
        dy: &Matrix<T, B, N>,
        g: &mut Self,
    ) -> Matrix<T, B, N> {
        let eps = BatchNorm1d::<T, N>::new().eps();
        let m = T::from_usize(B);
        let inv: [T; N] = core::array::from_fn(|j| T::one() / (s.var[j] + eps).sqrt());
        let xhat = |r: usize, j: usize| (x[(r, j)] - s.mean[j]) * inv[j];
        let sdy: [T; N] = core::array::from_fn(|j| (0..B).fold(T::zero(), |a, r| a + dy[(r, j)]));
        let sdyx: [T; N] =
            core::array::from_fn(|j| (0..B).fold(T::zero(), |a, r| a + dy[(r, j)] * xhat(r, j)));
        (g.weight, g.bias) = (sdyx, sdy);
        // The bug: `m dy - Σ dy - x̂ Σ dy x̂` without `- Σ dy`.
        Matrix::from_fn(|r, j| {
            self.weight[j] * inv[j] / m * (m * dy[(r, j)] - xhat(r, j) * sdyx[j])
        })
    }
}

/// Batch norm over channels whose weight gradient sums `dy x` instead of
/// `dy x̂`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct BadBatchNorm2d<T, const C: usize> {
    weight: [T; C],
    bias: [T; C],
}
stackgrad::params! { impl<T, const C: usize> BadBatchNorm2d<T, C> { weight: [C], bias: [C] } }

impl<T: Scalar, const N: usize, const C: usize, const H: usize, const W: usize>
    Layer<Images<T, N, C, H, W>> for BadBatchNorm2d<T, C>
{
    type Output = Images<T, N, C, H, W>;
    type Cache = NormStats<T, C>;
    fn forward(&self, x: &Images<T, N, C, H, W>) -> (Images<T, N, C, H, W>, NormStats<T, C>) {
        let mut bn = BatchNorm2d::<T, C>::new();
        (bn.weight, bn.bias) = (self.weight, self.bias);
        bn.forward(x)
    }
    fn backward(
        &self,
        x: &Images<T, N, C, H, W>,
        _: &Images<T, N, C, H, W>,
        s: &NormStats<T, C>,
        dy: &Images<T, N, C, H, W>,
        g: &mut Self,
    ) -> Images<T, N, C, H, W> {
        let eps = BatchNorm2d::<T, C>::new().eps();
        let m = T::from_usize(N * H * W);
        let inv: [T; C] = core::array::from_fn(|c| T::one() / (s.var[c] + eps).sqrt());
        let (xa, da) = (x.as_array(), dy.as_array());
        let (mut sdy, mut sdyx, mut sdyraw) = ([T::zero(); C], [T::zero(); C], [T::zero(); C]);
        for n in 0..N {
            for c in 0..C {
                for i in 0..H {
                    for j in 0..W {
                        let (v, d) = (xa[n][c][i][j], da[n][c][i][j]);
                        sdy[c] += d;
                        sdyx[c] += d * (v - s.mean[c]) * inv[c];
                        sdyraw[c] += d * v;
                    }
                }
            }
        }
        (g.weight, g.bias) = (sdyraw, sdy); // the bug: Σ dy x
        Images::from_fn(|n, c, i, j| {
            let xhat = (xa[n][c][i][j] - s.mean[c]) * inv[c];
            self.weight[c] * inv[c] / m * (m * da[n][c][i][j] - sdy[c] - xhat * sdyx[c])
        })
    }
}

/// Layer norm whose input gradient drops the `- x̂ Σ (γ dy x̂)` term.
#[derive(Clone, Copy, Debug, PartialEq)]
struct BadLayerNorm<T, const N: usize> {
    weight: [T; N],
    bias: [T; N],
}
stackgrad::params! { impl<T, const N: usize> BadLayerNorm<T, N> { weight: [N], bias: [N] } }

impl<T: Scalar, const B: usize, const N: usize> Layer<Matrix<T, B, N>> for BadLayerNorm<T, N> {
    type Output = Matrix<T, B, N>;
    type Cache = RowStats<T, B>;
    fn forward(&self, x: &Matrix<T, B, N>) -> (Matrix<T, B, N>, RowStats<T, B>) {
        let mut ln = LayerNorm::<T, N>::new();
        (ln.weight, ln.bias) = (self.weight, self.bias);
        ln.forward(x)
    }
    fn backward(
        &self,
        x: &Matrix<T, B, N>,
        _: &Matrix<T, B, N>,
        s: &RowStats<T, B>,
        dy: &Matrix<T, B, N>,
        g: &mut Self,
    ) -> Matrix<T, B, N> {
        let n = T::from_usize(N);
        let xhat = |r: usize, j: usize| (x[(r, j)] - s.mean[r]) * s.inv_std[r];
        g.weight =
            core::array::from_fn(|j| (0..B).fold(T::zero(), |a, r| a + dy[(r, j)] * xhat(r, j)));
        g.bias = core::array::from_fn(|j| (0..B).fold(T::zero(), |a, r| a + dy[(r, j)]));
        Matrix::from_fn(|r, j| {
            let sg = (0..N).fold(T::zero(), |a, k| a + dy[(r, k)] * self.weight[k]);
            s.inv_std[r] / n * (n * dy[(r, j)] * self.weight[j] - sg) // the bug
        })
    }
}

/// The library's dropout (its fixed mask) with a backward that forgets the
/// `1 / (1 - p)` scale.
#[derive(Clone, Copy, Debug, PartialEq)]
struct BadDropout(Dropout);

impl<X: Elements> Layer<X> for BadDropout {
    type Output = X;
    type Cache = Ctx;
    fn forward(&self, x: &X) -> (X, Ctx) {
        self.0.forward(x)
    }
    fn backward(&self, x: &X, y: &X, ctx: &Ctx, dy: &X, _: &mut Self) -> X {
        let mut dx = self.0.backward(x, y, ctx, dy, &mut self.0.clone());
        let keep = X::Elem::from_f64(1.0 - self.0.p());
        dx.elems_mut().iter_mut().for_each(|d| *d *= keep);
        dx
    }
}

// ----- Blocks of one's own --------------------------------------------------

/// `y = x + f(x)` whose backward forgets the skip path's `dy`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct BadResidual<F>(F);

/// `y = f(x) + g(x)` whose backward drops `g`'s input gradient.
#[derive(Clone, Copy, Debug, PartialEq)]
struct BadProjected<F, G>(F, G);

/// `y = [f(x), g(x)]` (three features each) whose backward hands each path
/// the other's part of `dy`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct BadConcat<F, G>(F, G);

// The planted blocks have the library blocks' shapes: they connect as those do.
impl<S, A, F> Connect<S, A> for BadResidual<F>
where
    Residual<F>: Connect<S, A>,
{
    type Out = <Residual<F> as Connect<S, A>>::Out;
}
impl<S, A, F, G> Connect<S, A> for BadProjected<F, G>
where
    Projected<F, G>: Connect<S, A>,
{
    type Out = <Projected<F, G> as Connect<S, A>>::Out;
}
impl<S, A, F, G> Connect<S, A> for BadConcat<F, G>
where
    Concat<F, G>: Connect<S, A>,
{
    type Out = <Concat<F, G> as Connect<S, A>>::Out;
}

fn add<X: Elements>(a: &mut X, b: &X) {
    for (a, &b) in a.elems_mut().iter_mut().zip(b.elems()) {
        *a += b;
    }
}

impl<X: Elements, F: Layer<X, Output = X>> Layer<X> for BadResidual<F> {
    type Output = X;
    type Cache = (X, F::Cache);
    fn forward(&self, x: &X) -> (X, Self::Cache) {
        let (fy, fc) = self.0.forward(x);
        let mut y = fy;
        add(&mut y, x);
        (y, (fy, fc))
    }
    fn backward(&self, x: &X, _: &X, (fy, fc): &Self::Cache, dy: &X, g: &mut Self) -> X {
        self.0.backward(x, fy, fc, dy, &mut g.0) // the bug: `+ dy` missing
    }
    fn pattern(&self, x: &X, _: &X, (fy, fc): &Self::Cache, p: &mut Pattern) {
        self.0.pattern(x, fy, fc, p);
    }
}

impl<X: Elements, Y: Elements, F, G> Layer<X> for BadProjected<F, G>
where
    F: Layer<X, Output = Y>,
    G: Layer<X, Output = Y>,
{
    type Output = Y;
    type Cache = ((Y, F::Cache), (Y, G::Cache));
    fn forward(&self, x: &X) -> (Y, Self::Cache) {
        let ((fy, fc), (gy, gc)) = (self.0.forward(x), self.1.forward(x));
        let mut y = fy;
        add(&mut y, &gy);
        (y, ((fy, fc), (gy, gc)))
    }
    fn backward(
        &self,
        x: &X,
        _: &Y,
        ((fy, fc), (gy, gc)): &Self::Cache,
        dy: &Y,
        g: &mut Self,
    ) -> X {
        let dx = self.0.backward(x, fy, fc, dy, &mut g.0);
        let _dropped = self.1.backward(x, gy, gc, dy, &mut g.1); // the bug
        dx
    }
    fn pattern(&self, x: &X, _: &Y, ((fy, fc), (gy, gc)): &Self::Cache, p: &mut Pattern) {
        self.0.pattern(x, fy, fc, p);
        self.1.pattern(x, gy, gc, p);
    }
}

impl<T: Scalar, const B: usize, const I: usize, F, G> Layer<Matrix<T, B, I>> for BadConcat<F, G>
where
    F: Layer<Matrix<T, B, I>, Output = Matrix<T, B, 3>>,
    G: Layer<Matrix<T, B, I>, Output = Matrix<T, B, 3>>,
{
    type Output = Matrix<T, B, 6>;
    type Cache = ((Matrix<T, B, 3>, F::Cache), (Matrix<T, B, 3>, G::Cache));
    fn forward(&self, x: &Matrix<T, B, I>) -> (Matrix<T, B, 6>, Self::Cache) {
        let ((a, fc), (b, gc)) = (self.0.forward(x), self.1.forward(x));
        let y = Matrix::from_fn(|r, j| if j < 3 { a[(r, j)] } else { b[(r, j - 3)] });
        (y, ((a, fc), (b, gc)))
    }
    fn backward(
        &self,
        x: &Matrix<T, B, I>,
        _: &Matrix<T, B, 6>,
        ((a, fc), (b, gc)): &Self::Cache,
        dy: &Matrix<T, B, 6>,
        g: &mut Self,
    ) -> Matrix<T, B, I> {
        // The bug: the halves of dy swapped.
        let da = Matrix::from_fn(|r, j| dy[(r, j + 3)]);
        let db = Matrix::from_fn(|r, j| dy[(r, j)]);
        let mut dx = self.0.backward(x, a, fc, &da, &mut g.0);
        add(&mut dx, &self.1.backward(x, b, gc, &db, &mut g.1));
        dx
    }
    fn pattern(&self, x: &Matrix<T, B, I>, _: &Matrix<T, B, 6>, c: &Self::Cache, p: &mut Pattern) {
        self.0.pattern(x, &c.0.0, &c.0.1, p);
        self.1.pattern(x, &c.1.0, &c.1.1, p);
    }
}

/// A block's parameters: its first path's as `"0.*"`, its second's as `"1.*"`.
macro_rules! block_params {
    ($name:ident<$F:ident>) => {
        impl<T: Scalar, $F: Params<T>> Params<T> for $name<$F> {
            const TENSORS: usize = $F::TENSORS;
            const PARAMS: usize = $F::PARAMS;
            fn tensor(&self, k: usize) -> Option<Tensor<'_, T>> {
                self.0.tensor(k).map(|t| t.within(0))
            }
            fn tensor_mut(&mut self, k: usize) -> Option<TensorMut<'_, T>> {
                self.0.tensor_mut(k).map(|t| t.within(0))
            }
            fn zeros_like(&self) -> Self {
                $name(self.0.zeros_like())
            }
        }

        impl<U: Scalar, $F: Recast<U>> Recast<U> for $name<$F> {
            type Output = $name<$F::Output>;
            fn recast(&self) -> Self::Output {
                $name(self.0.recast())
            }
        }

        impl<In, T: Scalar, $F: Walk<In, T>> Walk<In, T> for $name<$F>
        where
            Self: CheckLayer<In, T>,
        {
            const LEAF: bool = false;
            fn walk<V: Visitor<T>>(
                &self,
                path: &mut Path,
                x: &V::Value<In>,
                v: &mut V,
            ) -> Result<V::Value<Self::Output>, V::Error> {
                let name = LayerName::new(path, <Self as Walk<In, T>>::kind());
                v.block::<In, Self>(name, self, x)?;
                path.within(0, |p| self.0.walk(p, x, v))?;
                Ok(v.forward::<In, Self>(self, x))
            }
        }
    };
    ($name:ident<$F:ident, $G:ident>) => {
        impl<T: Scalar, $F: Params<T>, $G: Params<T>> Params<T> for $name<$F, $G> {
            const TENSORS: usize = $F::TENSORS + $G::TENSORS;
            const PARAMS: usize = $F::PARAMS + $G::PARAMS;
            fn tensor(&self, k: usize) -> Option<Tensor<'_, T>> {
                if k < $F::TENSORS {
                    self.0.tensor(k).map(|t| t.within(0))
                } else {
                    self.1.tensor(k - $F::TENSORS).map(|t| t.within(1))
                }
            }
            fn tensor_mut(&mut self, k: usize) -> Option<TensorMut<'_, T>> {
                if k < $F::TENSORS {
                    self.0.tensor_mut(k).map(|t| t.within(0))
                } else {
                    self.1.tensor_mut(k - $F::TENSORS).map(|t| t.within(1))
                }
            }
            fn zeros_like(&self) -> Self {
                $name(self.0.zeros_like(), self.1.zeros_like())
            }
        }

        impl<U: Scalar, $F: Recast<U>, $G: Recast<U>> Recast<U> for $name<$F, $G> {
            type Output = $name<$F::Output, $G::Output>;
            fn recast(&self) -> Self::Output {
                $name(self.0.recast(), self.1.recast())
            }
        }

        impl<In, T: Scalar, $F: Walk<In, T>, $G: Walk<In, T>> Walk<In, T> for $name<$F, $G>
        where
            Self: CheckLayer<In, T>,
        {
            const LEAF: bool = false;
            fn walk<V: Visitor<T>>(
                &self,
                path: &mut Path,
                x: &V::Value<In>,
                v: &mut V,
            ) -> Result<V::Value<Self::Output>, V::Error> {
                let name = LayerName::new(path, <Self as Walk<In, T>>::kind());
                v.block::<In, Self>(name, self, x)?;
                path.within(0, |p| self.0.walk(p, x, v))?;
                path.within(1, |p| self.1.walk(p, x, v))?;
                Ok(v.forward::<In, Self>(self, x))
            }
        }
    };
}

block_params!(BadResidual<F>);
block_params!(BadProjected<F, G>);
block_params!(BadConcat<F, G>);

// ----- The networks ---------------------------------------------------------

fn randn<T: Scalar>(rng: &mut StdRng) -> T {
    T::from_f64(standard_normal(rng))
}

fn mat<T: Scalar, const R: usize, const C: usize>(rng: &mut StdRng) -> Matrix<T, R, C> {
    Matrix::from_fn(|_, _| randn(rng))
}

fn vector<T: Scalar, const N: usize>(rng: &mut StdRng) -> [T; N] {
    core::array::from_fn(|_| randn(rng))
}

fn dense<T: Scalar, const I: usize, const O: usize>(rng: &mut StdRng) -> Dense<T, I, O> {
    let scale = T::from_f64(1.0 / (I as f64).sqrt());
    Dense::new(mat::<T, I, O>(rng).scale(scale), vector(rng))
}

fn images<T: Scalar, const N: usize, const C: usize, const H: usize, const W: usize>(
    rng: &mut StdRng,
) -> Images<T, N, C, H, W> {
    Images::from_fn(|_, _, _, _| randn(rng))
}

fn conv<
    T: Scalar,
    const C: usize,
    const F: usize,
    const K: usize,
    const S: usize,
    const P: usize,
>(
    rng: &mut StdRng,
) -> Conv2d<T, C, F, K, S, P> {
    let mut c = Conv2d::xavier_uniform(rng);
    c.bias = vector(rng);
    c
}

fn bad_conv<
    T: Scalar,
    const C: usize,
    const F: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const BUG: usize,
>(
    rng: &mut StdRng,
) -> BadConv<T, C, F, K, S, P, BUG> {
    let scale = T::from_f64(1.0 / ((C * K * K) as f64).sqrt());
    BadConv {
        weight: images::<T, F, C, K, K>(rng).map(|w| w * scale),
        bias: vector(rng),
    }
}

/// Batch 3: no ratio of these bugs is the batch size but the linear
/// layer's mean.
const B: usize = 3;

/// What a mutant's case gives: the layer-by-layer report and the end-to-end
/// report's failing tensors.
struct Outcome {
    layers: LayerReport,
    end_to_end: Vec<String>,
}

fn run<N, X, const O: usize>(net: &N, x: &X, rng: &mut StdRng) -> Outcome
where
    X: Elements,
    N: Walk<X, X::Elem>
        + stackgrad::gradcheck::Checkable<X, Matrix<X::Elem, B, O>, HalfSquaredError>,
{
    let check = GradCheck::new().seed(rng.next_u64());
    let layers = check.check_layers(net, x).unwrap();
    let y = mat::<X::Elem, B, O>(rng);
    let end_to_end = match check.check(net, &HalfSquaredError, x, &y) {
        Ok(r) => r.failures().map(|t| t.name.to_string()).collect(),
        Err(e) => vec![e.to_string()],
    };
    Outcome { layers, end_to_end }
}

type Case = fn(&mut StdRng) -> Outcome;

/// One mutant: its name, the path and type the report must name, the
/// hint it must give on the layer's failing tensor (if the bug has a ratio),
/// and its network in f64 and f32.
struct Mutant {
    bug: &'static str,
    path: &'static [u16],
    kind: &'static str,
    hint: Option<Hint>,
    f64: Case,
    f32: Case,
}

/// A network `dense 4 -> i, mutant i -> o, dense o -> 2` on `B x 4` inputs
/// (with a layer after the mutant, `then`).
macro_rules! between_dense {
    ($mutant:expr, $i:literal -> $o:literal, then $after:expr) => {{
        fn case<T: Scalar>(rng: &mut StdRng) -> Outcome {
            let net = Net::new((
                dense::<T, 4, $i>(rng),
                $mutant(&mut *rng),
                $after(&mut *rng),
                dense::<T, $o, 2>(rng),
            ));
            run::<_, _, 2>(&net, &mat::<T, B, 4>(rng), rng)
        }
        (case::<f64> as Case, case::<f32> as Case)
    }};
    ($mutant:expr, $i:literal -> $o:literal) => {{
        fn case<T: Scalar>(rng: &mut StdRng) -> Outcome {
            let net = Net::new((dense::<T, 4, $i>(rng), $mutant(&mut *rng), dense::<T, $o, 2>(rng)));
            run::<_, _, 2>(&net, &mat::<T, B, 4>(rng), rng)
        }
        (case::<f64> as Case, case::<f32> as Case)
    }};
    ($mutant:expr) => {
        between_dense!($mutant, 5 -> 5)
    };
}

/// A network `conv 1 -> 2 (3x3, padding 1) -> mutant -> .. -> dense` on
/// `B x 1 x 6 x 6` images.
macro_rules! after_conv {
    ($mutant:expr, then $($rest:expr),*) => {{
        fn case<T: Scalar>(rng: &mut StdRng) -> Outcome {
            let net = Net::new((conv::<T, 1, 2, 3, 1, 1>(rng), $mutant(&mut *rng), $($rest(&mut *rng)),*));
            run::<_, _, 2>(&net, &images::<T, B, 1, 6, 6>(rng), rng)
        }
        (case::<f64> as Case, case::<f32> as Case)
    }};
}

fn mutant(
    bug: &'static str,
    path: &'static [u16],
    kind: &'static str,
    hint: Option<Hint>,
    cases: (Case, Case),
) -> Mutant {
    Mutant {
        bug,
        path,
        kind,
        hint,
        f64: cases.0,
        f32: cases.1,
    }
}

/// A mutant at position 1 whose bug has no constant ratio.
fn act(bug: &'static str, kind: &'static str, cases: (Case, Case)) -> Mutant {
    mutant(bug, &[1], kind, None, cases)
}

fn mutants() -> Vec<Mutant> {
    vec![
        act(
            "ReLU: f' = 1",
            "BadRelu",
            between_dense!(|_| Custom(BadRelu)),
        ),
        act(
            "leaky ReLU: slopes swapped",
            "BadLeakyRelu",
            between_dense!(|_| Custom(BadLeakyRelu)),
        ),
        act(
            "ELU: y for y + α",
            "BadElu",
            between_dense!(|_| Custom(BadElu)),
        ),
        act(
            "GELU: no x φ(x)",
            "BadGelu",
            between_dense!(|_| Custom(BadGelu)),
        ),
        act(
            "GELU (tanh): one term",
            "BadGeluTanh",
            between_dense!(|_| Custom(BadGeluTanh)),
        ),
        act(
            "SiLU: σ(x) only",
            "BadSilu",
            between_dense!(|_| Custom(BadSilu)),
        ),
        act(
            "softplus: σ(x) for σ(βx)",
            "BadSoftplus",
            between_dense!(|_| Custom(BadSoftplus)),
        ),
        act(
            "sigmoid: σ'(y)",
            "BadSigmoid",
            between_dense!(|_| Custom(BadSigmoid)),
        ),
        act(
            "tanh: 1 - y",
            "BadTanh",
            between_dense!(|_| Custom(BadTanh)),
        ),
        act(
            "softmax: row 0's sum",
            "BadSoftmax",
            between_dense!(|_| Custom(BadSoftmax)),
        ),
        act(
            "dense: D W for D Wᵀ (square)",
            "BadDense",
            between_dense!(|rng: &mut StdRng| BadDense {
                weight: mat::<_, 5, 5>(rng),
                bias: vector(rng)
            }),
        ),
        mutant(
            "linear: mean for sum",
            &[1],
            "BadLinear",
            Some(Hint::DividedByBatch(B)),
            between_dense!(|rng: &mut StdRng| BadLinear {
                weight: mat::<_, 5, 5>(rng)
            }),
        ),
        act(
            "batch norm 1d: no - Σ dy",
            "BadBatchNorm1d",
            between_dense!(|rng: &mut StdRng| BadBatchNorm1d {
                weight: vector(rng),
                bias: vector(rng)
            }),
        ),
        act(
            "layer norm: no - x̂ Σ γ dy x̂",
            "BadLayerNorm",
            between_dense!(|rng: &mut StdRng| BadLayerNorm {
                weight: vector(rng),
                bias: vector(rng)
            }),
        ),
        mutant(
            "dropout: no 1/(1 - p)",
            &[1],
            "BadDropout",
            Some(Hint::DividedBy(2)),
            between_dense!(|_| Custom(BadDropout(Dropout::new(0.5).unwrap()))),
        ),
        act(
            "max pool: first column of the window",
            "BadMaxPool",
            after_conv!(
                |_| Custom(BadMaxPool::<2, 2>),
                then | _ | Flatten,
                dense::<_, 18, 2>
            ),
        ),
        mutant(
            "avg pool: no 1/K²",
            &[1],
            "BadAvgPool",
            Some(Hint::MultipliedBy(4)),
            after_conv!(
                |_| Custom(BadAvgPool::<2, 2>),
                then | _ | Flatten,
                dense::<_, 18, 2>
            ),
        ),
        act(
            "unflatten: channel-last order",
            "BadUnflatten",
            between_dense!(|_| Custom(BadUnflatten::<2, 2, 2>), 8 -> 8, then |_| Flatten),
        ),
        act(
            "flatten: channel-last order",
            "BadFlatten",
            after_conv!(|_| Custom(BadFlatten), then dense::<_, 72, 2>),
        ),
        act(
            "conv: input gradient without the padding",
            "BadConv",
            after_conv!(
                bad_conv::<_, 2, 3, 3, 1, 1, PADDING>,
                then | _ | Flatten,
                dense::<_, 108, 2>
            ),
        ),
        act(
            "conv: weight gradient with stride 1",
            "BadConv",
            after_conv!(
                bad_conv::<_, 2, 3, 3, 2, 1, STRIDE>,
                then | _ | Flatten,
                dense::<_, 27, 2>
            ),
        ),
        act(
            "conv: bias gradient of one pixel",
            "BadConv",
            after_conv!(
                bad_conv::<_, 2, 3, 3, 1, 0, BIAS>,
                then | _ | Flatten,
                dense::<_, 48, 2>
            ),
        ),
        act(
            "batch norm 2d: Σ dy x for Σ dy x̂",
            "BadBatchNorm2d",
            after_conv!(
                |rng: &mut StdRng| BadBatchNorm2d {
                    weight: vector(rng),
                    bias: vector(rng)
                },
                then | _ | Flatten,
                dense::<_, 72, 2>
            ),
        ),
        act(
            "residual block: no skip gradient",
            "BadResidual",
            between_dense!(|rng: &mut StdRng| BadResidual(Net::new((dense::<_, 5, 5>(rng), Tanh)))),
        ),
        act(
            "projected block: skip's input gradient dropped",
            "BadProjected",
            between_dense!(|rng: &mut StdRng| BadProjected(
                Net::new((dense::<_, 5, 5>(rng), Tanh)),
                dense::<_, 5, 5>(rng)
            )),
        ),
        act(
            "concat block: halves of dy swapped",
            "BadConcat",
            between_dense!(|rng: &mut StdRng| BadConcat(dense::<_, 5, 3>(rng), Net::new((dense::<_, 5, 3>(rng), Tanh))), 5 -> 6),
        ),
        mutant(
            "tanh inside a library residual block",
            &[1, 0, 1],
            "BadTanh",
            None,
            between_dense!(|rng: &mut StdRng| Residual::new(Net::new((
                dense::<_, 5, 5>(rng),
                Custom(BadTanh)
            )))),
        ),
        mutant(
            "sigmoid inside a nested network",
            &[1, 1],
            "BadSigmoid",
            None,
            between_dense!(|rng: &mut StdRng| Net::new((
                dense::<_, 5, 5>(rng),
                Custom(BadSigmoid)
            ))),
        ),
    ]
}

/// Whether the report names `m`'s layer, and it alone; the reason if not.
fn named(m: &Mutant, r: &LayerReport) -> Result<(), String> {
    let faulty: Vec<_> = r.faulty().collect();
    let [layer] = faulty[..] else {
        return Err(format!("{} faulty layers", faulty.len()));
    };
    if layer.name.path.indices() != m.path || layer.name.short_kind() != m.kind {
        return Err(format!("named {}", layer.name));
    }
    let expected = format!("the backward of {} is wrong: ", layer.name);
    let conclusion = r.conclusion().to_string();
    if !conclusion.starts_with(&expected) {
        return Err(format!("conclusion: {conclusion}"));
    }
    // Every other layer is consistent, but the blocks holding the layer.
    for other in r.layers() {
        let holds = layer.name.path.is_inside(&other.name.path);
        if other.name.path != layer.name.path && !holds && !other.passed() {
            return Err(format!("{} fails too", other.name));
        }
    }
    if let Some(h) = m.hint
        && !r.tensors(layer).iter().any(|t| t.hint == Some(h))
    {
        return Err(format!("no hint {h:?}"));
    }
    Ok(())
}

#[test]
fn every_mutant_is_named_by_the_layer_by_layer_check() {
    let mutants = mutants();
    let (mut total, mut hits, mut misplaced) = (0, 0, 0);
    let mut misses = Vec::new();
    for m in &mutants {
        for (precision, case) in [("f64", m.f64), ("f32", m.f32)] {
            for seed in 0..SEEDS {
                let mut rng = StdRng::seed_from_u64(seed);
                let outcome = case(&mut rng);
                total += 1;
                match named(m, &outcome.layers) {
                    Ok(()) => hits += 1,
                    Err(why) => misses.push(format!(
                        "{} ({precision}, seed {seed}): {why}\n{}",
                        m.bug, outcome.layers
                    )),
                }
                // What the end-to-end check blames: does any failing tensor
                // belong to the mutated layer (for a parameter-free layer,
                // none can)?
                let prefix = format!(
                    "{}.",
                    m.path
                        .iter()
                        .map(u16::to_string)
                        .collect::<Vec<_>>()
                        .join(".")
                );
                if !outcome.end_to_end.iter().any(|t| t.starts_with(&prefix)) {
                    misplaced += 1;
                }
            }
        }
    }
    println!(
        "layer by layer: {hits} of {total} named correctly ({} planted bugs x f64, f32 x {SEEDS} seeds)",
        mutants.len()
    );
    println!(
        "end to end, for comparison: {misplaced} of {total} had no failing tensor of the mutated layer"
    );
    assert!(
        misses.is_empty(),
        "{} missed:\n{}",
        misses.len(),
        misses.join("\n")
    );
}

/// The same networks without a bug pass the layer-by-layer check on every
/// seed, in both precisions: the suite's layers around each mutant are
/// themselves checked, and pass, in every report above; here the correct
/// library layers take the mutants' places.
#[test]
fn correct_layers_in_the_same_places_pass() {
    fn case<T: Scalar>(seed: u64) -> Vec<LayerReport> {
        let mut rng = StdRng::seed_from_u64(seed);
        let rng = &mut rng;
        let check = GradCheck::new().seed(seed);
        let m = mat::<T, B, 4>(rng);
        let im = images::<T, B, 1, 6, 6>(rng);
        vec![
            check
                .check_layers(
                    &Net::new((
                        dense::<T, 4, 5>(rng),
                        Relu,
                        LeakyRelu::default(),
                        Elu::default(),
                        Gelu,
                        GeluTanh,
                        Silu,
                        Softplus::new(2.0, 20.0).unwrap(),
                        Sigmoid,
                        Tanh,
                        Softmax,
                        dense::<T, 5, 2>(rng),
                    )),
                    &m,
                )
                .unwrap(),
            check
                .check_layers(
                    &Net::new((
                        dense::<T, 4, 5>(rng),
                        Dense::<T, 5, 5>::new(mat(rng), vector(rng)),
                        Linear::<T, 5, 5>::new(mat(rng)),
                        BatchNorm1d::<T, 5>::new(),
                        LayerNorm::<T, 5>::new(),
                        Dropout::new(0.5).unwrap(),
                        dense::<T, 5, 2>(rng),
                    )),
                    &m,
                )
                .unwrap(),
            check
                .check_layers(
                    &Net::new((
                        conv::<T, 1, 2, 3, 1, 1>(rng),
                        BatchNorm2d::<T, 2>::new(),
                        MaxPool2d::<2>,
                        Flatten,
                        dense::<T, 18, 2>(rng),
                    )),
                    &im,
                )
                .unwrap(),
            check
                .check_layers(
                    &Net::new((
                        conv::<T, 1, 2, 3, 1, 1>(rng),
                        AvgPool2d::<2>,
                        Flatten,
                        dense::<T, 18, 2>(rng),
                    )),
                    &im,
                )
                .unwrap(),
            check
                .check_layers(
                    &Net::new((
                        conv::<T, 1, 2, 3, 1, 1>(rng),
                        conv::<T, 2, 3, 3, 2, 1>(rng),
                        conv::<T, 3, 3, 3, 1, 0>(rng),
                        Flatten,
                        dense::<T, 3, 2>(rng),
                    )),
                    &im,
                )
                .unwrap(),
        ]
    }
    for seed in 0..SEEDS {
        for r in case::<f64>(seed).iter().chain(&case::<f32>(seed)) {
            assert!(r.passed(), "seed {seed}:\n{r}");
            assert!(
                r.conclusion()
                    .to_string()
                    .starts_with("every layer's backward agrees")
            );
        }
    }
}

// ----- Non-determinism ------------------------------------------------------

/// A dropout of one's own in training mode: a new mask at every forward
/// pass (`fixed: None`), or always the mask of one step.
#[derive(Clone, Copy, Debug, PartialEq)]
struct TrainingDropout {
    fixed: Option<u64>,
}

static STEP: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl<X: Elements> Layer<X> for TrainingDropout {
    type Output = X;
    type Cache = u64;
    fn forward(&self, x: &X) -> (X, u64) {
        let step = self
            .fixed
            .unwrap_or_else(|| STEP.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        (drop_half(step, x), step)
    }
    fn backward(&self, _: &X, _: &X, step: &u64, dy: &X, _: &mut Self) -> X {
        drop_half(*step, dy)
    }
}

/// `x ⊙ m · 2`, the mask `m` of `step` keeping half the elements.
fn drop_half<X: Elements>(step: u64, x: &X) -> X {
    let ctx = Ctx::new(1, step, 11);
    let mut y = *x;
    for (i, v) in y.elems_mut().iter_mut().enumerate() {
        let keep = if ctx.draw(i) >= 0.5 { 2.0 } else { 0.0 };
        *v *= X::Elem::from_f64(keep);
    }
    y
}

/// A dropout drawing a new mask per forward pass is an error that names it
/// (layer by layer) before any difference is taken, and says how to check
/// it; with a fixed mask it passes, as the library's `Dropout` (whose
/// `forward` always uses one mask) does.
#[test]
fn a_random_forward_pass_is_an_error_and_a_fixed_mask_passes() {
    let mut rng = StdRng::seed_from_u64(0);
    let (d0, d1) = (dense::<f64, 4, 5>(&mut rng), dense::<f64, 5, 2>(&mut rng));
    let x = mat::<f64, B, 4>(&mut rng);
    let y = mat::<f64, B, 2>(&mut rng);
    let check = GradCheck::new();

    let random = Net::new((d0, Custom(TrainingDropout { fixed: None }), d1));
    let err = check.check_layers(&random, &x).unwrap_err();
    let Error::NondeterministicForward { layer: Some(name) } = err else {
        panic!("{err:?}");
    };
    assert_eq!(name.to_string(), "layer 1 (TrainingDropout)");
    let text = err.to_string();
    for words in [
        "the forward pass of layer 1 (TrainingDropout) is not deterministic",
        "dropout or another random layer in training mode",
        "fixed mask",
        "evaluation mode",
    ] {
        assert!(text.contains(words), "{text}");
    }
    let err = check.check(&random, &HalfSquaredError, &x, &y).unwrap_err();
    assert_eq!(err, Error::NondeterministicForward { layer: None });
    assert!(
        err.to_string()
            .starts_with("the forward pass is not deterministic")
    );

    let fixed = Net::new((d0, Custom(TrainingDropout { fixed: Some(3) }), d1));
    let report = check.check_layers(&fixed, &x).unwrap();
    assert!(report.passed(), "{report}");
    assert!(
        check
            .check(&fixed, &HalfSquaredError, &x, &y)
            .unwrap()
            .passed()
    );
    let library = Net::new((d0, Dropout::new(0.5).unwrap(), d1));
    assert!(check.check_layers(&library, &x).unwrap().passed());
    assert!(
        check
            .check(&library, &HalfSquaredError, &x, &y)
            .unwrap()
            .passed()
    );
}

// ----- The walk -------------------------------------------------------------

/// Blocks are checked as a whole, then path by path, each layer named by
/// its path; a nested network is walked inside; the summary walks the same
/// structure.
#[test]
fn blocks_and_nested_networks_are_walked_and_named() {
    use stackgrad::nn::{Concat, Projected};
    let mut rng = StdRng::seed_from_u64(1);
    let rng = &mut rng;
    let net = Net::new((
        dense::<f64, 4, 5>(rng),
        Residual::new(Net::new((dense::<f64, 5, 5>(rng), Tanh))),
        Projected::new(
            Net::new((dense::<f64, 5, 3>(rng), Relu)),
            dense::<f64, 5, 3>(rng),
        ),
        Concat::new(dense::<f64, 3, 2>(rng), Sigmoid),
        Net::new((dense::<f64, 5, 2>(rng), Softmax)),
        BadResidual(Net::new((dense::<f64, 2, 2>(rng), Tanh))),
    ));
    let x = mat::<f64, B, 4>(rng);
    let report = GradCheck::new().check_layers(&net, &x).unwrap();
    let names: Vec<String> = report.layers().iter().map(|l| l.name.to_string()).collect();
    assert_eq!(
        names,
        [
            "layer 0 (Dense)",
            "layer 1 (Residual)",
            "layer 1.0.0 (Dense)",
            "layer 1.0.1 (Tanh)",
            "layer 2 (Projected)",
            "layer 2.0.0 (Dense)",
            "layer 2.0.1 (Relu)",
            "layer 2.1 (Dense)",
            "layer 3 (Concat)",
            "layer 3.0 (Dense)",
            "layer 3.1 (Sigmoid)",
            "layer 4.0 (Dense)",
            "layer 4.1 (Softmax)",
            "layer 5 (BadResidual)",
            "layer 5.0.0 (Dense)",
            "layer 5.0.1 (Tanh)",
        ]
    );
    let blocks: Vec<bool> = report.layers().iter().map(|l| l.block).collect();
    assert_eq!(blocks.iter().filter(|&&b| b).count(), 4);
    // A block's tensors are its paths' (named inside it), then its input.
    let projected = report.layer(&[2]).unwrap();
    let tensors: Vec<String> = report
        .tensors(projected)
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    assert_eq!(
        tensors,
        ["0.0.weight", "0.0.bias", "1.weight", "1.bias", "input"]
    );
    // Only the block of one's own is faulty; its layers are consistent.
    assert_eq!(report.faulty().count(), 1);
    assert_eq!(
        report.first_faulty().unwrap().name.to_string(),
        "layer 5 (BadResidual)"
    );
    assert_eq!(
        report.conclusion().to_string(),
        "the backward of layer 5 (BadResidual) is wrong: its input gradient disagrees with its \
         forward; layers 0, 1, 1.0.0, 1.0.1, 2, 2.0.0, 2.0.1, 2.1, 3, 3.0, 3.1, 4.0, 4.1, 5.0.0, \
         5.0.1 are consistent"
    );
    let summary = net.summary::<Matrix<f64, B, 4>, f64>().to_string();
    let rows: Vec<&str> = summary
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        rows[1..17],
        [
            "0", "1", "1.0.0", "1.0.1", "2", "2.0.0", "2.0.1", "2.1", "3", "3.0", "3.1", "4.0",
            "4.1", "5", "5.0.0", "5.0.1"
        ]
    );
    assert!(
        summary.lines().nth(14).unwrap().contains("BadResidual "),
        "{summary}"
    );
}

/// A check that compares nothing is an error, never a pass; a report that
/// cannot hold every layer says so, and `check_layers_each` takes any size.
#[test]
fn vacuous_and_oversized_checks_are_errors() {
    let dead = Matrix::<f64, 2, 3>::splat(-1.0);
    assert_eq!(
        GradCheck::new()
            .check_layers(&Net::new((Relu,)), &dead)
            .unwrap_err(),
        Error::NothingToCheck
    );
    assert_eq!(
        GradCheck::new().check_layer(&Relu, &dead).unwrap_err(),
        Error::NothingToCheck
    );
    use stackgrad::nn::Identity as I;
    let twelve = Net::new((I, I, I, I, I, I, I, I, I, I, I, I));
    let net = Net::new((twelve, twelve, twelve));
    let x = Matrix::<f64, 2, 3>::splat(0.5);
    let err = GradCheck::new().check_layers(&net, &x).unwrap_err();
    assert_eq!(
        err,
        Error::TooManyLayers {
            layers: 36,
            capacity: 32
        }
    );
    let mut seen = 0;
    GradCheck::new()
        .check_layers_each(&net, &x, |layer, tensors| {
            assert!(layer.passed() && tensors.len() == 1);
            seen += 1;
        })
        .unwrap();
    assert_eq!(seen, 36);
}

/// `Y = X W` whose backward forgets the weight gradient.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Forgetful<T> {
    weight: Matrix<T, 2, 2>,
}
stackgrad::params! { impl<T> Forgetful<T> { weight: [2, 2] } }

impl<T: Scalar, const R: usize> Layer<Matrix<T, R, 2>> for Forgetful<T> {
    type Output = Matrix<T, R, 2>;
    type Cache = ();
    fn forward(&self, x: &Matrix<T, R, 2>) -> (Matrix<T, R, 2>, ()) {
        (x.matmul(&self.weight), ())
    }
    fn backward(
        &self,
        _: &Matrix<T, R, 2>,
        _: &Matrix<T, R, 2>,
        (): &(),
        d: &Matrix<T, R, 2>,
        g: &mut Self,
    ) -> Matrix<T, R, 2> {
        g.weight = Matrix::zeros();
        d.matmul_t(&self.weight)
    }
}

/// Zero both ways while the layer's output depends on the tensor (a step
/// lost to rounding): an error naming the tensor by its path in the network.
#[test]
fn a_vacuous_tensor_is_named_by_its_path() {
    let mut rng = StdRng::seed_from_u64(2);
    let net = Net::new((
        dense::<f64, 3, 2>(&mut rng),
        Forgetful {
            weight: mat(&mut rng),
        },
    ));
    let x = mat::<f64, B, 3>(&mut rng);
    let err = GradCheck::new()
        .step(1e-300)
        .check_layers(&net, &x)
        .unwrap_err();
    let Error::VacuousGradient { tensor } = err else {
        panic!("{err:?}");
    };
    assert!(tensor == "1.weight", "{tensor}");
    // At a normal step, the forgotten gradient is a failure of layer 1.
    let report = GradCheck::new().check_layers(&net, &x).unwrap();
    assert_eq!(
        report.conclusion().to_string(),
        "the backward of layer 1 (Forgetful) is wrong: its weight gradient disagrees with its \
         forward; layer 0 is consistent"
    );
}
