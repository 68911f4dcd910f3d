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
//! `X̂` (the im2col matrix) is never built. For the forward, each image is
//! first copied, a group of channels at a time, into a zero-padded buffer
//! that holds, per channel, `S x K` shifted copies of the image, each `OW`
//! columns wide: copy `(ri, kj)`, row `u`, column `b` holds
//! `X[c, uS + ri - P, bS + kj - P]`. Tap `(ki, kj)` at output pixel
//! `q = a OW + b` is then element `(ki / S) OW + q` of copy `(ki % S, kj)`:
//! each row of `X̂` is a contiguous run of the buffer, read in place. The
//! forward's tiles broadcast one weight per row and multiply-add it into two
//! vectors of pixels loaded from there, `MR` filters at a time (8 under
//! AVX-512, 6 under AVX2, so that the accumulators stay in registers). The
//! copies cost `S K` times the image (the im2col matrix: `K²` times); for
//! stride 2 their rows are every other element of an image row, taken by
//! AVX shuffles. Where a whole image's copies would leave room for too few
//! channels (large images), they hold a band of output rows at a time
//! ([`Geom::plan`]). A 1 x 1 convolution of stride 1 is a matrix product
//! per image: the dense kernel's.
//!
//! The weight gradient's tiles broadcast `X̂` into a transposed copy of a
//! block of `dY` (filters in vectors, cache-line aligned), 8 rows at a time.
//! For layers of 8 channels or more and outputs under 32 x 32 pixels the
//! rows are channels, one kernel position `(ki, kj)` at a time: for it, the
//! pixels where the tap reads inside the image form a box, and its depth
//! runs over those only (the padding's zero products are skipped: 16% of
//! them for 3 x 3 kernels on 8 x 8 images). A block of images is copied
//! channels-last, so that the tile's 8 channels at a pixel are adjacent
//! (one address, constant offsets). Fewer channels would make short tiles
//! (a first layer's: one row), and larger outputs many tables of pixels
//! (one per kernel position and block), so there the rows are the `C K²`
//! taps: each channel is copied into a zero-padded plane ([`Planes`]) in
//! which tap `(ki, kj)` at output pixel `(a, b)` is element
//! `(aS + ki) W' + bS + kj`, one table of pixels serves every tap and the
//! padding's products are made (with zeros). Pixel blocks are of even
//! sizes. Every buffer is on the stack, of a fixed size: about 260 KiB at
//! most (see [`STACK_BYTES`]).

use pulp::{Simd, WithSimd};

use super::{
    Aligned, Elem, Tiles, apart, copy_spill, load_row, mul_tile, store_row, tiles, wide, zero_spill,
};

use super::gemm::{Dims, Lhs, gemm, gemm_bias};
use crate::Scalar;
use crate::scalar::sealed::{Slice, SliceMut};

/// Taps per block of the forward's depth (the rows its tap table holds).
const KC: usize = 512;
/// Elements of the forward's shifted copies of a group of channels (and
/// room past their end for a vector pair's over-read), and of the weight
/// gradient's channels-last copies of a block of images.
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
        f(&mut Aligned([T::ZERO; 1024]).0)
    } else if need <= 4096 {
        f(&mut Aligned([T::ZERO; 4096]).0)
    } else {
        f(&mut Aligned([T::ZERO; XCAP]).0)
    }
}

/// The stack of the largest call in `f64`, in bytes: the forward's and the
/// weight gradient's buffers of [`with_buffer`] (counted as if none shared
/// its stack slot) with, for the forward, its tap table, for the weight
/// gradient, its transposed `dY` block and pixel table; or the input
/// gradient's block of `dX̂`, padded channel and the dense kernel's panel;
/// or a 1 x 1 weight gradient's transposed image and the dense kernel's
/// panel.
pub(super) const STACK_BYTES: usize = {
    let buffers = (1024 + 4096 + XCAP) * 8;
    let taps = KC * core::mem::size_of::<usize>();
    let forward = buffers + taps;
    let weight_grad = buffers + BTCAP * 8 + core::mem::size_of::<Steps<LCAP>>();
    let input_grad = DXCAP * 8 + super::gemm::STACK_BYTES;
    // A 1 x 1 weight gradient: its transposed image, then the dense kernel.
    let pointwise_grad = buffers + super::gemm::STACK_BYTES;
    let mut most = forward;
    if pointwise_grad > most {
        most = pointwise_grad;
    }
    if weight_grad > most {
        most = weight_grad;
    }
    if input_grad > most {
        most = input_grad;
    }
    most
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
    /// Multiply-adds of one product (forward, or either gradient).
    fn work(&self) -> usize {
        self.n * self.oh * self.ow * self.c * self.kk() * self.f
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
    /// Elements of the shifted copies of `group` channels, with room for a
    /// vector pair's over-read.
    fn copies(&self, group: usize) -> usize {
        group * self.chan() + XSLACK
    }
    /// The forward's bands and groups: output rows per band (the copies
    /// hold a band of rows of a group of channels at a time) and channels
    /// per group. One band (the whole image) where its copies hold enough
    /// channels for a depth of 128 taps (or all of them) or there are
    /// fewer than 8 filters; else bands as tall as hold them (a band's
    /// copies hold `(K - 1) / S` more rows), where that gives larger groups. `None` where not even one channel's
    /// copies of one row fit.
    fn plan(&self) -> Option<(usize, usize)> {
        if self.k == 0 || self.s == 0 || self.c == 0 || self.oh == 0 || self.ow == 0 {
            return None;
        }
        let whole = self.group();
        let want = 128usize
            .div_ceil(self.kk())
            .min(KC / self.kk())
            .min(self.c)
            .max(1);
        // Fewer than 8 filters: a tile has fewer rows than the depth would
        // feed, and the bands' extra rows of copies cost more than they save
        // (one filter, 32 channels of 28x28, 5x5: 14.7% -> 11.4% of the peak).
        if let Some(group) = whole.filter(|&g| g >= want || self.f < 8) {
            // Small products: groups that fit the 4096 buffer, where they
            // still give the depth (clearing 16384 elements cost 16x8x8 ->
            // 32x8x8's input gradient at batch 1 a tenth of its time; at
            // batch 16, half the groups' passes over the outputs cost more).
            let fits = (4096 - XSLACK) / self.chan();
            if self.work() < SMALL_WORK && fits >= want && fits < group {
                return Some((self.oh, self.c.div_ceil(self.c.div_ceil(fits))));
            }
            return Some((self.oh, group));
        }
        let halo = (self.k - 1) / self.s;
        let rows = (XCAP - XSLACK) / (want * self.s * self.k * self.ow);
        let ob = rows.saturating_sub(halo).clamp(1, self.oh);
        // Bands of balanced heights.
        let ob = self.oh.div_ceil(self.oh.div_ceil(ob));
        match (whole, self.band(ob).group()) {
            (Some(w), Some(b)) if b > w => Some((ob, b)),
            (Some(w), _) => Some((self.oh, w)),
            (None, b) => b.map(|b| (ob, b)),
        }
    }
    /// The geometry of a band of `ob` output rows: its copies' sizes.
    fn band(&self, ob: usize) -> Self {
        Self { oh: ob, ..*self }
    }
    /// Elements of the forward's shifted copies (one band of one group of
    /// channels); 0 where the kernel cannot run.
    fn forward_buffer(&self) -> usize {
        self.plan()
            .map_or(0, |(ob, group)| self.band(ob).copies(group))
    }
    /// Offset of local channel `lc`'s tap `(ki, kj)` at output pixel 0 in the
    /// shifted copies.
    fn tap(&self, lc: usize, ki: usize, kj: usize) -> usize {
        let hq = self.hq();
        lc * self.chan() + ((ki % self.s) * self.k + kj) * hq * self.ow + (ki / self.s) * self.ow
    }
}

/// Copies channels `c0..c1` of the image that starts `xn` into `xs` as
/// shifted copies (see the module's docs) of the band of `g.oh` output rows
/// from row `a0` (`g` a band's geometry, [`Geom::band`]): channel `lc` from
/// `lc g.chan()`, copy `(ri, kj)` from `(ri K + kj) hq OW`, its element
/// `(u, b)` being `X[c, (a0 + u)S + ri - P, bS + kj - P]` or zero. Rows
/// outside the image are written (as zeros) only if `zero_rows`: a call
/// whose buffer has held other bands; elsewhere they stay zero, as the
/// buffer starts.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn fill_shifted<S: Simd, T: Elem>(
    simd: S,
    g: &Geom,
    a0: usize,
    zero_rows: bool,
    xn: &[T],
    c0: usize,
    c1: usize,
    xs: &mut [T],
) {
    let (s, k, hq, ow, chan, p) = (g.s, g.k, g.hq(), g.ow, g.chan(), g.p);
    let h = g.h as isize;
    // The rows' padding, for the band: copy row u reads image row uS + ri - pr.
    let pr = p - (s * a0) as isize;
    let zero = |xs: &mut [T], from: usize, to: usize| {
        if zero_rows && let Some(rows) = xs.get_mut(from..to) {
            rows.fill(T::ZERO);
        }
    };
    if s == 1 && ow == g.w {
        return fill_same(simd, g, pr, zero_rows, xn, c0, c1, xs);
    }
    // Stride 2: copy (ri, kj) reads image column 2 (b + dx) + γ, with
    // kj - P = 2 dx + γ, so it is copy (ri, P + γ) (which reads column
    // 2b + γ) shifted by dx columns, where that copy exists and its row
    // holds every column of parity γ that copy (ri, kj) reads inside the
    // image (2 OW >= W where dx > 0): copied from it as runs, after all the
    // gathered copies (whose rows' last vectors may spill zeros into the
    // next copy).
    let derived = |kj: usize| {
        let d = kj as isize - p;
        let (kb, dx) = (p + d.rem_euclid(2), d.div_euclid(2));
        let ok = s == 2 && kb >= 0 && kb < k as isize && kb != kj as isize;
        (ok && (dx <= 0 || 2 * ow >= g.w)).then_some((kb as usize, dx))
    };
    // Stride 2 (kernels of up to 32 columns: the forward's tap table holds
    // 22 x 22): what the copies of every channel share, computed once. Per
    // kernel column `kj` gathered, the columns `lo..hi` inside the image
    // and the image column read at `lo`, `2 lo + kj - P`; per row parity
    // `ri`, rows `u0..u1` inside, row `u` reading image row `2u - top`.
    let mut cols = [None; 32];
    if s == 2 && k <= cols.len() {
        for (kj, c) in cols.iter_mut().enumerate().take(k) {
            if derived(kj).is_none() {
                let (lo, hi) = inside(g, kj, g.w, g.ow);
                *c = Some((lo, hi, (2 * lo) as isize + kj as isize - p));
            }
        }
        let rows = [0, 1].map(|ri| {
            let (u0, u1) = inside(&Geom { p: pr, ..*g }, ri, g.h, hq);
            (u0, u1, pr - ri as isize)
        });
        for lc in 0..c1 - c0 {
            let src = xn.get((c0 + lc) * g.h * g.w..).unwrap_or_default();
            for (ri, &(u0, u1, top)) in rows.iter().enumerate() {
                let mut kj = 0;
                while kj < k {
                    let Some((lo, hi, col)) = cols.get(kj).copied().flatten() else {
                        kj += 1;
                        continue;
                    };
                    // Every other element of an image row from column col;
                    // past `hi`, zeros up to a vector: the rest of the row,
                    // or the next row's first (written after it).
                    let base = lc * chan + (ri * k + kj) * hq * ow;
                    zero(xs, base, base + u0 * ow);
                    zero(xs, base + u1 * ow, base + hq * ow);
                    if u0 >= u1 {
                        kj += 1;
                        continue;
                    }
                    let from = ((2 * u0) as isize - top) as usize * g.w;
                    let src = src
                        .get((from as isize + col) as usize..)
                        .unwrap_or_default();
                    let dst = xs.get_mut(base + u0 * ow + lo..).unwrap_or_default();
                    // The next column's copy, where it reads the odd elements
                    // of the same rows (3x3, pad 1: copies 1 and 2), from the
                    // same reads.
                    let next = cols.get(kj + 1).copied().flatten();
                    let odd = next.filter(|&(lo2, _, col2)| lo == 0 && lo2 == 0 && col2 == col + 1);
                    let (rows, n) = (u1 - u0, hi - lo);
                    if let Some((_, hi2, _)) = odd
                        && T::gather2_split(simd, src, 2 * g.w, dst, ow, hq * ow, rows, (n, hi2))
                    {
                        let base = base + hq * ow;
                        zero(xs, base, base + u0 * ow);
                        zero(xs, base + u1 * ow, base + hq * ow);
                        kj += 2;
                        continue;
                    }
                    T::gather2(simd, src, 2 * g.w, dst, ow, rows, n);
                    kj += 1;
                }
            }
        }
        // The derived copies, from the gathered ones.
        let runs = Runs::<S, T>::new(simd, ow);
        for kj in 0..k {
            let Some((kb, dx)) = derived(kj) else {
                continue;
            };
            // Columns b with b + dx inside the copy's row.
            let lo = (-dx).max(0) as usize;
            let hi = (ow as isize - dx).clamp(lo as isize, ow as isize) as usize;
            let shift = runs.shift(dx, lo, hi);
            for lc in 0..c1 - c0 {
                for ri in 0..s {
                    let from = lc * chan + (ri * k + kb) * hq * ow;
                    let to = lc * chan + (ri * k + kj) * hq * ow;
                    runs.copy(&shift, None, from, xs, to, hq * ow);
                }
            }
        }
        return;
    }
    // Other strides: element by element.
    for lc in 0..c1 - c0 {
        let src = xn.get((c0 + lc) * g.h * g.w..).unwrap_or_default();
        for ri in 0..s {
            for kj in 0..k {
                let base = lc * chan + (ri * k + kj) * hq * ow;
                // Columns b read j = bS + kj - P: inside for lo <= b < hi.
                let (lo, hi) = inside(g, kj, g.w, g.ow);
                let first = kj as isize - p;
                for u in 0..hq {
                    let row = base + u * ow;
                    let i = (u * s + ri) as isize - pr;
                    if s != 1 {
                        // Every S-th element of the row from column
                        // lo S + kj - P (inside the image for lo <= b < hi),
                        // written exactly: the rows and columns outside the
                        // image are never written and stay zero, as the
                        // buffer starts.
                        if i < 0 || i >= h {
                            zero(xs, row, row + ow);
                            continue;
                        }
                        let from = (i as usize * g.w) as isize + (lo * s) as isize + first;
                        let src = src.get(from as usize..).unwrap_or_default();
                        let dst = xs.get_mut(row + lo..row + hi).unwrap_or_default();
                        for (d, &e) in dst.iter_mut().zip(src.iter().step_by(s)) {
                            *d = e;
                        }
                        continue;
                    }
                    if i < 0 || i >= h {
                        zero_spill(simd, xs, row, ow);
                        continue;
                    }
                    let srow = i as usize * g.w;
                    zero_spill(simd, xs, row, lo);
                    let from = (srow as isize + lo as isize + first) as usize;
                    copy_spill(simd, src, from, xs, row + lo, hi - lo);
                    zero_spill(simd, xs, row + hi, ow - hi);
                }
            }
        }
    }
}

