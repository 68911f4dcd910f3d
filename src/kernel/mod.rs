//! The register-tiled products behind the dense and convolutional layers,
//! compiled once per element type in this crate (not in the user's crate, so
//! a network's types add no copies of them) and run in the widest instruction
//! set the CPU has: AVX-512, or AVX2 + FMA, chosen at run time through `pulp`.
//! Each entry point returns `false`, having done nothing, where the CPU has
//! neither or the shape is outside what its fixed buffers hold; the layer
//! then runs its portable loops.
//!
//! A tile is `M` rows by `V` vectors of columns held in registers: each step
//! of the depth broadcasts one element of each row of the left operand and
//! multiply-adds it into the `V` vectors of the right operand's row
//! ([`mul_tile`]), `M x V` fused multiply-adds for `M` broadcasts and `V`
//! loads. [`gemm`] applies it to a matrix product, [`conv`] to a convolution
//! through shifted copies of its images.
//!
//! Sums use fused multiply-adds, in a fixed order for a given machine and
//! shape, so results are reproducible there; they differ from the portable
//! loops in the last bits (tests bound the difference).

use pulp::Simd;
use pulp::bytemuck::Pod;

pub(crate) mod conv;
pub(crate) mod gemm;

/// The most stack that one kernel call takes for its buffers, in bytes (an
/// `f64` convolution's weight gradient: its shifted copies, its transposed
/// block of `dY` and its tap table). Kernels never nest, so this is also
/// the most they add to any call chain.
pub(crate) const STACK_BYTES: usize = if conv::STACK_BYTES > gemm::STACK_BYTES {
    conv::STACK_BYTES
} else {
    gemm::STACK_BYTES
};

/// A value aligned to a cache line (64 bytes): a 64-byte load that
/// straddles two lines is split in two.
#[repr(C, align(64))]
struct Aligned<P>(P);

/// The widest kernel [`Elem::col2im2`] takes, and the most vectors of a
/// row's even (or odd) columns: 64 columns of `f32`, 32 of `f64`.
const COL2_K: usize = 8;
const COL2_CHUNKS: usize = 4;

/// An element type and its vectors in the instruction set `S`.
pub(crate) trait Elem: Copy + PartialOrd + Pod + core::ops::AddAssign + 'static {
    /// A vector of `lanes::<S>()` elements.
    type V<S: Simd>: Copy + Pod;
    const ZERO: Self;
    const ONE: Self;
    fn lanes<S: Simd>() -> usize;
    fn splat<S: Simd>(simd: S, x: Self) -> Self::V<S>;
    /// `a b + c`, rounded once.
    fn fma<S: Simd>(simd: S, a: Self::V<S>, b: Self::V<S>, c: Self::V<S>) -> Self::V<S>;
    /// The first `lanes` elements of `x`, or all of them, zero-filled, if fewer.
    fn load<S: Simd>(simd: S, x: &[Self]) -> Self::V<S>;
    /// Vector `v` of `x`, which holds at least `(v + 1) lanes` elements.
    fn load_at<S: Simd>(x: &[Self], v: usize) -> Self::V<S>;
    /// The whole vectors of `x`, in place.
    fn vectors<S: Simd>(x: &[Self]) -> &[Self::V<S>];
    /// Stores into the first `lanes` elements of `x`, or all of them if fewer.
    fn store<S: Simd>(simd: S, x: &mut [Self], v: Self::V<S>);
    /// `max(0, v)`, NaN kept.
    fn relu<S: Simd>(simd: S, v: Self::V<S>) -> Self::V<S>;
    /// `v` in the lanes where `lo < c < hi`, 0 in the others.
    fn keep<S: Simd>(
        simd: S,
        c: Self::V<S>,
        lo: Self::V<S>,
        hi: Self::V<S>,
        v: Self::V<S>,
    ) -> Self::V<S>;
    /// `c + d - m` in the lanes where `c + d > m`, else `c + d`.
    fn add_wrap<S: Simd>(simd: S, c: Self::V<S>, d: Self::V<S>, m: Self::V<S>) -> Self::V<S>;
    /// `n` as an element (exact below 2^24).
    fn of(n: usize) -> Self;
    /// `dst[r ds + b] = src[r ss + 2 b]` for `r < rows`, `b < n` (0 where
    /// `r ss + 2 b` is past the end of `src`), rows in order, and maybe
    /// `dst[r ds + b] = 0` for `n <= b < n'`, `n'` the next multiple of 8
    /// (`f32`) or 4 (`f64`): rows of a stride-2 convolution's shifted copy,
    /// in AVX shuffles where `S` has AVX.
    #[allow(clippy::too_many_arguments)]
    fn gather2<S: Simd>(
        simd: S,
        src: &[Self],
        ss: usize,
        dst: &mut [Self],
        ds: usize,
        rows: usize,
        n: usize,
    );
    /// [`gather2`](Self::gather2) of the even and the odd elements from one
    /// read: `dst[r ds + b] = src[r ss + 2 b]` for `b < ne` and `dst[off + r
    /// ds + b] = src[r ss + 2 b + 1]` for `b < no`, `n = (ne, no)`, and zeros after each up
    /// to the next multiple of 8 (`f32`) or 4 (`f64`), within its row.
    /// `false`, having written nothing, where `S` has no AVX, `ds` is not a
    /// multiple of the vector, the evens' rows would reach `off` or the
    /// slices do not hold every vector.
    #[allow(clippy::too_many_arguments)]
    fn gather2_split<S: Simd>(
        simd: S,
        src: &[Self],
        ss: usize,
        dst: &mut [Self],
        ds: usize,
        off: usize,
        rows: usize,
        n: (usize, usize),
    ) -> bool;
    /// The stride-2 sum of a block of im2col gradients back onto `chans`
    /// channels of an image of `g`: `dst[c, i, j] = Σ src[at + ((c K + ki)
    /// K + kj) pix + a ow + b]` over the taps `(ki, kj)` and the pixels `(a, b)`
    /// inside the output where `2a + ki - P = i`, `2b + kj - P = j`, for
    /// each channel `c < chans`. Each row of `dst` is summed in registers,
    /// its even and odd columns apart, then interleaved and written once
    /// (no read-modify-write of `dst`); a row's last vectors spill into
    /// the next row, which is written after it, and stop at the end of
    /// `dst`. Reads a few elements before and up to a vector after each
    /// row of `src` (masked out), so callers keep room around the block
    /// from `at`. `false`, having written nothing, where `g`'s stride is
    /// not 2 or its padding negative, `S` has no AVX, `src` lacks that
    /// room, or the kernel (8) or the rows (4 vectors of even columns) are
    /// past its tables.
    fn col2im2<S: Simd>(
        simd: S,
        src: &[Self],
        at: usize,
        g: &conv::Geom,
        chans: usize,
        dst: &mut [Self],
    ) -> bool;
    /// `dst[c ds + r] = src[r ss + c]` for `r < rows`, `c < cols`: in 8 x 8
    /// (`f32`) or 4 x 4 (`f64`) blocks of AVX shuffles where `S` has AVX,
    /// element by element elsewhere and at the edges.
    fn transpose<S: Simd>(
        simd: S,
        src: &[Self],
        ss: usize,
        dst: &mut [Self],
        ds: usize,
        rows: usize,
        cols: usize,
    );
}

