//! The convolution's products as register-tiled matrix products on packed
//! panels (see the parent module for what they share with the dense layers').
//!
//! With `t = (c, ki, kj)` a tap, `q = (a, b)` an output pixel and
//! `X̂[t, q] = X[c, aS + ki - P, bS + kj - P]` (zero in the padding):
//!
//! ```text
//! forward      Y[f, q]  = bias[f] + Σ_t W[f, t] X̂[t, q]      rows f, columns q, depth t
//! weight grad  dWᵀ[t, f] += Σ_q X̂[t, q] dY[f, q]            rows t, columns f, depth q
//! input grad   (stride 1) the forward of dY padded by K - 1 - P with the filters
//!              flipped and transposed, W'[c, f, ki, kj] = W[f, c, K-1-ki, K-1-kj]
//! ```
//!
//! `X̂` (the im2col matrix) is never built. Each image is first copied, a
//! group of channels at a time, into a zero-padded buffer that holds, per
//! channel, `S x K` shifted copies of the image, each `OW` columns wide:
//! copy `(ri, kj)`, row `u`, column `b` holds `X[c, uS + ri - P, bS + kj - P]`.
//! Tap `(ki, kj)` at output pixel `q = a OW + b` is then element
//! `(ki / S) OW + q` of copy `(ki % S, kj)`: each row of `X̂` is a contiguous
//! run of the buffer, read in place. The forward's tiles broadcast one weight
//! per row and multiply-add it into two vectors of pixels loaded from there,
//! `MR` filters at a time (8 under AVX-512, 6 under AVX2, so that the
//! accumulators stay in registers); the weight gradient's tiles broadcast the
//! buffer's elements, `MR` taps at a time, into a transposed copy of a block of
//! `dY`. The copies cost `S K` times the image (the im2col matrix: `K²` times).
//! Every buffer is on the stack, of a fixed size: about 100 KiB at most.

use pulp::{Simd, WithSimd};

use super::{Elem, Tiles, copy_spill, load_row, mul_tile, store_row, tiles, wide, zero_spill};

use crate::Scalar;
use crate::scalar::sealed::{Slice, SliceMut};

/// Taps per block of the products' depth (rows of the weight gradient's tiles).
const KC: usize = 512;
/// Elements of the shifted copies of a group of channels, and room past
/// their end for a vector pair's over-read.
const XCAP: usize = 16384;
const XSLACK: usize = 64;
/// Pixels per block of the weight gradient's depth.
const KQ: usize = 256;
/// Elements of the weight gradient's transposed block of `dY` (`KQ x F` at most).
const BTCAP: usize = 8192;
/// Calls `f` with a zeroed buffer of at least `need` (at most [`XCAP`])
/// elements: the smallest of 1024, 4096 and `XCAP`. Clearing the whole
/// 64 KiB buffer on every forward cost a small convolution (example 04's
/// first layer, or any layer at batch 1) more than its products.
#[inline(always)]
fn with_buffer<T: Elem, R>(need: usize, f: impl FnOnce(&mut [T]) -> R) -> R {
    if need <= 1024 {
        f(&mut [T::ZERO; 1024])
    } else if need <= 4096 {
        f(&mut [T::ZERO; 4096])
    } else {
        f(&mut [T::ZERO; XCAP])
    }
}

/// The stack of the largest call in `f64`, in bytes: the weight gradient's
/// shifted copies and transposed `dY` block, or the forward's buffers of
/// [`with_buffer`] (counted as if none shared its stack slot), plus the tap
/// table.
pub(super) const STACK_BYTES: usize = {
    let weight_grad = (XCAP + BTCAP) * 8;
    let forward = (1024 + 4096 + XCAP) * 8;
    let larger = if weight_grad > forward {
        weight_grad
    } else {
        forward
    };
    larger + KC * core::mem::size_of::<usize>()
};

/// The sizes of one call: `n` images of `c` channels of `h x w` pixels,
/// `f` filters of `k x k` with stride `s` and padding `p` (negative: the
/// input is cropped), giving `oh x ow` outputs. The caller guarantees
/// `oh = (h + 2p - k) / s + 1` and the same for `ow`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Geom {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub f: usize,
    pub k: usize,
    pub s: usize,
    pub p: isize,
    pub oh: usize,
    pub ow: usize,
}