/// [`fill_shifted`] for a "same" convolution (stride 1, `OW = W`): copy
/// `kj`'s rows inside the image are the image shifted by `(P, P - kj)` as
/// one run ([`Runs`]), the columns that wrapped around set to zero.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn fill_same<S: Simd, T: Elem>(
    simd: S,
    g: &Geom,
    pr: isize,
    zero_rows: bool,
    xn: &[T],
    c0: usize,
    c1: usize,
    xs: &mut [T],
) {
    let (hq, ow, chan) = (g.hq(), g.ow, g.chan());
    let u0 = pr.clamp(0, hq as isize) as usize;
    let u1 = (g.h as isize + pr).clamp(u0 as isize, hq as isize) as usize;
    let len = (u1 - u0) * ow;
    // Channel element of copy 0's element `(u0, 0)`.
    let from = (u0 as isize - pr) * g.w as isize - g.p;
    let runs = Runs::<S, T>::new(simd, ow);
    for kj in 0..g.k {
        let (lo, hi) = inside(g, kj, g.w, ow);
        let shift = runs.shift(from + kj as isize, lo, hi);
        for lc in 0..c1 - c0 {
            let src = xn.get((c0 + lc) * g.h * g.w..).unwrap_or_default();
            let copy = lc * chan + kj * hq * ow;
            if zero_rows {
                for (a, b) in [(copy, copy + u0 * ow), (copy + u1 * ow, copy + hq * ow)] {
                    if let Some(rows) = xs.get_mut(a..b) {
                        rows.fill(T::ZERO);
                    }
                }
            }
            runs.copy(&shift, Some(src), 0, xs, copy + u0 * ow, len);
        }
    }
}

/// Runs of a copy's rows (`ow` columns each) read a vector at a time from
/// a source shifted by a whole number of elements, the columns that wrap
/// around zeroed in registers: each lane's column `b` is kept as `2b + 1`
/// and tested against `2 lo` and `2 hi` (whole numbers, exact). Each
/// element is stored once; per vector, a load, a store and, where columns
/// wrap, eight vector operations (the lanes' columns tested and stepped).
struct Runs<S: Simd, T: Elem> {
    simd: S,
    ow: usize,
    /// Lane `l`'s column at the start of a run, `2 (l mod OW) + 1`.
    cols: T::V<S>,
    two: T::V<S>,
    wrap: T::V<S>,
    /// The columns' step from a vector to the next.
    step: T::V<S>,
}

/// A source shifted by `at` elements (from the run's first), its columns
/// `lo..hi` kept (see [`Runs`]).
struct Shift<V> {
    at: isize,
    /// Elements before the source's first: wrapped columns, zero from the
    /// buffer's start and wherever written.
    skip: usize,
    /// The lanes' columns at element `skip`.
    first: V,
    lo: V,
    hi: V,
    /// No column wraps: the run is copied as it is.
    whole: bool,
}

impl<S: Simd, T: Elem> Runs<S, T> {
    #[inline(always)]
    fn new(simd: S, ow: usize) -> Self {
        let lanes = T::lanes::<S>();
        let two = T::splat(simd, T::of(2));
        let wrap = T::splat(simd, T::of(2 * ow));
        let mut lane = [T::ZERO; 16];
        for (l, e) in lane.iter_mut().enumerate() {
            *e = T::of(l);
        }
        let lane = T::load(simd, lane.get(..lanes).unwrap_or_default());
        let mut cols = T::fma(simd, two, lane, T::splat(simd, T::ONE));
        for _ in 0..lanes.div_ceil(ow) {
            cols = T::add_wrap(simd, cols, T::splat(simd, T::ZERO), wrap);
        }
        let step = T::splat(simd, T::of(2 * (lanes % ow)));
        Self {
            simd,
            ow,
            cols,
            two,
            wrap,
            step,
        }
    }

