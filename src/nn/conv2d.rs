//! [`Conv2d<T, C, F, K, S, P>`]: 2-D convolution (cross-correlation) with `C`
//! input channels, `F` filters of `K x K`, stride `S` and zero padding `P`.
//!
//! For an input batch `X: N x C x H x W` the output is `Y: N x F x OH x OW` with
//!
//! ```text
//! OH = (H + 2P - K) / S + 1,   OW = (W + 2P - K) / S + 1   (computed at compile time)
//! Y[n,f,a,b] = bias[f] + Σ_c Σ_ki Σ_kj weight[f,c,ki,kj] · X[n, c, aS + ki - P, bS + kj - P]
//! ```
//!
//! where pixels outside the input (the padding) are zero.

use rand::Rng;

use super::{Connect, Layer, ParamName, Params, Recast, Shape, Tensor, TensorMut};
use crate::init::Init;
use crate::shape::{
    At, Channels, Check, ConvOut, ConvSides, Dim, Image, InChannels, Rows, SameScalar, Shapes,
    TakesImages, Then, Unknown,
};
use crate::{Images, Scalar};

use crate::kernel::conv as kernel;

/// A 2-D convolution layer: `C` input channels, `F` output channels (filters),
/// square `K x K` kernels, stride `S` (default 1), zero padding `P` (default 0).
///
/// Parameters are named `"weight"` (shape `[F, C, K, K]`, the notebooks'
/// layout) and `"bias"` (shape `[F]`). The output height and width are computed
/// from the input's at compile time, so networks need no shape annotations:
///
/// ```
/// use stackgrad::nn::{Conv2d, Layer};
/// use stackgrad::Images;
/// // 3x3 kernel, stride 2, padding 1: 12x12 -> 6x6, inferred.
/// let conv = Conv2d::<f32, 1, 4, 3, 2, 1>::zeros();
/// let (y, _cache) = conv.forward(&Images::<f32, 2, 1, 12, 12>::zeros());
/// let _: Images<f32, 2, 4, 6, 6> = y;
///
/// // One 2x2 filter of ones over a 1-channel 2x3 image: sums of 2x2 windows.
/// let sum = Conv2d::<f64, 1, 1, 2>::new([[[[1.0, 1.0], [1.0, 1.0]]]], [0.5]);
/// let x = Images::from_array([[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]]);
/// assert_eq!(sum.infer(&x).into_array(), [[[[12.5, 16.5]]]]);
/// ```
///
/// A convolution that does not fit is a compile error in plain numbers, at the
/// layer (see `tests/ui/`):
///
/// ```text
/// error[E0277]: layer 2 (Conv2d<f32, 8, 4, 3, 2, 1>) expects 8 input channels but receives 4
/// error[E0277]: layer 0 (Conv2d<f32, 1, 1, 5>): a 5x5 convolution with stride 1 and padding 0 cannot be applied to an input of 3 x 3
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Conv2d<
    T,
    const C: usize,
    const F: usize,
    const K: usize,
    const S: usize = 1,
    const P: usize = 0,
> {
    /// Filters, `F x C x K x K`: `weight[f][c][ki][kj]`.
    pub weight: [[[[T; K]; K]; C]; F],
    /// One bias per filter.
    pub bias: [T; F],
}

impl<T: Scalar, const C: usize, const F: usize, const K: usize, const S: usize, const P: usize>
    Conv2d<T, C, F, K, S, P>
{
    /// A layer from its filters (`F x C x K x K`) and biases.
    #[must_use]
    pub const fn new(weight: [[[[T; K]; K]; C]; F], bias: [T; F]) -> Self {
        Self { weight, bias }
    }

    /// All weights and biases zero.
    #[must_use]
    pub fn zeros() -> Self {
        Self::new([[[[T::zero(); K]; K]; C]; F], [T::zero(); F])
    }

    /// Weights drawn by `init` with fan-in `C·K·K` and fan-out `F·K·K` (each
    /// output pixel sees `C·K·K` inputs; each input pixel feeds up to `F·K·K`
    /// outputs), biases zero.
    ///
    /// ```
    /// use stackgrad::init::Init;
    /// use stackgrad::nn::Conv2d;
    /// use stackgrad::rand::{SeedableRng, rngs::StdRng};
    /// let conv = Conv2d::<f32, 2, 4, 3>::init(Init::XavierUniform, &mut StdRng::seed_from_u64(0));
    /// let limit = (6.0f32 / (2.0 * 9.0 + 4.0 * 9.0)).sqrt();
    /// assert!(conv.weight.as_flattened().as_flattened().as_flattened().iter().all(|w| w.abs() <= limit));
    /// assert_eq!(conv.bias, [0.0; 4]);
    /// ```
    #[must_use]
    pub fn init<R: Rng + ?Sized>(init: Init, rng: &mut R) -> Self {
        let mut layer = Self::zeros();
        init.fill(layer.weights_mut(), C * K * K, F * K * K, rng);
        layer
    }

    /// All zeros, on the heap (for filter banks too large for a debug-build
    /// stack; a `Box<Conv2d<..>>` is a layer, see [`nn`](crate::nn)). Built in a
    /// frame of its own.
    ///
    /// ```
    /// use stackgrad::nn::{image_input, Conv2d, Relu};
    /// let net = image_input::<3, 8, 8>()
    ///     .then(Conv2d::<f32, 3, 64, 5, 1, 2>::boxed_zeros())
    ///     .then(Relu)
    ///     .build();
    /// # let _ = net;
    /// ```
    #[cfg(feature = "std")]
    #[inline(never)]
    #[must_use]
    pub fn boxed_zeros() -> std::boxed::Box<Self> {
        std::boxed::Box::new(Self::zeros())
    }

    /// Weights drawn by `init` on the heap (see [`boxed_zeros`](Self::boxed_zeros)).
    #[cfg(feature = "std")]
    #[inline(never)]
    #[must_use]
    pub fn boxed_init<R: Rng + ?Sized>(init: Init, rng: &mut R) -> std::boxed::Box<Self> {
        let mut layer = Self::boxed_zeros();
        init.fill(layer.weights_mut(), C * K * K, F * K * K, rng);
        layer
    }

    /// [`Init::XavierUniform`] weights, zero biases.
    #[must_use]
    pub fn xavier_uniform<R: Rng + ?Sized>(rng: &mut R) -> Self {
        Self::init(Init::XavierUniform, rng)
    }

    /// [`Init::HeNormal`] weights, zero biases: the usual choice before a ReLU.
    #[must_use]
    pub fn he_normal<R: Rng + ?Sized>(rng: &mut R) -> Self {
        Self::init(Init::HeNormal, rng)
    }

    /// The filters as one flat slice, `F x C x K x K` row-major.
    #[must_use]
    pub fn weights(&self) -> &[T] {
        self.weight.as_flattened().as_flattened().as_flattened()
    }

    /// The filters as one flat slice, mutably.
    pub fn weights_mut(&mut self) -> &mut [T] {
        self.weight
            .as_flattened_mut()
            .as_flattened_mut()
            .as_flattened_mut()
    }
}