impl Geom {
    fn kk(&self) -> usize {
        self.k * self.k
    }
    fn pix(&self) -> usize {
        self.oh * self.ow
    }
    /// Rows of one shifted copy.
    fn hq(&self) -> usize {
        self.oh + (self.k - 1) / self.s
    }
    /// Elements of one channel's shifted copies.
    fn chan(&self) -> usize {
        self.s * self.k * self.hq() * self.ow
    }
    /// Channels per group (balanced), `None` when not even one channel fits
    /// the buffers.
    fn group(&self) -> Option<usize> {
        if self.k == 0 || self.s == 0 || self.c == 0 || self.oh == 0 || self.ow == 0 {
            return None;
        }
        let g = (KC / self.kk())
            .min((XCAP - XSLACK) / self.chan())
            .min(self.c);
        if g == 0 {
            return None;
        }
        Some(self.c.div_ceil(self.c.div_ceil(g)))
    }
    /// Elements of the forward's shifted copies (one group of channels),
    /// with room for a vector pair's over-read; 0 where the kernel cannot run.
    fn forward_buffer(&self) -> usize {
        self.group().map_or(0, |group| group * self.chan() + XSLACK)
    }
    /// Offset of local channel `lc`'s tap `(ki, kj)` at output pixel 0 in the
    /// shifted copies.
    fn tap(&self, lc: usize, ki: usize, kj: usize) -> usize {
        let hq = self.hq();
        lc * self.chan() + ((ki % self.s) * self.k + kj) * hq * self.ow + (ki / self.s) * self.ow
    }
}

/// Copies channels `c0..c1` of the image that starts `xn` into `xs` as
/// shifted copies (see the module's docs): channel `lc` from `lc g.chan()`,
/// copy `(ri, kj)` from `(ri K + kj) hq OW`, its element `(u, b)` being
/// `X[c, uS + ri - P, bS + kj - P]` or zero.
#[inline(always)]
fn fill_shifted<S: Simd, T: Elem>(simd: S, g: &Geom, xn: &[T], c0: usize, c1: usize, xs: &mut [T]) {
    let (s, k, hq, ow, chan, p) = (g.s, g.k, g.hq(), g.ow, g.chan(), g.p);
    let (h, w) = (g.h as isize, g.w as isize);
    for lc in 0..c1 - c0 {
        let src = xn.get((c0 + lc) * g.h * g.w..).unwrap_or_default();
        for ri in 0..s {
            for kj in 0..k {
                let base = lc * chan + (ri * k + kj) * hq * ow;
                // Columns b read j = bS + kj - P: inside for lo <= b < hi.
                let first = kj as isize - p;
                let lo = if first >= 0 {
                    0
                } else {
                    ((-first) as usize).div_ceil(s)
                };
                let hi = if w > first {
                    ((w - first - 1) as usize / s + 1).min(ow)
                } else {
                    0
                }
                .max(lo);
                if s == 1 && ow == g.w {
                    // A "same" convolution: the copy is the image shifted by
                    // (P, P - kj) as one run (row u, column b is element
                    // (u - P) W + b + kj - P), with the rows above and below
                    // it zero and the columns that wrapped around set to 0.
                    let u0 = p.clamp(0, hq as isize) as usize;
                    let u1 = (h + p).clamp(u0 as isize, hq as isize) as usize;
                    zero_spill(simd, xs, base, u0 * ow);
                    let mut from = (u0 as isize - p) * w + first;
                    let (mut to, mut len) = (base + u0 * ow, (u1 - u0) * ow);
                    if from < 0 {
                        let skip = (-from) as usize;
                        (to, len, from) = (to + skip, len.saturating_sub(skip), 0);
                    }
                    copy_spill(simd, src, from as usize, xs, to, len);
                    zero_spill(simd, xs, base + u1 * ow, (hq - u1) * ow);
                    // Down each wrapped column (at most P of them).
                    let rows = xs.get_mut(base + u0 * ow..).unwrap_or_default();
                    for b in (0..lo).chain(hi..ow) {
                        for d in rows.iter_mut().skip(b).step_by(ow).take(u1 - u0) {
                            *d = T::ZERO;
                        }
                    }
                    continue;
                }
                for u in 0..hq {
                    let row = base + u * ow;
                    let i = (u * s + ri) as isize - p;
                    if i < 0 || i >= h {
                        zero_spill(simd, xs, row, ow);
                        continue;
                    }
                    let srow = i as usize * g.w;
                    zero_spill(simd, xs, row, lo);
                    if s == 1 {
                        let from = (srow as isize + lo as isize + first) as usize;
                        copy_spill(simd, src, from, xs, row + lo, hi - lo);
                    } else {
                        for b in lo..hi {
                            let j = (b * s) as isize + first;
                            let e = src.get(srow + j as usize).copied().unwrap_or(T::ZERO);
                            if let Some(d) = xs.get_mut(row + b) {
                                *d = e;
                            }
                        }
                    }
                    zero_spill(simd, xs, row + hi, ow - hi);
                }
            }
        }
    }
}