    #[inline(always)]
    fn shift(&self, at: isize, lo: usize, hi: usize) -> Shift<T::V<S>> {
        let skip = (-at).max(0) as usize;
        let mut first = self.cols;
        for _ in 0..skip % self.ow {
            first = T::add_wrap(self.simd, first, self.two, self.wrap);
        }
        Shift {
            at,
            skip,
            first,
            lo: T::splat(self.simd, T::of(2 * lo)),
            hi: T::splat(self.simd, T::of(2 * hi)),
            whole: lo == 0 && hi == self.ow,
        }
    }

    /// `xs[to + o] = source[src0 + at + o]` for `o` in `skip..len`, the
    /// wrapped columns 0; the source is `src`, or `xs` itself (from a copy
    /// written before).
    #[inline(always)]
    fn copy(
        &self,
        sh: &Shift<T::V<S>>,
        src: Option<&[T]>,
        src0: usize,
        xs: &mut [T],
        to: usize,
        len: usize,
    ) {
        let (simd, lanes) = (self.simd, T::lanes::<S>());
        let (mut o, mut col) = (sh.skip, sh.first);
        while o < len {
            let i = (src0 as isize + sh.at + o as isize) as usize;
            let v = T::load(simd, src.unwrap_or(xs).get(i..).unwrap_or_default());
            let v = if sh.whole {
                v
            } else {
                let kept = T::keep(simd, col, sh.lo, sh.hi, v);
                col = T::add_wrap(simd, col, self.step, self.wrap);
                kept
            };
            let n = lanes.min(len - o);
            T::store(simd, xs.get_mut(to + o..to + o + n).unwrap_or_default(), v);
            o += lanes;
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
    /// The first pixel, in `y` and in the band's copies.
    j0: usize,
    xj: usize,
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
        let (xs, taps, xj) = (self.xs, self.taps, self.xj);
        let mut acc = mul_tile::<S, T, M, V>(
            simd,
            &a,
            self.rows,
            #[inline(always)]
            |l| {
                // In bounds: the copies leave `XSLACK` elements after them.
                let at = taps[l] + xj;
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
    (ob, group): (usize, usize),
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
    // Every band's copies are `ob` rows tall (the last band's rows past the
    // image are zeros, their products never stored).
    let gb = g.band(ob);
    let banded = ob < g.oh;
    let taps = tap_table(&gb, group);
    for n in 0..g.n {
        let xn = x.get(n * g.c * g.h * g.w..).unwrap_or_default();
        let Some(yn) = y.get_mut(n * g.f * pix..(n + 1) * g.f * pix) else {
            return;
        };
        for a0 in (0..g.oh).step_by(ob) {
            // The band's pixels.
            let (q0, q1) = (a0 * g.ow, ((a0 + ob).min(g.oh)) * g.ow);
            let mut c0 = 0;
            while c0 < g.c {
                let c1 = (c0 + group).min(g.c);
                fill_shifted(simd, &gb, a0, banded, xn, c0, c1, xs);
                // The tiles apart: see [`apart`].
                apart(
                    simd,
                    #[inline(always)]
                    || {
                        let mut j0 = q0;
                        while j0 < q1 {
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
                                xj: j0 - q0,
                                cols: pw.min(q1 - j0),
                            };
                            tiles::<S, _>(g.f, &mut job);
                            j0 += pw;
                        }
                    },
                );
                c0 = c1;
            }
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
        // (No instruction set has vectors of more than 16 elements: the
        // copies' column tests assume it.)
        if !wide::<S>() || T::lanes::<S>() > 16 || !forward_fits(g, x, w, bias, y) {
            return false;
        }
        let Some((ob, group)) = g.plan() else {
            return false;
        };
        if xs.len() < g.band(ob).copies(group) {
            return false;
        }
        if g.pix() <= T::lanes::<S>() {
            forward_v::<S, T, 1>(simd, g, (ob, group), x, w, bias, y, relu, xs);
        } else if g.pix() <= 2 * T::lanes::<S>() || S::REGISTER_COUNT < 32 {
            forward_v::<S, T, 2>(simd, g, (ob, group), x, w, bias, y, relu, xs);
        } else {
            forward_v::<S, T, 4>(simd, g, (ob, group), x, w, bias, y, relu, xs);
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
    if g.k == 1 && g.s == 1 && g.p == 0 && !relu {
        return pointwise(g, x, w, bias, y);
    }
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

/// [`forward`] for 1 x 1 filters, stride 1, no padding: a matrix product
/// per image, `Y_n (F x HW) = W (F x C) X_n (C x HW)` (plus the bias), by
/// the dense kernel. `false`, with nothing written, where that kernel does
/// not run (for every image or none).
#[inline(always)]
fn pointwise<T: Scalar>(g: &Geom, x: &[T], w: &[T], bias: Option<&[T]>, y: &mut [T]) -> bool {
    let pix = g.pix();
    if g.oh != g.h || g.ow != g.w || !forward_fits(g, x, w, bias, y) || pix == 0 {
        return false;
    }
    let d = Dims {
        r: g.f,
        c: g.c,
        n: pix,
    };
    for (xn, yn) in x.chunks_exact(g.c * pix).zip(y.chunks_exact_mut(g.f * pix)) {
        let ran = match bias {
            Some(bias) => gemm_bias(w, xn, yn, d, bias),
            None => gemm(w, Lhs::Rows, xn, yn, d, true),
        };
        if !ran {
            return false;
        }
    }
    true
}

// ---------------------------------------------------------- weight gradient

/// Elements that the weight gradient's copies of a block of images may
/// span: a channel's rows are read as arrays of this length, from the
/// channel's start in the first image, at offsets masked by `QW - 1`, so
/// the reads need no bounds checks.
const QW: usize = 8192;

/// Tap `(ki, kj)` reads, at output pixel `(a, b)`, element
/// `(aS + ki - P) W + bS + kj - P` of its channel: inside the image for `a`
/// in `rows` and `b` in `cols` only (elsewhere it reads the padding, zero).
#[derive(Clone, Copy)]
struct Inside {
    rows: (usize, usize),
    cols: (usize, usize),
    /// `(ki - P) W + kj - P`: the offset at pixel (0, 0), maybe negative.
    at: isize,
}

impl Inside {
    #[inline(always)]
    fn new(g: &Geom, ki: usize, kj: usize) -> Self {
        Self {
            rows: inside(g, ki, g.h, g.oh),
            cols: inside(g, kj, g.w, g.ow),
            at: (ki as isize - g.p) * g.w as isize + kj as isize - g.p,
        }
    }
}

/// The output indices `u` where kernel offset `k` reads inside an image
/// side of `n`, `0 <= uS + k - P < n`, within `0..out`.
#[inline(always)]
fn inside(g: &Geom, k: usize, n: usize, out: usize) -> (usize, usize) {
    // `a / S` without a division instruction for the common strides (a
    // division costs as much as the rest).
    let div = |a: usize| match g.s {
        1 => a,
        2 => a >> 1,
        s => a / s,
    };
    let first = k as isize - g.p;
    let lo = if first >= 0 {
        0
    } else {
        div((-first) as usize + g.s - 1)
    };
    let hi = if (n as isize) > first {
        (div((n as isize - first - 1) as usize) + 1).min(out)
    } else {
        0
    };
    (lo.min(hi), hi)
}

/// The weight gradient's row tiles: rows `r0..r0 + M` (see [`Rows`]: the
/// group's channels at one kernel position, or its taps) over the block's
/// pixels (`steps`: the pixel's row in a panel of the transposed `dY`
/// block and the element of the copies it reads), against every panel of
/// filters, added into `dwt` (`taps x F`): channel `c0 + c`'s tap
/// `(ki, kj)` is row `(c0 + c) K² + ki K + kj`.
struct GradTiles<'a, S: Simd, T: Elem, const V: usize, const Q: usize, const QA: usize> {
    simd: S,
    f: usize,
    xs: &'a [T],
    steps: &'a [(u16, u16)],
    /// Rows of a panel of the `dY` block.
    panel: usize,
    bt: &'a [T],
    dwt: &'a mut [T],
    c0: usize,
    kk: usize,
    rows: Rows,
}

/// What the weight gradient's tile rows are.
#[derive(Clone, Copy)]
enum Rows {
    /// The group's channels, at kernel position `tap`; the copies are
    /// channels-last and a step's element is where the channels start.
    Channels { tap: usize },
    /// The group's taps `(c, ki, kj)`, `k x k` per channel (see
    /// [`Geom::tap_rows`]); the copies are zero-padded planes (see
    /// [`Planes`]) and a step's element is the pixel's tap `(0, 0, 0)`.
    Taps { k: usize, planes: Planes },
}

impl<S: Simd, T: Elem, const V: usize, const Q: usize, const QA: usize> Tiles
    for GradTiles<'_, S, T, V, Q, QA>
{
    // A debug build keeps each tile a call of its own: inlined, the unoptimized
    // copies of every tile size, row kind and panel width took a megabyte of
    // the dispatched function's frame (`tests/stack_conv.rs` runs on 2 MiB).
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline(never))]
    fn tile<const M: usize>(&mut self, r0: usize) {
        let simd = self.simd;
        let (f, steps, kk) = (self.f, self.steps, self.kk);
        let pw = V * T::lanes::<S>();
        let bt = T::vectors::<S>(self.bt);
        // Row `r`'s elements as an array, read at a step's element masked
        // by `Q - 1`: the reads go unchecked. For channels, one array of
        // `QA = Q + 8` from the tile's first channel, read at `+ r < M <= 8`
        // (the caller leaves `Q + 8` elements after the start of the group);
        // for taps, one per row from its tap's offset (the caller leaves `Q`
        // after the last).
        let xs = self
            .xs
            .get(r0..r0 + QA)
            .and_then(|x| <&[T; QA]>::try_from(x).ok());
        let mut xr: [Option<&[T; Q]>; M] = [None; M];
        if let Rows::Taps { k, planes } = self.rows {
            // Tap `r0 = (c, ki, kj)`, then the next ones, walked (divisions
            // for every row cost as much as a short block's products).
            let (mut at, mut ki, mut kj) = (r0 / kk * planes.plane, r0 % kk / k, r0 % k);
            for xr in &mut xr {
                let o = at + ki * planes.wp + kj;
                *xr = self.xs.get(o..o + Q).and_then(|x| x.try_into().ok());
                kj += 1;
                if kj == k {
                    (ki, kj) = (ki + 1, 0);
                    if ki == k {
                        (at, ki) = (at + planes.plane, 0);
                    }
                }
            }
        }
        let (out0, per) = match self.rows {
            Rows::Channels { tap } if xs.is_some() => ((self.c0 + r0) * kk + tap, kk),
            Rows::Taps { .. } if xr.iter().all(Option::is_some) => (self.c0 * kk + r0, 1),
            _ => return,
        };
        let out_row = |r: usize| (out0 + r * per) * f;
        let mut j0 = 0;
        while j0 < f {
            let mut s = [[T::splat(simd, T::ZERO); V]; M];
            for (r, acc_r) in s.iter_mut().enumerate() {
                let row = out_row(r);
                let out = self.dwt.get(row + j0..row + f).unwrap_or_default();
                *acc_r = load_row::<S, T, V>(simd, out);
            }
            let at = (j0 / pw) * self.panel * V;
            let (b, _) = bt
                .get(at..at + self.panel * V)
                .unwrap_or_default()
                .as_chunks::<V>();
            s = match (self.rows, xs) {
                (Rows::Channels { .. }, Some(xs)) => {
                    let x = |o: usize, r: usize| xs[o + r];
                    grad_steps::<S, T, M, V, Q, false>(simd, steps, b, x, s)
                }
                _ => {
                    let Some(x0) = xr[0] else {
                        return;
                    };
                    let xr = xr.map(|x| x.unwrap_or(x0));
                    let x = |o: usize, r: usize| xr[r][o];
                    grad_steps::<S, T, M, V, Q, true>(simd, steps, b, x, s)
                }
            };
            for (r, acc_r) in s.iter().enumerate() {
                let row = out_row(r);
                if let Some(out) = self.dwt.get_mut(row + j0..row + f) {
                    store_row::<S, T, V>(simd, out, acc_r);
                }
            }
            j0 += pw;
        }
    }
}

/// `acc[r] += Σ_(l, o) x(o, r) b[l]` over the `steps` (`o` masked by
/// `Q - 1`); `SEQ`: the steps' `l` are `0, 1, ..` (`b` has as many rows
/// as there are steps).
#[inline(always)]
fn grad_steps<S: Simd, T: Elem, const M: usize, const V: usize, const Q: usize, const SEQ: bool>(
    simd: S,
    steps: &[(u16, u16)],
    b: &[[T::V<S>; V]],
    x: impl Fn(usize, usize) -> T,
    acc: [[T::V<S>; V]; M],
) -> [[T::V<S>; V]; M] {
    if M * V >= 8 {
        grad_steps_in::<S, T, M, V, Q, 1, SEQ>(simd, steps, b, x, acc)
    } else {
        // Too few accumulators to hide the multiply-adds' latency (a
        // 1-channel layer: one chain): four sets, pixel by pixel.
        grad_steps_in::<S, T, M, V, Q, 4, SEQ>(simd, steps, b, x, acc)
    }
}

/// [`grad_steps`] in `U` sets of accumulators taking the steps in turn
/// (then added).
#[inline(always)]
fn grad_steps_in<
    S: Simd,
    T: Elem,
    const M: usize,
    const V: usize,
    const Q: usize,
    const U: usize,
    const SEQ: bool,
>(
    simd: S,
    steps: &[(u16, u16)],
    b: &[[T::V<S>; V]],
    x: impl Fn(usize, usize) -> T,
    acc: [[T::V<S>; V]; M],
) -> [[T::V<S>; V]; M] {
    let mut s = [[[T::splat(simd, T::ZERO); V]; M]; U];
    s[0] = acc;
    #[inline(always)]
    fn step<S: Simd, T: Elem, const M: usize, const V: usize, const Q: usize>(
        simd: S,
        su: &mut [[T::V<S>; V]; M],
        o: u16,
        bl: &[T::V<S>; V],
        x: &impl Fn(usize, usize) -> T,
    ) {
        let o = usize::from(o) & (Q - 1);
        // `r` indexes the accumulators and names the row.
        #[allow(clippy::needless_range_loop)]
        for r in 0..M {
            let x = T::splat(simd, x(o, r));
            for v in 0..V {
                su[r][v] = T::fma(simd, x, bl[v], su[r][v]);
            }
        }
    }
    let (chunks, rest) = steps.as_chunks::<U>();
    if SEQ {
        // Step `l` takes row `l`: no index to check.
        let (b_chunks, b_rest) = b.as_chunks::<U>();
        for (chunk, bc) in chunks.iter().zip(b_chunks) {
            for ((su, &(_, o)), bl) in s.iter_mut().zip(chunk).zip(bc) {
                step::<S, T, M, V, Q>(simd, su, o, bl, &x);
            }
        }
        for (&(_, o), bl) in rest.iter().zip(b_rest) {
            step::<S, T, M, V, Q>(simd, &mut s[0], o, bl, &x);
        }
    } else {
        for chunk in chunks {
            for (su, &(l, o)) in s.iter_mut().zip(chunk) {
                if let Some(bl) = b.get(usize::from(l)) {
                    step::<S, T, M, V, Q>(simd, su, o, bl, &x);
                }
            }
        }
        for &(l, o) in rest {
            if let Some(bl) = b.get(usize::from(l)) {
                step::<S, T, M, V, Q>(simd, &mut s[0], o, bl, &x);
            }
        }
    }
    let mut out = s[0];
    let one = T::splat(simd, T::ONE);
    for su in &s[1..] {
        for (o, a) in out.iter_mut().zip(su) {
            for (o, &a) in o.iter_mut().zip(a) {
                // a 1 + o: a sum, rounded once.
                *o = T::fma(simd, a, one, *o);
            }
        }
    }
    out
}

/// Entries of the weight gradient's table of pixels (see [`Steps`]) with
/// the large buffers.
const LCAP: usize = 6400;
/// Entries of the table with the small buffer: a 16x16 image's 3x3 taps
/// (each call clears its table: 9 KiB instead of 25).
const LCAP_SMALL: usize = 2304;

/// For each tap (kernel position) `(ki, kj)`, the pixels of a block (`lq`
/// pixels from `q0`, of `nb` images) where it reads inside the image, image
/// after image: the pixel's row in a panel of the transposed `dY` block and
/// the element it reads in the block's copies (channels-last, `group` per
/// pixel, `istride` pixels per image), relative to its channel. `L`
/// entries at most.
struct Steps<const L: usize> {
    list: [(u16, u16); L],
    /// Tap `t`'s entries: from `taps[t].0`, `taps[t].1` per image.
    taps: [(u16, u16); 256],
    /// `(q0, lq)` of the block the table is for.
    block: (usize, usize),
}

impl<const L: usize> Steps<L> {
    fn new() -> Self {
        Self {
            list: [(0, 0); L],
            taps: [(0, 0); 256],
            block: (0, 0),
        }
    }
    /// The table for a block. It fits: `nb lq K² <= L`, `K² <= 256`,
    /// the rows `nb lq <= KQ` and the elements below `QW` (entries that
    /// would not fit are left out).
    fn build(&mut self, g: &Geom, q0: usize, lq: usize, nb: usize, istride: usize, group: usize) {
        let mut len = 0;
        let (qa, qb) = (q0 / g.ow, (q0 + lq).div_ceil(g.ow));
        for ki in 0..g.k {
            for kj in 0..g.k {
                let inside = Inside::new(g, ki, kj);
                let start = len;
                // The first image's entries, a run per output row: row `a`'s
                // pixels `b` inside both the image and the block, `l = q -
                // q0` and the element `(a S W + b S + at) group` stepping by
                // 1 and `S group`.
                for a in inside.rows.0.max(qa)..inside.rows.1.min(qb) {
                    let row = a * g.ow;
                    let b0 = inside.cols.0.max(q0.saturating_sub(row));
                    let b1 = inside.cols.1.min((q0 + lq).saturating_sub(row));
                    if b0 >= b1 {
                        continue;
                    }
                    let p0 = (a * g.s * g.w + b0 * g.s) as isize + inside.at;
                    let (l0, o0) = (row + b0 - q0, p0 as usize * group);
                    let (l_end, o_end) = (l0 + (b1 - b0 - 1), o0 + (b1 - b0 - 1) * g.s * group);
                    let fits = u16::try_from(l_end).is_ok() && u16::try_from(o_end).is_ok();
                    let Some(run) = self.list.get_mut(len..len + (b1 - b0)).filter(|_| fits) else {
                        continue;
                    };
                    let (mut l, mut o, step) = (l0 as u16, o0 as u16, (g.s * group) as u16);
                    for e in run {
                        *e = (l, o);
                        (l, o) = (l.wrapping_add(1), o.wrapping_add(step));
                    }
                    len += b1 - b0;
                }
                // then the others', shifted by whole images.
                let per = len - start;
                let (dl, dp) = (lq as u16, (istride * group) as u16);
                if let Some(all) = self.list.get_mut(start..start + nb * per) {
                    let (first, rest) = all.split_at_mut(per);
                    for (i, copy) in rest.chunks_exact_mut(per.max(1)).enumerate() {
                        let i = i as u16 + 1;
                        for (e, &(l, o)) in copy.iter_mut().zip(&*first) {
                            *e = (l + i * dl, o + i * dp);
                        }
                    }
                    len += (nb - 1) * per;
                }
                if let Some(t) = self.taps.get_mut(ki * g.k + kj) {
                    *t = (start as u16, per as u16);
                }
            }
        }
        self.block = (q0, lq);
    }
    /// The table for a block with the taps as rows: one list, every pixel
    /// (the padding is in the planes), its element the pixel's tap
    /// `(0, 0, 0)`: `(a W' + b) S` in its image's planes, `istride` apart.
    fn build_taps(&mut self, g: &Geom, q0: usize, lq: usize, nb: usize, istride: usize, wp: usize) {
        let Some(all) = self.list.get_mut(..nb * lq) else {
            return;
        };
        let (first, rest) = all.split_at_mut(lq);
        // The first image's entries, pixel `(a, b)` walked from `q0`,
        let (mut a, mut b) = (q0 / g.ow, q0 % g.ow);
        for (l, e) in first.iter_mut().enumerate() {
            *e = (l as u16, ((a * wp + b) * g.s) as u16);
            b += 1;
            if b == g.ow {
                (a, b) = (a + 1, 0);
            }
        }
        // then the others', shifted by whole images.
        let (dl, dp) = (lq as u16, istride as u16);
        for (i, copy) in rest.chunks_exact_mut(lq.max(1)).enumerate() {
            let i = i as u16 + 1;
            for (e, &(l, o)) in copy.iter_mut().zip(&*first) {
                *e = (l + i * dl, o + i * dp);
            }
        }
        if let Some(t) = self.taps.first_mut() {
            *t = (0, lq as u16);
        }
        self.block = (q0, lq);
    }
    /// Tap `t`'s entries for the first `n` images.
    fn of(&self, t: usize, n: usize) -> &[(u16, u16)] {
        let (start, per) = self.taps.get(t).copied().unwrap_or_default();
        let (start, per) = (usize::from(start), usize::from(per));
        self.list.get(start..start + per * n).unwrap_or_default()
    }
}

/// The weight gradient with panels of `V` vectors of filters, `nb` images
/// and `group` channels at a time, pixel blocks of `lq_max` (all of an
/// image's pixels when `nb > 1`), as `plan` says; `xs` holds at least
/// [`GradPlan::xs`] elements (the block's copies take at most `Q`: `QW`,
/// or `QS` for the small buffer; `QA = Q + 8`, the channels' arrays), `bt`
/// at least `nb lq_max F` rounded up to panels.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn weight_grad_v<
    S: Simd,
    T: Elem,
    const V: usize,
    const Q: usize,
    const QA: usize,
    const L: usize,
>(
    simd: S,
    g: &Geom,
    plan: GradPlan,
    x: &[T],
    dy: &[T],
    dwt: &mut [T],
    db: &mut [T],
    xs: &mut [T],
    bt: &mut [T],
) {
    let GradPlan {
        group,
        nb,
        lq_max,
        planes,
        ..
    } = plan;
    let (kk, pix, chan) = (g.kk(), g.pix(), g.h * g.w);
    let image = g.c * chan;
    let pw = V * T::lanes::<S>();
    let istride = group * planes.map_or(chan, |p| p.plane);
    let mut steps = Steps::<L>::new();
    // Blocks of pixels of even sizes (784 pixels: 4 x 196, not 3 x 256 + 16).
    let lq_even = pix.div_ceil(pix.div_ceil(lq_max));
    let mut n0 = 0;
    while n0 < g.n {
        let n1 = (n0 + nb).min(g.n);
        let mut c0 = 0;
        while c0 < g.c {
            let c1 = (c0 + group).min(g.c);
            for i in 0..n1 - n0 {
                let from = (n0 + i) * image + c0 * chan;
                let (src, dst) = (x.get(from..), xs.get_mut(i * istride..));
                let (Some(src), Some(dst)) = (src, dst) else {
                    continue;
                };
                match planes {
                    // The images' channels c0..c1, transposed: image i,
                    // pixel p, channel c at (i H W + p) group + c - c0.
                    None => T::transpose(simd, src, chan, dst, group, c1 - c0, chan),
                    // Or in their planes, image i's channel c at
                    // (i group + c - c0) plane.
                    Some(planes) => {
                        for (src, dst) in src.chunks(chan).zip(dst.chunks_mut(planes.plane)) {
                            planes.fill(g, src, dst);
                        }
                    }
                }
            }
            let mut q0 = 0;
            while q0 < pix {
                let lq = lq_even.min(pix - q0);
                // The block of dY, transposed, in panels of `pw` filters:
                // panel j, image i, row l holds dY[n0 + i, j pw.., q0 + l].
                for i in 0..n1 - n0 {
                    let dyn_ = dy.get((n0 + i) * g.f * pix..).unwrap_or_default();
                    for (j, f0) in (0..g.f).step_by(pw).enumerate() {
                        let at = (j * (n1 - n0) + i) * lq * pw;
                        let rows = bt.get_mut(at..).unwrap_or_default();
                        let src = dyn_.get(f0 * pix + q0..).unwrap_or_default();
                        T::transpose(simd, src, pix, rows, pw, pw.min(g.f - f0), lq);
                    }
                }
                // db: the sums of the block's rows, panel by panel (with the
                // first group of channels).
                let rows = (n1 - n0) * lq;
                let bv = T::vectors::<S>(bt);
                for (j, f0) in (0..g.f).step_by(pw).enumerate().filter(|_| c0 == 0) {
                    let (panel, _) = bv
                        .get(j * rows * V..(j + 1) * rows * V)
                        .unwrap_or_default()
                        .as_chunks::<V>();
                    let out = db.get_mut(f0..).unwrap_or_default();
                    let zero = [T::splat(simd, T::ZERO); V];
                    // Four chains of adds, rows in turn (one chain waited
                    // on every add: as long as a 1-channel layer's product).
                    let mut acc = [load_row::<S, T, V>(simd, out), zero, zero, zero];
                    let one = T::splat(simd, T::ONE);
                    let (quads, rest) = panel.as_chunks::<4>();
                    let add = |acc: &mut [T::V<S>; V], row: &[T::V<S>; V]| {
                        for (a, &b) in acc.iter_mut().zip(row) {
                            // b 1 + a: a sum, rounded once.
                            *a = T::fma(simd, b, one, *a);
                        }
                    };
                    for quad in quads {
                        for (acc, row) in acc.iter_mut().zip(quad) {
                            add(acc, row);
                        }
                    }
                    for row in rest {
                        add(&mut acc[0], row);
                    }
                    let [mut a0, a1, a2, a3] = acc;
                    for a in [a1, a2, a3] {
                        add(&mut a0, &a);
                    }
                    store_row::<S, T, V>(simd, out, &a0);
                }
                if steps.block != (q0, lq) {
                    match planes {
                        None => steps.build(g, q0, lq, nb, chan, group),
                        Some(p) => steps.build_taps(g, q0, lq, nb, istride, p.wp),
                    }
                }
                if let Some(planes) = planes {
                    let mut job = GradTiles::<S, T, V, Q, QA> {
                        simd,
                        f: g.f,
                        xs,
                        steps: steps.of(0, n1 - n0),
                        panel: (n1 - n0) * lq,
                        bt,
                        dwt: &mut *dwt,
                        c0,
                        kk,
                        rows: Rows::Taps { k: g.k, planes },
                    };
                    tiles::<S, _>((c1 - c0) * kk, &mut job);
                    q0 += lq;
                    continue;
                }
                for tap in 0..kk {
                    let steps = steps.of(tap, n1 - n0);
                    if steps.is_empty() {
                        continue;
                    }
                    let mut job = GradTiles::<S, T, V, Q, QA> {
                        simd,
                        f: g.f,
                        xs,
                        steps,
                        panel: (n1 - n0) * lq,
                        bt,
                        dwt: &mut *dwt,
                        c0,
                        kk,
                        rows: Rows::Channels { tap },
                    };
                    tiles::<S, _>(c1 - c0, &mut job);
                }
                q0 += lq;
            }
            c0 = c1;
        }
        n0 = n1;
    }
}

/// The weight gradient's sizes for one call.
#[derive(Clone, Copy)]
struct GradPlan {
    /// Filters per panel: 1 or 2 vectors.
    v: usize,
    group: usize,
    nb: usize,
    lq_max: usize,
    /// The copies' planes where the rows are taps, else `None` (channels).
    planes: Option<Planes>,
    /// Whether the buffers are the small ones: the copies' and the `dY`
    /// block's in one buffer of [`SMALL`], read at steps masked by `QS - 1`
    /// (else by `QW - 1`).
    small: bool,
}

/// Elements of the weight gradient's one buffer for small layers.
const SMALL: usize = 4096;
/// Multiply-adds of a product below which a smaller buffer serves even
/// with shorter blocks: clearing the large buffers (96 KiB in `f32` for the
/// weight gradient, 64 KiB for the forward) costs more than the shorter
/// blocks. (16x8x8 -> 32x8x8 at batch 1, 0.3 M: weight gradient 14% faster
/// in the small buffer; at batch 16, 4.7 M: the large one's 4 images per
/// block. The forward: see [`Geom::plan`].)
const SMALL_WORK: usize = 1 << 20;
/// Elements that the planes of a block span in the small buffer.
const QS: usize = 1024;

/// Layers of fewer channels than this take the taps as the weight
/// gradient's rows: with the channels as rows their tiles would be short.
const TAP_ROWS_BELOW: usize = 8;
/// Outputs of this many pixels or more take the taps as rows too (4
/// blocks of `KQ`: with the channels as rows, the tables of pixels per
/// kernel position are built again for every block of every image; measured
/// faster with the taps from 32 x 32 outputs, slower at 24 x 24 and 28 x 28).
const TAP_ROWS_FROM_PIXELS: usize = 1024;

impl Geom {
    /// Whether the weight gradient's rows are the taps: for fewer than
    /// [`TAP_ROWS_BELOW`] channels or outputs of [`TAP_ROWS_FROM_PIXELS`]
    /// or more.
    fn tap_rows(&self) -> bool {
        self.c < TAP_ROWS_BELOW || self.oh * self.ow >= TAP_ROWS_FROM_PIXELS
    }
}

/// One channel of one image, zero-padded to the pixels the taps read:
/// `(OH - 1) S + K` rows of `wp = (OW - 1) S + K`, element `(u, v)` is
/// `X[c, u - P, v - P]`, so tap `(ki, kj)` at output pixel `(a, b)` is
/// element `(aS + ki) wp + bS + kj`.
#[derive(Clone, Copy)]
struct Planes {
    wp: usize,
    hp: usize,
    plane: usize,
}

impl Planes {
    fn new(g: &Geom) -> Self {
        let wp = (g.ow - 1) * g.s + g.k;
        let hp = (g.oh - 1) * g.s + g.k;
        Self {
            wp,
            hp,
            plane: hp * wp,
        }
    }
    /// Writes one channel (`src`, `H x W`) into its plane (`dst`), whose
    /// padding is zero already (it is never written).
    #[inline(always)]
    fn fill<T: Elem>(self, g: &Geom, src: &[T], dst: &mut [T]) {
        // Image columns `x0..x1` land in the plane, at `x + P`.
        let x0 = (-g.p).max(0) as usize;
        let x1 = (self.wp as isize - g.p).clamp(0, g.w as isize) as usize;
        for (y, src) in src.chunks_exact(g.w).enumerate() {
            let u = y as isize + g.p;
            if u < 0 || u >= self.hp as isize || x0 >= x1 {
                continue;
            }
            let at = u as usize * self.wp + (x0 as isize + g.p) as usize;
            let (Some(src), Some(dst)) = (src.get(x0..x1), dst.get_mut(at..at + x1 - x0)) else {
                continue;
            };
            // In runs of 8 (one move each), then element by element (pulp's
            // partial loads and stores are calls; a loop of elements ran
            // LLVM's checks and tails for every row).
            let ((dc, dr), (sc, sr)) = (dst.as_chunks_mut::<8>(), src.as_chunks::<8>());
            dc.iter_mut().zip(sc).for_each(|(d, s)| *d = *s);
            dr.iter_mut().zip(sr).for_each(|(d, s)| *d = *s);
        }
    }
}

impl GradPlan {
    /// `None` where the kernel cannot run (`lanes`: elements per vector).
    fn new(g: &Geom, lanes: usize, small: bool) -> Option<Self> {
        if g.k == 0 || g.s == 0 || g.c == 0 || g.oh == 0 || g.ow == 0 {
            return None;
        }
        let planes = g.tap_rows().then(|| Planes::new(g));
        // The copies of a block take at most `Q` elements (`QS` in the small
        // buffer, else `QW`), a channel's `chan`.
        let chan = planes.map_or(g.h * g.w, |p| p.plane);
        // (Planes: less 8, so that the tiles' arrays end in the buffer.)
        let q = if small { QS } else { QW };
        let room = if planes.is_some() { q - 8 } else { q };
        let group = (room / chan).min(g.c);
        if group == 0 {
            return None;
        }
        let group = g.c.div_ceil(g.c.div_ceil(group));
        let v = if g.f <= lanes { 1 } else { 2 };
        let fpad = g.f.next_multiple_of(v * lanes);
        // With channels as rows, a table of `K²` lists of pixels.
        if planes.is_none() && g.kk() > 256 {
            return None;
        }
        let per_pixel = if planes.is_some() { 1 } else { g.kk() };
        let mut plan = Self {
            v,
            group,
            nb: 1,
            lq_max: 0,
            planes,
            small,
        };
        // The `dY` block's room: in the small buffer, what the copies leave
        // (less a cache line for the alignment).
        let bt_room = if small {
            SMALL.saturating_sub(plan.xs() + 64)
        } else {
            BTCAP
        };
        let entries = if small { LCAP_SMALL } else { LCAP };
        plan.lq_max = KQ.min(bt_room / fpad).min(entries / per_pixel);
        if plan.lq_max == 0 {
            return None;
        }
        // Whole images, several at a time, where they fit the buffers.
        if g.pix() <= plan.lq_max {
            plan.nb = (plan.lq_max / g.pix())
                .min(room / (group * chan))
                .clamp(1, g.n);
        }
        Some(plan)
    }
    /// Elements of the images' copies: the tiles read arrays of `Q + 8`
    /// from the group's channels (`Q`: `QS` in the small buffer, else `QW`),
    /// or of `Q` from a tap's offset in the planes.
    fn xs(self) -> usize {
        let q = if self.small { QS } else { QW };
        self.group * self.planes.map_or(1, |p| p.plane) + q + 8
    }
    /// Elements of the transposed block of `dY`.
    fn bt(self, g: &Geom, lanes: usize) -> usize {
        self.nb * self.lq_max.min(g.pix()) * g.f.next_multiple_of(self.v * lanes)
    }
    /// Whether a call takes the small buffer (see [`GradPlan::small`]), and
    /// the buffers' elements (copies, `dY` block) that it needs in vectors
    /// of 32 or 64 bytes, whichever the CPU has, for elements of `size`
    /// bytes. The small buffer where its plan groups as many channels as
    /// the large one's (fewer: shorter tiles; for 1x1 kernels a third of
    /// the speed), and takes as many images per block or the product is
    /// below [`SMALL_WORK`] multiply-adds.
    fn buffers(g: &Geom, size: usize) -> Option<(bool, usize, usize)> {
        let lanes = [32 / size, 64 / size];
        let plans = |small: bool| lanes.map(|l| Self::new(g, l, small));
        let (small, large) = (plans(true), plans(false));
        let work = g.work();
        let same = small.iter().zip(&large).all(|(s, l)| match (s, l) {
            (Some(s), Some(l)) => s.group == l.group && (s.nb == l.nb || work < SMALL_WORK),
            (s, _) => s.is_some(),
        });
        let (small, plans) = if same { (true, small) } else { (false, large) };
        let mut need = (0, 0);
        for (plan, lanes) in plans.into_iter().zip(lanes) {
            let plan = plan?;
            need = (need.0.max(plan.xs()), need.1.max(plan.bt(g, lanes)));
        }
        Some((small, need.0, need.1))
    }
}

/// The weight gradient's outputs: `dw` (`F x taps`) and `db` (`F`),
/// overwritten, and `dwt`, zeros on entry, where `dWᵀ` (`taps x F`) is
/// summed.
pub(crate) struct Grads<'a, T> {
    pub dwt: &'a mut [T],
    pub dw: &'a mut [T],
    pub db: &'a mut [T],
}

struct WeightGrad<'a, T> {
    g: &'a Geom,
    x: &'a [T],
    dy: &'a [T],
    out: Grads<'a, T>,
    xs: &'a mut [T],
    bt: &'a mut [T],
    small: bool,
}

impl<T: Elem> WithSimd for WeightGrad<'_, T> {
    type Output = bool;
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> bool {
        let Self {
            g,
            x,
            dy,
            out,
            xs,
            bt,
            small,
        } = self;
        let Grads { dwt, dw, db } = out;
        let lanes = T::lanes::<S>();
        let taps = g.c * g.kk();
        if !wide::<S>()
            || x.len() != g.n * g.c * g.h * g.w
            || dy.len() != g.n * g.f * g.pix()
            || dwt.len() != taps * g.f
            || dw.len() != taps * g.f
            || db.len() != g.f
        {
            return false;
        }
        let Some(plan) = GradPlan::new(g, lanes, small) else {
            return false;
        };
        if xs.len() < plan.xs() || bt.len() < plan.bt(g, lanes) {
            return false;
        }
        db.fill(T::ZERO);
        match (plan.v, small) {
            (1, true) => weight_grad_v::<S, T, 1, QS, { QS + 8 }, LCAP_SMALL>(
                simd, g, plan, x, dy, dwt, db, xs, bt,
            ),
            (_, true) => weight_grad_v::<S, T, 2, QS, { QS + 8 }, LCAP_SMALL>(
                simd, g, plan, x, dy, dwt, db, xs, bt,
            ),
            (1, false) => weight_grad_v::<S, T, 1, QW, { QW + 8 }, LCAP>(
                simd, g, plan, x, dy, dwt, db, xs, bt,
            ),
            (_, false) => weight_grad_v::<S, T, 2, QW, { QW + 8 }, LCAP>(
                simd, g, plan, x, dy, dwt, db, xs, bt,
            ),
        }
        T::transpose(simd, dwt, g.f, dw, taps, taps, g.f);
        true
    }
}

/// The weight gradient's entry for one element type, compiled in this crate.
macro_rules! weight_grad_entry {
    ($name:ident, $t:ty) => {
        #[inline(never)]
        fn $name(g: &Geom, x: &[$t], dy: &[$t], out: Grads<'_, $t>) -> bool {
            let Some((small, need_xs, need_bt)) = GradPlan::buffers(g, core::mem::size_of::<$t>())
            else {
                return false;
            };
            #[inline(never)]
            fn run(
                g: &Geom,
                x: &[$t],
                dy: &[$t],
                out: Grads<'_, $t>,
                bufs: (&mut [$t], &mut [$t], bool),
            ) -> bool {
                let (xs, bt, small) = bufs;
                pulp::Arch::new().dispatch(WeightGrad {
                    g,
                    x,
                    dy,
                    out,
                    xs,
                    bt,
                    small,
                })
            }
            // Small layers: the copies and the block of `dY` in one buffer
            // of 4096, the block on a cache line (clearing the larger
            // buffers cost them more than their products). One call of
            // `with_buffer` for both kinds (a debug build gives every call
            // its own slots, and each of the three places where
            // `with_buffer` calls this closure would hold its copy).
            with_buffer(
                if small { SMALL } else { need_xs },
                #[cfg_attr(not(debug_assertions), inline(always))]
                |buf: &mut [$t]| {
                    if small {
                        let (xs, rest) = buf.split_at_mut(need_xs.min(buf.len()));
                        let skip = rest.as_ptr().align_offset(64).min(rest.len());
                        let bt = &mut rest[skip..];
                        bt.len() >= need_bt && run(g, x, dy, out, (xs, bt, small))
                    } else {
                        let bt = &mut Aligned([0.0; BTCAP]).0;
                        need_bt <= BTCAP && run(g, x, dy, out, (buf, bt, small))
                    }
                },
            )
        }
    };
}
weight_grad_entry!(weight_grad_f32, f32);
weight_grad_entry!(weight_grad_f64, f64);

/// [`weight_grad`] for 1 x 1 filters, stride 1, no padding: per image, a
/// matrix product by the dense kernel, `dW (F x C) += dY_n (F x HW) X_nᵀ`,
/// with `X_nᵀ` (`HW x C`) transposed into `xt`, and `db` the sums of `dY`'s
/// rows. `false`, with `dw` and `db` maybe written, where it does not run.
struct PointwiseGrad<'a, T> {
    g: &'a Geom,
    x: &'a [T],
    dy: &'a [T],
    dw: &'a mut [T],
    db: &'a mut [T],
    xt: &'a mut [T],
    gemm: DenseKernel<T>,
}