/// [`Elem::transpose`] for blocks of `B x B` by `block` (which returns
/// `false`, having done nothing, where it cannot run).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn transpose_blocks<T: Copy, const B: usize>(
    src: &[T],
    ss: usize,
    dst: &mut [T],
    ds: usize,
    rows: usize,
    cols: usize,
    mut block: impl FnMut(&[T], usize, &mut [T], usize) -> bool,
) {
    let (rb, cb) = (rows / B * B, cols / B * B);
    for r0 in (0..rb).step_by(B) {
        for c0 in (0..cb).step_by(B) {
            let (from, to) = (r0 * ss + c0, c0 * ds + r0);
            let (Some(s), Some(d)) = (src.get(from..), dst.get_mut(to..)) else {
                continue;
            };
            if !block(s, ss, d, ds) {
                transpose_scalar(s, ss, d, ds, B, B);
            }
        }
    }
    // The edges: columns cb.. of every row, then rows rb.. of the first cb columns.
    if cb < cols
        && let (Some(s), Some(d)) = (src.get(cb..), dst.get_mut(cb * ds..))
    {
        transpose_scalar(s, ss, d, ds, rows, cols - cb);
    }
    if rb < rows
        && let (Some(s), Some(d)) = (src.get(rb * ss..), dst.get_mut(rb..))
    {
        transpose_scalar(s, ss, d, ds, rows - rb, cb);
    }
}

#[inline(always)]
fn transpose_scalar<T: Copy>(
    src: &[T],
    ss: usize,
    dst: &mut [T],
    ds: usize,
    rows: usize,
    cols: usize,
) {
    for r in 0..rows {
        for c in 0..cols {
            if let (Some(&v), Some(d)) = (src.get(r * ss + c), dst.get_mut(c * ds + r)) {
                *d = v;
            }
        }
    }
}

/// 8 x 8 `f32` and 4 x 4 `f64` transposes in AVX shuffles.
#[cfg(target_arch = "x86_64")]
mod avx {
    use core::arch::x86_64::{__m256, __m256d, __m256i};
    use pulp::bytemuck::{self, Pod};
    use pulp::x86::V3;

    /// Rows `0..R` of `src` (`ss` apart, `B` elements each) as vectors;
    /// `None` where one does not fit.
    #[inline(always)]
    fn rows<T: Pod, V: Pod, const B: usize, const R: usize>(
        src: &[T],
        ss: usize,
    ) -> Option<[V; R]> {
        let mut out = [V::zeroed(); R];
        for (r, o) in out.iter_mut().enumerate() {
            // `B` elements are the vector's bytes (the callers' types).
            let s = src.get(r * ss..r * ss + B)?;
            *o = bytemuck::pod_read_unaligned(bytemuck::cast_slice(s));
        }
        Some(out)
    }

    /// Vectors of `B` elements into the rows of `dst` (`ds` apart), as far
    /// as they fit.
    #[inline(always)]
    fn store_rows<T: Pod, V: Pod, const B: usize, const R: usize>(
        out: [V; R],
        dst: &mut [T],
        ds: usize,
    ) {
        for (c, o) in out.into_iter().enumerate() {
            if let Some(d) = dst.get_mut(c * ds..c * ds + B) {
                bytemuck::cast_slice_mut::<T, u8>(d).copy_from_slice(bytemuck::bytes_of(&o));
            }
        }
    }

    /// Rows `0..8` of `src` (`ss` apart, 8 elements each) into the columns
    /// of `dst` (`ds` apart); `false` if a row does not fit.
    #[inline(always)]
    pub(super) fn f32_8x8(v3: V3, src: &[f32], ss: usize, dst: &mut [f32], ds: usize) -> bool {
        let Some([r0, r1, r2, r3, r4, r5, r6, r7]) = rows::<f32, __m256, 8, 8>(src, ss) else {
            return false;
        };
        if dst.len() < 7 * ds + 8 {
            return false;
        }
        let a = v3.avx;
        let (t0, t1) = (a._mm256_unpacklo_ps(r0, r1), a._mm256_unpackhi_ps(r0, r1));
        let (t2, t3) = (a._mm256_unpacklo_ps(r2, r3), a._mm256_unpackhi_ps(r2, r3));
        let (t4, t5) = (a._mm256_unpacklo_ps(r4, r5), a._mm256_unpackhi_ps(r4, r5));
        let (t6, t7) = (a._mm256_unpacklo_ps(r6, r7), a._mm256_unpackhi_ps(r6, r7));
        let u0 = a._mm256_shuffle_ps::<0x44>(t0, t2);
        let u1 = a._mm256_shuffle_ps::<0xEE>(t0, t2);
        let u2 = a._mm256_shuffle_ps::<0x44>(t1, t3);
        let u3 = a._mm256_shuffle_ps::<0xEE>(t1, t3);
        let u4 = a._mm256_shuffle_ps::<0x44>(t4, t6);
        let u5 = a._mm256_shuffle_ps::<0xEE>(t4, t6);
        let u6 = a._mm256_shuffle_ps::<0x44>(t5, t7);
        let u7 = a._mm256_shuffle_ps::<0xEE>(t5, t7);
        let out = [
            a._mm256_permute2f128_ps::<0x20>(u0, u4),
            a._mm256_permute2f128_ps::<0x20>(u1, u5),
            a._mm256_permute2f128_ps::<0x20>(u2, u6),
            a._mm256_permute2f128_ps::<0x20>(u3, u7),
            a._mm256_permute2f128_ps::<0x31>(u0, u4),
            a._mm256_permute2f128_ps::<0x31>(u1, u5),
            a._mm256_permute2f128_ps::<0x31>(u2, u6),
            a._mm256_permute2f128_ps::<0x31>(u3, u7),
        ];
        store_rows::<f32, __m256, 8, 8>(out, dst, ds);
        true
    }

