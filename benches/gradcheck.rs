//! The gradient check of notebook 001's 179-parameter network (2 -> 25 -> 4,
//! sigmoid, softmax cross-entropy, 40 points): every coordinate by central
//! differences, two forward passes each, in f64 and for f32 code against its
//! f64 reference.
//!
//! Run: `cargo bench -p stackgrad-bench --bench gradcheck -- --measurement-time 2 --warm-up-time 1`

#[path = "../tests/support/notebooks.rs"]
mod notebooks;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use stackgrad::gradcheck::GradCheck;
use stackgrad::loss::SoftmaxCrossEntropy;
use stackgrad::nn::Recast;

fn gradcheck(c: &mut Criterion) {
    let (net, x, y) = notebooks::notebook_001(1);
    let loss = SoftmaxCrossEntropy::sum();
    let check = GradCheck::new();
    let mut g = c.benchmark_group("gradcheck 2-25-4 (179 params) batch 40");
    g.bench_function("f64", |b| {
        b.iter(|| black_box(check.check(black_box(&net), &loss, black_box(&x), &y)))
    });
    let (net32, x32) = (Recast::<f32>::recast(&net), Recast::<f32>::recast(&x));
    g.bench_function("f32 against f64 reference", |b| {
        b.iter(|| black_box(check.check(black_box(&net32), &loss, black_box(&x32), &y)))
    });
    g.finish();
}

criterion_group!(benches, gradcheck);
criterion_main!(benches);