// ---------------------------------------------------------------- forward

/// The forward's row tiles over one block of taps: filters `r0..r0 + M`
/// against taps `k0..k0 + rows` (whose rows start at `taps[l]` in `xs`),
/// into pixels `j0..j0 + cols` of `y`.
struct ForwardTiles<'a, S: Simd, T: Elem, const V: usize> {
    simd: S,
    w: &'a [T],
    depth: usize,
    k0: usize,
    rows: usize,
    xs: &'a [T],
    taps: &'a [usize; KC],
    bias: Option<&'a [T]>,
    first: bool,
    last: bool,
    relu: bool,
    y: &'a mut [T],
    pix: usize,
    j0: usize,
    cols: usize,
}

impl<S: Simd, T: Elem, const V: usize> Tiles for ForwardTiles<'_, S, T, V> {
    const WIDE: bool = V > 2;
    #[inline(always)]
    fn tile<const M: usize>(&mut self, r0: usize) {
        let simd = self.simd;
        let lanes = T::lanes::<S>();
        let a: [&[T]; M] = core::array::from_fn(|r| {
            self.w
                .get((r0 + r) * self.depth + self.k0..)
                .unwrap_or_default()
        });
        let mut acc = [[T::splat(simd, T::ZERO); V]; M];
        for (r, acc_r) in acc.iter_mut().enumerate() {
            let f = r0 + r;
            *acc_r = if self.first {
                let b = self.bias.and_then(|b| b.get(f).copied());
                [T::splat(simd, b.unwrap_or(T::ZERO)); V]
            } else {
                let out = self.y.get(f * self.pix + self.j0..).unwrap_or_default();
                load_row::<S, T, V>(simd, out.get(..self.cols).unwrap_or_default())
            };
        }
        let (xs, taps, j0) = (self.xs, self.taps, self.j0);
        let mut acc = mul_tile::<S, T, M, V>(
            simd,
            &a,
            self.rows,
            #[inline(always)]
            |l| {
                // In bounds: the copies leave `XSLACK` elements after them.
                let at = taps[l] + j0;
                let row = &xs[at..at + V * lanes];
                core::array::from_fn(|v| T::load_at::<S>(row, v))
            },
            acc,
        );
        if self.last && self.relu {
            for acc_r in &mut acc {
                for v in acc_r {
                    *v = T::relu(simd, *v);
                }
            }
        }
        for (r, acc_r) in acc.iter().enumerate() {
            let at = (r0 + r) * self.pix + self.j0;
            if let Some(out) = self.y.get_mut(at..at + self.cols) {
                store_row::<S, T, V>(simd, out, acc_r);
            }
        }
    }
}

/// Where each tap of the first `group` channels starts in the shifted copies
/// (the same for every group: offsets are from the group's first channel).
#[inline(always)]
fn tap_table(g: &Geom, group: usize) -> [usize; KC] {
    let mut taps = [0usize; KC];
    let mut t = 0;
    for lc in 0..group {
        for ki in 0..g.k {
            for kj in 0..g.k {
                if let Some(e) = taps.get_mut(t) {
                    *e = g.tap(lc, ki, kj);
                }
                t += 1;
            }
        }
    }
    taps
}

