//! Pooling over `K x K` windows with stride `S`: [`MaxPool2d`] and [`AvgPool2d`].
//!
//! For an input batch `X: N x C x H x W` the output is `N x C x OH x OW` with
//! `OH = (H - K) / S + 1`, `OW = (W - K) / S + 1` (computed at compile time;
//! windows that would hang over the edge are dropped, as in PyTorch's default).
//!
//! | layer | `Y[n,c,a,b]` | `∂L/∂X` |
//! |---|---|---|
//! | [`MaxPool2d<K, S>`](MaxPool2d) | `max` of the window at `(aS, bS)` | `dY` routed to the window's first maximum |
//! | [`AvgPool2d<K, S>`](AvgPool2d) | mean of the window | `dY / K²` spread over the window |
//!
//! With `S < K` windows overlap and the input gradient sums over them.

use super::{Connect, Layer, Params, Pattern, Recast, Tensor, TensorMut};
use crate::shape::{
    At, Channels, Check, Dim, Image, PoolOut, PoolSides, Rows, Shapes, TakesImages, Unknown,
};
use crate::{Images, Scalar};

/// Max pooling over `K x K` windows with stride `S` (default `K`: windows tile
/// the image). No parameters.
///
/// The maximum of a window containing NaN is NaN. The gradient goes to the
/// first maximal element of each window in row-major order (the subgradient
/// convention at ties).
///
/// ```
/// use stackgrad::nn::{Layer, MaxPool2d};
/// use stackgrad::Images;
/// let x = Images::<f32, 1, 1, 2, 4>::from_array([[[[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 7.0, 6.0]]]]);
/// let (y, cache) = MaxPool2d::<2>.forward(&x);
/// assert_eq!(y.into_array(), [[[[5.0, 7.0]]]]);
/// let dy = Images::from_array([[[[10.0, 20.0]]]]);
/// let dx = MaxPool2d::<2>.backward(&x, &y, &cache, &dy, &mut MaxPool2d);
/// assert_eq!(dx.into_array(), [[[[0.0, 10.0, 0.0, 0.0], [0.0, 0.0, 20.0, 0.0]]]]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MaxPool2d<const K: usize, const S: usize = K>;

/// Average pooling over `K x K` windows with stride `S` (default `K`). No parameters.
///
/// ```
/// use stackgrad::nn::{AvgPool2d, Layer};
/// use stackgrad::Images;
/// let x = Images::<f64, 1, 1, 2, 4>::from_array([[[[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 7.0, 6.0]]]]);
/// let (y, cache) = AvgPool2d::<2>.forward(&x);
/// assert_eq!(y.into_array(), [[[[3.25, 3.75]]]]);
/// let dy = Images::from_array([[[[4.0, 8.0]]]]);
/// let dx = AvgPool2d::<2>.backward(&x, &y, &cache, &dy, &mut AvgPool2d);
/// assert_eq!(dx.into_array(), [[[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]]]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AvgPool2d<const K: usize, const S: usize = K>;

/// Index `(di, dj)` of the first maximum (NaN counts as maximal) of the window
/// whose top-left corner is `(i0, j0)`, and its value.
#[inline(always)]
fn window_max<T: Scalar, const H: usize, const W: usize, const K: usize>(
    ch: &[[T; W]; H],
    i0: usize,
    j0: usize,
) -> (usize, usize, T) {
    let mut best = (i0, j0, ch[i0][j0]);
    if best.2.is_nan() {
        return best;
    }
    for (i, row) in ch.iter().enumerate().skip(i0).take(K) {
        for (j, &v) in row.iter().enumerate().skip(j0).take(K) {
            if v.is_nan() {
                return (i, j, v);
            }
            if v > best.2 {
                best = (i, j, v);
            }
        }
    }
    best
}

/// The max-pooling forward into `y`: each window's maximum.
#[inline(always)]
fn max_pool_into<
    T: Scalar,
    const N: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const K: usize,
    const S: usize,
    const OH: usize,
    const OW: usize,
