//! Normalization layers: [`BatchNorm1d`] over the features of a batch of
//! rows, [`BatchNorm2d`] over the channels of a batch of images, and
//! [`LayerNorm`] over the features of each row.
//!
//! With `x̂ = (x - μ) / √(σ² + ε)` and learnable scale `γ` (`"weight"`) and
//! shift `β` (`"bias"`), each computes `y = γ x̂ + β`. Batch norm takes `μ`
//! and `σ²` (the biased variance) over the batch's real rows in training
//! mode and from its running statistics in evaluation mode (see
//! [`mode`](super::mode)); layer norm takes them over each row's features in
//! both modes. The backward pass, over the `m` values that share `μ` and
//! `σ²`:
//!
//! `∂L/∂x = γ / (m √(σ² + ε)) · (m ∂L/∂y - Σ ∂L/∂y - x̂ Σ (∂L/∂y x̂))`,
//! `∂L/∂γ = Σ ∂L/∂y x̂`, `∂L/∂β = Σ ∂L/∂y`.
//!
//! Settings follow PyTorch's defaults and conventions: `ε = 1e-5`; running
//! statistics start at mean 0 and variance 1 and move with momentum `0.1`,
//! `r ← (1 - momentum) r + momentum · s`, the running variance taking the
//! unbiased batch variance `σ² m / (m - 1)`.

use super::{Connect, Ctx, Layer, ParamName, Params, Recast, Shape, Tensor, TensorMut};
use crate::shape::{
    At, Channels, Image, NormChannels, Rows, SameScalar, Shapes, TakesImages, Then, Unknown,
};
use crate::{Error, Images, Matrix, Scalar};

/// Checks a momentum and an eps for `layer`.
fn check_settings(layer: &'static str, momentum: f64, eps: f64) -> Result<(), Error> {
    if !(0.0..=1.0).contains(&momentum) {
        return Err(Error::InvalidSetting {
            layer,
            setting: "momentum",
            value: momentum,
            expected: "in [0, 1]",
        });
    }
    if !(eps > 0.0 && eps.is_finite()) {
        return Err(Error::InvalidSetting {
            layer,
            setting: "eps",
            value: eps,
            expected: "positive and finite",
        });
    }
    Ok(())
}

/// Batch statistics of a batch norm's training-mode forward pass, per
/// feature or channel: what backward and [`Layer::update`] read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NormStats<T, const N: usize> {
    /// `μ`, per feature.
    pub mean: [T; N],
    /// `σ²` (biased), per feature.
    pub var: [T; N],
    /// The number of values each statistic was taken over (`m`).
    pub count: usize,
}

impl<T: Scalar, const N: usize> Default for NormStats<T, N> {
    fn default() -> Self {
        Self {
            mean: [T::zero(); N],
            var: [T::one(); N],
            count: 0,
        }
    }
}

