//! The dense layers' products `out = a b` and `out += a b` for `f32` and
//! `f64`, with `a` (logically `r x c`) stored by rows or by columns and `b`
//! (`c x n`) and `out` (`r x n`) by rows.
//!
//! Columns go one panel of two vectors at a time (four for fewer than 4
//! rows, whose sums are chains of dependent multiply-adds; the last panel
//! padded); rows of `a` in tiles of 8 (AVX-512) or 6 (AVX2) rows, then 4,
//! 2 and 1; the depth in blocks of [`KC`] rows of `b`. A block of `b` whose panel is at most
//! 32 KiB in place is read where it is; a larger one is first packed into a
//! contiguous, cache-line aligned panel, because the rows of `b` in a typical
//! layer sit a power of two apart (1 KiB for 256 `f32` columns) and would
//! share a few L1 sets. Each output element gets, for each block, the block's
//! fused sum `fma(a_ik, b_kj, ...)` (in `k` order, from 0) added to it (set
//! to it for the first block of `out = a b`).
//!
//! Cost: 0.89x `matrixmultiply::sgemm`'s time on `f32` 32 x 256 x 256
//! (`cargo bench -p stackgrad-bench --bench compare -- dense`, Intel Xeon).

use pulp::{Simd, WithSimd};

use super::{Aligned, Elem, Tiles, load_row, mul_tile, mul_tile_by, store_row, tiles, wide};
use crate::Scalar;
use crate::scalar::sealed::{Slice, SliceMut};

/// Rows of `b` per block of the depth.
const KC: usize = 256;
/// Elements of a packed panel: `KC` rows of two vectors of 16 `f32` or of 8
/// `f64` (32 KiB for `f32`, within L1).
const PANEL: usize = KC * 32;
/// The stack of the largest call (a packed `f64` panel), in bytes.
pub(super) const STACK_BYTES: usize = PANEL * 8;
/// The largest block of `b`, in bytes, read in place.
const IN_PLACE: usize = 32 * 1024;

/// The sizes of a product: `a` is `r x c`, `b` is `c x n`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dims {
    pub r: usize,
    pub c: usize,
    pub n: usize,
}

/// How the left operand, logically `r x c`, is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lhs {
    /// Row by row: `(i, k)` at `i c + k`.
    Rows,
    /// Column by column (a batch of activations for a weight gradient
    /// `Xᵀ D`): `(i, k)` at `k r + i`. The tiles read a run of `M` elements
    /// per step, so no transposed copy is made.
    Cols,
}

/// A product's operands and mode: `out = a b` when `set` (`out[i, j] =
/// bias[i] + Σ_k a[i, k] b[k, j]` with a `bias`, one per row), else
/// `out += a b`.
#[derive(Clone, Copy)]
struct Operands<'a, T> {
    a: &'a [T],
    lhs: Lhs,
    b: &'a [T],
    d: Dims,
    set: bool,
    bias: Option<&'a [T]>,
}

struct Gemm<'a, T> {
    ops: Operands<'a, T>,
    out: &'a mut [T],
}

impl<T: Elem> WithSimd for Gemm<'_, T> {
    type Output = bool;
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> bool {
        let Self { ops, out } = self;
        let Operands { a, b, d, .. } = ops;
        if !wide::<S>()
            || a.len() != d.r * d.c
            || b.len() != d.c * d.n
            || out.len() != d.r * d.n
            || d.c == 0
            || ops.bias.is_some_and(|b| b.len() != d.r || !ops.set)
        {
            return false;
        }
        // Packing pays where a block of `b` is too large to stay in L1 in place.
        if KC.min(d.c) * d.n * core::mem::size_of::<T>() > IN_PLACE {
            let mut panel = Aligned([T::ZERO; PANEL]);
            panels::<S, T>(simd, ops, out, Some(&mut panel.0));
        } else {
            panels::<S, T>(simd, ops, out, None);
        }
        true
    }
}

/// Every panel of columns, packing each block of `b` into `panel` if given.
#[inline(always)]
fn panels<S: Simd, T: Elem>(
    simd: S,
    ops: Operands<'_, T>,
    out: &mut [T],
    mut panel: Option<&mut [T; PANEL]>,
) {
    let d = ops.d;
    let lanes = T::lanes::<S>();
    let mut j0 = 0;
    while j0 < d.n {
        if d.r < 4 && panel.is_none() && d.n - j0 > 2 * lanes {
            // Few rows (a single example): each row tile is a chain of
            // dependent multiply-adds per vector, so wider panels keep more
            // of them in flight (batch-1 inference of the digits MLP:
            // 291 -> 217 ns). Not when packing: a packed panel is two
            // vectors wide.
            panel_v::<S, T, 4>(simd, ops, out, j0, panel.as_deref_mut());
            j0 += 4 * lanes;
        } else if d.n - j0 > lanes {
            panel_v::<S, T, 2>(simd, ops, out, j0, panel.as_deref_mut());
            j0 += 2 * lanes;
        } else {
            panel_v::<S, T, 1>(simd, ops, out, j0, panel.as_deref_mut());
            j0 += lanes;
        }
    }
}