>(
    x: &Images<T, N, C, H, W>,
    y: &mut Images<T, N, C, OH, OW>,
) {
    if S == K {
        return tiled_max_pool_into::<T, N, C, H, W, K, OH, OW>(x, y);
    }
    for (xn, yn) in x.as_array().iter().zip(y.as_array_mut()) {
        for (xc, yc) in xn.iter().zip(yn.iter_mut()) {
            for (a, yr) in yc.iter_mut().enumerate() {
                for (b, yv) in yr.iter_mut().enumerate() {
                    *yv = window_max::<T, H, W, K>(xc, a * S, b * S).2;
                }
            }
        }
    }
}

/// The max-pooling input gradient into `dx` (overwritten): each window's
/// gradient goes to its first maximum.
#[inline(always)]
fn max_pool_grad_into<
    T: Scalar,
    const N: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const K: usize,
    const S: usize,
    const OH: usize,
    const OW: usize,
>(
    x: &Images<T, N, C, H, W>,
    y: &Images<T, N, C, OH, OW>,
    dy: &Images<T, N, C, OH, OW>,
    dx: &mut Images<T, N, C, H, W>,
) {
    if S == K {
        return tiled_max_pool_grad_into::<T, N, C, H, W, K, OH, OW>(x, y, dy, dx);
    }
    dx.as_mut_slice().fill(T::zero());
    for ((xn, dxn), dyn_) in x
        .as_array()
        .iter()
        .zip(dx.as_array_mut())
        .zip(dy.as_array())
    {
        for ((xc, dxc), dyc) in xn.iter().zip(dxn.iter_mut()).zip(dyn_) {
            for (a, dyr) in dyc.iter().enumerate() {
                for (b, &d) in dyr.iter().enumerate() {
                    let (i, j, _) = window_max::<T, H, W, K>(xc, a * S, b * S);
                    dxc[i][j] += d;
                }
            }
        }
    }
}

/// [`max_pool_grad_into`] for windows that tile the image (`S == K`), from
/// the forward's output `y` (each window's maximum): every input element is
/// in at most one window, and the one that gets the window's gradient is the
/// first (row-major) equal to the maximum, or the first NaN, found by
/// comparing each element with the maximum instead of finding it again.
#[inline(always)]
fn tiled_max_pool_grad_into<
    T: Scalar,
    const N: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const K: usize,
    const OH: usize,
    const OW: usize,
>(
    x: &Images<T, N, C, H, W>,
    y: &Images<T, N, C, OH, OW>,
    dy: &Images<T, N, C, OH, OW>,
    dx: &mut Images<T, N, C, H, W>,
) {
    // Rows and columns past the last whole window get no gradient.
    if OH * K < H || OW * K < W {
        dx.as_mut_slice().fill(T::zero());
    }
    for (((xn, yn), dyn_), dxn) in x
        .as_array()
        .iter()
        .zip(y.as_array())
        .zip(dy.as_array())
        .zip(dx.as_array_mut())
    {
        for (((xc, yc), dyc), dxc) in xn.iter().zip(yn).zip(dyn_).zip(dxn.iter_mut()) {
            for (a, (yr, dyr)) in yc.iter().zip(dyc).enumerate() {
                for (b, (&m, &d)) in yr.iter().zip(dyr).enumerate() {
                    // Every element of the window written, without a branch
                    // on the data: where the maximum sits is random, and a
                    // scan that stopped there was mispredicted about once per
                    // window (example 04's pooling backward took 16% of its
                    // training time).
                    let mut found = false;
                    for ki in 0..K {
                        for kj in 0..K {
                            let (i, j) = (a * K + ki, b * K + kj);
                            let v = xc[i][j];
                            let hit = !found & ((v == m) | v.is_nan());
                            dxc[i][j] = if hit { d } else { T::zero() };
                            found |= hit;
                        }
                    }
                }
            }
        }
    }
}

