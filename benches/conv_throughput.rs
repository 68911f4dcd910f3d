//! The convolution's three products against the CPU's fused multiply-add
//! peak, measured in the same run: conv 16x8x8 -> 32x8x8, 3x3, padding 1, f32,
//! batch 16 (the digits CNN's second layer), forward, weight gradient and
//! input gradient, in GFLOP/s and percent of the peak.
//!
//! ```sh
//! cargo bench -p stackgrad-bench --bench conv_throughput
//! ```
//!
//! Work counted as PyTorch's profilers count it: `2 N F C K² OH OW` flops per
//! product (the padding's zero taps included). The forward is
//! `forward_into`; the weight gradient `backward_params` (weights and bias);
//! the input gradient is `backward_into` (both) less `backward_params`, the
//! medians of alternated blocks of calls.

#[path = "common/timing.rs"]
mod timing;

use std::hint::black_box;

use stackgrad::Images;
use stackgrad::nn::{Conv2d, Layer, Params};
use stackgrad::rand::{SeedableRng, rngs::StdRng};
use timing::{CHAIN_FLOPS, alternated, fma_chains, fmt_time, load_average};

const N: usize = 16;
type Conv = Conv2d<f32, 16, 32, 3, 1, 1>;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let conv = Conv::he_normal(&mut StdRng::seed_from_u64(1));
    let x = Images::<f32, N, 16, 8, 8>::from_fn(|n, c, i, j| {
        ((n * 1000 + c * 131 + i * 17 + j) as f32 * 0.1).sin()
    });
    let dy = Images::<f32, N, 32, 8, 8>::from_fn(|n, f, i, j| {
        ((n * 500 + f * 7 + i * 3 + j) as f32 * 0.2).cos()
    });
    let (y, ()) = conv.forward(&x);
    let mut y_out = y;
    let mut dx = Images::<f32, N, 16, 8, 8>::zeros();
    let (mut grads, mut grads2) = (conv.zeros_like(), conv.zeros_like());
    let flops = 2.0 * (N * 32 * 16 * 9 * 64) as f64;
    let lanes = fma_chains();
    println!(
        "conv 16x8x8 -> 32x8x8, 3x3, pad 1, f32, batch {N}: {:.1} MFLOP per product; load average {}",
        flops / 1e6,
        load_average()
    );
    let t = alternated(
        &mut [
            &mut || {
                fma_chains();
            },
            &mut || conv.forward_into(black_box(&x), &mut y_out, &mut ()),
            &mut || conv.backward_params(black_box(&x), &y, &(), black_box(&dy), &mut grads),
            &mut || {
                conv.backward_into(
                    black_box(&x),
                    &y,
                    &(),
                    &mut (),
                    black_box(&dy),
                    &mut dx,
                    &mut grads2,
                )
            },
        ],
        300,
    );
    black_box((&y_out, &dx, &grads, &grads2));
    // The chains' fastest block: what the core does when nothing else runs.
    let peak = CHAIN_FLOPS * lanes as f64 / t[0].1 / 1e9;
    println!("FMA peak {peak:.1} GFLOP/s ({lanes}-lane chains, alternated with the products)");
    let row = |name: &str, (median, fastest): (f64, f64)| {
        let gflops = flops / median / 1e9;
        println!(
            "{name:<16} median {:>10}  {gflops:6.1} GFLOP/s  {:5.1}% of peak;  fastest {:>10}  {:5.1}%",
            fmt_time(median),
            100.0 * gflops / peak,
            fmt_time(fastest),
            100.0 * flops / fastest / 1e9 / peak,
        );
    };
    row("forward", t[1]);
    row("weight gradient", t[2]);
    row("input gradient", (t[3].0 - t[2].0, t[3].1 - t[2].1));
}