/// One panel of `V` vectors of columns from `j0`, for all rows, block by
/// block of the depth.
#[inline(always)]
fn panel_v<S: Simd, T: Elem, const V: usize>(
    simd: S,
    ops: Operands<'_, T>,
    out: &mut [T],
    j0: usize,
    mut panel: Option<&mut [T; PANEL]>,
) {
    let Operands {
        a,
        lhs,
        b,
        d,
        set,
        bias,
    } = ops;
    let lanes = T::lanes::<S>();
    let pw = V * lanes;
    let cols = pw.min(d.n - j0);
    let mut k0 = 0;
    while k0 < d.c {
        let depth = KC.min(d.c - k0);
        let job = GemmTiles::<S, T, V> {
            simd,
            a,
            lhs,
            d,
            k0,
            depth,
            j0,
            cols,
            set: set && k0 == 0,
            bias: bias.filter(|_| k0 == 0),
        };
        if let Some(p) = panel.as_deref_mut() {
            for (k, dst) in p.chunks_exact_mut(pw).take(depth).enumerate() {
                // Past the last column the panel holds zeros, whose products
                // are never stored.
                let at = (k0 + k) * d.n + j0;
                let src = b.get(at..at + cols).unwrap_or_default();
                let (head, tail) = dst.split_at_mut(src.len());
                head.copy_from_slice(src);
                tail.fill(T::ZERO);
            }
            let p = &*p;
            job.run(
                out,
                #[inline(always)]
                |k| {
                    // In bounds: `depth <= KC` rows of `pw <= 32` elements.
                    let row = &p[k * pw..k * pw + pw];
                    core::array::from_fn(|v| T::load_at::<S>(row, v))
                },
            );
        } else {
            job.run(
                out,
                #[inline(always)]
                |k| {
                    // Whole vectors, also past the panel's last column (the
                    // next row's elements, whose products are never stored);
                    // partial ones only at the end of `b`.
                    let at = (k0 + k) * d.n + j0;
                    match b.get(at..at + pw) {
                        Some(row) => core::array::from_fn(|v| T::load_at::<S>(row, v)),
                        None => core::array::from_fn(|v| {
                            T::load(simd, b.get(at + v * lanes..).unwrap_or_default())
                        }),
                    }
                },
            );
        }
        k0 += depth;
    }
}

/// One block of the depth of one panel: columns `k0..k0 + depth` of `a` by
/// the panel's rows, added to (or, when `set`, stored in) columns
/// `j0..j0 + cols` of `out`.
#[derive(Clone, Copy)]
struct GemmTiles<'a, S: Simd, T: Elem, const V: usize> {
    simd: S,
    a: &'a [T],
    lhs: Lhs,
    d: Dims,
    k0: usize,
    depth: usize,
    j0: usize,
    cols: usize,
    set: bool,
    /// Where the sums start, by row (the first block of a `set` only).
    bias: Option<&'a [T]>,
}

impl<'a, S: Simd, T: Elem, const V: usize> GemmTiles<'a, S, T, V> {
    /// Every row tile, the panel's row `k` being `row(k)`.
    #[inline(always)]
    fn run(self, out: &mut [T], row: impl Fn(usize) -> [T::V<S>; V]) {
        let rows = self.d.r;
        tiles::<S, _>(
            rows,
            &mut Job {
                tiles: self,
                row,
                out,
            },
        );
    }
}

/// A block and its panel, as the row tiles of [`tiles`] take it.
struct Job<'a, 'o, S: Simd, T: Elem, const V: usize, F> {
    tiles: GemmTiles<'a, S, T, V>,
    row: F,
    out: &'o mut [T],
}

