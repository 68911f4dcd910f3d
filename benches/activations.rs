//! Element-wise activations and softmax over a batch: forward and backward, and
//! the scalar kernels of `stackgrad::math` against `std` on the same array.
//!
//! Run: `cargo bench -p stackgrad-bench --bench activations -- --measurement-time 2 --warm-up-time 1`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use stackgrad::nn::{
    Elu, Gelu, GeluTanh, Layer, LeakyRelu, Relu, Sigmoid, Silu, Softmax, Softplus, Tanh,
};
use stackgrad::{Matrix, Scalar, math};

fn input<T: Scalar, const R: usize, const C: usize>() -> Matrix<T, R, C> {
    Matrix::from_fn(|r, c| T::from_f64((((r * 31 + c * 17) % 23) as f64 - 11.0) / 2.0))
}

macro_rules! layer {
    ($g:ident, $t:ty, $layer:expr, $name:literal, $b:literal, $n:literal) => {{
        let x = input::<$t, $b, $n>();
        let d = input::<$t, $b, $n>();
        let name = |what: &str| format!("{} {} {}x{} {}", $name, stringify!($t), $b, $n, what);
        $g.bench_function(name("fwd"), |bn| {
            bn.iter(|| black_box(Layer::<Matrix<$t, $b, $n>>::infer(&$layer, black_box(&x))))
        });
        $g.bench_function(name("fwd+bwd"), |bn| {
            bn.iter(|| {
                let (y, c) = Layer::<Matrix<$t, $b, $n>>::forward(&$layer, black_box(&x));
                let dx = $layer.backward(&x, &y, &c, black_box(&d), &mut $layer);
                black_box((y, dx))
            })
        });
    }};
}

fn layers(c: &mut Criterion) {
    let mut g = c.benchmark_group("activation layers");
    layer!(g, f64, Sigmoid, "sigmoid", 5, 25);
    layer!(g, f32, Sigmoid, "sigmoid", 5, 25);
    layer!(g, f32, Tanh, "tanh", 32, 64);
    layer!(g, f32, Relu, "relu", 32, 64);
    layer!(g, f32, LeakyRelu::default(), "leaky_relu", 32, 64);
    layer!(g, f32, Elu::default(), "elu", 32, 64);
    layer!(g, f32, Gelu, "gelu", 32, 64);
    layer!(g, f64, Gelu, "gelu", 32, 64);
    layer!(g, f32, GeluTanh, "gelu_tanh", 32, 64);
    layer!(g, f32, Silu, "silu", 32, 64);
    layer!(g, f32, Softplus::default(), "softplus", 32, 64);
    layer!(g, f64, Softmax, "softmax", 5, 4);
    layer!(g, f32, Softmax, "softmax", 32, 10);
    g.finish();
}

macro_rules! kernel {
    ($g:ident, $t:ty, $name:literal, $fast:path, $std:expr) => {{
        let xs: [$t; 1024] = core::array::from_fn(|i| (i as $t - 512.0) / 40.0);
        $g.bench_function(
            format!("{} {} x1024 stackgrad::math", $name, stringify!($t)),
            |bn| bn.iter(|| black_box(black_box(&xs).map($fast))),
        );
        $g.bench_function(format!("{} {} x1024 std", $name, stringify!($t)), |bn| {
            bn.iter(|| black_box(black_box(&xs).map($std)))
        });
    }};
}

fn kernels(c: &mut Criterion) {
    let mut g = c.benchmark_group("math kernels");
    kernel!(g, f32, "exp", math::exp, f32::exp);
    kernel!(g, f64, "exp", math::exp, f64::exp);
    kernel!(g, f32, "tanh", math::tanh, f32::tanh);
    kernel!(g, f64, "tanh", math::tanh, f64::tanh);
    kernel!(g, f32, "sigmoid", math::sigmoid, |x: f32| 1.0
        / (1.0 + (-x).exp()));
    kernel!(g, f64, "sigmoid", math::sigmoid, |x: f64| 1.0
        / (1.0 + (-x).exp()));
    kernel!(g, f64, "erf", math::erf, libm::erf);
    kernel!(g, f64, "expm1", math::expm1, f64::exp_m1);
    kernel!(g, f64, "softplus", math::softplus, |x: f64| x.max(0.0)
        + (-x.abs()).exp().ln_1p());
    g.finish();
}

criterion_group!(benches, layers, kernels);
criterion_main!(benches);
