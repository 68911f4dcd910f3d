//! Runtime SIMD dispatch for the hot loops, without `unsafe` in this crate.
//!
//! The default release build targets baseline x86-64 (SSE2: 4-wide f32, 2-wide
//! f64, no FMA). [`run`] calls a kernel inside a function compiled for the best
//! instruction set the CPU reports at run time (x86-64-v4: AVX-512, or v3:
//! AVX2 and FMA), through the `pulp` crate, which holds the one `unsafe` call
//! that this needs and caches the CPU detection in an atomic. The kernels are
//! `#[inline(always)]` generic code, so LLVM vectorizes each copy for the
//! enabled features.
//!
//! Results of these generic kernels are bit-identical on every path: Rust never
//! contracts `a * b + c` into a fused multiply-add by itself, and the kernels
//! fix their summation order in the source, so only the vector width changes.
//! Two exceptions use fused multiply-adds where the CPU has them, and so
//! differ from the portable path in the last bits: [`matmul_acc_wide`], the
//! large-product kernel (one rounding per step instead of two, so it is the
//! more accurate; within the usual `γ_k Σ|a||b|` bound that its test checks),
//! and the `fused_` transcendentals of `crate::math` that kernels given the
//! flag of [`run_fused`] pick (within the same ulp bounds as the plain ones).
//! A given machine always takes the same path, so training stays
//! bit-reproducible there.
//!
//! A dispatch costs an atomic load and an out-of-line call that cannot be
//! inlined into baseline code, so callers dispatch only loops with enough work
//! ([`MIN_WORK`]); small ones stay inlined where they are.

/// The least number of scalar operations (multiply-adds of a product,
/// elements of an activation) worth a dispatch. Below it (the notebook's
/// 2 -> 25 -> 4 net on batches of 5) the inlined baseline code is faster.
pub(crate) const MIN_WORK: usize = 2048;

use crate::kernel::gemm::{self, Lhs};

/// Calls `f` with the widest instruction set available at run time.
///
/// `f` is taken as `FnMut` on purpose. `pulp` calls a plain closure through
/// `FnOnce::call_once`, and for a closure that is `Fn` or `FnMut` that is a
/// compiler-made shim without the closure's `#[inline(always)]`: once the body
/// is large (a whole training step), LLVM does not inline the shim into the
/// AVX2/AVX-512 function, and the body runs as baseline code, silently. Called
/// through `call_mut`, the closure body itself is the callee and its
/// `#[inline(always)]` holds. Every closure passed here must be
/// `#[inline(always)]`, and so must everything it calls that should be
/// compiled for the wider instruction set.
#[inline(always)]
pub(crate) fn run<R>(mut f: impl FnMut() -> R) -> R {
    run_fused(
        #[inline(always)]
        |_| f(),
    )
}

/// [`run`], telling `f` whether the copy it runs in has hardware fused
/// multiply-add (`true` in the AVX2 and AVX-512 copies, `false` in the
/// baseline one). The flag is a constant in each copy, so a kernel that picks
/// `math`'s `fused_` functions by it compiles to one branch-free loop.
///
/// Inside a dispatched copy already (a layer's kernel within a dispatched
/// training epoch), `f` is called directly with `true`: it is inlined into
/// that copy, and a second dispatch would only cost the CPU-feature checks
/// and a three-way branch (the f64 notebook train step, measured with
/// `cargo bench -p stackgrad-bench --bench compare -- step`: 0.53 -> 0.48 of nalgebra's time).
/// Were `f` ever not inlined there, it would run as baseline code with
/// software fused multiply-adds: slower, but the same bits.
#[inline(always)]
pub(crate) fn run_fused<R>(f: impl FnMut(bool) -> R) -> R {
    #[cfg(feature = "std")]
    let mut f = f;
    #[cfg(feature = "std")]
    if INSIDE.with(core::cell::Cell::get) {
        return f(true);
    }
    pulp::Arch::new().dispatch(Kernel(f))
}

