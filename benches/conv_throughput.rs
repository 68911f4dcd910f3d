//! The convolution's three products against the CPU's fused multiply-add
//! peak, measured in the same run: forward, weight gradient and input
//! gradient of the digits CNN's two layers and of a stride-2 layer at batch
//! 16 (f32), in GFLOP/s and percent of the peak. With `--sweep`, a table of
//! the three products' medians over the shapes small CNNs use (channels 1
//! to 64, images 8x8 to 32x32, kernels 1, 3 and 5, strides 1 and 2,
//! batches 1 to 64; fewer rounds each).
//!
//! ```sh
//! cargo bench -p stackgrad-bench --bench conv_throughput
//! cargo bench -p stackgrad-bench --bench conv_throughput -- --sweep
//! cargo bench -p stackgrad-bench --bench conv_throughput -- --sweep "batch 1,"
//! ```
//!
//! (the last: the sweep's rows whose shape, followed by a comma, contains
//! the text).
//!
//! Work counted as PyTorch's profilers count it: `2 N F C K² OH OW` flops per
//! product (the padding's zero taps included). The forward is
//! `forward_into`; the weight gradient `backward_params` (weights and bias);
//! the input gradient is `backward_into` (both) less `backward_params`. The
//! peak is 12 chains of fused multiply-adds in the widest vectors; all of them
//! run in alternated blocks of about 2 ms, 300 rounds, and each prints its
//! median and fastest block.
//!
//! Alternated with them, the same three products as one matrix product
//! each over the whole batch (`Matrix::matmul`, `t_matmul`: the library's
//! dense kernel) on an im2col matrix `X̂` (`C K² x N OH OW`) built
//! beforehand: `W X̂`, `X̂ dYᵀ` (with `dY` given transposed) and `Wᵀ dY`.
//! Each product prints its time as a multiple of its matrix product's: what
//! im2col plus the dense kernel would cost, not counting the im2col matrix
//! and the sum back onto the image. The sweep prints the matrix products'
//! percent of the peak (`mm`) and these ratios (`/`).

#[path = "common/timing.rs"]
mod timing;

use std::hint::black_box;

use stackgrad::nn::{Conv2d, Layer, Params};
use stackgrad::rand::{SeedableRng, rngs::StdRng};
use stackgrad::{Images, Matrix};
use timing::{CHAIN_FLOPS, alternated, fma_chains, fmt_time, load_average};

/// `"CxHxW -> FxOHxOW, KxK, stride S, pad P, batch N"` for `[N, C, F, H,
/// W, K, S]` with padding `K / 2`.
fn shape_name([n, c, f, h, w, k, s]: [usize; 7]) -> String {
    let p = k / 2;
    let (oh, ow) = ((h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1);
    format!("{c}x{h}x{w} -> {f}x{oh}x{ow}, {k}x{k}, stride {s}, pad {p}, batch {n}")
}

/// Times the three products of one shape, `K x K` kernels with padding
/// `K / 2`, in `rounds` alternated rounds with the peak's chains and the
/// same products as matrix products on an im2col matrix; returns the peak
/// in GFLOP/s, the work of one product in flops, and the (median, fastest)
/// times of the forward, the weight gradient and the input gradient, and
/// of their matrix products. A macro: each shape's sizes are checked where it is
/// written.
macro_rules! measure {
    ($n:literal, $c:literal, $f:literal, $h:literal, $w:literal, k $k:literal, stride $s:literal, $rounds:expr) => {{
        const N: usize = $n;
        const C: usize = $c;
        const F: usize = $f;
        const H: usize = $h;
        const W: usize = $w;
        const K: usize = $k;
        const S: usize = $s;
        const P: usize = K / 2;
        const OH: usize = (H + 2 * P - K) / S + 1;
        const OW: usize = (W + 2 * P - K) / S + 1;
        let name = shape_name([N, C, F, H, W, K, S]);
        let conv = Conv2d::<f32, C, F, K, S, P>::he_normal(&mut StdRng::seed_from_u64(1));
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
        let flops = 2.0 * (N * F * C * K * K * OH * OW) as f64;
        // The same three products as matrix products over the whole batch,
        // by the library's dense kernel, on an im2col matrix built
        // beforehand: forward `W X̂`, weight gradient `X̂ dYᵀ` (dY given
        // transposed, as an im2col program would lay it out), input
        // gradient `Wᵀ dY`.
        const CKK: usize = C * K * K;
        const NP: usize = N * OH * OW;
        let val = |r: usize, c: usize| ((r * 7 + c * 3) as f32 * 0.01).sin();
        let xh = Box::new(Matrix::<f32, CKK, NP>::from_fn(val));
        let wm = Box::new(Matrix::<f32, F, CKK>::from_fn(val));
        let dym = Box::new(Matrix::<f32, F, NP>::from_fn(val));
        let dyt = Box::new(Matrix::<f32, NP, F>::from_fn(val));
        let lanes = fma_chains();
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
                &mut || {
                    black_box(&wm.matmul(black_box(&*xh)));
                },
                &mut || {
                    black_box(&xh.matmul(black_box(&*dyt)));
                },
                &mut || {
                    black_box(&wm.t_matmul(black_box(&*dym)));
                },
            ],
            $rounds,
        );
        black_box((&y_out, &dx, &grads, &grads2));
        // The chains' fastest block: what the core does when nothing else runs.
        let peak = CHAIN_FLOPS * lanes as f64 / t[0].1 / 1e9;
        let input = (t[3].0 - t[2].0, t[3].1 - t[2].1);
        (
            name,
            lanes,
            peak,
            flops,
            [t[1], t[2], input],
            [t[4], t[5], t[6]],
        )
    }};
}