/// The output positions `o in lo..hi` whose input index `o·s + k - p` lies in
/// `0..len_in` (and `o < len_out`): the rows or columns that kernel offset `k`
/// touches without falling into the padding. `s >= 1` (the shape rules require it).
#[inline(always)]
fn valid(k: usize, s: usize, p: usize, len_in: usize, len_out: usize) -> (usize, usize) {
    let lo = if k >= p { 0 } else { (p - k).div_ceil(s) };
    let hi = if len_in + p > k {
        ((len_in + p - k - 1) / s + 1).min(len_out)
    } else {
        0
    };
    (lo, hi.max(lo))
}

/// `y[k] += w · x[k·S]` for `k in 0..y.len()` (when `S` is 1, a contiguous axpy
/// the compiler vectorizes). `x` may be longer than needed.
#[inline(always)]
fn axpy<T: Scalar, const S: usize>(w: T, x: &[T], y: &mut [T]) {
    if S == 1 {
        for (y, &x) in y.iter_mut().zip(x) {
            *y += w * x;
        }
    } else {
        for (y, &x) in y.iter_mut().zip(x.iter().step_by(S)) {
            *y += w * x;
        }
    }
}

/// Scatter form of [`axpy`]: `x[k·S] += w · d[k]` for `k in 0..d.len()`.
#[inline(always)]
fn axpy_strided<T: Scalar, const S: usize>(w: T, d: &[T], x: &mut [T]) {
    if S == 1 {
        for (x, &d) in x.iter_mut().zip(d) {
            *x += w * d;
        }
    } else {
        for (x, &d) in x.iter_mut().step_by(S).zip(d) {
            *x += w * d;
        }
    }
}

/// `Σ_k d[k] · x[k·S]` for `k in 0..d.len()`.
#[inline(always)]
fn dot<T: Scalar, const S: usize>(d: &[T], x: &[T]) -> T {
    let mut acc = T::zero();
    if S == 1 {
        for (&d, &x) in d.iter().zip(x) {
            acc += d * x;
        }
    } else {
        for (&d, &x) in d.iter().zip(x.iter().step_by(S)) {
            acc += d * x;
        }
    }
    acc
}

/// The sizes of a batch for the kernels of `kernel`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
const fn geom(
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    f: usize,
    k: usize,
    s: usize,
    p: isize,
    oh: usize,
    ow: usize,
) -> kernel::Geom {
    kernel::Geom {
        n,
        c,
        h,
        w,
        f,
        k,
        s,
        p,
        oh,
        ow,
    }
}

/// The forward pass into `y` (every element written): the packed products of
/// `kernel` where they run, else the portable loops.
#[inline(always)]
fn forward_to<
    T: Scalar,
    const N: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const F: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const OH: usize,
    const OW: usize,
>(
    layer: &Conv2d<T, C, F, K, S, P>,
    x: &Images<T, N, C, H, W>,
    y: &mut Images<T, N, F, OH, OW>,
) {
    let g = geom(N, C, H, W, F, K, S, P as isize, OH, OW);
    if kernel::forward(
        &g,
        x.as_slice(),
        layer.weights(),
        Some(&layer.bias),
        y.as_mut_slice(),
        false,
    ) {
        return;
    }
    forward_rows(layer, x, y);
}

/// The portable forward (where the kernels do not run): loops over (filter, channel,
/// kernel offset) outermost and output pixels innermost, with the padding
/// clipped out of the ranges (`valid`), so the inner loop is an axpy along an
/// input row and no transposed copy of the weights is needed.
#[inline(never)]
fn forward_rows<
    T: Scalar,
    const N: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const F: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const OH: usize,
    const OW: usize,
>(
    layer: &Conv2d<T, C, F, K, S, P>,
    x: &Images<T, N, C, H, W>,
    y: &mut Images<T, N, F, OH, OW>,
) {
    for (xn, yn) in x.as_array().iter().zip(y.as_array_mut()) {
        for ((yf, wf), &b) in yn.iter_mut().zip(&layer.weight).zip(&layer.bias) {
            for row in yf.iter_mut() {
                row.fill(b);
            }
            for (xc, wc) in xn.iter().zip(wf) {
                for (ki, wrow) in wc.iter().enumerate() {
                    let (i0, i1) = valid(ki, S, P, H, OH);
                    for (kj, &w) in wrow.iter().enumerate() {
                        let (j0, j1) = valid(kj, S, P, W, OW);
                        if j0 == j1 {
                            continue;
                        }
                        for (oi, yr) in (i0..i1).zip(&mut yf[i0..i1]) {
                            let xr = &xc[oi * S + ki - P][j0 * S + kj - P..];
                            axpy::<T, S>(w, xr, &mut yr[j0..j1]);
                        }
                    }
                }
            }
        }
    }
}

/// The portable input gradient (the row-wise
/// counterpart of [`forward_rows`]): `dx` overwritten.
#[inline(never)]
fn input_grad_rows<
    T: Scalar,
    const N: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const F: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const OH: usize,
    const OW: usize,