/// Batch normalization over the `N` features of a `B x N` batch (PyTorch's
/// `BatchNorm1d(N)` on 2-D input).
///
/// With `x̂ = (x - μ) / √(σ² + ε)`, `y = γ x̂ + β`; backward over the `m`
/// rows that share `μ` and `σ²`:
/// `∂L/∂x = γ / (m √(σ² + ε)) · (m ∂L/∂y - Σ ∂L/∂y - x̂ Σ (∂L/∂y x̂))`,
/// `∂L/∂γ = Σ ∂L/∂y x̂`, `∂L/∂β = Σ ∂L/∂y`.
///
/// Parameters `"weight"` (`γ`, starts at 1) and `"bias"` (`β`, 0); buffers
/// `"running_mean"` (0) and `"running_var"` (1), saved and loaded with the
/// parameters, never trained. Training mode ([`Layer::forward`],
/// [`Layer::forward_train`]) normalizes with the batch's statistics, which
/// never include the padding rows of a partial batch; [`Layer::infer`] with
/// the running statistics, which [`Layer::update`] moves after each step.
/// Training needs batches of at least 2 rows: a batch of one would normalize
/// every feature to 0, and `forward` with `B = 1` does not compile.
///
/// Cost: `O(B N)` per pass, a cache of `2 N` values.
///
/// ```
/// use stackgrad::nn::{BatchNorm1d, Layer};
/// use stackgrad::Matrix;
/// let mut bn = BatchNorm1d::<f64, 2>::new();
/// let x = Matrix::from_array([[1.0, 10.0], [3.0, 30.0]]);
/// let (y, cache) = bn.forward(&x); // training: batch statistics
/// assert!((y[(0, 0)] + 1.0).abs() < 1e-4 && (y[(1, 1)] - 1.0).abs() < 1e-4);
/// bn.update(&x, &cache); // running mean 0.1 μ, running variance 0.9 + 0.1 σ²·2/1
/// assert!((bn.running_mean[1] - 2.0).abs() < 1e-12);
/// assert!((bn.running_var[0] - (0.9 + 0.1 * 2.0)).abs() < 1e-12);
/// let z = bn.infer(&x); // evaluation: running statistics
/// assert!((z[(0, 0)] - (1.0 - 0.2) / (1.1f64 + 1e-5).sqrt()).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchNorm1d<T, const N: usize> {
    /// `γ`, per feature.
    pub weight: [T; N],
    /// `β`, per feature.
    pub bias: [T; N],
    /// The running mean (a buffer).
    pub running_mean: [T; N],
    /// The running variance (a buffer).
    pub running_var: [T; N],
    momentum: T,
    eps: T,
}

/// Batch normalization over the `C` channels of an image batch (PyTorch's
/// `BatchNorm2d(C)`): the statistics of channel `c` are taken over every
/// pixel of channel `c` of every real image, `m = rows · H · W` values.
/// Otherwise exactly [`BatchNorm1d`]: the same tensors, settings, modes and
/// cost per value.
///
/// ```
/// use stackgrad::nn::{BatchNorm2d, Layer};
/// use stackgrad::Images;
/// let bn = BatchNorm2d::<f32, 3>::new();
/// let x = Images::<f32, 2, 3, 4, 4>::from_fn(|n, c, i, j| (n + c * i + j) as f32);
/// let (y, _) = bn.forward(&x);
/// let channel: Vec<f32> = (0..2).flat_map(|n| y.image(n)[1].concat()).collect();
/// let mean = channel.iter().sum::<f32>() / 32.0;
/// assert!(mean.abs() < 1e-5);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchNorm2d<T, const C: usize> {
    /// `γ`, per channel.
    pub weight: [T; C],
    /// `β`, per channel.
    pub bias: [T; C],
    /// The running mean (a buffer).
    pub running_mean: [T; C],
    /// The running variance (a buffer).
    pub running_var: [T; C],
    momentum: T,
    eps: T,
}

