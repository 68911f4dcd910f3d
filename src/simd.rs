//! Runtime SIMD dispatch for the hot loops, without `unsafe` in this crate.
//!
//! The default release build targets baseline x86-64 (SSE2: 4-wide f32, 2-wide
//! f64, no FMA). [`run`] calls a kernel inside a function compiled for the best
//! instruction set the CPU reports at run time (x86-64-v3: AVX2 + FMA), through
//! the `pulp` crate, which holds the one `unsafe` call that this needs and
//! caches the CPU detection in an atomic. The kernels are `#[inline(always)]`
//! generic code, so LLVM vectorizes each copy for the enabled features: 8-wide
//! f32 and 4-wide f64 under AVX2.
//!
//! Results are bit-identical on every path: Rust never contracts `a * b + c`
//! into a fused multiply-add by itself, and the kernels fix their summation
//! order in the source, so only the vector width changes.
//!
//! A dispatch costs an atomic load and an out-of-line call that cannot be
//! inlined into baseline code, so callers dispatch only loops with enough work
//! ([`MIN_WORK`]); small ones stay inlined where they are.

/// The least number of scalar operations (multiply-adds of a product,
/// elements of an activation) worth a dispatch. Below it (the notebook's
/// 2 -> 25 -> 4 net on batches of 5) the inlined baseline code is faster.
pub(crate) const MIN_WORK: usize = 2048;

/// Calls `f` with the widest instruction set available at run time.
#[inline(always)]
pub(crate) fn run<R>(f: impl FnOnce() -> R) -> R {
    pulp::Arch::new().dispatch(f)
}

/// Calls `f` directly (less than [`MIN_WORK`]) or through [`run`].
#[inline(always)]
pub(crate) fn run_if<R>(work: usize, f: impl FnOnce() -> R) -> R {
    if work >= MIN_WORK { run(f) } else { f() }
}