/// The forward with blocks of `V` vectors of pixels.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn forward_v<S: Simd, T: Elem, const V: usize>(
    simd: S,
    g: &Geom,
    group: usize,
    x: &[T],
    w: &[T],
    bias: Option<&[T]>,
    y: &mut [T],
    relu: bool,
    xs: &mut [T],
) {
    let pw = V * T::lanes::<S>();
    let (kk, pix) = (g.kk(), g.pix());
    let depth = g.c * kk;
    let taps = tap_table(g, group);
    for n in 0..g.n {
        let xn = x.get(n * g.c * g.h * g.w..).unwrap_or_default();
        let Some(yn) = y.get_mut(n * g.f * pix..(n + 1) * g.f * pix) else {
            return;
        };
        let mut c0 = 0;
        while c0 < g.c {
            let c1 = (c0 + group).min(g.c);
            fill_shifted(simd, g, xn, c0, c1, xs);
            let mut j0 = 0;
            while j0 < pix {
                let mut job = ForwardTiles::<S, T, V> {
                    simd,
                    w,
                    depth,
                    k0: c0 * kk,
                    rows: (c1 - c0) * kk,
                    xs,
                    taps: &taps,
                    bias,
                    first: c0 == 0,
                    last: c1 == g.c,
                    relu,
                    y: &mut *yn,
                    pix,
                    j0,
                    cols: pw.min(pix - j0),
                };
                tiles::<S, _>(g.f, &mut job);
                j0 += pw;
            }
            c0 = c1;
        }
    }
}

/// Checks the slices' lengths against the sizes.
fn forward_fits<T>(g: &Geom, x: &[T], w: &[T], bias: Option<&[T]>, y: &[T]) -> bool {
    x.len() == g.n * g.c * g.h * g.w
        && w.len() == g.f * g.c * g.kk()
        && y.len() == g.n * g.f * g.pix()
        && bias.is_none_or(|b| b.len() == g.f)
}

struct Forward<'a, T> {
    g: &'a Geom,
    x: &'a [T],
    w: &'a [T],
    bias: Option<&'a [T]>,
    y: &'a mut [T],
    relu: bool,
    /// The shifted copies' buffer, at least [`Geom::forward_buffer`] long.
    xs: &'a mut [T],
}

impl<T: Elem> WithSimd for Forward<'_, T> {
    type Output = bool;
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> bool {
        let Self {
            g,
            x,
            w,
            bias,
            y,
            relu,
            xs,
        } = self;
        if !wide::<S>() || !forward_fits(g, x, w, bias, y) {
            return false;
        }
        let Some(group) = g.group() else {
            return false;
        };
        if xs.len() < group * g.chan() + XSLACK {
            return false;
        }
        if g.pix() <= T::lanes::<S>() {
            forward_v::<S, T, 1>(simd, g, group, x, w, bias, y, relu, xs);
        } else if g.pix() <= 2 * T::lanes::<S>() || S::REGISTER_COUNT < 32 {
            forward_v::<S, T, 2>(simd, g, group, x, w, bias, y, relu, xs);
        } else {
            forward_v::<S, T, 4>(simd, g, group, x, w, bias, y, relu, xs);
        }
        true
    }
}

/// The forward's entry for one element type, compiled in this crate: the
/// shifted copies' buffer sized to the call, then the dispatch.
macro_rules! forward_entry {
    ($name:ident, $t:ty) => {
        #[inline(never)]
        fn $name(
            g: &Geom,
            x: &[$t],
            w: &[$t],
            bias: Option<&[$t]>,
            y: &mut [$t],
            relu: bool,
        ) -> bool {
            with_buffer(
                g.forward_buffer(),
                #[inline(always)]
                |xs| {
                    pulp::Arch::new().dispatch(Forward {
                        g,
                        x,
                        w,
                        bias,
                        y,
                        relu,
                        xs,
                    })
                },
            )
        }
    };
}
forward_entry!(forward_f32, f32);
forward_entry!(forward_f64, f64);

/// `y[n, f, q] = bias[f] + Σ_t w[f, t] X̂_n[t, q]` (then `max(0, ·)` when
/// `relu`) for `x: n x c x h x w`, `w: f x c x k x k`, `y: n x f x oh x ow`,
/// every element of `y` written. `false`, with nothing written, where the
/// kernel does not run.
#[inline(always)]
pub(crate) fn forward<T: Scalar>(
    g: &Geom,
    x: &[T],
    w: &[T],
    bias: Option<&[T]>,
    y: &mut [T],
    relu: bool,
) -> bool {
    match (T::slice(x), T::slice(w), T::slice_mut(y)) {
        (Slice::F32(x), Slice::F32(w), SliceMut::F32(y)) => {
            let bias = match bias.map(T::slice) {
                Some(Slice::F32(b)) => Some(b),
                Some(_) => return false,
                None => None,
            };
            forward_f32(g, x, w, bias, y, relu)
        }
        (Slice::F64(x), Slice::F64(w), SliceMut::F64(y)) => {
            let bias = match bias.map(T::slice) {
                Some(Slice::F64(b)) => Some(b),
                Some(_) => return false,
                None => None,
            };
            forward_f64(g, x, w, bias, y, relu)
        }
        _ => false,
    }
}

