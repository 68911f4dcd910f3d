//! Single-example latency: one image or one row through `infer` (batch 1,
//! evaluation mode), against the same MLP written by hand with nalgebra and
//! against the compute floor, the network's multiply-adds at the FMA peak
//! measured in the same run.
//!
//! ```sh
//! cargo bench -p stackgrad-bench --bench latency
//! ```
//!
//! Networks: the digits MLP (64 -> 64 -> 10, ReLU; example 03's) and the
//! digits CNN (1x8x8 -> conv 16 -> conv 32 -> max-pool -> dense 10; example
//! 04's), f32, trained weights not needed (seeded initializers). All of them
//! and the FMA chains run in alternated blocks of about 2 ms, 300 rounds;
//! each prints its median and fastest block, in ns per example, and the
//! floor as a percentage of that time (100% would be every lane of every
//! FMA unit busy).

#[path = "common/timing.rs"]
mod timing;

use std::hint::black_box;

use nalgebra::SMatrix;
use stackgrad::Matrix;
use stackgrad::nn::{Conv2d, Dense, Flatten, MaxPool2d, Net, Relu, Unflatten, input};
use stackgrad::rand::{SeedableRng, rngs::StdRng};
use timing::{CHAIN_FLOPS, alternated, fma_chains, fmt_time, load_average};

type Mlp = Net<(Dense<f32, 64, 64>, Relu, Dense<f32, 64, 10>)>;
type Cnn = Net<(
    Unflatten<1, 8, 8>,
    Conv2d<f32, 1, 16, 3, 1, 1>,
    Relu,
    Conv2d<f32, 16, 32, 3, 1, 1>,
    Relu,
    MaxPool2d<2>,
    Flatten,
    Dense<f32, 512, 10>,
)>;

/// The MLP by hand: `relu(x W1 + b1) W2 + b2` with nalgebra's fixed-size
/// matrices (row vector times matrix), the same weights.
struct HandMlp {
    w1: SMatrix<f32, 64, 64>,
    b1: SMatrix<f32, 1, 64>,
    w2: SMatrix<f32, 64, 10>,
    b2: SMatrix<f32, 1, 10>,
}

impl HandMlp {
    fn from(net: &Mlp) -> Self {
        let (d1, _, d2) = &net.layers;
        Self {
            w1: SMatrix::from_fn(|i, j| d1.weight[(i, j)]),
            b1: SMatrix::from_fn(|_, j| d1.bias[j]),
            w2: SMatrix::from_fn(|i, j| d2.weight[(i, j)]),
            b2: SMatrix::from_fn(|_, j| d2.bias[j]),
        }
    }
    #[inline(never)]
    fn infer(&self, x: &SMatrix<f32, 1, 64>) -> SMatrix<f32, 1, 10> {
        let h = (x * self.w1 + self.b1).map(|v| v.max(0.0));
        h * self.w2 + self.b2
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let mut rng = StdRng::seed_from_u64(3);
    let mlp: Mlp = input::<64>()
        .then(Dense::he_normal(&mut rng))
        .then(Relu)
        .then(Dense::xavier_uniform(&mut rng))
        .build();
    let cnn: Cnn = input::<64>()
        .then(Unflatten::<1, 8, 8>)
        .then(Conv2d::he_normal(&mut rng))
        .then(Relu)
        .then(Conv2d::he_normal(&mut rng))
        .then(Relu)
        .then(MaxPool2d::<2>)
        .then(Flatten)
        .then(Dense::xavier_uniform(&mut rng))
        .build();
    let hand = HandMlp::from(&mlp);
    let x = Matrix::<f32, 1, 64>::from_fn(|_, j| ((j * 7 % 17) as f32) / 16.0);
    let xn = SMatrix::<f32, 1, 64>::from_fn(|_, j| x[(0, j)]);
    let a = mlp.infer(&x);
    let b = hand.infer(&xn);
    let worst = (0..10)
        .map(|j| (a[(0, j)] - b[(0, j)]).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-4, "the two MLPs differ by {worst}");

    let mlp_macs = 64 * 64 + 64 * 10;
    let cnn_macs = 16 * 9 * 64 + 32 * 16 * 9 * 64 + 512 * 10;
    let lanes = fma_chains();
    println!(
        "batch 1 `infer`, f32; MLP 64-64-10 {mlp_macs} multiply-adds, CNN {cnn_macs}; load average {}",
        load_average()
    );
    let t = alternated(
        &mut [
            &mut || {
                fma_chains();
            },
            &mut || {
                black_box(mlp.infer(black_box(&x)));
            },
            &mut || {
                black_box(hand.infer(black_box(&xn)));
            },
            &mut || {
                black_box(cnn.infer(black_box(&x)));
            },
        ],
        300,
    );
    // The chains' fastest block: the core's peak when nothing else runs.
    let peak = CHAIN_FLOPS * lanes as f64 / t[0].1 / 1e9;
    println!("FMA peak {peak:.1} GFLOP/s ({lanes}-lane chains, alternated with the networks)");
    let row = |name: &str, macs: usize, (median, fastest): (f64, f64)| {
        let floor = 2.0 * macs as f64 / (peak * 1e9);
        println!(
            "{name:<28} median {:>9} ({:5.1}% of the floor's {}), fastest {:>9} ({:5.1}%)",
            fmt_time(median),
            100.0 * floor / median,
            fmt_time(floor),
            fmt_time(fastest),
            100.0 * floor / fastest
        );
    };
    row("digits MLP, stackgrad", mlp_macs, t[1]);
    row("digits MLP, nalgebra by hand", mlp_macs, t[2]);
    row("digits CNN, stackgrad", cnn_macs, t[3]);
    println!(
        "MLP: stackgrad / nalgebra = {:.2} (medians), {:.2} (fastest)",
        t[1].0 / t[2].0,
        t[1].1 / t[2].1
    );
}