impl<T: Elem> WithSimd for PointwiseGrad<'_, T> {
    type Output = bool;
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> bool {
        let Self {
            g,
            x,
            dy,
            dw,
            db,
            xt,
            gemm,
        } = self;
        let pix = g.pix();
        let Some(xt) = xt.get_mut(..pix * g.c) else {
            return false;
        };
        if !wide::<S>()
            || pix == 0
            // (No image: no product writes `dw`; the convolution's kernel
            // sets it to zeros.)
            || g.n == 0
            || x.len() != g.n * g.c * pix
            || dy.len() != g.n * g.f * pix
            || dw.len() != g.f * g.c
            || db.len() != g.f
        {
            return false;
        }
        let d = Dims {
            r: g.f,
            c: pix,
            n: g.c,
        };
        db.fill(T::ZERO);
        for (i, (xn, dyn_)) in x
            .chunks_exact(g.c * pix)
            .zip(dy.chunks_exact(g.f * pix))
            .enumerate()
        {
            T::transpose(simd, xn, pix, xt, g.c, g.c, pix);
            if !gemm(dyn_, Lhs::Rows, xt, dw, d, i == 0) {
                return false;
            }
            // db: each row's sum in 8 lanes (independent chains), then added.
            for (b, row) in db.iter_mut().zip(dyn_.chunks_exact(pix)) {
                let mut acc = [T::ZERO; 8];
                let (chunks, rest) = row.as_chunks::<8>();
                for c in chunks {
                    for (a, &v) in acc.iter_mut().zip(c) {
                        *a += v;
                    }
                }
                for (a, &v) in acc.iter_mut().zip(rest) {
                    *a += v;
                }
                for w in [4, 2, 1] {
                    for l in 0..w {
                        let v = acc[l + w];
                        acc[l] += v;
                    }
                }
                *b += acc[0];
            }
        }
        true
    }
}