#[cfg(feature = "std")]
std::thread_local! {
    /// Whether this thread runs inside a dispatched AVX2/AVX-512 copy.
    static INSIDE: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

/// Marks this thread as inside a dispatched copy until dropped (also on
/// unwinding), then restores the previous mark.
#[cfg(feature = "std")]
struct Inside(bool);
#[cfg(feature = "std")]
impl Inside {
    #[inline(always)]
    fn enter() -> Self {
        Self(INSIDE.with(|c| c.replace(true)))
    }
}
#[cfg(feature = "std")]
impl Drop for Inside {
    #[inline(always)]
    fn drop(&mut self) {
        INSIDE.with(|c| c.set(self.0));
    }
}

/// A `pulp` operation that calls its closure through `call_mut`.
struct Kernel<F>(F);
impl<R, F: FnMut(bool) -> R> pulp::WithSimd for Kernel<F> {
    type Output = R;
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(mut self, _: S) -> R {
        // pulp's only non-scalar x86 levels are v3 and v4, both with FMA.
        let fused = !S::IS_SCALAR;
        #[cfg(feature = "std")]
        let _inside = fused.then(Inside::enter);
        (self.0)(fused)
    }
}

/// Networks with fewer parameters than this run each training epoch in one
/// dispatched copy ([`run_epoch`]).
pub(crate) const WHOLE_EPOCH_PARAMS: usize = 1024;

/// The dispatch of a training epoch of network `P` in `T`, chosen at compile
/// time by its size. A small network (fewer than [`WHOLE_EPOCH_PARAMS`]
/// parameters) runs its whole epoch inside one dispatched copy, its layers
/// inlined there: each of its products and activations is too short to pay
/// for a dispatch of its own. A larger one runs the epoch as baseline code
/// and each product (`crate::kernel`) and activation with enough work
/// dispatches itself: one copy of the epoch to compile instead of three,
/// which halves the release build of a user's program (see
/// `scripts/user_compile_time.sh`).
///
/// Within the whole-epoch dispatch, `f32` networks take AVX2 even where
/// AVX-512 is available ([`run_avx2`]): the notebook's f32 net (179
/// parameters) steps in 480 ns under AVX2 and 740 ns under AVX-512, while
/// its f64 net is fastest under AVX-512 (8-lane vectors fit its rows of 25
/// and 4).
#[inline(always)]
pub(crate) fn run_epoch<T: crate::Scalar, P: crate::nn::Params<T>, R>(
    mut f: impl FnMut() -> R,
) -> R {
    // `const` blocks: the branches not taken are not compiled at all.
    if const { P::PARAMS >= WHOLE_EPOCH_PARAMS } {
        f()
    } else if const { core::mem::size_of::<T>() == 4 } {
        run_avx2(f)
    } else {
        run(f)
    }
}

/// [`run`], but AVX2 + FMA even where AVX-512 is available: for code over
/// many small odd-sized `f32` arrays, where 16-lane vectors are mostly
/// remainder handling. Large products inside still take the widest kernel
/// through their own dispatch.
#[inline(always)]
pub(crate) fn run_avx2<R>(mut f: impl FnMut() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if let Some(v3) = pulp::x86::V3::try_new() {
        return pulp::Simd::vectorize(
            v3,
            Kernel(
                #[inline(always)]
                |_| f(),
            ),
        );
    }
    run(f)
}

/// The least number of elements for which [`out_of_line`] pays: below it
/// (the notebook's 5 x 4 logits, a 25 x 4 transpose) the call costs more than
/// the loops it keeps scalar.
pub(crate) const OUT_OF_LINE_MIN: usize = 256;

/// Calls `f` inside a function of its own, never inlined, and so compiled for
/// the baseline instruction set even when called from a dispatched copy.
///
/// For loops that go row by row over short rows (a row's maximum, a row's
/// sum, a transposed copy): inlined into the AVX-512 copy, LLVM vectorizes
/// them across rows, with a gather or scatter per vector of elements (row
/// length 10, a stride that no vector load fits), which AMD Zen 4 runs
/// slowly. Out of line they are plain scalar loops: the digits MLP's batched
/// softmax of 32 x 10 logits took 770 ns inlined and 390 ns this way, the
/// transposed copy of its 64 x 10 weights 253 and 151 ns. The closure must be
/// `#[inline(always)]` (see [`run`]).
#[inline(never)]
pub(crate) fn out_of_line<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// Calls `f` in place (fewer than [`OUT_OF_LINE_MIN`] elements) or through
/// [`out_of_line`].
#[inline(always)]
pub(crate) fn out_of_line_if<R>(elements: usize, f: impl FnOnce() -> R) -> R {
    if elements < OUT_OF_LINE_MIN {
        f()
    } else {
        out_of_line(f)
    }
}

/// Calls `f` directly (less than [`MIN_WORK`]) or through [`run`].
#[inline(always)]
pub(crate) fn run_if<R>(work: usize, mut f: impl FnMut() -> R) -> R {
    if work >= MIN_WORK { run(f) } else { f() }
}

/// [`run_if`] for a kernel that takes the fused multiply-add flag of
/// [`run_fused`] (`false` when called directly).
#[inline(always)]
pub(crate) fn run_if_fused<R>(work: usize, mut f: impl FnMut(bool) -> R) -> R {
    if work >= MIN_WORK {
        run_fused(f)
    } else {
        f(false)
    }
}

/// `y = f(x)` for every element, in whole 64-byte vectors: the elements past
/// the last full vector go through `f` in a zero-padded vector too, not one by
/// one (a 5 x 25 f64 sigmoid is 15 vectors of 8 and 5 elements, each of which
/// cost as much as a vector in the scalar remainder loop). The same `f` per
/// element, so the same bits. Reading `x` and writing `y` in one pass (an
/// activation's cache) saves the copy that an in-place map needs first.
#[inline(always)]
pub(crate) fn map_lanes<T: crate::Scalar>(x: &[T], y: &mut [T], f: impl FnMut(T) -> T) {
    if core::mem::size_of::<T>() == 4 {
        map_chunks::<T, 16>(x, y, f);
    } else {
        map_chunks::<T, 8>(x, y, f);
    }
}

#[inline(always)]
fn map_chunks<T: crate::Scalar, const W: usize>(x: &[T], y: &mut [T], mut f: impl FnMut(T) -> T) {
    // One flat loop over the whole vectors. (A loop over `W`-element chunks
    // had its inner loop unrolled and the chunks vectorized across, with
    // gathers and scatters, once `f` was short enough: sigmoid 1.3x slower.)
    let full = x.len().min(y.len()) / W * W;
    let (x_body, x_tail) = x.split_at(full);
    let (y_body, y_tail) = y.split_at_mut(full);
    for (y, &x) in y_body.iter_mut().zip(x_body) {
        *y = f(x);
    }
    let n = x_tail.len().min(y_tail.len());
    if n > 0 {
        let mut lanes = [T::zero(); W];
        lanes[..n].copy_from_slice(&x_tail[..n]);
        for l in &mut lanes {
            *l = f(*l);
        }
        y_tail[..n].copy_from_slice(&lanes[..n]);
    }
}

/// `out += a b` through the register-tiled product of `crate::kernel::gemm`
/// (compiled once per element type in the library), when the element type is
/// `f32` or `f64` and the CPU has AVX-512 (16 f32 or 8 f64 lanes) or AVX2 +
/// FMA (8 or 4); returns `false` (and does nothing) otherwise, for the
/// caller's portable kernel to run. Each output element gets, for each block
/// of 256 `k`, the block's fused sum `fma(a_ik, b_kj, ...)` (in `k` order,
/// from 0) added to `out_ij`.
///
/// Cost: 0.89x `matrixmultiply::sgemm`'s time on f32 32 x 256 x 256
/// (`cargo bench -p stackgrad-bench --bench compare -- dense`).
#[inline(always)]
pub(crate) fn matmul_acc_wide<T: crate::Scalar, const R: usize, const C: usize, const N: usize>(
    a: &[[T; C]; R],
    b: &[[T; N]; C],
    out: &mut [[T; N]; R],
) -> bool {
    wide(a.as_flattened(), Lhs::Rows, b, out, false)
}

/// [`matmul_acc_wide`] overwriting `out` with `a b` instead of adding to it:
/// a dense layer's input gradient `D Wᵀ`, with no zeroing pass over `out`.
#[inline(always)]
pub(crate) fn matmul_set_wide<T: crate::Scalar, const R: usize, const C: usize, const N: usize>(
    a: &[[T; C]; R],
    b: &[[T; N]; C],
    out: &mut [[T; N]; R],
) -> bool {
    wide(a.as_flattened(), Lhs::Rows, b, out, true)
}

/// [`matmul_acc_wide`] for `out = aᵀ b` with `a` stored `C x R` (a batch of
/// activations, for a weight gradient `Xᵀ D`), overwriting `out`: the tiles
/// read `a` down its columns, which costs the broadcasts nothing, instead of a
/// transposed copy of `a`, and store their sums without zeroing `out` first.
#[inline(always)]
pub(crate) fn t_matmul_set_wide<
    T: crate::Scalar,
    const R: usize,
    const C: usize,
    const N: usize,
>(
    a: &[[T; R]; C],
    b: &[[T; N]; C],
    out: &mut [[T; N]; R],
) -> bool {
    wide(a.as_flattened(), Lhs::Cols, b, out, true)
}

/// The wide kernel of `crate::kernel::gemm` for an `R x C` left operand
/// (its elements as stored, by `lhs`) and the arrays `b` and `out`.
#[inline(always)]
fn wide<T: crate::Scalar, const R: usize, const C: usize, const N: usize>(
    a: &[T],
    lhs: Lhs,
    b: &[[T; N]; C],
    out: &mut [[T; N]; R],
    set: bool,
) -> bool {
    let d = gemm::Dims { r: R, c: C, n: N };
    gemm::gemm(a, lhs, b.as_flattened(), out.as_flattened_mut(), d, set)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Matrix, Scalar};

    /// Deterministic values in [-1, 1) with mixed magnitudes.
    fn fill<T: Scalar, const R: usize, const C: usize>(seed: u64) -> [[T; C]; R] {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        core::array::from_fn(|_| {
            core::array::from_fn(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                T::from_f64((s >> 11) as f64 / (1u64 << 52) as f64 - 1.0)
            })
        })
    }

    type Kernel<T, const R: usize, const C: usize, const N: usize> =
        fn(&[[T; C]; R], &[[T; N]; C], &mut [[T; N]; R]) -> bool;

    /// A kernel (and `Matrix::matmul`, whichever path it takes) against an f64
    /// reference, within the standard bound for a sum of `C` products plus the
    /// addition to `out`: `|ŝ - s| <= γ_{C+1} (|out| + Σ_k |a_ik b_kj|)` with
    /// `γ_n = n ε / (1 - n ε)`. Returns whether the kernel ran.
    fn check<T: Scalar, const R: usize, const C: usize, const N: usize>(
        kernel: Kernel<T, R, C, N>,
    ) -> bool {
        let a: [[T; C]; R] = fill(1);
        let b: [[T; N]; C] = fill(2);
        let start: [[T; N]; R] = fill(3);
        let eps = T::EPSILON.as_f64();
        let gamma = (C + 1) as f64 * eps / (1.0 - (C + 1) as f64 * eps);
        let mut out = start;
        let ran = kernel(&a, &b, &mut out);
        let product = Matrix::from_array(a).matmul(&Matrix::from_array(b));
        // The same product as `t_matmul` (Aᵀ B with A = aᵀ), which takes the
        // wide kernel reading A by columns.
        let t_product = Matrix::from_array(a)
            .transpose()
            .t_matmul(&Matrix::from_array(b));
        for i in 0..R {
            for j in 0..N {
                let (mut exact, mut mag) = (start[i][j].as_f64(), start[i][j].as_f64().abs());
                let mut dot = 0.0;
                for k in 0..C {
                    let p = a[i][k].as_f64() * b[k][j].as_f64();
                    dot += p;
                    mag += p.abs();
                }
                exact += dot;
                let tol = gamma * mag + eps * exact.abs();
                if ran {
                    let got = out[i][j].as_f64();
                    assert!(
                        (got - exact).abs() <= tol,
                        "{R}x{C}x{N} {}: out[{i}][{j}] = {got:e}, exact {exact:e}, tol {tol:e}",
                        T::NAME
                    );
                }
                for (what, m) in [("matmul", &product), ("t_matmul", &t_product)] {
                    let got = m[(i, j)].as_f64();
                    assert!(
                        (got - dot).abs() <= tol,
                        "{R}x{C}x{N} {} {what}: [{i}][{j}] = {got:e}, exact {dot:e}",
                        T::NAME
                    );
                }
            }
        }
        ran
    }

    /// Shapes that cover full tiles, remainders of rows (pairs and singles),
    /// one-vector column panels, scalar columns and depths short enough for
    /// the tile's loop bound to be hidden from the optimizer, for one kernel
    /// per type.
    /// Returns how many of the cases ran the kernel.
    macro_rules! shapes {
        ($f32:expr, $f64:expr) => {
            [
                check::<f32, 32, 256, 64>($f32),
                check::<f32, 7, 33, 45>($f32),
                check::<f32, 13, 64, 17>($f32),
                check::<f32, 9, 100, 8>($f32),
                check::<f32, 1, 700, 3>($f32),
                check::<f32, 32, 64, 10>($f32),
                check::<f32, 8, 600, 33>($f32),
                check::<f32, 32, 10, 64>($f32),
                check::<f64, 7, 33, 45>($f64),
                check::<f64, 13, 64, 20>($f64),
                check::<f64, 32, 64, 64>($f64),
                check::<f64, 3, 300, 9>($f64),
                check::<f64, 11, 5, 19>($f64),
                // Fewer than 4 rows: panels of 4 vectors, the last padded.
                check::<f32, 1, 64, 64>($f32),
                check::<f32, 2, 300, 100>($f32),
                check::<f64, 3, 40, 50>($f64),
            ]
            .iter()
            .filter(|&&ran| ran)
            .count()
        };
    }

    /// `a` transposed, for the kernels that read their left operand by columns.
    fn transposed<T: Scalar, const R: usize, const C: usize>(a: &[[T; C]; R]) -> [[T; R]; C] {
        Matrix::from_array(*a).transpose().into_array()
    }

    /// `o += p` where `set` wrote `p` over a NaN-filled product: any element
    /// the kernel failed to overwrite stays NaN and fails the check.
    fn add_set<T: Scalar, const R: usize, const N: usize>(
        o: &mut [[T; N]; R],
        set: impl FnOnce(&mut [[T; N]; R]) -> bool,
    ) -> bool {
        let mut p = [[T::nan(); N]; R];
        let ran = set(&mut p);
        if ran {
            for (o, p) in o.iter_mut().flatten().zip(p.iter().flatten()) {
                *o += *p;
            }
        }
        ran
    }

    /// [`t_matmul_set_wide`] given `a` as stored row by row.
    fn t_wide<T: Scalar, const R: usize, const C: usize, const N: usize>(
        a: &[[T; C]; R],
        b: &[[T; N]; C],
        o: &mut [[T; N]; R],
    ) -> bool {
        add_set(o, |p| t_matmul_set_wide(&transposed(a), b, p))
    }

    /// A dispatch inside a dispatched copy runs its kernel directly, with
    /// fused multiply-adds; the mark is cleared on the way out, also when
    /// the kernel panics.
    #[test]
    #[cfg(feature = "std")]
    fn nested_dispatch_runs_inline_and_unmarks_on_exit() {
        let inside = || INSIDE.with(core::cell::Cell::get);
        assert!(!inside());
        let (outer, nested, marked) = run_fused(|fused| (fused, run_fused(|f| f), inside()));
        // With AVX2 or AVX-512 the outer copy is marked and the nested call
        // sees `true` without dispatching; without them neither is.
        assert_eq!((nested, marked), (outer, outer));
        assert!(!inside());
        let caught = std::panic::catch_unwind(|| run_fused(|_| panic!("kernel")));
        assert!(caught.is_err());
        assert!(!inside());
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            assert!(outer);
        }
    }

    #[test]
    fn widest_kernel_matches_the_exact_product() {
        let ran = shapes!(matmul_acc_wide, matmul_acc_wide);
        let ran_t = shapes!(t_wide, t_wide);
        assert_eq!(ran, ran_t);
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            assert_eq!(ran, 16, "AVX2 is available but the kernel did not run");
        }
        std::eprintln!("wide kernel ran on {ran} of 16 shapes");
    }

    /// The AVX2 kernel on its own, also on a machine whose dispatch picks AVX-512.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn avx2_kernel_matches_the_exact_product() {
        /// The AVX2 kernel for `$t` as stored (`$rows`, accumulating) and
        /// reading `a` by columns (`$cols`, overwriting).
        macro_rules! v3 {
            ($t:ty, $rows:ident, $cols:ident) => {
                fn $rows<const R: usize, const C: usize, const N: usize>(
                    a: &[[$t; C]; R],
                    b: &[[$t; N]; C],
                    o: &mut [[$t; N]; R],
                ) -> bool {
                    let d = gemm::Dims { r: R, c: C, n: N };
                    let (a, b, o) = (a.as_flattened(), b.as_flattened(), o.as_flattened_mut());
                    gemm::gemm_avx2(a, Lhs::Rows, b, o, d, false) == Some(true)
                }
                fn $cols<const R: usize, const C: usize, const N: usize>(
                    a: &[[$t; C]; R],
                    b: &[[$t; N]; C],
                    o: &mut [[$t; N]; R],
                ) -> bool {
                    let at = transposed(a);
                    add_set(o, |p| {
                        let d = gemm::Dims { r: R, c: C, n: N };
                        let (a, b, p) = (at.as_flattened(), b.as_flattened(), p.as_flattened_mut());
                        gemm::gemm_avx2(a, Lhs::Cols, b, p, d, true) == Some(true)
                    })
                }
            };
        }
        v3!(f32, f32_v3, f32_v3_t);
        v3!(f64, f64_v3, f64_v3_t);
        let ran = shapes!(f32_v3, f64_v3);
        let ran_t = shapes!(f32_v3_t, f64_v3_t);
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            assert_eq!((ran, ran_t), (16, 16));
        }
    }
}