>(
    layer: &Conv2d<T, C, F, K, S, P>,
    dy: &Images<T, N, F, OH, OW>,
    dx: &mut Images<T, N, C, H, W>,
) {
    for v in dx.as_mut_slice() {
        *v = T::zero();
    }
    for (dxn, dyn_) in dx.as_array_mut().iter_mut().zip(dy.as_array()) {
        for (f, dyf) in dyn_.iter().enumerate() {
            for (c, dxc) in dxn.iter_mut().enumerate() {
                for ki in 0..K {
                    let (i0, i1) = valid(ki, S, P, H, OH);
                    for kj in 0..K {
                        let (j0, j1) = valid(kj, S, P, W, OW);
                        if j0 == j1 {
                            continue;
                        }
                        let w = layer.weight[f][c][ki][kj];
                        for (oi, dyr) in (i0..i1).zip(&dyf[i0..i1]) {
                            let i = oi * S + ki - P;
                            let j = j0 * S + kj - P;
                            axpy_strided::<T, S>(w, &dyr[j0..j1], &mut dxc[i][j..]);
                        }
                    }
                }
            }
        }
    }
}

/// The portable loops: the parameter gradients into `grads`, all entries
/// overwritten, and the input gradient into `dx` (overwritten) when asked.
#[inline(never)]
fn backward_rows<
    T: Scalar,
    const N: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const F: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const OH: usize,
    const OW: usize,
>(
    layer: &Conv2d<T, C, F, K, S, P>,
    x: &Images<T, N, C, H, W>,
    dy: &Images<T, N, F, OH, OW>,
    grads: &mut Conv2d<T, C, F, K, S, P>,
) {
    let _ = layer;
    grads.weights_mut().fill(T::zero());
    grads.bias = [T::zero(); F];
    for (xn, dyn_) in x.as_array().iter().zip(dy.as_array()) {
        for (f, dyf) in dyn_.iter().enumerate() {
            grads.bias[f] += dyf.iter().flatten().copied().sum::<T>();
            for (c, xc) in xn.iter().enumerate() {
                for ki in 0..K {
                    let (i0, i1) = valid(ki, S, P, H, OH);
                    for kj in 0..K {
                        let (j0, j1) = valid(kj, S, P, W, OW);
                        if j0 == j1 {
                            continue;
                        }
                        let mut dw = T::zero();
                        for (oi, dyr) in (i0..i1).zip(&dyf[i0..i1]) {
                            let i = oi * S + ki - P;
                            let j = j0 * S + kj - P;
                            dw += dot::<T, S>(&dyr[j0..j1], &xc[i][j..]);
                        }
                        grads.weight[f][c][ki][kj] += dw;
                    }
                }
            }
        }
    }
}

/// The parameter gradients (overwritten) and, when `dx` is given, the input
/// gradient (overwritten): the packed products of `kernel` where they run,
/// else the portable loops.
#[inline(always)]
fn backward_to<
    T: Scalar,
    const N: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const F: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const OH: usize,
    const OW: usize,