/// [`PointwiseGrad`]'s entry for one element type, compiled in this crate.
macro_rules! pointwise_grad_entry {
    ($name:ident, $t:ty) => {
        #[inline(never)]
        fn $name(g: &Geom, x: &[$t], dy: &[$t], dw: &mut [$t], db: &mut [$t]) -> bool {
            let need = g.pix() * g.c;
            need <= XCAP
                && with_buffer(
                    need,
                    #[inline(always)]
                    |xt: &mut [$t]| {
                        pulp::Arch::new().dispatch(PointwiseGrad {
                            g,
                            x,
                            dy,
                            dw,
                            db,
                            xt,
                            gemm: gemm::<$t>,
                        })
                    },
                )
        }
    };
}
pointwise_grad_entry!(pointwise_grad_f32, f32);
pointwise_grad_entry!(pointwise_grad_f64, f64);

/// `dw[f, t] = Σ_n Σ_q X̂_n[t, q] dy[n, f, q]` and `db[f] = Σ_n Σ_q dy[n, f, q]`
/// for `x: n x c x h x w`, `dy: n x f x oh x ow`, `dw: f x (c k k)`, through
/// `dwt`, `(c k k) x f` zeros. `false`, with `dw` and `db` not written,
/// where the kernel does not run.
#[inline(always)]
pub(crate) fn weight_grad<T: Scalar>(g: &Geom, x: &[T], dy: &[T], out: Grads<'_, T>) -> bool {
    let Grads { dwt, dw, db } = out;
    // 1 x 1, stride 1, no padding: a matrix product per image (see
    // `PointwiseGrad`), else (an image too large for its buffer) the
    // convolution's kernel.
    let pointwise = g.k == 1 && g.s == 1 && g.p == 0 && g.oh == g.h && g.ow == g.w;
    match (T::slice(x), T::slice(dy), T::slice_mut(dwt)) {
        (Slice::F32(x), Slice::F32(dy), SliceMut::F32(dwt)) => {
            let (SliceMut::F32(dw), SliceMut::F32(db)) = (T::slice_mut(dw), T::slice_mut(db))
            else {
                return false;
            };
            (pointwise && pointwise_grad_f32(g, x, dy, dw, db))
                || weight_grad_f32(g, x, dy, Grads { dwt, dw, db })
        }
        (Slice::F64(x), Slice::F64(dy), SliceMut::F64(dwt)) => {
            let (SliceMut::F64(dw), SliceMut::F64(db)) = (T::slice_mut(dw), T::slice_mut(db))
            else {
                return false;
            };
            (pointwise && pointwise_grad_f64(g, x, dy, dw, db))
                || weight_grad_f64(g, x, dy, Grads { dwt, dw, db })
        }
        _ => false,
    }
}