/// [`max_pool_into`] for windows that tile the image (`S == K`): each
/// window's maximum, or its first NaN, with selects instead of branches.
#[inline(always)]
fn tiled_max_pool_into<
    T: Scalar,
    const N: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const K: usize,
    const OH: usize,
    const OW: usize,
>(
    x: &Images<T, N, C, H, W>,
    y: &mut Images<T, N, C, OH, OW>,
) {
    for (xn, yn) in x.as_array().iter().zip(y.as_array_mut()) {
        for (xc, yc) in xn.iter().zip(yn.iter_mut()) {
            for (a, yr) in yc.iter_mut().enumerate() {
                for (b, yv) in yr.iter_mut().enumerate() {
                    let mut m = xc[a * K][b * K];
                    for ki in 0..K {
                        for kj in 0..K {
                            let v = xc[a * K + ki][b * K + kj];
                            // Kept: a NaN, or a value at least as large.
                            m = if m.is_nan() | (v <= m) { m } else { v };
                        }
                    }
                    *yv = m;
                }
            }
        }
    }
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
> Layer<Images<T, N, C, H, W>> for MaxPool2d<K, S>
where
    Check: PoolOut<H, K, S, Out = Dim<OH>> + PoolOut<W, K, S, Out = Dim<OW>>,
{
    type Output = Images<T, N, C, OH, OW>;
    /// Nothing: backward finds the maxima again in the input rather than
    /// storing them.
    type Cache = ();
    const HAS_PARAMS: bool = false;

    #[inline]
    fn forward(&self, x: &Images<T, N, C, H, W>) -> (Self::Output, ()) {
        (self.infer(x), ())
    }

    #[inline]
    fn forward_into(&self, x: &Images<T, N, C, H, W>, y: &mut Self::Output, (): &mut ()) {
        max_pool_into::<T, N, C, H, W, K, S, OH, OW>(x, y);
    }

    fn infer(&self, x: &Images<T, N, C, H, W>) -> Self::Output {
        let mut y = Images::<T, N, C, OH, OW>::zeros();
        self.forward_into(x, &mut y, &mut ());
        y
    }

    // dX[n,c,i,j] = Σ over windows (a,b) whose first maximum is (i,j) of dY[n,c,a,b]
    fn backward(
        &self,
        x: &Images<T, N, C, H, W>,
        y: &Images<T, N, C, OH, OW>,
        (): &(),
        dy: &Images<T, N, C, OH, OW>,
        grads: &mut Self,
    ) -> Images<T, N, C, H, W> {
        let mut dx = Images::<T, N, C, H, W>::zeros();
        self.backward_into(x, y, &(), &mut (), dy, &mut dx, grads);
        dx
    }

    #[inline]
    fn backward_into(
        &self,
        x: &Images<T, N, C, H, W>,
        y: &Images<T, N, C, OH, OW>,
        (): &(),
        (): &mut (),
        dy: &Images<T, N, C, OH, OW>,
        dx: &mut Images<T, N, C, H, W>,
        _: &mut Self,
    ) {
        max_pool_grad_into::<T, N, C, H, W, K, S, OH, OW>(x, y, dy, dx);
    }

    // No parameters: nothing to compute.
    #[inline]
    fn backward_params(
        &self,
        _: &Images<T, N, C, H, W>,
        _: &Images<T, N, C, OH, OW>,
        (): &(),
        _: &Images<T, N, C, OH, OW>,
        _: &mut Self,
    ) {
    }

    // The piece a max-pooling output is on is the position of its window's
    // maximum: a perturbation that moves it is a kink (see `Pattern`).
    fn pattern(
        &self,
        x: &Images<T, N, C, H, W>,
        _: &Images<T, N, C, OH, OW>,
        (): &(),
        pattern: &mut Pattern,
    ) {
        for xn in x.as_array() {
            for xc in xn {
                for a in 0..OH {
                    for b in 0..OW {
                        let (i, j, _) = window_max::<T, H, W, K>(xc, a * S, b * S);
                        pattern.write((i * W + j) as u64);
                    }
                }
            }
        }
    }
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
> Layer<Images<T, N, C, H, W>> for AvgPool2d<K, S>
where
    Check: PoolOut<H, K, S, Out = Dim<OH>> + PoolOut<W, K, S, Out = Dim<OW>>,
{
    type Output = Images<T, N, C, OH, OW>;
    /// Nothing: the average is linear.
    type Cache = ();
    const HAS_PARAMS: bool = false;

    #[inline]
    fn forward(&self, x: &Images<T, N, C, H, W>) -> (Self::Output, ()) {
        (self.infer(x), ())
    }

    fn infer(&self, x: &Images<T, N, C, H, W>) -> Self::Output {
        let scale = T::one() / T::from_usize(K * K);
        let mut y = Images::<T, N, C, OH, OW>::zeros();
        for (xn, yn) in x.as_array().iter().zip(y.as_array_mut()) {
            for (xc, yc) in xn.iter().zip(yn.iter_mut()) {
                for (a, yr) in yc.iter_mut().enumerate() {
                    for (b, yv) in yr.iter_mut().enumerate() {
                        let mut s = T::zero();
                        for row in &xc[a * S..a * S + K] {
                            for &v in &row[b * S..b * S + K] {
                                s += v;
                            }
                        }
                        *yv = s * scale;
                    }
                }
            }
        }
        y
    }

    // dX[n,c,i,j] = Σ over windows (a,b) containing (i,j) of dY[n,c,a,b] / K²
    fn backward(
        &self,
        _: &Images<T, N, C, H, W>,
        _: &Images<T, N, C, OH, OW>,
        (): &(),
        dy: &Images<T, N, C, OH, OW>,
        _grads: &mut Self,
    ) -> Images<T, N, C, H, W> {
        let scale = T::one() / T::from_usize(K * K);
        let mut dx = Images::<T, N, C, H, W>::zeros();
        for (dxn, dyn_) in dx.as_array_mut().iter_mut().zip(dy.as_array()) {
            for (dxc, dyc) in dxn.iter_mut().zip(dyn_) {
                for (a, dyr) in dyc.iter().enumerate() {
                    for (b, &d) in dyr.iter().enumerate() {
                        let d = d * scale;
                        for row in &mut dxc[a * S..a * S + K] {
                            for v in &mut row[b * S..b * S + K] {
                                *v += d;
                            }
                        }
                    }
                }
            }
        }
        dx
    }
}

/// `Connect` for a pooling layer: images keep their channels and shrink.
macro_rules! pool_connect {
    ($($Pool:ident),*) => {$(
        impl<U, const AT: usize, const C: usize, const H: usize, const W: usize, const K: usize, const S: usize>
            Connect<Image<U, C, H, W>, At<AT>> for $Pool<K, S>
        where
            Shapes: PoolSides<Self, AT, H, W, K, S>,
        {
            type Out = <Shapes as PoolSides<Self, AT, H, W, K, S>>::Out<U, C>;
        }

        impl<U, const AT: usize, const C: usize, const K: usize, const S: usize>
            Connect<Channels<U, C>, At<AT>> for $Pool<K, S>
        {
            type Out = Channels<U, C>;
        }

        impl<const AT: usize, const K: usize, const S: usize> Connect<Unknown, At<AT>> for $Pool<K, S> {
            type Out = Unknown;
        }

        impl<U, const AT: usize, const N: usize, const K: usize, const S: usize>
            Connect<Rows<U, N>, At<AT>> for $Pool<K, S>
        where
            Shapes: TakesImages<Self, AT, N>,
        {
            type Out = <Shapes as TakesImages<Self, AT, N>>::Same<Unknown>;
        }
    )*};
}
pool_connect!(MaxPool2d, AvgPool2d);

macro_rules! pool_common {
    ($($pool:ident),*) => {$(
        impl<T: Scalar, const K: usize, const S: usize> Params<T> for $pool<K, S> {
            const TENSORS: usize = 0;
            const PARAMS: usize = 0;
            #[inline]
            fn tensor(&self, _k: usize) -> Option<Tensor<'_, T>> {
                None
            }
            #[inline]
            fn tensor_mut(&mut self, _k: usize) -> Option<TensorMut<'_, T>> {
                None
            }
            #[inline]
            fn zeros_like(&self) -> Self {
                *self
            }
        }

        impl<U: Scalar, const K: usize, const S: usize> Recast<U> for $pool<K, S> {
            type Output = Self;
            #[inline]
            fn recast(&self) -> Self {
                *self
            }
        }
    )*};
}