>(
    layer: &Conv2d<T, C, F, K, S, P>,
    x: &Images<T, N, C, H, W>,
    dy: &Images<T, N, F, OH, OW>,
    grads: &mut Conv2d<T, C, F, K, S, P>,
    dx: Option<&mut Images<T, N, C, H, W>>,
) {
    let g = geom(N, C, H, W, F, K, S, P as isize, OH, OW);
    // Where the kernel sums dWᵀ (taps x filters).
    let mut dwt = [[[[T::zero(); F]; K]; K]; C];
    let out = kernel::Grads {
        dwt: dwt.as_flattened_mut().as_flattened_mut().as_flattened_mut(),
        dw: grads
            .weight
            .as_flattened_mut()
            .as_flattened_mut()
            .as_flattened_mut(),
        db: &mut grads.bias,
    };
    if !kernel::weight_grad(&g, x.as_slice(), dy.as_slice(), out) {
        backward_rows(layer, x, dy, grads);
        if let Some(dx) = dx {
            input_grad_rows(layer, dy, dx);
        }
        return;
    }
    let Some(dx) = dx else {
        return;
    };
    // Stride 1: the forward of dY padded by K - 1 - P, with the filters
    // flipped and transposed.
    if S == 1 {
        // Flipping both kernel axes reverses a filter's K² taps: written in
        // order, each filter of each channel one reversed run.
        let mut flipped = [[[[T::zero(); K]; K]; F]; C];
        for (c, fc) in flipped.iter_mut().enumerate() {
            for (dst, wf) in fc.iter_mut().zip(&layer.weight) {
                let src = wf[c].as_flattened().iter().rev();
                dst.as_flattened_mut()
                    .iter_mut()
                    .zip(src)
                    .for_each(|(d, &w)| *d = w);
            }
        }
        let gt = geom(N, F, OH, OW, C, K, 1, K as isize - 1 - P as isize, H, W);
        let wt = flipped.as_flattened().as_flattened().as_flattened();
        if kernel::forward(&gt, dy.as_slice(), wt, None, dx.as_mut_slice(), false) {
            return;
        }
    } else {
        // Other strides: Wᵀ (taps x filters, in dwt's place) times dY, summed
        // back onto the image.
        for (f, wf) in layer.weight.iter().enumerate() {
            for (dc, wc) in dwt.iter_mut().zip(wf) {
                for (dr, wr) in dc.iter_mut().zip(wc) {
                    for (dv, &w) in dr.iter_mut().zip(wr) {
                        dv[f] = w;
                    }
                }
            }
        }
        let wt = dwt.as_flattened().as_flattened().as_flattened();
        if kernel::input_grad(&g, wt, dy.as_slice(), dx.as_mut_slice()) {
            return;
        }
    }
    input_grad_rows(layer, dy, dx);
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
    const OH: usize,
    const OW: usize,
> Layer<Images<T, N, C, H, W>> for Conv2d<T, C, F, K, S, P>
where
    Check: ConvOut<H, K, S, P, Out = Dim<OH>> + ConvOut<W, K, S, P, Out = Dim<OW>>,
{
    type Output = Images<T, N, F, OH, OW>;
    /// Nothing: backward reads the input `X`.
    type Cache = ();

    #[inline]
    fn forward(&self, x: &Images<T, N, C, H, W>) -> (Self::Output, ()) {
        (self.infer(x), ())
    }

    #[inline]
    fn forward_into(&self, x: &Images<T, N, C, H, W>, y: &mut Self::Output, (): &mut ()) {
        forward_to(self, x, y);
    }

    fn infer(&self, x: &Images<T, N, C, H, W>) -> Self::Output {
        let mut y = Images::<T, N, F, OH, OW>::zeros();
        forward_to(self, x, &mut y);
        y
    }

    // dbias[f]          = Σ_{n,a,b} dY[n,f,a,b]
    // dweight[f,c,ki,kj] = Σ_{n,a,b} dY[n,f,a,b] · X[n, c, aS+ki-P, bS+kj-P]
    // dX[n,c,i,j]       = Σ_{f,ki,kj} weight[f,c,ki,kj] · dY[n,f,a,b]  over (a,b) with aS+ki-P = i, bS+kj-P = j
    fn backward(
        &self,
        x: &Images<T, N, C, H, W>,
        _: &Images<T, N, F, OH, OW>,
        (): &(),
        dy: &Images<T, N, F, OH, OW>,
        grads: &mut Self,
    ) -> Images<T, N, C, H, W> {
        let mut dx = Images::<T, N, C, H, W>::zeros();
        backward_to(self, x, dy, grads, Some(&mut dx));
        dx
    }

    #[inline]
    fn backward_into(
        &self,
        x: &Images<T, N, C, H, W>,
        _: &Images<T, N, F, OH, OW>,
        (): &(),
        (): &mut (),
        dy: &Images<T, N, F, OH, OW>,
        dx: &mut Images<T, N, C, H, W>,
        grads: &mut Self,
    ) {
        backward_to(self, x, dy, grads, Some(dx));
    }

    // dweight and dbias only: no dX.
    #[inline]
    fn backward_params(
        &self,
        x: &Images<T, N, C, H, W>,
        _: &Images<T, N, F, OH, OW>,
        (): &(),
        dy: &Images<T, N, F, OH, OW>,
        grads: &mut Self,
    ) {
        backward_to(self, x, dy, grads, None);
    }
}

impl<
    T: Scalar,
    U,
    const AT: usize,
    const CI: usize,
    const H: usize,
    const W: usize,
    const C: usize,
    const F: usize,
    const K: usize,
    const S: usize,
    const P: usize,
> Connect<Image<U, CI, H, W>, At<AT>> for Conv2d<T, C, F, K, S, P>
where
    Then<T, Shapes>: SameScalar<Self, AT, U, T>
        + InChannels<Self, AT, CI, C>
        + ConvSides<Self, AT, H, W, K, S, P>,
{
    type Out = <Then<T, Shapes> as SameScalar<Self, AT, U, T>>::Same<
        <Then<T, Shapes> as InChannels<Self, AT, CI, C>>::Same<
            <Then<T, Shapes> as ConvSides<Self, AT, H, W, K, S, P>>::Out<T, F>,
        >,
    >;
}

impl<
    T: Scalar,
    U,
    const AT: usize,
    const CI: usize,
    const C: usize,
    const F: usize,
    const K: usize,
    const S: usize,
    const P: usize,
> Connect<Channels<U, CI>, At<AT>> for Conv2d<T, C, F, K, S, P>
where
    Then<T, Shapes>: SameScalar<Self, AT, U, T> + InChannels<Self, AT, CI, C>,
{
    type Out = <Then<T, Shapes> as SameScalar<Self, AT, U, T>>::Same<
        <Then<T, Shapes> as InChannels<Self, AT, CI, C>>::Same<Channels<T, F>>,
    >;
}

impl<
    T: Scalar,
    const AT: usize,
    const C: usize,
    const F: usize,
    const K: usize,
    const S: usize,
    const P: usize,
> Connect<Unknown, At<AT>> for Conv2d<T, C, F, K, S, P>
{
    type Out = Channels<T, F>;
}

impl<
    T: Scalar,
    U,
    const AT: usize,
    const N: usize,
    const C: usize,
    const F: usize,
    const K: usize,
    const S: usize,
    const P: usize,
> Connect<Rows<U, N>, At<AT>> for Conv2d<T, C, F, K, S, P>
where
    Then<T, Shapes>: TakesImages<Self, AT, N>,
{
    type Out = <Then<T, Shapes> as TakesImages<Self, AT, N>>::Same<Unknown>;
}

impl<T: Scalar, const C: usize, const F: usize, const K: usize, const S: usize, const P: usize>
    Params<T> for Conv2d<T, C, F, K, S, P>
{
    const TENSORS: usize = 2;
    const PARAMS: usize = F * C * K * K + F;

    #[inline]
    fn tensor(&self, k: usize) -> Option<Tensor<'_, T>> {
        match k {
            0 => Some(Tensor {
                name: ParamName::leaf("weight"),
                shape: Shape::new(&[F, C, K, K]),
                data: self.weights(),
            }),
            1 => Some(Tensor {
                name: ParamName::leaf("bias"),
                shape: Shape::new(&[F]),
                data: &self.bias,
            }),
            _ => None,
        }
    }

    #[inline]
    fn tensor_mut(&mut self, k: usize) -> Option<TensorMut<'_, T>> {
        match k {
            0 => Some(TensorMut {
                name: ParamName::leaf("weight"),
                shape: Shape::new(&[F, C, K, K]),
                data: self.weights_mut(),
            }),
            1 => Some(TensorMut {
                name: ParamName::leaf("bias"),
                shape: Shape::new(&[F]),
                data: &mut self.bias,
            }),
            _ => None,
        }
    }

    fn zeros_like(&self) -> Self {
        Self::zeros()
    }
}

impl<
    T: Scalar,
    U: Scalar,
    const C: usize,
    const F: usize,
    const K: usize,
    const S: usize,
    const P: usize,