/// Prints the three products of one shape in detail.
macro_rules! shape {
    ($n:literal, $c:literal, $f:literal, $h:literal, $w:literal, stride $s:literal) => {{
        let (name, lanes, peak, flops, t, gemm) = measure!($n, $c, $f, $h, $w, k 3, stride $s, 300);
        println!(
            "conv {name}, f32: {:.2} MFLOP per product; load average {}",
            flops / 1e6,
            load_average()
        );
        println!("  FMA peak {peak:.1} GFLOP/s ({lanes}-lane chains, alternated with the products)");
        let names = ["forward", "weight gradient", "input gradient"];
        for ((name, (median, fastest)), (gemm, _)) in names.into_iter().zip(t).zip(gemm) {
            let gflops = flops / median / 1e9;
            println!(
                "  {name:<16} median {:>10}  {gflops:6.1} GFLOP/s  {:5.1}% of peak;  fastest {:>10}  {:5.1}%;  {:.2}x the matrix product's time",
                fmt_time(median),
                100.0 * gflops / peak,
                fmt_time(fastest),
                100.0 * flops / fastest / 1e9 / peak,
                median / gemm,
            );
        }
    }};
}

/// One row of the sweep's table: the three products' medians in percent of
/// the peak measured with them.
macro_rules! row {
    ($only:ident, $n:literal, $c:literal, $f:literal, $h:literal, $w:literal, k $k:literal, stride $s:literal) => {{
        // (`"...batch 16,"`: a filter can end a row's name with a comma.)
        if format!("{},", shape_name([$n, $c, $f, $h, $w, $k, $s])).contains($only) {
        let (name, _, peak, flops, t, gemm) = measure!($n, $c, $f, $h, $w, k $k, stride $s, 60);
        let pct = |(median, _): (f64, f64)| 100.0 * flops / median / 1e9 / peak;
        let ratio = |i: usize| t[i].0 / gemm[i].0;
        println!(
            "{name:<46} {:>7.3} {:>10} {:>6.1}% {:>6.1}% {:>6.1}% {:>6.1}% {:>6.1}% {:>6.1}% {:>5.2} {:>5.2} {:>5.2}",
            flops / 1e6,
            fmt_time(t[0].0),
            pct(t[0]),
            pct(t[1]),
            pct(t[2]),
            pct(gemm[0]),
            pct(gemm[1]),
            pct(gemm[2]),
            ratio(0),
            ratio(1),
            ratio(2),
        );
        }
    }};
}

/// The sweep, on a thread with room for its largest tensors (several MiB):
/// the rows whose shape's name contains `only`.
fn sweep(only: &str) {
    println!("load average {}", load_average());
    println!(
        "{:<46} {:>7} {:>10} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>5} {:>5} {:>5}",
        "f32 conv",
        "MFLOP",
        "forward",
        "fwd",
        "w grad",
        "x grad",
        "mm fwd",
        "mm w",
        "mm x",
        "/fwd",
        "/w",
        "/x"
    );
    // First layers: one channel (grey images), three (colour).
    row!(only, 16, 1, 16, 8, 8, k 3, stride 1);
    row!(only, 16, 1, 32, 28, 28, k 5, stride 1);
    row!(only, 16, 1, 16, 32, 32, k 3, stride 2);
    row!(only, 16, 3, 16, 32, 32, k 3, stride 1);
    // Stride 1, 3 x 3.
    row!(only, 16, 16, 32, 8, 8, k 3, stride 1);
    row!(only, 16, 16, 32, 16, 16, k 3, stride 1);
    row!(only, 16, 32, 64, 8, 8, k 3, stride 1);
    row!(only, 16, 64, 64, 8, 8, k 3, stride 1);
    row!(only, 16, 16, 16, 32, 32, k 3, stride 1);
    // Other kernels.
    row!(only, 16, 32, 64, 16, 16, k 1, stride 1);
    row!(only, 16, 16, 32, 16, 16, k 5, stride 1);
    // Stride 2.
    row!(only, 16, 16, 32, 16, 16, k 3, stride 2);
    row!(only, 16, 32, 64, 16, 16, k 3, stride 2);
    row!(only, 16, 16, 32, 32, 32, k 3, stride 2);
    // Batches.
    row!(only, 1, 16, 32, 8, 8, k 3, stride 1);
    row!(only, 64, 16, 32, 8, 8, k 3, stride 1);
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--sweep") {
        // The argument after `--sweep` (not an option) keeps the rows whose
        // shape contains it, e.g. `--sweep "batch 1,"`.
        let only = args
            .get(at + 1)
            .filter(|a| !a.starts_with("--"))
            .cloned()
            .unwrap_or_default();
        let sweep = std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn(move || sweep(&only));
        if !sweep.is_ok_and(|t| t.join().is_ok()) {
            eprintln!("the sweep did not run to its end");
            std::process::exit(1);
        }
        return;
    }
    shape!(16, 16, 32, 8, 8, stride 1);
    shape!(16, 1, 16, 8, 8, stride 1);
    shape!(16, 16, 32, 16, 16, stride 2);
}