    /// [`f32_8x8`] for 4 x 4 `f64`.
    #[inline(always)]
    pub(super) fn f64_4x4(v3: V3, src: &[f64], ss: usize, dst: &mut [f64], ds: usize) -> bool {
        let Some([r0, r1, r2, r3]) = rows::<f64, __m256d, 4, 4>(src, ss) else {
            return false;
        };
        if dst.len() < 3 * ds + 4 {
            return false;
        }
        let a = v3.avx;
        let (t0, t1) = (a._mm256_unpacklo_pd(r0, r1), a._mm256_unpackhi_pd(r0, r1));
        let (t2, t3) = (a._mm256_unpacklo_pd(r2, r3), a._mm256_unpackhi_pd(r2, r3));
        let out = [
            a._mm256_permute2f128_pd::<0x20>(t0, t2),
            a._mm256_permute2f128_pd::<0x20>(t1, t3),
            a._mm256_permute2f128_pd::<0x31>(t0, t2),
            a._mm256_permute2f128_pd::<0x31>(t1, t3),
        ];
        store_rows::<f64, __m256d, 4, 4>(out, dst, ds);
        true
    }

    /// The even elements of `a` then `b` (8 `f32` each), `a0 a2 .. a6 b0
    /// .. b6`, and the odd ones, `a1 a3 .. b7`.
    #[inline(always)]
    pub(super) fn f32_split(v3: V3, a: __m256, b: __m256) -> (__m256, __m256) {
        let (x, x2) = (v3.avx, v3.avx2);
        // a0 a2 b0 b2 | a4 a6 b4 b6, then its 64-bit pairs in order 0 2 1 3.
        let order = |v| x._mm256_castpd_ps(x2._mm256_permute4x64_pd::<0xD8>(x._mm256_castps_pd(v)));
        (
            order(x._mm256_shuffle_ps::<0x88>(a, b)),
            order(x._mm256_shuffle_ps::<0xDD>(a, b)),
        )
    }

    /// `a` and `z` (8 `f32` each) interleaved: `a0 z0 a1 z1 .. a3 z3`,
    /// `a4 z4 .. a7 z7`.
    #[inline(always)]
    pub(super) fn f32_zip(v3: V3, a: __m256, z: __m256) -> (__m256, __m256) {
        let x = v3.avx;
        // a0 z0 a1 z1 | a4 z4 a5 z5 and a2 z2 a3 z3 | a6 z6 a7 z7.
        let (lo, hi) = (x._mm256_unpacklo_ps(a, z), x._mm256_unpackhi_ps(a, z));
        (
            x._mm256_permute2f128_ps::<0x20>(lo, hi),
            x._mm256_permute2f128_ps::<0x31>(lo, hi),
        )
    }

    /// [`f32_split`] for 4 `f64`: `a0 a2 b0 b2` and `a1 a3 b1 b3`.
    #[inline(always)]
    pub(super) fn f64_split(v3: V3, a: __m256d, b: __m256d) -> (__m256d, __m256d) {
        // a0 b0 | a2 b2 (a1 b1 | a3 b3), then in order 0 2 1 3.
        let order = |v| v3.avx2._mm256_permute4x64_pd::<0xD8>(v);
        (
            order(v3.avx._mm256_unpacklo_pd(a, b)),
            order(v3.avx._mm256_unpackhi_pd(a, b)),
        )
    }

    /// [`f32_zip`] for 4 `f64`: `a0 z0 a1 z1`, `a2 z2 a3 z3`.
    #[inline(always)]
    pub(super) fn f64_zip(v3: V3, a: __m256d, z: __m256d) -> (__m256d, __m256d) {
        let x = v3.avx;
        // a0 z0 | a2 z2 and a1 z1 | a3 z3.
        let (lo, hi) = (x._mm256_unpacklo_pd(a, z), x._mm256_unpackhi_pd(a, z));
        (
            x._mm256_permute2f128_pd::<0x20>(lo, hi),
            x._mm256_permute2f128_pd::<0x31>(lo, hi),
        )
    }

    /// The first `n` lanes of `v` (8 `f32`), the others `z`'s.
    #[inline(always)]
    pub(super) fn f32_first(v3: V3, v: __m256, n: usize, z: __m256) -> __m256 {
        let iota: __m256i = bytemuck::cast([0i32, 1, 2, 3, 4, 5, 6, 7]);
        let n = v3.avx._mm256_set1_epi32(n.min(8) as i32);
        let keep = v3
            .avx
            ._mm256_castsi256_ps(v3.avx2._mm256_cmpgt_epi32(n, iota));
        v3.avx._mm256_blendv_ps(z, v, keep)
    }

    /// [`f32_first`] for 4 `f64`.
    #[inline(always)]
    pub(super) fn f64_first(v3: V3, v: __m256d, n: usize, z: __m256d) -> __m256d {
        let iota: __m256i = bytemuck::cast([0i64, 1, 2, 3]);
        let n = v3.avx._mm256_set1_epi64x(n.min(4) as i64);
        let keep = v3
            .avx
            ._mm256_castsi256_pd(v3.avx2._mm256_cmpgt_epi64(n, iota));
        v3.avx._mm256_blendv_pd(z, v, keep)
    }

    /// `a + (b & keep)`, 8 `f32`: `b` where `keep`'s lanes are all ones,
    /// `+0` where they are zero.
    #[inline(always)]
    pub(super) fn f32_add_kept(v3: V3, a: __m256, b: __m256, keep: __m256) -> __m256 {
        v3.avx._mm256_add_ps(a, v3.avx._mm256_and_ps(b, keep))
    }

