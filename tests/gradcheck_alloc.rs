//! The gradient check performs no heap allocation: a counting global allocator
//! (test-only; the one `unsafe` this needs is the `GlobalAlloc` impl, which only
//! forwards to the system allocator) counts the allocations made on this thread
//! while checks run. Formatting the report afterwards may allocate.

#[path = "support/notebooks.rs"]
mod notebooks;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use stackgrad::Matrix;
use stackgrad::gradcheck::GradCheck;
use stackgrad::loss::{BinaryCrossEntropy, HalfSquaredError, Reduction, SoftmaxCrossEntropy};
use stackgrad::nn::Recast;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

struct Counting;

// SAFETY: every call is forwarded unchanged to `System`; the only addition is a
// counter in a const-initialized thread-local, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made on this thread while `f` runs.
fn allocations<R>(f: impl FnOnce() -> R) -> (usize, R) {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    let r = f();
    COUNTING.with(|c| c.set(false));
    (ALLOCATIONS.with(Cell::get), r)
}

#[test]
fn checking_allocates_nothing() {
    // The counter works: a Vec allocates.
    let (n, v) = allocations(|| vec![1u8; 16]);
    assert_eq!(n, 1);
    drop(v);

    let check = GradCheck::new();
    let (net, x, y) = notebooks::notebook_000();
    let (n, report) = allocations(|| check.check(&net, &HalfSquaredError, &x, &y));
    assert_eq!(n, 0, "notebook 000 check allocated");
    assert!(report.unwrap().passed());

    let (net, x, y) = notebooks::notebook_001(1);
    let (n, report) = allocations(|| check.check(&net, &SoftmaxCrossEntropy::sum(), &x, &y));
    assert_eq!(n, 0, "notebook 001 check allocated");
    assert!(report.unwrap().passed());

    // f32 against the f64 reference.
    let (net32, x32) = (Recast::<f32>::recast(&net), Recast::<f32>::recast(&x));
    let (n, report) = allocations(|| check.check(&net32, &SoftmaxCrossEntropy::sum(), &x32, &y));
    assert_eq!(n, 0, "f32 check allocated");
    assert!(report.unwrap().passed());

    let (net, x, y) = notebooks::notebook_004();
    let bce = BinaryCrossEntropy {
        reduction: Reduction::Mean,
    };
    let (n, report) = allocations(|| check.check(&net, &bce, &x, &y));
    assert_eq!(n, 0, "notebook 004 check allocated");
    let report = report.unwrap();
    assert!(report.passed());

    let w = Matrix::<f64, 2, 3>::from_fn(|i, j| (i * 3 + j) as f64 * 0.1 - 0.2);
    let xm = Matrix::<f64, 4, 2>::from_fn(|b, i| (b + i) as f64 * 0.3 - 0.5);
    let dd = Matrix::<f64, 4, 3>::splat(1.0);
    let (n, vjp) = allocations(|| check.check_vjp(|x| x.matmul(&w), &xm, &dd, &dd.matmul_t(&w)));
    assert_eq!(n, 0, "vector-Jacobian check allocated");
    assert!(vjp.passed());

    // Formatting may allocate (and does, into a String).
    let (n, text) = allocations(|| report.to_string());
    assert!(n > 0 && text.contains("overall: PASS"));
}