macro_rules! batch_norm_common {
    ($Name:ident, $name:literal) => {
        impl<T: Scalar, const N: usize> $Name<T, N> {
            /// PyTorch's defaults: `γ = 1`, `β = 0`, running mean 0 and
            /// variance 1, momentum 0.1, `ε = 1e-5`.
            #[must_use]
            pub fn new() -> Self {
                Self {
                    weight: [T::one(); N],
                    bias: [T::zero(); N],
                    running_mean: [T::zero(); N],
                    running_var: [T::one(); N],
                    momentum: T::from_f64(0.1),
                    eps: T::from_f64(1e-5),
                }
            }

            /// With a momentum in `[0, 1]` and a positive `eps`.
            ///
            /// # Errors
            /// [`Error::InvalidSetting`] naming the setting outside its range.
            pub fn with(momentum: f64, eps: f64) -> Result<Self, Error> {
                check_settings($name, momentum, eps)?;
                Ok(Self {
                    momentum: T::from_f64(momentum),
                    eps: T::from_f64(eps),
                    ..Self::new()
                })
            }

            /// The momentum of the running statistics.
            #[must_use]
            pub fn momentum(&self) -> T {
                self.momentum
            }

            /// `ε`.
            #[must_use]
            pub fn eps(&self) -> T {
                self.eps
            }

            /// Moves the running statistics towards `stats` (PyTorch's rule;
            /// the unbiased variance; a statistic over one value leaves the
            /// running variance as it is).
            fn update_running(&mut self, stats: &NormStats<T, N>) {
                if stats.count == 0 {
                    return;
                }
                let m = self.momentum;
                let keep = T::one() - m;
                let unbias = if stats.count > 1 {
                    Some(T::from_usize(stats.count) / T::from_usize(stats.count - 1))
                } else {
                    None
                };
                for j in 0..N {
                    self.running_mean[j] = keep * self.running_mean[j] + m * stats.mean[j];
                    if let Some(u) = unbias {
                        self.running_var[j] = keep * self.running_var[j] + m * stats.var[j] * u;
                    }
                }
            }
        }

        impl<T: Scalar, const N: usize> Default for $Name<T, N> {
            fn default() -> Self {
                Self::new()
            }
        }

        impl<T: Scalar, const N: usize> Params<T> for $Name<T, N> {
            const TENSORS: usize = 2;
            const PARAMS: usize = 2 * N;
            const BUFFERS: usize = 2;
            const BUFFER_VALUES: usize = 2 * N;

            #[inline]
            fn tensor(&self, k: usize) -> Option<Tensor<'_, T>> {
                let (leaf, data) = match k {
                    0 => ("weight", &self.weight),
                    1 => ("bias", &self.bias),
                    _ => return None,
                };
                Some(Tensor {
                    name: ParamName::leaf(leaf),
                    shape: Shape::new(&[N]),
                    data,
                })
            }

            #[inline]
            fn tensor_mut(&mut self, k: usize) -> Option<TensorMut<'_, T>> {
                let (leaf, data) = match k {
                    0 => ("weight", &mut self.weight),
                    1 => ("bias", &mut self.bias),
                    _ => return None,
                };
                Some(TensorMut {
                    name: ParamName::leaf(leaf),
                    shape: Shape::new(&[N]),
                    data,
                })
            }

            #[inline]
            fn buffer(&self, k: usize) -> Option<Tensor<'_, T>> {
                let (leaf, data) = match k {
                    0 => ("running_mean", &self.running_mean),
                    1 => ("running_var", &self.running_var),
                    _ => return None,
                };
                Some(Tensor {
                    name: ParamName::leaf(leaf),
                    shape: Shape::new(&[N]),
                    data,
                })
            }

            #[inline]
            fn buffer_mut(&mut self, k: usize) -> Option<TensorMut<'_, T>> {
                let (leaf, data) = match k {
                    0 => ("running_mean", &mut self.running_mean),
                    1 => ("running_var", &mut self.running_var),
                    _ => return None,
                };
                Some(TensorMut {
                    name: ParamName::leaf(leaf),
                    shape: Shape::new(&[N]),
                    data,
                })
            }

            /// Zero parameters and buffers, the same momentum and eps.
            fn zeros_like(&self) -> Self {
                Self {
                    weight: [T::zero(); N],
                    bias: [T::zero(); N],
                    running_mean: [T::zero(); N],
                    running_var: [T::zero(); N],
                    ..*self
                }
            }
        }

        impl<T: Scalar, U: Scalar, const N: usize> Recast<U> for $Name<T, N> {
            type Output = $Name<U, N>;
            fn recast(&self) -> $Name<U, N> {
                let c = |a: &[T; N]| a.map(|v| U::from_f64(v.as_f64()));
                $Name {
                    weight: c(&self.weight),
                    bias: c(&self.bias),
                    running_mean: c(&self.running_mean),
                    running_var: c(&self.running_var),
                    momentum: U::from_f64(self.momentum.as_f64()),
                    eps: U::from_f64(self.eps.as_f64()),
                }
            }
        }
    };
}