// ------------------------------------------------------------ input grad

/// Elements of the input gradient's block of `dX̂` (taps x pixels).
const DXCAP: usize = 16384;
/// Elements kept free before and after the block (see [`Elem::col2im2`]).
const DXSLACK: usize = 32;

/// The input gradient's product and sum, for any stride (see [`input_grad`]).
struct InputGrad<'a, T> {
    g: &'a Geom,
    wt: &'a [T],
    dy: &'a [T],
    dx: &'a mut [T],
    /// The block of `dX̂`, from `DXSLACK`.
    buf: &'a mut [T; DXCAP],
    /// The dense kernel for this element type.
    gemm: DenseKernel<T>,
}

/// [`gemm`] for one element type.
type DenseKernel<T> = fn(&[T], Lhs, &[T], &mut [T], Dims, bool) -> bool;

impl<T: Elem> WithSimd for InputGrad<'_, T> {
    type Output = bool;
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> bool {
        let Self {
            g,
            wt,
            dy,
            dx,
            buf,
            gemm,
        } = self;
        let (kk, pix, chan) = (g.kk(), g.pix(), g.h * g.w);
        if wt.len() != g.c * kk * g.f
            || dy.len() != g.n * g.f * pix
            || dx.len() != g.n * g.c * chan
            || g.f == 0
            || g.s == 0
            || kk * pix == 0
            || kk * pix > DXCAP - 2 * DXSLACK
        {
            return false;
        }
        let cb = ((DXCAP - 2 * DXSLACK) / (kk * pix)).min(g.c);
        for (dyn_, dxn) in dy
            .chunks_exact(g.f * pix)
            .zip(dx.chunks_exact_mut(g.c * chan))
        {
            let mut c0 = 0;
            while c0 < g.c {
                let c1 = (c0 + cb).min(g.c);
                let rows = (c1 - c0) * kk;
                let (Some(a), Some(out)) = (
                    wt.get(c0 * kk * g.f..c1 * kk * g.f),
                    buf.get_mut(DXSLACK..DXSLACK + rows * pix),
                ) else {
                    return false;
                };
                let d = Dims {
                    r: rows,
                    c: g.f,
                    n: pix,
                };
                if !gemm(a, Lhs::Rows, dyn_, out, d, true) {
                    return false;
                }
                col2im(simd, g, buf, c0, c1, dxn);
                c0 = c1;
            }
        }
        true
    }
}

