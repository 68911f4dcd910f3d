//! The convolution's three products against the CPU's fused multiply-add
//! peak, measured in the same run: forward, weight gradient and input
//! gradient of the digits CNN's two layers and of a stride-2 layer at batch
//! 16 (f32), in GFLOP/s and percent of the peak.
//!
//! ```sh
//! cargo bench -p stackgrad-bench --bench conv_throughput
//! ```
//!
//! Work counted as PyTorch's profilers count it: `2 N F C K² OH OW` flops per
//! product (the padding's zero taps included). The forward is
//! `forward_into`; the weight gradient `backward_params` (weights and bias);
//! the input gradient is `backward_into` (both) less `backward_params`. The
//! peak is 12 chains of fused multiply-adds in the widest vectors; all of them
//! run in alternated blocks of about 2 ms, 300 rounds, and each prints its
//! median and fastest block.

#[path = "common/timing.rs"]
mod timing;

use std::hint::black_box;

use stackgrad::Images;
use stackgrad::nn::{Conv2d, Layer, Params};
use stackgrad::rand::{SeedableRng, rngs::StdRng};
use timing::{CHAIN_FLOPS, alternated, fma_chains, fmt_time, load_average};

/// Times the three products of one shape (a macro: each shape's sizes are
/// checked where it is written).
macro_rules! shape {
    ($n:literal, $c:literal, $f:literal, $h:literal, $w:literal, stride $s:literal) => {{
    const N: usize = $n;
    const C: usize = $c;
    const F: usize = $f;
    const H: usize = $h;
    const W: usize = $w;
    const S: usize = $s;
    const OH: usize = (H - 1) / S + 1;
    const OW: usize = (W - 1) / S + 1;
    let conv = Conv2d::<f32, C, F, 3, S, 1>::he_normal(&mut StdRng::seed_from_u64(1));
    let x = Images::<f32, N, C, H, W>::from_fn(|n, c, i, j| {
        ((n * 1000 + c * 131 + i * 17 + j) as f32 * 0.1).sin()
    });
    let dy = Images::<f32, N, F, OH, OW>::from_fn(|n, f, i, j| {
        ((n * 500 + f * 7 + i * 3 + j) as f32 * 0.2).cos()
    });
    let (y, ()) = conv.forward(&x);
    let mut y_out = y;
    let mut dx = Images::<f32, N, C, H, W>::zeros();
    let (mut grads, mut grads2) = (conv.zeros_like(), conv.zeros_like());
    let flops = 2.0 * (N * F * C * 9 * OH * OW) as f64;
    let lanes = fma_chains();
    println!(
        "conv {C}x{H}x{W} -> {F}x{OH}x{OW}, 3x3, stride {S}, pad 1, f32, batch {N}: {:.2} MFLOP per product; load average {}",
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
                conv.backward_into(black_box(&x), &y, &(), &mut (), black_box(&dy), &mut dx, &mut grads2)
            },
        ],
        300,
    );
    black_box((&y_out, &dx, &grads, &grads2));
    // The chains' fastest block: what the core does when nothing else runs.
    let peak = CHAIN_FLOPS * lanes as f64 / t[0].1 / 1e9;
    println!("  FMA peak {peak:.1} GFLOP/s ({lanes}-lane chains, alternated with the products)");
    let row = |name: &str, (median, fastest): (f64, f64)| {
        let gflops = flops / median / 1e9;
        println!(
            "  {name:<16} median {:>10}  {gflops:6.1} GFLOP/s  {:5.1}% of peak;  fastest {:>10}  {:5.1}%",
            fmt_time(median),
            100.0 * gflops / peak,
            fmt_time(fastest),
            100.0 * flops / fastest / 1e9 / peak,
        );
    };
    row("forward", t[1]);
    row("weight gradient", t[2]);
    row("input gradient", (t[3].0 - t[2].0, t[3].1 - t[2].1));
    }};
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    shape!(16, 16, 32, 8, 8, stride 1);
    shape!(16, 1, 16, 8, 8, stride 1);
    shape!(16, 16, 32, 16, 16, stride 2);
}