    /// [`f32_add_kept`] for 4 `f64`.
    #[inline(always)]
    pub(super) fn f64_add_kept(v3: V3, a: __m256d, b: __m256d, keep: __m256d) -> __m256d {
        v3.avx._mm256_add_pd(a, v3.avx._mm256_and_pd(b, keep))
    }

    /// Elements `at..at + B` of `src` as a vector, if they are there.
    #[inline(always)]
    pub(super) fn read<T: Pod, V: Pod, const B: usize>(src: &[T], at: usize) -> Option<V> {
        let s: &[T; B] = src.get(at..at + B)?.try_into().ok()?;
        Some(bytemuck::pod_read_unaligned(bytemuck::cast_slice(s)))
    }

    /// `v` into elements `at..at + B` of `dst`; `false` if they are not there.
    #[inline(always)]
    pub(super) fn write<T: Pod, V: Pod, const B: usize>(dst: &mut [T], at: usize, v: V) -> bool {
        let Some(d) = dst.get_mut(at..at + B) else {
            return false;
        };
        bytemuck::cast_slice_mut::<T, u8>(d).copy_from_slice(bytemuck::bytes_of(&v));
        true
    }

    /// The AVX token of `simd`, if it is one of pulp's x86 levels with AVX.
    #[inline(always)]
    pub(super) fn v3<S: pulp::Simd>(simd: &S) -> Option<V3> {
        let any: &dyn core::any::Any = simd;
        if let Some(&v3) = any.downcast_ref::<V3>() {
            return Some(v3);
        }
        any.downcast_ref::<pulp::x86::V4>().map(|v4| **v4)
    }
}

