//! Dense layers: forward (`X W + b`) and forward + backward (`dW = Xᵀ D`,
//! `db = Σ D`, `dX = D Wᵀ`), for the shapes of notebook 001, the digits MLP and a
//! 256 -> 256 layer.
//!
//! Run: `cargo bench -p stackgrad-bench --bench dense -- --measurement-time 2 --warm-up-time 1`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use stackgrad::nn::{Dense, Layer, Params};
use stackgrad::{Matrix, Scalar};

fn input<T: Scalar, const R: usize, const C: usize>(seed: usize) -> Matrix<T, R, C> {
    Matrix::from_fn(|r, c| T::from_f64((((r * 31 + c * 17 + seed) % 23) as f64 - 11.0) / 7.0))
}

macro_rules! dense {
    ($g:ident, $t:ty, $b:literal, $i:literal, $o:literal) => {{
        let layer = Box::new(Dense::<$t, $i, $o>::new(input(1), [0.25; $o]));
        let x = input::<$t, $b, $i>(2);
        let d = input::<$t, $b, $o>(3);
        let mut grads = Box::new(layer.zeros_like());
        let name = |what: &str| format!("{} {}->{} batch {} {}", stringify!($t), $i, $o, $b, what);
        $g.bench_function(name("fwd"), |bn| {
            bn.iter(|| black_box(black_box(&*layer).infer(black_box(&x))))
        });
        $g.bench_function(name("fwd+bwd"), |bn| {
            bn.iter(|| {
                let (y, cache) = black_box(&*layer).forward(black_box(&x));
                let dx = layer.backward(&x, &y, &cache, black_box(&d), &mut grads);
                black_box((y, dx, &grads));
            })
        });
    }};
}

fn dense(c: &mut Criterion) {
    let mut g = c.benchmark_group("dense");
    dense!(g, f64, 5, 2, 25);
    dense!(g, f64, 5, 25, 4);
    dense!(g, f32, 32, 64, 64);
    dense!(g, f32, 32, 64, 10);
    dense!(g, f32, 32, 256, 256);
    g.finish();
}

criterion_group!(benches, dense);
criterion_main!(benches);