batch_norm_common!(BatchNorm1d, "BatchNorm1d");
batch_norm_common!(BatchNorm2d, "BatchNorm2d");

impl<T: Scalar, const B: usize, const N: usize> Layer<Matrix<T, B, N>> for BatchNorm1d<T, N> {
    type Output = Matrix<T, B, N>;
    type Cache = NormStats<T, N>;

    #[inline]
    fn forward(&self, x: &Matrix<T, B, N>) -> (Matrix<T, B, N>, NormStats<T, N>) {
        let (mut y, mut cache) = (Matrix::zeros(), NormStats::default());
        self.forward_train(x, &Ctx::full(B), &mut y, &mut cache);
        (y, cache)
    }

    #[inline]
    fn forward_into(&self, x: &Matrix<T, B, N>, y: &mut Matrix<T, B, N>, cache: &mut Self::Cache) {
        self.forward_train(x, &Ctx::full(B), y, cache);
    }

    fn forward_train(
        &self,
        x: &Matrix<T, B, N>,
        ctx: &Ctx,
        y: &mut Matrix<T, B, N>,
        cache: &mut Self::Cache,
    ) {
        const {
            assert!(
                B >= 2,
                "batch norm in training mode needs batches of at least 2 rows"
            )
        };
        let rows = ctx.rows().min(B);
        let x = x.as_array();
        *cache = row_stats(&x[..rows]);
        let scale = scales(&self.weight, &cache.var, self.eps);
        apply(x, y.as_array_mut(), &cache.mean, &scale, &self.bias);
    }

    fn infer(&self, x: &Matrix<T, B, N>) -> Matrix<T, B, N> {
        let scale = scales(&self.weight, &self.running_var, self.eps);
        let mut y = Matrix::zeros();
        apply(
            x.as_array(),
            y.as_array_mut(),
            &self.running_mean,
            &scale,
            &self.bias,
        );
        y
    }

    fn backward(
        &self,
        x: &Matrix<T, B, N>,
        _y: &Matrix<T, B, N>,
        cache: &Self::Cache,
        dy: &Matrix<T, B, N>,
        grads: &mut Self,
    ) -> Matrix<T, B, N> {
        let rows = cache.count.min(B);
        let mut dx = Matrix::zeros();
        norm_backward(
            &self.weight,
            self.eps,
            cache,
            &x.as_array()[..rows],
            &dy.as_array()[..rows],
            &mut dx.as_array_mut()[..rows],
            grads,
        );
        dx
    }

    fn update(&mut self, _x: &Matrix<T, B, N>, cache: &Self::Cache) {
        self.update_running(cache);
    }
}

/// Mean and biased variance per column of `rows` (two passes).
fn row_stats<T: Scalar, const N: usize>(rows: &[[T; N]]) -> NormStats<T, N> {
    let inv = T::one() / T::from_usize(rows.len().max(1));
    let mut mean = [T::zero(); N];
    for r in rows {
        for (m, &v) in mean.iter_mut().zip(r) {
            *m += v;
        }
    }
    let mean = mean.map(|s| s * inv);
    let mut var = [T::zero(); N];
    for r in rows {
        for ((s, &v), &m) in var.iter_mut().zip(r).zip(&mean) {
            *s += (v - m) * (v - m);
        }
    }
    NormStats {
        mean,
        var: var.map(|s| s * inv),
        count: rows.len(),
    }
}

/// `γ / √(σ² + ε)` per feature.
fn scales<T: Scalar, const N: usize>(weight: &[T; N], var: &[T; N], eps: T) -> [T; N] {
    core::array::from_fn(|j| weight[j] / (var[j] + eps).sqrt())
}

/// `y = (x - μ) · scale + β`, row by row.
fn apply<T: Scalar, const N: usize>(
    x: &[[T; N]],
    y: &mut [[T; N]],
    mean: &[T; N],
    scale: &[T; N],
    bias: &[T; N],
) {
    for (xr, yr) in x.iter().zip(y.iter_mut()) {
        for j in 0..N {
            yr[j] = (xr[j] - mean[j]) * scale[j] + bias[j];
        }
    }
}