macro_rules! elem {
    ($t:ty, $v:ident, $lanes:ident, $splat:ident, $fma:ident, $simd:ident, $simd_mut:ident, $pload:ident, $pstore:ident, $gt:ident, $select:ident, $block:literal, $avx:ident, $split:ident, $zip:ident, $first:ident, $addk:ident) => {
        impl Elem for $t {
            type V<S: Simd> = S::$v;
            const ZERO: $t = 0.0;
            const ONE: $t = 1.0;
            #[inline(always)]
            fn lanes<S: Simd>() -> usize {
                S::$lanes
            }
            #[inline(always)]
            fn splat<S: Simd>(simd: S, x: $t) -> S::$v {
                simd.$splat(x)
            }
            #[inline(always)]
            fn fma<S: Simd>(simd: S, a: S::$v, b: S::$v, c: S::$v) -> S::$v {
                simd.$fma(a, b, c)
            }
            #[inline(always)]
            fn load<S: Simd>(simd: S, x: &[$t]) -> S::$v {
                match S::$simd(x).0.first() {
                    Some(&v) => v,
                    None => simd.$pload(x),
                }
            }
            #[inline(always)]
            fn load_at<S: Simd>(x: &[$t], v: usize) -> S::$v {
                S::$simd(x).0[v]
            }
            #[inline(always)]
            fn vectors<S: Simd>(x: &[$t]) -> &[S::$v] {
                S::$simd(x).0
            }
            #[inline(always)]
            fn store<S: Simd>(simd: S, x: &mut [$t], v: S::$v) {
                if x.len() >= S::$lanes {
                    S::$simd_mut(x).0[0] = v;
                } else {
                    simd.$pstore(x, v);
                }
            }
            #[inline(always)]
            fn transpose<S: Simd>(
                simd: S,
                src: &[$t],
                ss: usize,
                dst: &mut [$t],
                ds: usize,
                rows: usize,
                cols: usize,
            ) {
                #[cfg(target_arch = "x86_64")]
                if let Some(v3) = avx::v3(&simd) {
                    return transpose_blocks::<$t, $block>(
                        src,
                        ss,
                        dst,
                        ds,
                        rows,
                        cols,
                        #[inline(always)]
                        |s, ss, d, ds| avx::$avx(v3, s, ss, d, ds),
                    );
                }
                let _ = simd;
                transpose_scalar(src, ss, dst, ds, rows, cols);
            }
            #[inline(always)]
            fn gather2<S: Simd>(
                simd: S,
                src: &[$t],
                ss: usize,
                dst: &mut [$t],
                ds: usize,
                rows: usize,
                n: usize,
            ) {
                #[cfg(target_arch = "x86_64")]
                if let Some(v3) = avx::v3(&simd) {
                    use pulp::bytemuck::cast;
                    const B: usize = $block;
                    let z = cast(v3.$splat(0.0));
                    // Vectors per row, the last one's lanes kept.
                    let (chunks, last) = (n.div_ceil(B), n - n.saturating_sub(1) / B * B);
                    for r in 0..rows {
                        let (from, to) = (r * ss, r * ds);
                        for c in 0..chunks {
                            let (a, b) = match (
                                avx::read::<_, _, B>(src, from + 2 * c * B),
                                avx::read::<_, _, B>(src, from + 2 * c * B + B),
                            ) {
                                (Some(a), Some(b)) => (a, b),
                                // The end of `src`: zero-filled.
                                _ => {
                                    let s = src.get(from + 2 * c * B..).unwrap_or_default();
                                    (
                                        cast(Self::load(v3, s)),
                                        cast(Self::load(v3, s.get(B..).unwrap_or_default())),
                                    )
                                }
                            };
                            let (mut e, _) = avx::$split(v3, a, b);
                            if c + 1 == chunks && last < B {
                                e = avx::$first(v3, e, last, z);
                            }
                            if !avx::write::<_, _, B>(dst, to + c * B, e) {
                                let d = dst.get_mut(to + c * B..).unwrap_or_default();
                                Self::store(v3, d, cast(e));
                            }
                        }
                    }
                    return;
                }
                let _ = simd;
                for r in 0..rows {
                    let (src, dst) = (src.get(r * ss..).unwrap_or_default(), dst.get_mut(r * ds..));
                    for (b, d) in dst.unwrap_or_default().iter_mut().take(n).enumerate() {
                        *d = src.get(2 * b).copied().unwrap_or(0.0);
                    }
                }
            }
            #[inline(always)]
            fn gather2_split<S: Simd>(
                simd: S,
                src: &[$t],
                ss: usize,
                dst: &mut [$t],
                ds: usize,
                off: usize,
                rows: usize,
                (ne, no): (usize, usize),
            ) -> bool {
                #[cfg(target_arch = "x86_64")]
                if let Some(v3) = avx::v3(&simd) {
                    use pulp::bytemuck::cast;
                    const B: usize = $block;
                    let chunks = ne.max(no).div_ceil(B);
                    let (src_end, row_end) = ((rows.max(1) - 1) * ss, (rows.max(1) - 1) * ds);
                    if ds % B != 0
                        || chunks * B > ds
                        || row_end + chunks * B > off
                        || src.len() < src_end + 2 * chunks * B
                        || dst.len() < off + row_end + chunks * B
                    {
                        return false;
                    }
                    let z = cast(v3.$splat(0.0));
                    for r in 0..rows {
                        for c in 0..chunks {
                            let at = r * ss + 2 * c * B;
                            let (Some(a), Some(b)) = (
                                avx::read::<_, _, B>(src, at),
                                avx::read::<_, _, B>(src, at + B),
                            ) else {
                                continue;
                            };
                            let (mut e, mut o) = avx::$split(v3, a, b);
                            let (ke, ko) = (ne.saturating_sub(c * B), no.saturating_sub(c * B));
                            if ke < B {
                                e = avx::$first(v3, e, ke, z);
                            }
                            if ko < B {
                                o = avx::$first(v3, o, ko, z);
                            }
                            let to = r * ds + c * B;
                            avx::write::<_, _, B>(dst, to, e);
                            avx::write::<_, _, B>(dst, off + to, o);
                        }
                    }
                    return true;
                }
                let _ = (simd, src, ss, dst, ds, off, rows, ne, no);
                false
            }
            #[inline(always)]
            fn col2im2<S: Simd>(
                simd: S,
                src: &[$t],
                at: usize,
                g: &conv::Geom,
                chans: usize,
                dst: &mut [$t],
            ) -> bool {
                #[cfg(target_arch = "x86_64")]
                if let Some(v3) = avx::v3(&simd) {
                    use pulp::bytemuck::cast;
                    const B: usize = $block;
                    let conv::Geom {
                        k,
                        s,
                        p,
                        oh,
                        ow,
                        h,
                        w,
                        ..
                    } = *g;
                    if s != 2 || p < 0 {
                        return false;
                    }
                    let p = p as usize;
                    // Tap column kj feeds output columns of parity (kj + P) % 2,
                    // j = 2m + parity, from b = m + d (d below).
                    let d_of = |kj: usize| (((kj + p) % 2 + p) as isize - kj as isize) / 2;
                    let (kk, pix) = (k * k, oh * ow);
                    let chunks = w.div_ceil(2).div_ceil(B);
                    let (dmin, dmax) = (0..k).fold((0isize, 0isize), |(lo, hi), kj| {
                        (lo.min(d_of(kj)), hi.max(d_of(kj)))
                    });
                    let end = (at
                        + (chans * kk).saturating_sub(1) * pix
                        + oh.saturating_sub(1) * ow) as isize
                        + ((chunks * B) as isize + dmax);
                    if k == 0
                        || k > COL2_K
                        || pix == 0
                        || chunks == 0
                        || -dmin > at as isize
                        || chunks > COL2_CHUNKS
                        || end > src.len() as isize
                        || chans * h * w > dst.len()
                    {
                        return false;
                    }
                    // Tap column kj's offset in `src` from its tap's.
                    let mut offs = [0; COL2_K];
                    for (kj, o) in offs.iter_mut().enumerate().take(k) {
                        *o = (kj * pix).wrapping_add_signed(d_of(kj));
                    }
                    // keeps[m][kj]: tap column kj's mask for chunk m, all ones in
                    // the lanes whose b = m B + lane + d is inside, 0 <= b < ow.
                    let zero = cast(v3.$splat(0.0));
                    let mut keeps = [[zero; COL2_K]; COL2_CHUNKS];
                    let ones = <$t>::from_bits(!0);
                    for (m, km) in keeps.iter_mut().enumerate().take(chunks) {
                        for (kj, keep) in km.iter_mut().enumerate().take(k) {
                            let lane = |l: usize| {
                                let b = (m * B + l) as isize + d_of(kj);
                                if 0 <= b && b < ow as isize { ones } else { 0.0 }
                            };
                            let v: [$t; B] = core::array::from_fn(lane);
                            *keep = cast(v);
                        }
                    }
                    for c in 0..chans {
                        for i in 0..h {
                            let r = i + p;
                            let row = c * h * w + i * w;
                            for (m, keep) in keeps.iter().enumerate().take(chunks) {
                                let (mut x0, mut x1) = (zero, zero);
                                // Kernel rows ki of r's parity whose output row a
                                // is inside, r = 2a + ki; sums by kj's parity.
                                let mut ki = r % 2;
                                while ki < k && ki <= r {
                                    let a = (r - ki) / 2;
                                    if a < oh {
                                        let tap = at + (c * kk + ki * k) * pix + a * ow + m * B;
                                        for kj in 0..k.min(COL2_K) {
                                            if let Some(v) =
                                                avx::read::<_, _, B>(src, tap + offs[kj])
                                            {
                                                if kj % 2 == 0 {
                                                    x0 = avx::$addk(v3, x0, v, keep[kj]);
                                                } else {
                                                    x1 = avx::$addk(v3, x1, v, keep[kj]);
                                                }
                                            }
                                        }
                                    }
                                    ki += 2;
                                }
                                // Even output columns from the kj of P's parity.
                                let (e, o) = if p % 2 == 0 { (x0, x1) } else { (x1, x0) };
                                let (lo, hi) = avx::$zip(v3, e, o);
                                let j = row + 2 * m * B;
                                for (q, v) in [(0, lo), (B, hi)] {
                                    if 2 * m * B + q >= w {
                                        break;
                                    }
                                    if !avx::write::<_, _, B>(dst, j + q, v) {
                                        // The end of `dst`: the elements there.
                                        let v: [$t; B] = cast(v);
                                        let tail = dst.get_mut(j + q..).unwrap_or_default();
                                        for (d, v) in tail.iter_mut().zip(v) {
                                            *d = v;
                                        }
                                    }
                                }
                            }
                        }
                    }
                    return true;
                }
                let _ = (simd, src, at, g, chans, dst);
                false
            }
            #[inline(always)]
            fn relu<S: Simd>(simd: S, v: S::$v) -> S::$v {
                // Positive lanes and NaN keep their value; the rest become 0.
                let zero = simd.$splat(0.0);
                simd.$select(simd.$gt(zero, v), zero, v)
            }
            #[inline(always)]
            fn keep<S: Simd>(simd: S, c: S::$v, lo: S::$v, hi: S::$v, v: S::$v) -> S::$v {
                let zero = simd.$splat(0.0);
                let v = simd.$select(simd.$gt(c, lo), v, zero);
                simd.$select(simd.$gt(hi, c), v, zero)
            }
            #[inline(always)]
            fn add_wrap<S: Simd>(simd: S, c: S::$v, d: S::$v, m: S::$v) -> S::$v {
                let c = simd.$fma(simd.$splat(1.0), c, d);
                let under = simd.$fma(simd.$splat(-1.0), m, c);
                simd.$select(simd.$gt(c, m), under, c)
            }
            #[inline(always)]
            fn of(n: usize) -> $t {
                n as $t
            }
        }
    };
}

