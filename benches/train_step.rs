//! One training step (forward, loss, backward, optimizer update) through the
//! training loop's per-example loss path (`train::backprop`, which also masks
//! padding rows) against the same step written by hand with the batch loss:
//! the ratio is the loop's overhead.
//!
//! Run: `cargo bench -p stackgrad-bench --bench train_step -- --measurement-time 2 --warm-up-time 1`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use stackgrad::Matrix;
use stackgrad::batch::{Batches, Dataset};
use stackgrad::loss::{Labels, Loss, SoftmaxCrossEntropy};
use stackgrad::nn::{Dense, Net, Params, Relu, Sigmoid};
use stackgrad::optim::{Adam, Optimizer, Sgd};
use stackgrad::rand::{SeedableRng, rngs::StdRng};
use stackgrad::train::backprop;

fn notebook(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(0);
    type N = Net<(Dense<f64, 2, 25>, Sigmoid, Dense<f64, 25, 4>)>;
    let mut net: N = Net::new((
        Dense::xavier_uniform(&mut rng),
        Sigmoid,
        Dense::xavier_uniform(&mut rng),
    ));
    let x: Vec<[f64; 2]> = (0..5)
        .map(|i| [3.0 + i as f64 * 0.1, 10.0 * i as f64])
        .collect();
    let y = vec![0usize, 1, 2, 3, 0];
    let batch = Batches::<_, _, _, 5>::new(Dataset::new(&x, &y).unwrap(), &[0, 1, 2, 3, 4])
        .unwrap()
        .next()
        .unwrap();
    let labels = Labels::<5, 4>::new([0, 1, 2, 3, 0]).unwrap();
    let loss = SoftmaxCrossEntropy::sum();
    let mut grads = net.zeros_like();
    let mut sgd = Sgd::new(1e-3);
    let mut g = c.benchmark_group("2x25x4 f64 batch 5 sgd step");
    g.bench_function("hand-written, batch loss", |b| {
        b.iter(|| {
            let x = black_box(&batch.x);
            let (z, cache) = net.forward(x);
            let (l, dz) = loss.loss_and_grad(&z, &labels);
            net.backward_params(x, &z, &cache, &dz, &mut grads);
            sgd.step(&mut net, &grads);
            black_box(l)
        })
    });
    g.bench_function("train::backprop (per-example loss)", |b| {
        b.iter(|| {
            let s = backprop(&net, &loss, black_box(&batch), &mut grads).unwrap();
            sgd.step(&mut net, &grads);
            black_box(s.loss)
        })
    });
    g.finish();
}

fn digits_mlp(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(0);
    type M = Net<(Dense<f32, 64, 64>, Relu, Dense<f32, 64, 10>)>;
    let mut net: M = Net::new((
        Dense::he_normal(&mut rng),
        Relu,
        Dense::xavier_uniform(&mut rng),
    ));
    let x: Vec<[f32; 64]> = (0..32)
        .map(|i| std::array::from_fn(|j| ((i * 64 + j) as f32 * 0.37).sin()))
        .collect();
    let y: Vec<usize> = (0..32).map(|i| i % 10).collect();
    let order: Vec<usize> = (0..32).collect();
    let batch = Batches::<_, _, _, 32>::new(Dataset::new(&x, &y).unwrap(), &order)
        .unwrap()
        .next()
        .unwrap();
    let labels = Labels::<32, 10>::new(std::array::from_fn(|i| i % 10)).unwrap();
    let xm: Matrix<f32, 32, 64> = batch.x;
    let loss = SoftmaxCrossEntropy::mean();
    let mut grads = net.zeros_like();
    let mut adam = Adam::new(1e-3f32);
    let mut g = c.benchmark_group("64x64x10 f32 batch 32 adam step");
    g.bench_function("hand-written, batch loss", |b| {
        b.iter(|| {
            let x = black_box(&xm);
            let (z, cache) = net.forward(x);
            let (l, dz) = loss.loss_and_grad(&z, &labels);
            net.backward_params(x, &z, &cache, &dz, &mut grads);
            adam.step(&mut net, &grads);
            black_box(l)
        })
    });
    g.bench_function("train::backprop (per-example loss)", |b| {
        b.iter(|| {
            let s = backprop(&net, &loss, black_box(&batch), &mut grads).unwrap();
            adam.step(&mut net, &grads);
            black_box(s.loss)
        })
    });
    // The optimizer alone: a vector loop over 4810 parameters with a square
    // root and a division each (2.9x slower when matrices were not aligned to
    // cache lines).
    g.bench_function("adam update alone (4810 parameters)", |b| {
        b.iter(|| adam.step(black_box(&mut net), black_box(&grads)))
    });
    g.finish();
}

criterion_group!(benches, notebook, digits_mlp);
criterion_main!(benches);