/// The batch-norm backward over the real rows (module docs), writing
/// `∂L/∂x` into `dx` and `∂L/∂γ`, `∂L/∂β` into `grads`.
fn norm_backward<T: Scalar, const N: usize, L>(
    weight: &[T; N],
    eps: T,
    stats: &NormStats<T, N>,
    x: &[[T; N]],
    dy: &[[T; N]],
    dx: &mut [[T; N]],
    grads: &mut L,
) where
    L: NormGrads<T, N>,
{
    let inv_std: [T; N] = core::array::from_fn(|j| T::one() / (stats.var[j] + eps).sqrt());
    let (mut sdy, mut sdyx) = ([T::zero(); N], [T::zero(); N]);
    for (xr, dr) in x.iter().zip(dy) {
        for j in 0..N {
            let xhat = (xr[j] - stats.mean[j]) * inv_std[j];
            sdy[j] += dr[j];
            sdyx[j] += dr[j] * xhat;
        }
    }
    let m = T::from_usize(x.len().max(1));
    let inv_m = T::one() / m;
    for ((xr, dr), out) in x.iter().zip(dy).zip(dx.iter_mut()) {
        for j in 0..N {
            let xhat = (xr[j] - stats.mean[j]) * inv_std[j];
            out[j] = weight[j] * inv_std[j] * inv_m * (m * dr[j] - sdy[j] - xhat * sdyx[j]);
        }
    }
    grads.set(sdyx, sdy);
}

/// Where [`norm_backward`] writes `∂L/∂γ` and `∂L/∂β`.
trait NormGrads<T, const N: usize> {
    fn set(&mut self, dweight: [T; N], dbias: [T; N]);
}

impl<T: Scalar, const N: usize> NormGrads<T, N> for BatchNorm1d<T, N> {
    fn set(&mut self, dweight: [T; N], dbias: [T; N]) {
        self.weight = dweight;
        self.bias = dbias;
    }
}

impl<T: Scalar, const N: usize> NormGrads<T, N> for LayerNorm<T, N> {
    fn set(&mut self, dweight: [T; N], dbias: [T; N]) {
        self.weight = dweight;
        self.bias = dbias;
    }
}