elem!(
    f32,
    f32s,
    F32_LANES,
    splat_f32s,
    mul_add_f32s,
    as_simd_f32s,
    as_mut_simd_f32s,
    partial_load_f32s,
    partial_store_f32s,
    greater_than_f32s,
    select_f32s,
    8,
    f32_8x8,
    f32_split,
    f32_zip,
    f32_first,
    f32_add_kept
);
elem!(
    f64,
    f64s,
    F64_LANES,
    splat_f64s,
    mul_add_f64s,
    as_simd_f64s,
    as_mut_simd_f64s,
    partial_load_f64s,
    partial_store_f64s,
    greater_than_f64s,
    select_f64s,
    4,
    f64_4x4,
    f64_split,
    f64_zip,
    f64_first,
    f64_add_kept
);

/// `dst[d0..d0 + len] = src[s0..s0 + len]` in whole vectors: the last one may
/// write up to a vector past `d0 + len` (callers write those elements later)
/// and read past `s0 + len`; at the end of either slice it is partial.
#[inline(always)]
fn copy_spill<S: Simd, T: Elem>(
    simd: S,
    src: &[T],
    s0: usize,
    dst: &mut [T],
    d0: usize,
    len: usize,
) {
    let lanes = T::lanes::<S>();
    let mut o = 0;
    while o < len {
        let v = T::load(simd, src.get(s0 + o..).unwrap_or_default());
        T::store(simd, dst.get_mut(d0 + o..).unwrap_or_default(), v);
        o += lanes;
    }
}

/// `dst[d0..d0 + len] = 0` in whole vectors, spilling as [`copy_spill`].
#[inline(always)]
fn zero_spill<S: Simd, T: Elem>(simd: S, dst: &mut [T], d0: usize, len: usize) {
    let lanes = T::lanes::<S>();
    let zero = T::splat(simd, T::ZERO);
    let mut o = 0;
    while o < len {
        T::store(simd, dst.get_mut(d0 + o..).unwrap_or_default(), zero);
        o += lanes;
    }
}

/// Whether `S` has vectors of 8 `f32` or more and fused multiply-adds
/// (AVX2 + FMA, AVX-512): the kernels run there only.
#[inline(always)]
fn wide<S: Simd>() -> bool {
    !S::IS_SCALAR && S::F32_LANES >= 8
}

/// `acc[r][v] += Σ_l a[r][l] b(l)[v]` for `l < n`: one broadcast per row and
/// step, `M x V` fused multiply-adds.
#[inline(always)]
fn mul_tile<S: Simd, T: Elem, const M: usize, const V: usize>(
    simd: S,
    a: &[&[T]; M],
    n: usize,
    b: impl Fn(usize) -> [T::V<S>; V],
    acc: [[T::V<S>; V]; M],
) -> [[T::V<S>; V]; M] {
    if a.iter().any(|r| r.len() < n) {
        return acc;
    }
    // Slices of exactly `n` elements (none is shorter, see above): the
    // reads `a[r][l]` need no bounds checks.
    let a: [&[T]; M] = core::array::from_fn(|r| &a[r][..n]);
    mul_tile_by::<S, T, M, V>(simd, n, |l, r| Some(a[r][l]), b, acc)
}

/// [`mul_tile`] with row `r`'s element at step `l` given by `a(l, r)`,
/// `None` (out of range: read as zero) never in practice. Each element
/// is read right where it is broadcast: LLVM then broadcasts it from memory.
/// (Read `M` at a time, a run that is contiguous in a left operand stored
/// by columns was loaded as one vector and broadcast lane by lane with
/// shuffles, which compete with the multiply-adds for a port: the digits
/// MLP's weight gradients took 1.4x as long.)
#[inline(always)]
fn mul_tile_by<S: Simd, T: Elem, const M: usize, const V: usize>(
    simd: S,
    n: usize,
    a: impl Fn(usize, usize) -> Option<T>,
    b: impl Fn(usize) -> [T::V<S>; V],
    acc: [[T::V<S>; V]; M],
) -> [[T::V<S>; V]; M] {
    // Taken and returned by value, indexed by constants once the loops over
    // `M` and `V` are unrolled: the accumulators stay in registers.
    let mut s = acc;
    for l in 0..n {
        let bl = b(l);
        // `r` indexes the accumulators and names the row for `a`.
        #[allow(clippy::needless_range_loop)]
        for r in 0..M {
            // `None` never happens in range: a select, not a branch, so that
            // the loops unroll whole and `bl` stays in registers (with the
            // branch, it went through the stack every step).
            let x = T::splat(simd, a(l, r).unwrap_or(T::ZERO));
            for v in 0..V {
                s[r][v] = T::fma(simd, x, bl[v], s[r][v]);
            }
        }
    }
    s
}

/// A product whose rows go in tiles of `M` rows.
trait Tiles {
    /// Four vectors of columns (fewer rows per tile).
    const WIDE: bool = false;
    fn tile<const M: usize>(&mut self, r0: usize);
}