// ---------------------------------------------------------- weight gradient

/// The weight gradient's row tiles: taps `r0..r0 + M` of the group (rows
/// from `taps[t] + q0` in image `i` of `xs`, at `i * istride`), over the
/// block's `lq` pixels of each of its `nb` images, against every panel of
/// filters of the transposed `dY` block (image `i`'s rows from `i * lq`),
/// added into `dwt` (`taps x F`, from tap `t0`).
struct GradTiles<'a, S: Simd, T: Elem, const V: usize> {
    simd: S,
    f: usize,
    xs: &'a [T],
    istride: usize,
    nb: usize,
    taps: &'a [usize; KC],
    q0: usize,
    lq: usize,
    bt: &'a [T],
    fpad: usize,
    dwt: &'a mut [T],
    t0: usize,
}

impl<S: Simd, T: Elem, const V: usize> Tiles for GradTiles<'_, S, T, V> {
    #[inline(always)]
    fn tile<const M: usize>(&mut self, r0: usize) {
        let simd = self.simd;
        let (lq, f) = (self.lq, self.f);
        let (xs, taps, q0) = (self.xs, self.taps, self.q0);
        let lanes = T::lanes::<S>();
        let pw = V * lanes;
        let mut j0 = 0;
        while j0 < f {
            let mut acc = [[T::splat(simd, T::ZERO); V]; M];
            for (r, acc_r) in acc.iter_mut().enumerate() {
                let row = (self.t0 + r0 + r) * f;
                let out = self.dwt.get(row + j0..row + f).unwrap_or_default();
                *acc_r = load_row::<S, T, V>(simd, out);
            }
            let (bt, fpad) = (self.bt, self.fpad);
            for i in 0..self.nb {
                let a: [&[T]; M] = core::array::from_fn(|r| {
                    let at = taps
                        .get(r0 + r)
                        .map_or(usize::MAX, |&t| t + q0 + i * self.istride);
                    xs.get(at..).unwrap_or_default()
                });
                let bi = bt.get(i * lq * fpad..).unwrap_or_default();
                acc = mul_tile::<S, T, M, V>(
                    simd,
                    &a,
                    lq,
                    #[inline(always)]
                    |l| {
                        // In bounds: `nb lq fpad <= BTCAP` and `j0 + pw <= fpad`.
                        let at = l * fpad + j0;
                        let row = &bi[at..at + V * lanes];
                        core::array::from_fn(|v| T::load_at::<S>(row, v))
                    },
                    acc,
                );
            }
            for (r, acc_r) in acc.iter().enumerate() {
                let row = (self.t0 + r0 + r) * f;
                if let Some(out) = self.dwt.get_mut(row + j0..row + f) {
                    store_row::<S, T, V>(simd, out, acc_r);
                }
            }
            j0 += pw;
        }
    }
}