impl<T: Scalar, const B: usize, const C: usize, const H: usize, const W: usize>
    Layer<Images<T, B, C, H, W>> for BatchNorm2d<T, C>
{
    type Output = Images<T, B, C, H, W>;
    type Cache = NormStats<T, C>;

    #[inline]
    fn forward(&self, x: &Images<T, B, C, H, W>) -> (Images<T, B, C, H, W>, NormStats<T, C>) {
        let (mut y, mut cache) = (Images::zeros(), NormStats::default());
        self.forward_train(x, &Ctx::full(B), &mut y, &mut cache);
        (y, cache)
    }

    #[inline]
    fn forward_into(
        &self,
        x: &Images<T, B, C, H, W>,
        y: &mut Images<T, B, C, H, W>,
        cache: &mut Self::Cache,
    ) {
        self.forward_train(x, &Ctx::full(B), y, cache);
    }

    fn forward_train(
        &self,
        x: &Images<T, B, C, H, W>,
        ctx: &Ctx,
        y: &mut Images<T, B, C, H, W>,
        cache: &mut Self::Cache,
    ) {
        const {
            assert!(
                B * H * W >= 2,
                "batch norm in training mode needs at least 2 values per channel"
            )
        };
        let rows = ctx.rows().min(B);
        let x = x.as_array();
        let count = rows * H * W;
        let inv = T::one() / T::from_usize(count.max(1));
        let mut mean = [T::zero(); C];
        let mut var = [T::zero(); C];
        for c in 0..C {
            let mut s = T::zero();
            for img in &x[..rows] {
                for row in &img[c] {
                    for &v in row {
                        s += v;
                    }
                }
            }
            mean[c] = s * inv;
            let mut q = T::zero();
            for img in &x[..rows] {
                for row in &img[c] {
                    for &v in row {
                        q += (v - mean[c]) * (v - mean[c]);
                    }
                }
            }
            var[c] = q * inv;
        }
        *cache = NormStats { mean, var, count };
        let scale = scales(&self.weight, &var, self.eps);
        map_channels(x, y.as_array_mut(), |c, v| {
            (v - mean[c]) * scale[c] + self.bias[c]
        });
    }

    fn infer(&self, x: &Images<T, B, C, H, W>) -> Images<T, B, C, H, W> {
        let scale = scales(&self.weight, &self.running_var, self.eps);
        let mut y = Images::zeros();
        map_channels(x.as_array(), y.as_array_mut(), |c, v| {
            (v - self.running_mean[c]) * scale[c] + self.bias[c]
        });
        y
    }

    fn backward(
        &self,
        x: &Images<T, B, C, H, W>,
        _y: &Images<T, B, C, H, W>,
        cache: &Self::Cache,
        dy: &Images<T, B, C, H, W>,
        grads: &mut Self,
    ) -> Images<T, B, C, H, W> {
        let rows = (cache.count / (H * W).max(1)).min(B);
        let (x, dy) = (x.as_array(), dy.as_array());
        let mut dx = Images::zeros();
        let out = dx.as_array_mut();
        let m = T::from_usize(cache.count.max(1));
        let inv_m = T::one() / m;
        for c in 0..C {
            let inv_std = T::one() / (cache.var[c] + self.eps).sqrt();
            let (mut sdy, mut sdyx) = (T::zero(), T::zero());
            for n in 0..rows {
                for (xr, dr) in x[n][c].iter().zip(&dy[n][c]) {
                    for (&v, &d) in xr.iter().zip(dr) {
                        sdy += d;
                        sdyx += d * (v - cache.mean[c]) * inv_std;
                    }
                }
            }
            grads.weight[c] = sdyx;
            grads.bias[c] = sdy;
            let k = self.weight[c] * inv_std * inv_m;
            for n in 0..rows {
                for ((xr, dr), or) in x[n][c].iter().zip(&dy[n][c]).zip(out[n][c].iter_mut()) {
                    for ((&v, &d), o) in xr.iter().zip(dr).zip(or.iter_mut()) {
                        let xhat = (v - cache.mean[c]) * inv_std;
                        *o = k * (m * d - sdy - xhat * sdyx);
                    }
                }
            }
        }
        dx
    }

    fn update(&mut self, _x: &Images<T, B, C, H, W>, cache: &Self::Cache) {
        self.update_running(cache);
    }
}

/// `y[n][c][i][j] = f(c, x[n][c][i][j])`.
fn map_channels<T: Scalar, const B: usize, const C: usize, const H: usize, const W: usize>(
    x: &[[[[T; W]; H]; C]; B],
    y: &mut [[[[T; W]; H]; C]; B],
    f: impl Fn(usize, T) -> T,
) {
    for (xi, yi) in x.iter().zip(y.iter_mut()) {
        for (c, (xc, yc)) in xi.iter().zip(yi.iter_mut()).enumerate() {
            for (xr, yr) in xc.iter().zip(yc.iter_mut()) {
                for (&v, o) in xr.iter().zip(yr.iter_mut()) {
                    *o = f(c, v);
                }
            }
        }
    }
}

/// Per-row statistics of a [`LayerNorm`]'s forward pass: the mean and
/// `1 / √(σ² + ε)` of each row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RowStats<T, const B: usize> {
    /// `μ`, per row.
    pub mean: [T; B],
    /// `1 / √(σ² + ε)`, per row.
    pub inv_std: [T; B],
}