/// Rows `0..rows` in tiles of `MR`, then 4, 2 and 1.
#[inline(always)]
fn for_tiles<J: Tiles, const MR: usize>(rows: usize, job: &mut J) {
    let mut r0 = 0;
    while r0 + MR <= rows {
        job.tile::<MR>(r0);
        r0 += MR;
    }
    if rows - r0 >= 4 {
        job.tile::<4>(r0);
        r0 += 4;
    }
    if rows - r0 >= 2 {
        job.tile::<2>(r0);
        r0 += 2;
    }
    if rows - r0 >= 1 {
        job.tile::<1>(r0);
    }
}

/// Tiles of 8 rows where there are 32 vector registers, else 6.
#[inline(always)]
fn tiles<S: Simd, J: Tiles>(rows: usize, job: &mut J) {
    if S::REGISTER_COUNT >= 32 && J::WIDE {
        for_tiles::<J, 6>(rows, job);
    } else if S::REGISTER_COUNT >= 32 {
        for_tiles::<J, 8>(rows, job);
    } else {
        for_tiles::<J, 6>(rows, job);
    }
}

/// Runs `f` in a function of its own (one per instruction set and
/// closure), compiled for `simd`'s instruction set: the row tiles inside
/// get the registers to themselves. Inlined into the loops that set the
/// tiles up, the values those loops keep across (constants, the copies'
/// column vectors) took registers from the tiles, and a 4-row AVX2 tile
/// kept 3 of its 8 accumulators on the stack, reloading and storing them
/// at every step. (A function that lacks the instruction set's features
/// calls pulp's entry, which has them and so cannot be inlined into it.)
/// `f` must be `#[inline(always)]`: a closure is a function of its own,
/// compiled without the instruction set's features unless inlined into the
/// entry (the weight gradient's, not inlined, ran 50 times slower).
#[inline(never)]
fn apart<S: Simd, R>(simd: S, f: impl FnOnce() -> R) -> R {
    struct Op<F>(F);
    impl<R, F: FnOnce() -> R> pulp::WithSimd for Op<F> {
        type Output = R;
        #[inline(always)]
        fn with_simd<S2: Simd>(self, _: S2) -> R {
            (self.0)()
        }
    }
    simd.vectorize(Op(f))
}

/// Loads `out[v lanes..]` (up to `cols` elements) as `V` vectors.
#[inline(always)]
fn load_row<S: Simd, T: Elem, const V: usize>(simd: S, out: &[T]) -> [T::V<S>; V] {
    let lanes = T::lanes::<S>();
    core::array::from_fn(|v| T::load(simd, out.get(v * lanes..).unwrap_or_default()))
}