impl<S: Simd, T: Elem, const V: usize, F> Tiles for Job<'_, '_, S, T, V, F>
where
    F: Fn(usize) -> [T::V<S>; V],
{
    const WIDE: bool = V > 2;
    #[inline(always)]
    fn tile<const M: usize>(&mut self, r0: usize) {
        let GemmTiles {
            simd,
            a,
            lhs,
            d: Dims { r, c, n },
            k0,
            depth,
            j0,
            cols,
            set,
            bias,
        } = self.tiles;
        let acc = core::array::from_fn(|i| {
            let b = bias.and_then(|b| b.get(r0 + i).copied());
            [T::splat(simd, b.unwrap_or(T::ZERO)); V]
        });
        let acc = match lhs {
            Lhs::Rows => {
                let rows: [&[T]; M] =
                    core::array::from_fn(|i| a.get((r0 + i) * c + k0..).unwrap_or_default());
                mul_tile::<S, T, M, V>(
                    simd,
                    &rows,
                    depth,
                    #[inline(always)]
                    |k| (self.row)(k),
                    acc,
                )
            }
            Lhs::Cols => mul_tile_by::<S, T, M, V>(
                simd,
                depth,
                #[inline(always)]
                |k, i| {
                    // One bounds check per step for the tile's `M` rows.
                    let at = (k0 + k) * r + r0;
                    a.get(at..at + M).map(|run| run[i])
                },
                #[inline(always)]
                |k| (self.row)(k),
                acc,
            ),
        };
        // `1 · s + o` rounds once: the plain sum `s + o`.
        let one = T::splat(simd, T::ONE);
        for (i, acc_i) in acc.iter().enumerate() {
            let at = (r0 + i) * n + j0;
            let Some(o) = self.out.get_mut(at..at + cols) else {
                continue;
            };
            if set {
                store_row::<S, T, V>(simd, o, acc_i);
            } else {
                let cur = load_row::<S, T, V>(simd, o);
                let sum = core::array::from_fn(|v| T::fma(simd, one, acc_i[v], cur[v]));
                store_row::<S, T, V>(simd, o, &sum);
            }
        }
    }
}

/// The entry for one element type, compiled in this crate (a generic
/// function would be instantiated again in every crate that calls it).
macro_rules! gemm_entry {
    ($name:ident, $t:ty) => {
        #[inline(never)]
        fn $name(
            a: &[$t],
            lhs: Lhs,
            b: &[$t],
            out: &mut [$t],
            d: Dims,
            (set, bias): (bool, Option<&[$t]>),
        ) -> bool {
            let ops = Operands {
                a,
                lhs,
                b,
                d,
                set,
                bias,
            };
            pulp::Arch::new().dispatch(Gemm { ops, out })
        }
    };
}
gemm_entry!(gemm_f32, f32);
gemm_entry!(gemm_f64, f64);

/// `out = a b` (`set`) or `out += a b` for `a` stored as `lhs`, every
/// element of `out` written. `false`, with nothing written, where the kernel
/// does not run (no AVX2 + FMA, a scalar type other than `f32`/`f64`, slices
/// that do not match `d`, or `c = 0`).
#[inline(always)]
pub(crate) fn gemm<T: Scalar>(
    a: &[T],
    lhs: Lhs,
    b: &[T],
    out: &mut [T],
    d: Dims,
    set: bool,
) -> bool {
    match (T::slice(a), T::slice(b), T::slice_mut(out)) {
        (Slice::F32(a), Slice::F32(b), SliceMut::F32(out)) => {
            gemm_f32(a, lhs, b, out, d, (set, None))
        }
        (Slice::F64(a), Slice::F64(b), SliceMut::F64(out)) => {
            gemm_f64(a, lhs, b, out, d, (set, None))
        }
        _ => false,
    }
}

/// `out[i, j] = bias[i] + Σ_k a[i, k] b[k, j]` for `a` stored by rows,
/// every element of `out` written (the sums start from the bias). `false`,
/// with nothing written, where the kernel does not run (as [`gemm`], or a
/// bias that is not one per row).
#[inline(always)]
pub(crate) fn gemm_bias<T: Scalar>(a: &[T], b: &[T], out: &mut [T], d: Dims, bias: &[T]) -> bool {
    match (T::slice(a), T::slice(b), T::slice_mut(out), T::slice(bias)) {
        (Slice::F32(a), Slice::F32(b), SliceMut::F32(out), Slice::F32(bias)) => {
            gemm_f32(a, Lhs::Rows, b, out, d, (true, Some(bias)))
        }
        (Slice::F64(a), Slice::F64(b), SliceMut::F64(out), Slice::F64(bias)) => {
            gemm_f64(a, Lhs::Rows, b, out, d, (true, Some(bias)))
        }
        _ => false,
    }
}

/// [`gemm`] under AVX2 + FMA even where the CPU has AVX-512 (for tests of
/// that path); `None` where it has not.
#[cfg(all(test, target_arch = "x86_64"))]
pub(crate) fn gemm_avx2<T: Elem>(
    a: &[T],
    lhs: Lhs,
    b: &[T],
    out: &mut [T],
    d: Dims,
    set: bool,
) -> Option<bool> {
    pulp::x86::V3::try_new().map(|simd| {
        pulp::Simd::vectorize(
            simd,
            Gemm {
                ops: Operands {
                    a,
                    lhs,
                    b,
                    d,
                    set,
                    bias: None,
                },
                out,
            },
        )
    })
}