/// The input gradient's entry for one element type, compiled in this crate.
macro_rules! input_grad_entry {
    ($name:ident, $t:ty) => {
        #[inline(never)]
        fn $name(g: &Geom, wt: &[$t], dy: &[$t], dx: &mut [$t]) -> bool {
            pulp::Arch::new().dispatch(InputGrad {
                g,
                wt,
                dy,
                dx,
                buf: &mut [0.0; DXCAP],
                gemm: gemm::<$t>,
            })
        }
    };
}
input_grad_entry!(input_grad_f32, f32);
input_grad_entry!(input_grad_f64, f64);

/// `dxn[c, i, j] = Σ dxh[t, q]` for channels `c0..c1` of one image, over
/// the taps `t = (c - c0, ki, kj)` and the pixels `q = (a, b)` where they
/// read inside it, `i = aS + ki - P`, `j = bS + kj - P`: the gradient of
/// the im2col matrix, summed back onto the image. `buf` holds the block
/// from `DXSLACK`. Stride 2 (with `P >= 0`) in [`Elem::col2im2`]'s rows
/// of AVX sums; elsewhere element by element.
#[inline(always)]
fn col2im<S: Simd, T: Elem>(simd: S, g: &Geom, buf: &[T], c0: usize, c1: usize, dxn: &mut [T]) {
    let (kk, pix, chan) = (g.kk(), g.pix(), g.h * g.w);
    let dst = dxn.get_mut(c0 * chan..).unwrap_or_default();
    if T::col2im2(simd, buf, DXSLACK, g, c1 - c0, dst) {
        return;
    }
    let dxh = buf.get(DXSLACK..).unwrap_or_default();
    for lc in 0..c1 - c0 {
        let dxc = dxn
            .get_mut((c0 + lc) * chan..(c0 + lc + 1) * chan)
            .unwrap_or_default();
        dxc.fill(T::ZERO);
        for t in 0..kk {
            let inside = Inside::new(g, t / g.k, t % g.k);
            let (b0, b1) = inside.cols;
            let src = dxh.get((lc * kk + t) * pix..).unwrap_or_default();
            for a in inside.rows.0..inside.rows.1 {
                let row = (a * g.s * g.w) as isize + inside.at;
                let src = src.get(a * g.ow + b0..a * g.ow + b1).unwrap_or_default();
                let i0 = (row + (b0 * g.s) as isize) as usize;
                let dst = dxc.get_mut(i0..).unwrap_or_default();
                for (&v, d) in src.iter().zip(dst.iter_mut().step_by(g.s)) {
                    *d += v;
                }
            }
        }
    }
}