pool_common!(MaxPool2d, AvgPool2d);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::numgrad::check_layer;

    /// Distinct values at least 0.05 apart, so that no central difference (step
    /// at most 0.01) moves a window's maximum.
    fn distinct<T: Scalar, const N: usize, const C: usize, const H: usize, const W: usize>()
    -> Images<T, N, C, H, W> {
        let len = N * C * H * W;
        Images::from_fn(|n, c, i, j| {
            let k = ((n * C + c) * H + i) * W + j;
            // 7919 is prime and does not divide `len`, so k -> 7919 k mod len is a permutation.
            T::from_f64(((k * 7919) % len) as f64 * 0.05 - 1.0)
        })
    }

    macro_rules! pool_gradcheck {
        ($($name:ident: $pool:ty, $t:ty, N=$n:literal C=$c:literal H=$h:literal W=$w:literal;)*) => {$(
            #[test]
            fn $name() {
                let x = distinct::<$t, $n, $c, $h, $w>();
                check_layer(&<$pool>::default(), &x);
            }
        )*};
    }

    pool_gradcheck! {
        max_k2_f64: MaxPool2d<2>, f64, N=2 C=2 H=4 W=6;
        max_k3_s2_overlapping_f64: MaxPool2d<3, 2>, f64, N=1 C=2 H=7 W=5;
        max_k2_s3_gaps_f64: MaxPool2d<2, 3>, f64, N=1 C=1 H=8 W=7;
        max_k2_f32: MaxPool2d<2>, f32, N=2 C=2 H=4 W=6;
        max_k3_s1_f32: MaxPool2d<3, 1>, f32, N=1 C=2 H=5 W=5;
        avg_k2_f64: AvgPool2d<2>, f64, N=2 C=2 H=4 W=6;
        avg_k3_s2_overlapping_f64: AvgPool2d<3, 2>, f64, N=1 C=2 H=7 W=5;
        avg_k2_f32: AvgPool2d<2>, f32, N=2 C=2 H=4 W=6;
        avg_k3_s1_f32: AvgPool2d<3, 1>, f32, N=1 C=2 H=5 W=5;
    }

    #[test]
    fn max_pool_propagates_nan_and_routes_ties_to_the_first() {
        let x = Images::<f64, 1, 1, 2, 4>::from_array([[[
            [2.0, 2.0, 1.0, f64::NAN],
            [2.0, 0.0, 3.0, 0.0],
        ]]]);
        let (y, cache) = MaxPool2d::<2>.forward(&x);
        assert_eq!(y[(0, 0, 0, 0)], 2.0);
        assert!(y[(0, 0, 0, 1)].is_nan());
        let dx = MaxPool2d::<2>.backward(&x, &y, &cache, &Images::splat(1.0), &mut MaxPool2d);
        assert_eq!(dx.as_slice()[..2], [1.0, 0.0]);
        assert_eq!(dx[(0, 0, 0, 3)], 1.0);
    }
}