/// The weight gradient with panels of `V` vectors of filters, `nb` images
/// at a time, pixel blocks of `lq_max` (all of an image's pixels when
/// `nb > 1`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn weight_grad_v<S: Simd, T: Elem, const V: usize>(
    simd: S,
    g: &Geom,
    group: usize,
    nb: usize,
    lq_max: usize,
    fpad: usize,
    x: &[T],
    dy: &[T],
    dwt: &mut [T],
) {
    let (kk, pix, image) = (g.kk(), g.pix(), g.c * g.h * g.w);
    let istride = group * g.chan();
    // A fixed-size array, not a slice of one sized to the call: its known
    // length lets the tiles' reads go unchecked (10% faster here).
    let mut xs = [T::ZERO; XCAP];
    let mut bt = [T::ZERO; BTCAP];
    let taps = tap_table(g, group);
    let mut n0 = 0;
    while n0 < g.n {
        let n1 = (n0 + nb).min(g.n);
        let mut c0 = 0;
        while c0 < g.c {
            let c1 = (c0 + group).min(g.c);
            for i in 0..n1 - n0 {
                let xn = x.get((n0 + i) * image..).unwrap_or_default();
                let to = xs.get_mut(i * istride..).unwrap_or_default();
                fill_shifted(simd, g, xn, c0, c1, to);
            }
            let mut q0 = 0;
            while q0 < pix {
                let lq = lq_max.min(pix - q0);
                // The block of dY, transposed: bt[i lq + l][f] = dY[n0 + i, f, q0 + l].
                for i in 0..n1 - n0 {
                    let dyn_ = dy.get((n0 + i) * g.f * pix..).unwrap_or_default();
                    let rows = bt.get_mut(i * lq * fpad..).unwrap_or_default();
                    let src = dyn_.get(q0..).unwrap_or_default();
                    T::transpose(simd, src, pix, rows, fpad, g.f, lq);
                }
                let mut job = GradTiles::<S, T, V> {
                    simd,
                    f: g.f,
                    xs: &xs,
                    istride,
                    nb: n1 - n0,
                    taps: &taps,
                    q0,
                    lq,
                    bt: &bt,
                    fpad,
                    dwt: &mut *dwt,
                    t0: c0 * kk,
                };
                tiles::<S, _>((c1 - c0) * kk, &mut job);
                q0 += lq;
            }
            c0 = c1;
        }
        n0 = n1;
    }
}

struct WeightGrad<'a, T> {
    g: &'a Geom,
    x: &'a [T],
    dy: &'a [T],
    dwt: &'a mut [T],
}

impl<T: Elem> WithSimd for WeightGrad<'_, T> {
    type Output = bool;
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> bool {
        let Self { g, x, dy, dwt } = self;
        if !wide::<S>()
            || x.len() != g.n * g.c * g.h * g.w
            || dy.len() != g.n * g.f * g.pix()
            || dwt.len() != g.c * g.kk() * g.f
        {
            return false;
        }
        let Some(group) = g.group() else {
            return false;
        };
        let lanes = T::lanes::<S>();
        let v = if g.f <= lanes { 1 } else { 2 };
        let fpad = g.f.next_multiple_of(v * lanes);
        let lq_max = KQ.min(BTCAP / fpad);
        if lq_max == 0 {
            return false;
        }
        // Whole images, several at a time, where they fit the buffers.
        let nb = if g.pix() <= lq_max {
            (lq_max / g.pix())
                .min((XCAP - XSLACK) / (group * g.chan()))
                .clamp(1, g.n)
        } else {
            1
        };
        if v == 1 {
            weight_grad_v::<S, T, 1>(simd, g, group, nb, lq_max, fpad, x, dy, dwt);
        } else {
            weight_grad_v::<S, T, 2>(simd, g, group, nb, lq_max, fpad, x, dy, dwt);
        }
        true
    }
}

/// The weight gradient's entry for one element type, compiled in this crate.
macro_rules! weight_grad_entry {
    ($name:ident, $t:ty) => {
        #[inline(never)]
        fn $name(g: &Geom, x: &[$t], dy: &[$t], dwt: &mut [$t]) -> bool {
            pulp::Arch::new().dispatch(WeightGrad { g, x, dy, dwt })
        }
    };
}
weight_grad_entry!(weight_grad_f32, f32);
weight_grad_entry!(weight_grad_f64, f64);

/// `dwt[t, f] += Σ_n Σ_q X̂_n[t, q] dy[n, f, q]` for `x: n x c x h x w`,
/// `dy: n x f x oh x ow`, `dwt: (c k k) x f`. `false`, with nothing
/// written, where the kernel does not run.
#[inline(always)]
pub(crate) fn weight_grad<T: Scalar>(g: &Geom, x: &[T], dy: &[T], dwt: &mut [T]) -> bool {
    match (T::slice(x), T::slice(dy), T::slice_mut(dwt)) {
        (Slice::F32(x), Slice::F32(dy), SliceMut::F32(dwt)) => weight_grad_f32(g, x, dy, dwt),
        (Slice::F64(x), Slice::F64(dy), SliceMut::F64(dwt)) => weight_grad_f64(g, x, dy, dwt),
        _ => false,
    }
}