/// Layer normalization over the `N` features of each row (PyTorch's
/// `LayerNorm(N)`): `μ` and `σ²` (biased) are each row's own, the same in
/// training and evaluation, so a padding row never affects another row.
/// Parameters `"weight"` (`γ`, 1) and `"bias"` (`β`, 0); `ε = 1e-5`. See
/// [`BatchNorm1d`] for the backward pass, with `m = N` and sums over each
/// row's features (`∂L/∂γ` and `∂L/∂β` sum over the rows).
///
/// Cost: `O(B N)` per pass, a cache of `2 B` values.
///
/// ```
/// use stackgrad::nn::{Layer, LayerNorm};
/// use stackgrad::Matrix;
/// let ln = LayerNorm::<f64, 4>::new();
/// let y = ln.infer(&Matrix::from_array([[1.0, 2.0, 3.0, 4.0]]));
/// let mean: f64 = y.row(0).iter().sum::<f64>() / 4.0;
/// let var: f64 = y.row(0).iter().map(|v| v * v).sum::<f64>() / 4.0;
/// assert!(mean.abs() < 1e-15 && (var - 1.0).abs() < 1e-4);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerNorm<T, const N: usize> {
    /// `γ`, per feature.
    pub weight: [T; N],
    /// `β`, per feature.
    pub bias: [T; N],
    eps: T,
}

impl<T: Scalar, const N: usize> LayerNorm<T, N> {
    /// `γ = 1`, `β = 0`, `ε = 1e-5`.
    #[must_use]
    pub fn new() -> Self {
        Self {
            weight: [T::one(); N],
            bias: [T::zero(); N],
            eps: T::from_f64(1e-5),
        }
    }

    /// With a positive `eps`.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] when `eps` is not positive and finite.
    pub fn with_eps(eps: f64) -> Result<Self, Error> {
        check_settings("LayerNorm", 0.0, eps)?;
        Ok(Self {
            eps: T::from_f64(eps),
            ..Self::new()
        })
    }

    /// `ε`.
    #[must_use]
    pub fn eps(&self) -> T {
        self.eps
    }
}

impl<T: Scalar, const N: usize> Default for LayerNorm<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Scalar, const B: usize, const N: usize> Layer<Matrix<T, B, N>> for LayerNorm<T, N> {
    type Output = Matrix<T, B, N>;
    type Cache = RowStats<T, B>;

    fn forward(&self, x: &Matrix<T, B, N>) -> (Matrix<T, B, N>, RowStats<T, B>) {
        let mut cache = RowStats {
            mean: [T::zero(); B],
            inv_std: [T::zero(); B],
        };
        let mut y = Matrix::zeros();
        let inv_n = T::one() / T::from_usize(N);
        for (r, (xr, yr)) in x.as_array().iter().zip(y.as_array_mut()).enumerate() {
            let mean = xr.iter().fold(T::zero(), |s, &v| s + v) * inv_n;
            let var = xr
                .iter()
                .fold(T::zero(), |s, &v| s + (v - mean) * (v - mean))
                * inv_n;
            let inv_std = T::one() / (var + self.eps).sqrt();
            for j in 0..N {
                yr[j] = (xr[j] - mean) * inv_std * self.weight[j] + self.bias[j];
            }
            cache.mean[r] = mean;
            cache.inv_std[r] = inv_std;
        }
        (y, cache)
    }

    fn backward(
        &self,
        x: &Matrix<T, B, N>,
        _y: &Matrix<T, B, N>,
        cache: &RowStats<T, B>,
        dy: &Matrix<T, B, N>,
        grads: &mut Self,
    ) -> Matrix<T, B, N> {
        let mut dx = Matrix::zeros();
        let (mut dweight, mut dbias) = ([T::zero(); N], [T::zero(); N]);
        let n = T::from_usize(N);
        let inv_n = T::one() / n;
        for r in 0..B {
            let (xr, dr) = (x.row(r), dy.row(r));
            let (mean, inv_std) = (cache.mean[r], cache.inv_std[r]);
            let (mut sg, mut sgx) = (T::zero(), T::zero());
            for j in 0..N {
                let xhat = (xr[j] - mean) * inv_std;
                let g = dr[j] * self.weight[j];
                sg += g;
                sgx += g * xhat;
                dweight[j] += dr[j] * xhat;
                dbias[j] += dr[j];
            }
            let out = &mut dx.as_array_mut()[r];
            for j in 0..N {
                let xhat = (xr[j] - mean) * inv_std;
                let g = dr[j] * self.weight[j];
                out[j] = inv_std * inv_n * (n * g - sg - xhat * sgx);
            }
        }
        grads.set(dweight, dbias);
        dx
    }
}