/// Stores `V` vectors into `out` (its length bounds what is written).
#[inline(always)]
fn store_row<S: Simd, T: Elem, const V: usize>(simd: S, out: &mut [T], acc: &[T::V<S>; V]) {
    let lanes = T::lanes::<S>();
    for (v, &a) in acc.iter().enumerate() {
        if let Some(o) = out.get_mut(v * lanes..) {
            let n = o.len().min(lanes);
            T::store(simd, &mut o[..n], a);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Elem;
    use super::conv::Geom;

    /// `gather2` in one instruction set.
    type Gather<'a, T> = &'a dyn Fn(&[T], usize, &mut [T], usize, usize, usize);

    /// `gather2` against its definition, for every
    /// length around a vector, in AVX (where the CPU has it) and portably.
    fn stride2<T: Elem + core::fmt::Debug + From<i8>>() {
        let val = |i: usize| T::from((i % 97) as i8 - 48);
        let check = |simd_gather: Gather<'_, T>| {
            for n in 0..20usize {
                for extra in 0..3 {
                    for rows in 1..4 {
                        // Rows 2n + 1 apart, the last one `extra` long past
                        // its first 2n - 1 (the end of `src`), into rows of
                        // n + 16.
                        let (ss, ds) = (2 * n + 1, n + 16);
                        let src: std::vec::Vec<T> =
                            (0..(rows - 1) * ss + 2 * n + extra).map(val).collect();
                        let mut dst = std::vec![T::ONE; rows * ds];
                        simd_gather(&src, ss, &mut dst, ds, rows, n);
                        for (i, &d) in dst.iter().enumerate() {
                            let (r, b) = (i / ds, i % ds);
                            let want = if b < n {
                                src.get(r * ss + 2 * b).copied().unwrap_or(T::ZERO)
                            } else {
                                T::ONE
                            };
                            // Past n: unchanged, or zeros up to the next vector.
                            assert!(
                                d == want || (b >= n && b < n.next_multiple_of(8) && d == T::ZERO),
                                "gather n {n} rows {rows} row {r} b {b}"
                            );
                        }
                    }
                }
            }
        };
        let scalar = pulp::Scalar::new();
        check(&|s, ss, d, ds, r, n| T::gather2(scalar, s, ss, d, ds, r, n));
        #[cfg(target_arch = "x86_64")]
        if let Some(v3) = pulp::x86::V3::try_new() {
            check(&|s, ss, d, ds, r, n| v3.vectorize(|| T::gather2(v3, s, ss, d, ds, r, n)));
        }
    }

    /// `col2im2` against its definition in AVX (where the CPU has it), for
    /// kernels 1 to 5, every padding up to the kernel, images whose rows
    /// span one to four vectors of even columns, odd sizes, and the end of
    /// `dst` (no room to spill); and its refusals.
    fn col2im2<T: Elem + core::fmt::Debug + From<i8>>() {
        let scalar = pulp::Scalar::new();
        let val = |i: usize| T::from((i % 89) as i8 - 44);
        let at = 8;
        let run = |g: &Geom, src: &[T], dst: &mut [T]| {
            #[cfg(target_arch = "x86_64")]
            if let Some(v3) = pulp::x86::V3::try_new() {
                return v3.vectorize(|| T::col2im2(v3, src, at, g, g.c, dst));
            }
            let _ = (g, src, dst);
            false
        };
        let lanes = 32 / core::mem::size_of::<T>();
        #[cfg(target_arch = "x86_64")]
        let avx = pulp::x86::V3::try_new().is_some();
        #[cfg(not(target_arch = "x86_64"))]
        let avx = false;
        let mut ran = 0;
        for k in 1..=5usize {
            for p in 0..=k {
                for (h, w) in [(1, 1), (2, 3), (5, 4), (8, 8), (9, 15), (16, 17), (7, 64)] {
                    let (oh, ow) = (
                        (h + 2 * p).saturating_sub(k) / 2 + 1,
                        (w + 2 * p).saturating_sub(k) / 2 + 1,
                    );
                    if h + 2 * p < k || w + 2 * p < k {
                        continue;
                    }
                    let chans = 1 + (h + k) % 3;
                    let g = Geom {
                        n: 1,
                        c: chans,
                        h,
                        w,
                        f: 1,
                        k,
                        s: 2,
                        p: p as isize,
                        oh,
                        ow,
                    };
                    let (kk, pix) = (k * k, oh * ow);
                    // The block from `at`, a vector and a kernel's width after it.
                    let src: std::vec::Vec<T> = (0..at + chans * kk * pix + 2 * lanes + k)
                        .map(val)
                        .collect();
                    let mut want = std::vec![T::ZERO; chans * h * w];
                    for c in 0..chans {
                        for (ki, kj) in (0..kk).map(|t| (t / k, t % k)) {
                            for (a, b) in (0..pix).map(|q| (q / ow, q % ow)) {
                                let (i, j) =
                                    ((2 * a + ki).wrapping_sub(p), (2 * b + kj).wrapping_sub(p));
                                if i < h && j < w {
                                    want[(c * h + i) * w + j] +=
                                        src[at + (c * kk + ki * k + kj) * pix + a * ow + b];
                                }
                            }
                        }
                    }
                    // Rows of up to 4 vectors of even columns run where the
                    // CPU has AVX; the end of `dst` is the end of the image.
                    let mut dst = std::vec![T::from(7); chans * h * w];
                    let fits = w.div_ceil(2).div_ceil(lanes) <= 4;
                    let ran_here = run(&g, &src, &mut dst);
                    assert_eq!(ran_here, fits && avx, "{g:?}");
                    if ran_here {
                        assert_eq!(dst, want, "{g:?}");
                        ran += 1;
                    }
                    // Refused, `dst` untouched: the block short of its last tap,
                    // `at` short of the columns before 0, or no SIMD.
                    let mut d2 = std::vec![T::from(7); chans * h * w];
                    assert!(
                        !run(&g, &src[..at + (chans * kk - 1) * pix], &mut d2),
                        "{g:?}"
                    );
                    let dmin = (0..k)
                        .map(|kj| (((kj + p) % 2 + p) as isize - kj as isize) / 2)
                        .min();
                    if let Some(d) = dmin.filter(|&d| d < 0) {
                        let short = &src[at - (-d) as usize + 1..];
                        #[cfg(target_arch = "x86_64")]
                        if let Some(v3) = pulp::x86::V3::try_new() {
                            let at = (-d) as usize - 1;
                            assert!(
                                !v3.vectorize(|| T::col2im2(v3, short, at, &g, chans, &mut d2))
                            );
                        }
                    }
                    assert!(!T::col2im2(scalar, &src, at, &g, chans, &mut d2));
                    assert!(d2.iter().all(|&x| x == T::from(7)), "{g:?}");
                }
            }
        }
        assert!(ran > 100 || !avx, "only {ran} shapes ran");
    }

    #[test]
    fn stride2_sums() {
        col2im2::<f32>();
        col2im2::<f64>();
    }

    /// `gather2_split` against its definition in AVX (where the CPU has
    /// it): the evens and odds of rows of every length around two vectors,
    /// the lanes after them zero up to the vector, the rest unchanged.
    fn split2<T: Elem + core::fmt::Debug + From<i8>>() {
        #[cfg(target_arch = "x86_64")]
        if let Some(v3) = pulp::x86::V3::try_new() {
            let val = |i: usize| T::from((i % 97) as i8 - 48);
            let b = 32 / core::mem::size_of::<T>();
            for ne in 0..=2 * b {
                for no in ne.saturating_sub(1)..=ne {
                    for rows in 1..4 {
                        let (ss, ds) = (4 * b + 1, 2 * b);
                        let off = rows * ds + 3;
                        let src: std::vec::Vec<T> = (0..rows * ss + 4 * b).map(val).collect();
                        let mut dst = std::vec![T::ONE; off + rows * ds + 5];
                        let split = |d: &mut [T]| {
                            v3.vectorize(|| {
                                T::gather2_split(v3, &src, ss, d, ds, off, rows, (ne, no))
                            })
                        };
                        assert!(split(&mut dst), "ne {ne} no {no} rows {rows} did not run");
                        let end = ne.max(no).next_multiple_of(b);
                        for (i, &d) in dst.iter().enumerate() {
                            let (part, j, n) = if i < off {
                                (0, i, ne)
                            } else {
                                (1, i - off, no)
                            };
                            let (r, c) = (j / ds, j % ds);
                            let want = if r < rows && c < n {
                                src[r * ss + 2 * c + part]
                            } else if r < rows && c < end {
                                T::ZERO
                            } else {
                                T::ONE
                            };
                            assert_eq!(d, want, "ne {ne} no {no} rows {rows} element {i}");
                        }
                        // Rows that would reach the odds: not run.
                        let mut short = std::vec![T::ONE; off + rows * ds];
                        let over = v3.vectorize(|| {
                            T::gather2_split(
                                v3,
                                &src,
                                ss,
                                &mut short,
                                ds,
                                rows * ds - 1,
                                rows,
                                (ne, no),
                            )
                        });
                        let fits = ne.max(no).div_ceil(b) * b < ds;
                        assert_eq!(over, fits, "ne {ne} no {no} rows {rows}: overlap");
                    }
                }
            }
        }
        // Without AVX: not run.
        let scalar = pulp::Scalar::new();
        let mut dst = [T::ONE; 64];
        let src = [T::ZERO; 64];
        assert!(!T::gather2_split(
            scalar,
            &src,
            16,
            &mut dst,
            8,
            32,
            2,
            (8, 8)
        ));
        assert!(dst.iter().all(|&d| d == T::ONE));
    }

    #[test]
    fn stride2_split_copies() {
        split2::<f32>();
        split2::<f64>();
    }

    #[test]
    fn stride2_copies() {
        stride2::<f32>();
        stride2::<f64>();
    }
}