/// `dx[n, c, i, j] = Σ_(f, ki, kj) w[f, c, ki, kj] dy[n, f, a, b]` over the
/// `(a, b)` with `aS + ki - P = i`, `bS + kj - P = j`, for any stride, from
/// `wt` (`w` transposed: `(c k k) x f`): the product `Wᵀ dY` (the gradient
/// of the im2col matrix) by the dense kernel, a block of channels at a
/// time, then summed back onto the image. `false`, with `dx` maybe
/// cleared, where it does not run.
#[inline(always)]
pub(crate) fn input_grad<T: Scalar>(g: &Geom, wt: &[T], dy: &[T], dx: &mut [T]) -> bool {
    match (T::slice(wt), T::slice(dy), T::slice_mut(dx)) {
        (Slice::F32(wt), Slice::F32(dy), SliceMut::F32(dx)) => input_grad_f32(g, wt, dy, dx),
        (Slice::F64(wt), Slice::F64(dy), SliceMut::F64(dx)) => input_grad_f64(g, wt, dy, dx),
        _ => false,
    }
}

/// [`forward`] and [`weight_grad`] under AVX2 + FMA even where the CPU has
/// AVX-512 (for tests of that path); `None` where it has not.
#[cfg(all(test, target_arch = "x86_64"))]
pub(crate) fn forward_and_weight_grad_avx2<T: Scalar>(
    g: &Geom,
    (x, w, bias, y): (&[T], &[T], &[T], &mut [T]),
    dy: &[T],
    out: Grads<'_, T>,
) -> Option<(bool, bool)> {
    fn run<T: Elem>(
        g: &Geom,
        (x, w, bias, y): (&[T], &[T], &[T], &mut [T]),
        dy: &[T],
        out: Grads<'_, T>,
    ) -> Option<(bool, bool)> {
        let simd = pulp::x86::V3::try_new()?;
        let xs = &mut std::vec![T::ZERO; XCAP];
        let bias = Some(bias);
        let relu = false;
        let forward = pulp::Simd::vectorize(
            simd,
            Forward {
                g,
                x,
                w,
                bias,
                y,
                relu,
                xs,
            },
        );
        xs.fill(T::ZERO);
        let bt = &mut Aligned([T::ZERO; BTCAP]).0;
        // The buffers that the call takes on any CPU (the small ones or not).
        let small = GradPlan::buffers(g, core::mem::size_of::<T>()).is_some_and(|b| b.0);
        let grad = pulp::Simd::vectorize(
            simd,
            WeightGrad {
                g,
                x,
                dy,
                out,
                xs,
                bt,
                small,
            },
        );
        Some((forward, grad))
    }
    let Grads { dwt, dw, db } = out;
    // The same for either element type.
    macro_rules! arm {
        ($e:ident, $x:ident, $w:ident, $b:ident, $y:ident) => {{
            let (Slice::$e(dy), SliceMut::$e(dwt), SliceMut::$e(dw), SliceMut::$e(db)) = (
                T::slice(dy),
                T::slice_mut(dwt),
                T::slice_mut(dw),
                T::slice_mut(db),
            ) else {
                return None;
            };
            run(g, ($x, $w, $b, $y), dy, Grads { dwt, dw, db })
        }};
    }
    match (T::slice(x), T::slice(w), T::slice(bias), T::slice_mut(y)) {
        (Slice::F32(x), Slice::F32(w), Slice::F32(b), SliceMut::F32(y)) => arm!(F32, x, w, b, y),
        (Slice::F64(x), Slice::F64(w), Slice::F64(b), SliceMut::F64(y)) => arm!(F64, x, w, b, y),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::Geom;

    fn geom(c: usize, hw: usize, k: usize, s: usize, p: isize) -> Geom {
        let o = (hw + 2 * p as usize - k) / s + 1;
        Geom {
            n: 1,
            c,
            h: hw,
            w: hw,
            f: 8,
            k,
            s,
            p,
            oh: o,
            ow: o,
        }
    }

    /// The forward's bands for the shapes of the layer's definition tests
    /// (`definition_bands_*`, `definition_channel_groups_f32`): those do
    /// run in bands, the last one shorter where it says so.
    #[test]
    fn bands() {
        // (output rows per band, channels per group)
        assert_eq!(geom(16, 8, 3, 1, 1).plan(), Some((8, 16)), "one band");
        assert_eq!(
            geom(12, 32, 3, 1, 1).plan(),
            Some((11, 12)),
            "11 + 11 + 10 rows"
        );
        assert_eq!(geom(16, 32, 3, 2, 1).plan(), Some((8, 16)), "stride 2");
        assert_eq!(geom(24, 40, 3, 3, 1).plan(), Some((7, 12)), "stride 3");
        assert_eq!(geom(8, 32, 3, 1, 1).plan(), Some((16, 8)), "f64 test's");
        assert_eq!(geom(16, 32, 3, 1, 1).plan(), Some((8, 16)), "16x32x32");
        assert_eq!(geom(32, 28, 5, 1, 2).plan(), Some((14, 6)), "28x28");
        // An input gradient of a 5 x 5 first layer (one output channel): no
        // bands.
        let one = Geom {
            f: 1,
            ..geom(32, 28, 5, 1, 2)
        };
        assert_eq!(one.plan(), Some((28, 3)), "one filter");
        // The input gradient of 16x8x8 -> 32x8x8 (the forward of dY's 32
        // channels into 16): at batch 1 (under 2^20 multiply-adds) two
        // groups that fit the 4096-element buffer, at batch 16 one group.
        let dy = |n| Geom {
            n,
            f: 16,
            ..geom(32, 8, 3, 1, 1)
        };
        assert_eq!(dy(1).plan(), Some((8, 16)), "batch 1");
        assert_eq!(dy(1).forward_buffer(), 16 * 240 + 64, "batch 1's buffer");
        assert_eq!(dy(16).plan(), Some((8, 32)), "batch 16");
    }

    /// The weight gradient's plans for the shapes of the layer's definition
    /// tests: layers of fewer than 8 channels or of 32 x 32 outputs take the
    /// taps as rows, from the small buffer where a block's planes fit in
    /// it with as many channels per group as in the large one, in groups of
    /// channels where a whole image's do not fit in the large one.
    #[test]
    fn grad_plans() {
        use super::GradPlan;
        // (taps as rows, small buffer, channels per group), 16 lanes (f32).
        let plan = |g: Geom| {
            let (small, ..) = GradPlan::buffers(&g, 4)?;
            GradPlan::new(&g, 16, small).map(|p| (p.planes.is_some(), p.small, p.group))
        };
        let n16 = |g: Geom| Geom { n: 16, ..g };
        let cases = [
            (n16(geom(1, 8, 3, 1, 1)), (true, true, 1), "conv1"),
            (n16(geom(16, 8, 3, 1, 1)), (false, false, 16), "conv2"),
            (geom(16, 8, 3, 1, 1), (false, true, 16), "conv2, batch 1"),
            // (The small buffer would hold 4 channels of 16 x 16.)
            (n16(geom(32, 16, 1, 1, 0)), (false, false, 32), "1x1"),
            (geom(3, 32, 5, 1, 2), (true, false, 3), "3x32x32 k5"),
            (geom(2, 32, 3, 1, 1), (true, false, 2), "2x32x32"),
            (geom(7, 40, 3, 1, 1), (true, false, 4), "7x40x40: groups"),
            (geom(4, 28, 3, 2, 1), (true, false, 4), "stride 2"),
            (geom(8, 32, 3, 1, 1), (true, false, 4), "32x32 outputs"),
            (geom(12, 32, 3, 1, 1), (true, false, 6), "12x32x32"),
            (geom(8, 24, 3, 1, 1), (false, false, 8), "24x24"),
            (geom(16, 32, 3, 2, 1), (false, false, 8), "16x16 outputs"),
        ];
        for (g, want, what) in cases {
            assert_eq!(plan(g), Some(want), "{what}");
        }
    }
}