impl<T: Scalar, const N: usize> Params<T> for LayerNorm<T, N> {
    const TENSORS: usize = 2;
    const PARAMS: usize = 2 * N;

    #[inline]
    fn tensor(&self, k: usize) -> Option<Tensor<'_, T>> {
        let (leaf, data) = match k {
            0 => ("weight", &self.weight),
            1 => ("bias", &self.bias),
            _ => return None,
        };
        Some(Tensor {
            name: ParamName::leaf(leaf),
            shape: Shape::new(&[N]),
            data,
        })
    }

    #[inline]
    fn tensor_mut(&mut self, k: usize) -> Option<TensorMut<'_, T>> {
        let (leaf, data) = match k {
            0 => ("weight", &mut self.weight),
            1 => ("bias", &mut self.bias),
            _ => return None,
        };
        Some(TensorMut {
            name: ParamName::leaf(leaf),
            shape: Shape::new(&[N]),
            data,
        })
    }

    fn zeros_like(&self) -> Self {
        Self {
            weight: [T::zero(); N],
            bias: [T::zero(); N],
            eps: self.eps,
        }
    }
}

impl<T: Scalar, U: Scalar, const N: usize> Recast<U> for LayerNorm<T, N> {
    type Output = LayerNorm<U, N>;
    fn recast(&self) -> LayerNorm<U, N> {
        LayerNorm {
            weight: self.weight.map(|v| U::from_f64(v.as_f64())),
            bias: self.bias.map(|v| U::from_f64(v.as_f64())),
            eps: U::from_f64(self.eps.as_f64()),
        }
    }
}

rows_layer_connect!(BatchNorm1d<T, N>, NormFeatures, N, N);
rows_layer_connect!(LayerNorm<T, N>, NormFeatures, N, N);

impl<T: Scalar, U, const P: usize, const D: usize, const H: usize, const W: usize, const C: usize>
    Connect<Image<U, D, H, W>, At<P>> for BatchNorm2d<T, C>
where
    Then<T, Shapes>: SameScalar<Self, P, U, T> + NormChannels<Self, P, D, C>,
{
    type Out = <Then<T, Shapes> as NormChannels<Self, P, D, C>>::Same<
        <Then<T, Shapes> as SameScalar<Self, P, U, T>>::Same<Image<T, C, H, W>>,
    >;
}

impl<T: Scalar, U, const P: usize, const D: usize, const C: usize> Connect<Channels<U, D>, At<P>>
    for BatchNorm2d<T, C>
where
    Then<T, Shapes>: SameScalar<Self, P, U, T> + NormChannels<Self, P, D, C>,
{
    type Out = <Then<T, Shapes> as NormChannels<Self, P, D, C>>::Same<
        <Then<T, Shapes> as SameScalar<Self, P, U, T>>::Same<Channels<T, C>>,
    >;
}

impl<T: Scalar, const P: usize, const C: usize> Connect<Unknown, At<P>> for BatchNorm2d<T, C> {
    type Out = Channels<T, C>;
}

impl<T: Scalar, U, const P: usize, const N: usize, const C: usize> Connect<Rows<U, N>, At<P>>
    for BatchNorm2d<T, C>
where
    Then<T, Shapes>: TakesImages<Self, P, N>,
{
    type Out = <Then<T, Shapes> as TakesImages<Self, P, N>>::Same<Unknown>;
}
