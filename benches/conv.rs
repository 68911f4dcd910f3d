//! Conv2d forward and forward+backward on single images: 1x8x8 (the digits) and
//! 1x28x28 (MNIST-sized), 3x3 kernels with padding 1, f32.
//!
//! Run: `cargo bench -p stackgrad-bench --bench conv -- --measurement-time 2 --warm-up-time 1`
//!
//! Inputs are deterministic; `black_box` guards inputs and outputs. The
//! "direct-loop reference" rows time the plain seven-nested-loop definition of
//! the same convolution in the same run, as a baseline for the layer's timings.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use stackgrad::Images;
use stackgrad::nn::{Conv2d, Layer, Params};
use stackgrad::rand::{SeedableRng, rngs::StdRng};

/// The textbook definition with a bounds test per tap: the baseline.
fn direct<const C: usize, const F: usize, const H: usize, const W: usize>(
    conv: &Conv2d<f32, C, F, 3, 1, 1>,
    x: &Images<f32, 1, C, H, W>,
) -> Images<f32, 1, F, H, W> {
    Images::from_fn(|_, f, a, b| {
        let mut acc = conv.bias[f];
        for c in 0..C {
            for ki in 0..3 {
                for kj in 0..3 {
                    let (i, j) = ((a + ki) as isize - 1, (b + kj) as isize - 1);
                    if (0..H as isize).contains(&i) && (0..W as isize).contains(&j) {
                        acc += conv.weight[f][c][ki][kj] * x[(0, c, i as usize, j as usize)];
                    }
                }
            }
        }
        acc
    })
}

fn bench_shape<const C: usize, const F: usize, const H: usize, const W: usize>(
    c: &mut Criterion,
    label: &str,
) where
    Conv2d<f32, C, F, 3, 1, 1>:
        Layer<Images<f32, 1, C, H, W>, Output = Images<f32, 1, F, H, W>, Cache = ()>,
{
    let conv = Conv2d::<f32, C, F, 3, 1, 1>::he_normal(&mut StdRng::seed_from_u64(1));
    let x = Images::<f32, 1, C, H, W>::from_fn(|_, ch, i, j| {
        ((ch * 131 + i * 17 + j) as f32 * 0.1).sin()
    });
    let dy =
        Images::<f32, 1, F, H, W>::from_fn(|_, f, i, j| ((f * 7 + i * 3 + j) as f32 * 0.2).cos());
    assert!((conv.infer(&x).max_abs() - direct(&conv, &x).max_abs()).abs() < 1e-4);

    c.bench_function(&format!("conv {label} fwd"), |b| {
        b.iter(|| black_box(black_box(&conv).infer(black_box(&x))))
    });
    c.bench_function(&format!("conv {label} fwd+bwd"), |b| {
        let mut grads = conv.zeros_like();
        b.iter(|| {
            let (y, cache) = black_box(&conv).forward(black_box(&x));
            let dx = conv.backward(&x, &y, &cache, black_box(&dy), &mut grads);
            black_box((y, dx, &grads));
        })
    });
    c.bench_function(&format!("conv {label} fwd, direct-loop reference"), |b| {
        b.iter(|| black_box(direct(black_box(&conv), black_box(&x))))
    });
}

fn conv(c: &mut Criterion) {
    bench_shape::<1, 16, 8, 8>(c, "1x8x8 -> 16x8x8 (3x3, pad 1)");
    bench_shape::<16, 32, 8, 8>(c, "16x8x8 -> 32x8x8 (3x3, pad 1)");
    bench_shape::<1, 16, 28, 28>(c, "1x28x28 -> 16x28x28 (3x3, pad 1)");
}

criterion_group!(benches, conv);
criterion_main!(benches);