> Recast<U> for Conv2d<T, C, F, K, S, P>
{
    type Output = Conv2d<U, C, F, K, S, P>;
    fn recast(&self) -> Self::Output {
        let cast = |v: T| U::from_f64(v.as_f64());
        Conv2d::new(
            self.weight.map(|a| a.map(|b| b.map(|r| r.map(cast)))),
            self.bias.map(cast),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::numgrad::check_layer;

    /// `np.linspace(a, b, n)[i] = a + i (b - a) / (n - 1)`, as numpy computes it
    /// (`step = (b - a) / (n - 1)`, then `a + i * step`).
    fn linspace<const L: usize>(a: f64, b: f64) -> [f64; L] {
        let step = (b - a) / (L as f64 - 1.0);
        core::array::from_fn(|i| a + i as f64 * step)
    }

    /// Notebook 001, "Q2.4.1": x (2x3x4x4) and w (3x3x4x4) from linspace, stride 2,
    /// pad 1; `y_ref` is the notebook's printed reference, and its check is
    /// `max|y_ref - y| / max(|y_ref| + |y|) < 1e-8`.
    #[test]
    fn notebook_001_conv_reference() {
        let xs = linspace::<96>(-0.1, 0.5);
        let ws = linspace::<144>(-0.2, 0.3);
        let b = linspace::<3>(-0.1, 0.2);
        let x = Images::<f64, 2, 3, 4, 4>::from_slice(&xs).unwrap();
        let mut conv = Conv2d::<f64, 3, 3, 4, 2, 1>::zeros();
        conv.weights_mut().copy_from_slice(&ws);
        conv.bias = b;
        let y = conv.infer(&x);
        let y_ref = [
            [
                [[-0.08759809, -0.10987781], [-0.18387192, -0.2109216]],
                [[0.21027089, 0.21661097], [0.22847626, 0.23004637]],
                [[0.50813986, 0.54309974], [0.64082444, 0.67101435]],
            ],
            [
                [[-0.98053589, -1.03143541], [-1.19128892, -1.24695841]],
                [[0.69108355, 0.66880383], [0.59480972, 0.56776003]],
                [[2.36270298, 2.36904306], [2.38090835, 2.38247847]],
            ],
        ];
        let y_ref = Images::<f64, 2, 3, 2, 2>::from_array(y_ref);
        let max_diff = y
            .as_slice()
            .iter()
            .zip(y_ref.as_slice())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        let base = y
            .as_slice()
            .iter()
            .zip(y_ref.as_slice())
            .map(|(a, b)| (a.abs() + b.abs()).max(f64::EPSILON))
            .fold(0.0, f64::max);
        let rel = max_diff / base;
        println!("notebook 001 conv reference: max difference / base = {rel:.3e}");
        assert!(rel < 1e-8, "max difference / base = {rel:e}");
    }

    /// The element-wise definition, written independently of the layer's loops.
    #[test]
    fn forward_matches_direct_sum_with_padding() {
        let conv = Conv2d::<f64, 2, 3, 3, 2, 1>::new(
            core::array::from_fn(|f| {
                core::array::from_fn(|c| {
                    core::array::from_fn(|i| {
                        core::array::from_fn(|j| ((f * 18 + c * 9 + i * 3 + j) as f64 * 0.37).sin())
                    })
                })
            }),
            [0.1, -0.2, 0.3],
        );
        let x = Images::<f64, 2, 2, 5, 6>::from_fn(|n, c, i, j| {
            ((n * 60 + c * 30 + i * 6 + j) as f64 * 0.11).cos()
        });
        let y: Images<f64, 2, 3, 3, 3> = conv.infer(&x);
        for n in 0..2 {
            for f in 0..3 {
                for a in 0..3 {
                    for b in 0..3 {
                        let mut want = conv.bias[f];
                        for c in 0..2 {
                            for ki in 0..3 {
                                for kj in 0..3 {
                                    let (i, j) =
                                        ((a * 2 + ki) as isize - 1, (b * 2 + kj) as isize - 1);
                                    if (0..5).contains(&i) && (0..6).contains(&j) {
                                        want += conv.weight[f][c][ki][kj]
                                            * x[(n, c, i as usize, j as usize)];
                                    }
                                }
                            }
                        }
                        assert!((y[(n, f, a, b)] - want).abs() < 1e-12);
                    }
                }
            }
        }
    }

    /// Central differences on every input, weight and bias element, for strides,
    /// paddings, kernel 1 and a kernel equal to the (padded) input.
    macro_rules! conv_gradcheck {
        ($($name:ident: $t:ty, N=$n:literal C=$c:literal H=$h:literal W=$w:literal F=$f:literal K=$k:literal S=$s:literal P=$p:literal;)*) => {$(
            #[test]
            fn $name() {
                let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(7);
                let mut conv = Conv2d::<$t, $c, $f, $k, $s, $p>::init(Init::Uniform { limit: 1.0 }, &mut rng);
                conv.bias = core::array::from_fn(|f| <$t>::from_f64(0.1 * f as f64 - 0.2));
                let x = Images::<$t, $n, $c, $h, $w>::from_fn(|n, c, i, j| {
                    <$t>::from_f64((((n * 31 + c * 17 + i * 7 + j) as f64) * 0.61).sin())
                });
                check_layer(&conv, &x);
            }
        )*};
    }

    conv_gradcheck! {
        grad_k3_s1_p0_f64: f64, N=2 C=2 H=5 W=5 F=3 K=3 S=1 P=0;
        grad_c6_row_backward_f64: f64, N=2 C=6 H=4 W=5 F=3 K=3 S=1 P=1;
        grad_c6_s2_row_backward_f32: f32, N=1 C=6 H=6 W=5 F=2 K=3 S=2 P=1;
        grad_k3_s2_p1_f64: f64, N=2 C=3 H=6 W=7 F=2 K=3 S=2 P=1;
        grad_k3_s3_p2_f64: f64, N=1 C=2 H=7 W=7 F=2 K=3 S=3 P=2;
        grad_k1_s1_p0_f64: f64, N=1 C=2 H=4 W=5 F=3 K=1 S=1 P=0;
        grad_k1_s2_p1_f64: f64, N=1 C=2 H=5 W=4 F=2 K=1 S=2 P=1;
        grad_k_eq_padded_input_f64: f64, N=2 C=2 H=3 W=3 F=2 K=5 S=1 P=1;
        grad_k_eq_input_s3_f64: f64, N=1 C=1 H=4 W=4 F=2 K=4 S=3 P=0;
        grad_k3_s1_p0_f32: f32, N=2 C=2 H=5 W=5 F=3 K=3 S=1 P=0;
        grad_k3_s2_p1_f32: f32, N=2 C=3 H=6 W=7 F=2 K=3 S=2 P=1;
        grad_k1_s2_p1_f32: f32, N=1 C=2 H=5 W=4 F=2 K=1 S=2 P=1;
        grad_k_eq_padded_input_f32: f32, N=2 C=2 H=3 W=3 F=2 K=5 S=1 P=1;
        grad_k5_s2_p2_f32: f32, N=1 C=2 H=8 W=6 F=2 K=5 S=2 P=2;
    }

    /// The compile-time arithmetic over its whole documented range: every
    /// input number up to 1024, computed sizes up to 16384.
    #[test]
    fn compile_time_sizes_cover_the_supported_range() {
        fn conv_out<
            const N: usize,
            const K: usize,
            const S: usize,
            const P: usize,
            const O: usize,
        >() -> usize
        where
            Check: ConvOut<N, K, S, P, Out = Dim<O>>,
        {
            O
        }
        fn flat<const C: usize, const H: usize, const W: usize, const L: usize>() -> usize
        where
            Check: crate::shape::FlatSize<C, H, W, Out = Dim<L>>,
        {
            L
        }
        assert_eq!(conv_out::<1024, 3, 1, 1, _>(), 1024);
        assert_eq!(conv_out::<1024, 1024, 1, 0, _>(), 1);
        assert_eq!(conv_out::<1, 1, 1024, 0, _>(), 1);
        assert_eq!(conv_out::<1000, 7, 3, 1024, _>(), (1000 + 2048 - 7) / 3 + 1);
        assert_eq!(conv_out::<3, 5, 1, 1, _>(), 1);
        assert_eq!(flat::<16, 28, 28, _>(), 12544);
        assert_eq!(flat::<1024, 4, 4, _>(), 16384);
        assert_eq!(flat::<1, 1, 1, _>(), 1);
        assert_eq!(flat::<0, 7, 7, _>(), 0);
        assert_eq!(flat::<17, 31, 29, _>(), 17 * 31 * 29);
    }

    /// The exact sums in f64 and the bound on a computed sum's error:
    /// `Σ_k a_k b_k` computed in any order with `m` terms (fused or not) is
    /// within `γ_m Σ_k |a_k b_k|` of the exact value, `γ_m = m ε / (1 - m ε)`.
    struct Exact {
        value: Vec<f64>,
        magnitude: Vec<f64>,
        terms: usize,
    }

    impl Exact {
        fn check<T: Scalar>(&self, what: &str, got: &[T]) {
            assert_eq!(got.len(), self.value.len(), "{what}: length");
            let eps = T::EPSILON.as_f64();
            let m = (self.terms + 2) as f64;
            let gamma = m * eps / (1.0 - m * eps);
            let mut worst = 0.0f64;
            for (k, ((&g, &v), &mag)) in
                got.iter().zip(&self.value).zip(&self.magnitude).enumerate()
            {
                let err = (g.as_f64() - v).abs();
                let tol = gamma * mag + f64::MIN_POSITIVE;
                assert!(
                    err <= tol,
                    "{what}[{k}]: got {:e}, exact {v:e}, error {err:e} > bound {tol:e}",
                    g.as_f64()
                );
                worst = worst.max(err / tol);
            }
            std::println!("{what}: worst error {worst:.3} of the bound");
        }
    }

    /// The layer's forward, backward, parameter-only backward and in-place
    /// passes against the element-wise definitions summed in f64; and,
    /// where the CPU has AVX2 + FMA, that the packed kernels ran (the
    /// layer's output is the kernel's, bit for bit).
    fn check_against_definition<
        T: Scalar,
        const N: usize,
        const C: usize,
        const H: usize,
        const W: usize,
        const F: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const OH: usize,
        const OW: usize,
    >(
        seed: u64,
    ) where
        Check: ConvOut<H, K, S, P, Out = Dim<OH>> + ConvOut<W, K, S, P, Out = Dim<OW>>,
    {
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed);
        let mut conv = Conv2d::<T, C, F, K, S, P>::init(Init::Uniform { limit: 1.0 }, &mut rng);
        conv.bias = core::array::from_fn(|f| T::from_f64(0.3 * (f as f64 * 1.7).sin()));
        let x = Images::<T, N, C, H, W>::from_fn(|n, c, i, j| {
            T::from_f64((((n * 131 + c * 37 + i * 11 + j) as f64) * 0.61).sin())
        });
        let dy = Images::<T, N, F, OH, OW>::from_fn(|n, f, a, b| {
            T::from_f64((((n * 71 + f * 13 + a * 5 + b) as f64) * 0.43).cos())
        });
        let xin = |n: usize, c: usize, i: isize, j: isize| -> Option<f64> {
            ((0..H as isize).contains(&i) && (0..W as isize).contains(&j))
                .then(|| x[(n, c, i as usize, j as usize)].as_f64())
        };
        let w = |f: usize, c: usize, ki: usize, kj: usize| conv.weight[f][c][ki][kj].as_f64();
        // y[n, f, a, b] = bias[f] + Σ w x
        let (mut yv, mut ym) = (Vec::new(), Vec::new());
        for n in 0..N {
            for f in 0..F {
                for a in 0..OH {
                    for b in 0..OW {
                        let bias = conv.bias[f].as_f64();
                        let (mut v, mut m) = (bias, bias.abs());
                        for c in 0..C {
                            for ki in 0..K {
                                for kj in 0..K {
                                    let (i, j) = (
                                        (a * S + ki) as isize - P as isize,
                                        (b * S + kj) as isize - P as isize,
                                    );
                                    if let Some(xv) = xin(n, c, i, j) {
                                        v += w(f, c, ki, kj) * xv;
                                        m += (w(f, c, ki, kj) * xv).abs();
                                    }
                                }
                            }
                        }
                        yv.push(v);
                        ym.push(m);
                    }
                }
            }
        }
        let y_exact = Exact {
            value: yv,
            magnitude: ym,
            terms: C * K * K,
        };
        // dW[f, c, ki, kj] = Σ dy x; dX[n, c, i, j] = Σ w dy
        let (mut wv, mut wm) = (Vec::new(), Vec::new());
        for f in 0..F {
            for c in 0..C {
                for ki in 0..K {
                    for kj in 0..K {
                        let (mut v, mut m) = (0.0, 0.0);
                        for n in 0..N {
                            for a in 0..OH {
                                for b in 0..OW {
                                    let (i, j) = (
                                        (a * S + ki) as isize - P as isize,
                                        (b * S + kj) as isize - P as isize,
                                    );
                                    if let Some(xv) = xin(n, c, i, j) {
                                        let t = dy[(n, f, a, b)].as_f64() * xv;
                                        v += t;
                                        m += t.abs();
                                    }
                                }
                            }
                        }
                        wv.push(v);
                        wm.push(m);
                    }
                }
            }
        }
        let dw_exact = Exact {
            value: wv,
            magnitude: wm,
            terms: N * OH * OW,
        };
        let (mut bv, mut bm) = (Vec::new(), Vec::new());
        for f in 0..F {
            let (mut v, mut m) = (0.0, 0.0);
            for n in 0..N {
                for a in 0..OH {
                    for b in 0..OW {
                        v += dy[(n, f, a, b)].as_f64();
                        m += dy[(n, f, a, b)].as_f64().abs();
                    }
                }
            }
            bv.push(v);
            bm.push(m);
        }
        let db_exact = Exact {
            value: bv,
            magnitude: bm,
            terms: N * OH * OW,
        };
        let (mut xv, mut xm) = (Vec::new(), Vec::new());
        for n in 0..N {
            for c in 0..C {
                for i in 0..H {
                    for j in 0..W {
                        let (mut v, mut m) = (0.0, 0.0);
                        for f in 0..F {
                            for ki in 0..K {
                                for kj in 0..K {
                                    let (ai, bj) = (i + P, j + P);
                                    if ai < ki
                                        || bj < kj
                                        || (ai - ki) % S != 0
                                        || (bj - kj) % S != 0
                                    {
                                        continue;
                                    }
                                    let (a, b) = ((ai - ki) / S, (bj - kj) / S);
                                    if a < OH && b < OW {
                                        let t = w(f, c, ki, kj) * dy[(n, f, a, b)].as_f64();
                                        v += t;
                                        m += t.abs();
                                    }
                                }
                            }
                        }
                        xv.push(v);
                        xm.push(m);
                    }
                }
            }
        }
        let dx_exact = Exact {
            value: xv,
            magnitude: xm,
            terms: F * K * K,
        };
        let label = std::format!("{} N{N} C{C} {H}x{W} F{F} K{K} S{S} P{P}", T::NAME);

        let y = conv.infer(&x);
        y_exact.check(&std::format!("{label} y"), y.as_slice());
        let mut y2 = Images::splat(T::nan());
        conv.forward_into(&x, &mut y2, &mut ());
        assert!(y2 == y, "{label}: forward_into differs from infer");
        let mut grads = Conv2d::init(Init::Uniform { limit: 9.0 }, &mut rng);
        let dx = conv.backward(&x, &y, &(), &dy, &mut grads);
        dw_exact.check(&std::format!("{label} dW"), grads.weights());
        db_exact.check(&std::format!("{label} db"), &grads.bias);
        dx_exact.check(&std::format!("{label} dX"), dx.as_slice());
        let mut params_only = Conv2d::init(Init::Uniform { limit: 9.0 }, &mut rng);
        conv.backward_params(&x, &y, &(), &dy, &mut params_only);
        assert!(
            params_only == grads,
            "{label}: backward_params differs from backward"
        );

        // The portable loops (where the kernels do not run) against the same sums.
        let mut y_rows = Images::<T, N, F, OH, OW>::splat(T::nan());
        forward_rows(&conv, &x, &mut y_rows);
        y_exact.check(&std::format!("{label} y (portable)"), y_rows.as_slice());
        let mut g_rows = Conv2d::init(Init::Uniform { limit: 9.0 }, &mut rng);
        backward_rows(&conv, &x, &dy, &mut g_rows);
        dw_exact.check(&std::format!("{label} dW (portable)"), g_rows.weights());
        db_exact.check(&std::format!("{label} db (portable)"), &g_rows.bias);
        let mut dx_rows = Images::<T, N, C, H, W>::splat(T::nan());
        input_grad_rows(&conv, &dy, &mut dx_rows);
        dx_exact.check(&std::format!("{label} dX (portable)"), dx_rows.as_slice());

        // The packed kernel ran, where it can.
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            let g = geom(N, C, H, W, F, K, S, P as isize, OH, OW);
            let mut yk = Images::<T, N, F, OH, OW>::splat(T::nan());
            let ran = kernel::forward(
                &g,
                x.as_slice(),
                conv.weights(),
                Some(&conv.bias),
                yk.as_mut_slice(),
                false,
            );
            assert!(ran, "{label}: the forward kernel did not run");
            assert!(yk == y, "{label}: the layer's output is not the kernel's");
            // The weight gradient and bias, as the layer's backward gave them.
            let mut dwt = std::vec![T::zero(); C * K * K * F];
            let (mut dw, mut db) = (std::vec![T::nan(); C * K * K * F], [T::nan(); F]);
            let out = kernel::Grads {
                dwt: &mut dwt,
                dw: &mut dw,
                db: &mut db,
            };
            assert!(
                kernel::weight_grad(&g, x.as_slice(), dy.as_slice(), out),
                "{label}: the weight-gradient kernel did not run"
            );
            assert!(
                dw == grads.weights() && db == grads.bias,
                "{label}: the layer's dW is not the kernel's"
            );
            // Strides above 1: the input gradient's product and sum back.
            if S != 1 {
                let taps = C * K * K;
                let wt: Vec<T> = (0..taps * F)
                    .map(|e| conv.weights()[(e % F) * taps + e / F])
                    .collect();
                let mut dxk = Images::<T, N, C, H, W>::splat(T::nan());
                let ran = kernel::input_grad(&g, &wt, dy.as_slice(), dxk.as_mut_slice());
                assert!(ran, "{label}: the input-gradient kernel did not run");
                assert!(dxk == dx, "{label}: the layer's dX is not the kernel's");
            }
            // The AVX2 path too, on a CPU with AVX-512.
            let mut y2 = Images::<T, N, F, OH, OW>::splat(T::nan());
            dwt.fill(T::zero());
            let out = kernel::Grads {
                dwt: &mut dwt,
                dw: &mut dw,
                db: &mut db,
            };
            let x_w_b_y = (
                x.as_slice(),
                conv.weights(),
                &conv.bias[..],
                y2.as_mut_slice(),
            );
            let ran = kernel::forward_and_weight_grad_avx2(&g, x_w_b_y, dy.as_slice(), out);
            if let Some(ran) = ran {
                assert_eq!(ran, (true, true), "{label}: the AVX2 kernels did not run");
                y_exact.check(&std::format!("{label} y (AVX2)"), y2.as_slice());
                dw_exact.check(&std::format!("{label} dW (AVX2)"), &dw);
                db_exact.check(&std::format!("{label} db (AVX2)"), &db);
            }
        }
    }

    macro_rules! against_definition {
        ($($name:ident: $t:ty, N=$n:literal C=$c:literal H=$h:literal W=$w:literal F=$f:literal K=$k:literal S=$s:literal P=$p:literal;)*) => {$(
            #[test]
            fn $name() {
                // Batches of up to 64 images of up to 64 channels: more than
                // a test thread's stack in a debug build.
                std::thread::Builder::new()
                    .stack_size(64 << 20)
                    .spawn(|| check_against_definition::<$t, $n, $c, $h, $w, $f, $k, $s, $p, _, _>(line!() as u64))
                    .unwrap()
                    .join()
                    .unwrap();
            }
        )*};
    }

    // The shapes small CNNs use (channels 1-64, images 8-32, kernels 1-5,
    // strides 1-2, batches 1-64), the digits CNN's two layers, and edges:
    // groups of channels (64 x 9 taps > 256; 12 channels of 32 x 32 > the
    // weight gradient's 8192-element block; 7 channels' padded 42 x 42
    // planes, with the taps as rows), blocks of pixels (24 x 24 with
    // channels as rows), a last block of fewer images, a
    // pixel count below a vector,
    // padding above K - 1 (the input gradient's padding is negative), even
    // and 1 x 1 kernels, odd filter counts.
    against_definition! {
        definition_digits_conv1_f32: f32, N=16 C=1 H=8 W=8 F=16 K=3 S=1 P=1;
        definition_digits_conv2_f32: f32, N=16 C=16 H=8 W=8 F=32 K=3 S=1 P=1;
        // (Batch 1: small products; the input gradient's forward of 32
        // channels in two groups that fit the 4096-element buffer.)
        definition_digits_conv2_batch1_f32: f32, N=1 C=16 H=8 W=8 F=32 K=3 S=1 P=1;
        definition_c64_f64_f32: f32, N=2 C=64 H=8 W=8 F=64 K=3 S=1 P=1;
        definition_k5_32x32_f32: f32, N=1 C=3 H=32 W=32 F=8 K=5 S=1 P=2;
        definition_s2_28x28_f32: f32, N=2 C=4 H=28 W=28 F=6 K=3 S=2 P=1;
        definition_k5_s2_f32: f32, N=1 C=2 H=12 W=11 F=3 K=5 S=2 P=2;
        // (Stride 2 with rows of whole vectors: the even and odd columns'
        // copies from the same reads.)
        definition_k5_s2_split_f32: f32, N=1 C=2 H=16 W=16 F=3 K=5 S=2 P=2;
        definition_s2_split_f64: f64, N=2 C=3 H=16 W=16 F=5 K=3 S=2 P=1;
        definition_k1_f32: f32, N=3 C=5 H=9 W=7 F=7 K=1 S=1 P=0;
        // (An image too large for the 1 x 1 weight gradient's buffer: the
        // convolution's kernel.)
        definition_k1_large_f32: f32, N=1 C=8 H=48 W=48 F=3 K=1 S=1 P=0;
        definition_batch64_f32: f32, N=64 C=2 H=8 W=8 F=4 K=3 S=1 P=1;
        definition_pad_above_k_f32: f32, N=1 C=3 H=6 W=5 F=2 K=3 S=1 P=3;
        definition_even_kernel_f32: f32, N=2 C=3 H=16 W=16 F=17 K=4 S=1 P=0;
        definition_tiny_image_f32: f32, N=2 C=3 H=3 W=3 F=5 K=3 S=1 P=1;
        definition_s3_f32: f32, N=1 C=2 H=10 W=10 F=3 K=3 S=3 P=0;
        definition_digits_conv2_f64: f64, N=4 C=16 H=8 W=8 F=32 K=3 S=1 P=1;
        definition_k5_s2_f64: f64, N=2 C=3 H=13 W=12 F=5 K=5 S=2 P=2;
        definition_k1_f64: f64, N=2 C=6 H=5 W=9 F=3 K=1 S=1 P=0;
        definition_c64_f64: f64, N=1 C=64 H=8 W=8 F=9 K=3 S=1 P=1;
        definition_32x32_f64: f64, N=1 C=2 H=32 W=32 F=3 K=3 S=1 P=1;
        definition_channel_groups_f32: f32, N=2 C=12 H=32 W=32 F=8 K=3 S=1 P=1;
        definition_partial_image_block_f32: f32, N=5 C=16 H=8 W=8 F=32 K=3 S=1 P=1;
        definition_bands_s2_f32: f32, N=2 C=16 H=32 W=32 F=8 K=3 S=2 P=1;
        definition_bands_s3_f32: f32, N=1 C=24 H=40 W=40 F=4 K=3 S=3 P=1;
        definition_bands_f64: f64, N=1 C=8 H=32 W=32 F=5 K=3 S=1 P=1;
        definition_tap_groups_f32: f32, N=2 C=7 H=40 W=40 F=5 K=3 S=1 P=1;
        definition_pixel_blocks_f32: f32, N=2 C=8 H=24 W=24 F=6 K=3 S=1 P=1;
    }

    #[test]
    fn valid_ranges_clip_the_padding() {
        // 4 inputs, k 3, s 2, p 1: outputs 0..2; offset 0 reads input 2a - 1,
        // valid for a = 1 only; offset 2 reads 2a + 1, valid for a = 0, 1.
        assert_eq!(valid(0, 2, 1, 4, 2), (1, 2));
        assert_eq!(valid(1, 2, 1, 4, 2), (0, 2));
        assert_eq!(valid(2, 2, 1, 4, 2), (0, 2));
        // kernel 5 over 3 inputs padded by 1: one output, offsets 0 and 4 are padding.
        assert_eq!(valid(0, 1, 1, 3, 1), (1, 1));
        assert_eq!(valid(4, 1, 1, 3, 1), (0, 0));
    }

    #[test]
    fn params_are_named_and_shaped() {
        let conv = Conv2d::<f32, 2, 3, 5>::zeros();
        let w = conv.tensor(0).unwrap();
        assert!(w.name == "weight");
        assert_eq!(w.shape.dims(), &[3, 2, 5, 5]);
        assert_eq!(w.data.len(), 150);
        assert_eq!(conv.tensor(1).unwrap().shape.dims(), &[3]);
        assert!(conv.tensor(2).is_none());
        assert_eq!(<Conv2d<f32, 2, 3, 5> as Params<f32>>::PARAMS, 153);
        let c64: Conv2d<f64, 2, 3, 5> = conv.recast();
        assert_eq!(c64, Conv2d::zeros());
    }
}
