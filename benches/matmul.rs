//! Matrix products: square `N x N · N x N` for N = 4..64, and the skinny shapes
//! of small networks (a batch times a weight matrix), forward (`A B`) and the two
//! backward forms (`Aᵀ B` for weight gradients, `A Bᵀ` for input gradients).
//!
//! Run: `cargo bench -p stackgrad-bench --bench matmul -- --measurement-time 2 --warm-up-time 1`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use stackgrad::{Matrix, Scalar};

/// Deterministic inputs: a smooth, sign-changing pattern.
fn input<T: Scalar, const R: usize, const C: usize>(seed: usize) -> Matrix<T, R, C> {
    Matrix::from_fn(|r, c| T::from_f64((((r * 31 + c * 17 + seed) % 23) as f64 - 11.0) / 7.0))
}

macro_rules! square {
    ($g:ident, $t:ty, $($n:literal),*) => {$(
        let a = input::<$t, $n, $n>(1);
        let b = input::<$t, $n, $n>(2);
        $g.bench_function(concat!(stringify!($t), " ", $n, "x", $n, " * ", $n, "x", $n, " (A B)"), |bn| {
            bn.iter(|| black_box(black_box(&a).matmul(black_box(&b))))
        });
    )*};
}

fn squares(c: &mut Criterion) {
    let mut g = c.benchmark_group("matmul square");
    square!(g, f32, 4, 8, 16, 32, 64);
    square!(g, f64, 4, 8, 16, 32, 64);
    g.finish();
}

macro_rules! skinny {
    ($g:ident, $t:ty, $m:literal, $k:literal, $n:literal) => {{
        let a = input::<$t, $m, $k>(1);
        let b = input::<$t, $k, $n>(2);
        let d = input::<$t, $m, $n>(3);
        let name = |what: &str| format!("{} {}x{} {} {}x{}", stringify!($t), $m, $k, what, $k, $n);
        $g.bench_function(name("* (fwd A B)"), |bn| {
            bn.iter(|| black_box(black_box(&a).matmul(black_box(&b))))
        });
        $g.bench_function(name("(bwd Aᵀ D -> KxN)"), |bn| {
            bn.iter(|| black_box(black_box(&a).t_matmul(black_box(&d))))
        });
        $g.bench_function(name("(bwd D Bᵀ -> MxK)"), |bn| {
            bn.iter(|| black_box(black_box(&d).matmul_t(black_box(&b))))
        });
    }};
}

fn skinnies(c: &mut Criterion) {
    let mut g = c.benchmark_group("matmul skinny");
    // Notebook 001's two layers, batch 5.
    skinny!(g, f64, 5, 2, 25);
    skinny!(g, f64, 5, 25, 4);
    // The digits MLP, batch 32.
    skinny!(g, f32, 32, 64, 64);
    skinny!(g, f32, 32, 64, 10);
    // A dense 256 -> 256 layer on a batch of 32.
    skinny!(g, f32, 32, 256, 256);
    g.finish();
}

criterion_group!(benches, squares, skinnies);
criterion_main!(benches);
