//! stackgrad against the alternatives, interleaved in one run: prints a table of
//! time ratios (stackgrad / baseline; below 1 means stackgrad is faster).
//!
//! ```sh
//! cargo bench -p stackgrad-bench --bench compare            # about a minute
//! cargo bench -p stackgrad-bench --bench compare -- step    # only the groups named: step, run, dense
//! RUSTFLAGS="-C target-cpu=native" cargo bench -p stackgrad-bench --bench compare
//! ```
//!
//! Each pair runs in alternating blocks (A, B, A, B, ...) of about 2 ms, so that
//! frequency changes and neighbours on a shared machine hit both sides alike; the
//! ratio reported is the median over rounds of (A's time per call / B's), next to
//! each side's median time per call.

mod common;

use std::hint::black_box;
use std::time::Instant;

use common::*;
use stackgrad::Matrix;
use stackgrad::batch::Dataset;
use stackgrad::nn::{Dense, Layer, Params};
use stackgrad::train::Workspace;

/// Median of a non-empty slice.
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Calls per block so that a block takes about `target` seconds.
fn calibrate(f: &mut impl FnMut(), target: f64) -> usize {
    let mut n = 1;
    loop {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        let dt = t.elapsed().as_secs_f64();
        if dt > target / 4.0 || n > 1 << 24 {
            return ((n as f64 * target / dt.max(1e-9)) as usize).max(1);
        }
        n *= 2;
    }
}

/// Runs `a` and `b` in alternating blocks; returns (median s per call of a,
/// of b, median ratio a/b).
fn interleaved(mut a: impl FnMut(), mut b: impl FnMut(), rounds: usize) -> (f64, f64, f64) {
    let block = 2e-3;
    let na = calibrate(&mut a, block);
    let nb = calibrate(&mut b, block);
    let (mut ta, mut tb, mut r) = (vec![], vec![], vec![]);
    for _ in 0..rounds {
        let t = Instant::now();
        for _ in 0..na {
            a();
        }
        let da = t.elapsed().as_secs_f64() / na as f64;
        let t = Instant::now();
        for _ in 0..nb {
            b();
        }
        let db = t.elapsed().as_secs_f64() / nb as f64;
        ta.push(da);
        tb.push(db);
        r.push(da / db);
    }
    (median(&mut ta), median(&mut tb), median(&mut r))
}

fn fmt_time(s: f64) -> String {
    if s < 1e-6 {
        format!("{:.1} ns", s * 1e9)
    } else if s < 1e-3 {
        format!("{:.2} µs", s * 1e6)
    } else {
        format!("{:.2} ms", s * 1e3)
    }
}

struct Table(Vec<(String, f64, String, f64, f64, &'static str)>);
impl Table {
    fn row(
        &mut self,
        what: &str,
        baseline: &str,
        (a, b, r): (f64, f64, f64),
        target: &'static str,
    ) {
        println!(
            "{what:<44} {:>10} | {baseline:<26} {:>10} | ratio {r:.3} (target {target})",
            fmt_time(a),
            fmt_time(b)
        );
        self.0.push((what.into(), a, baseline.into(), b, r, target));
    }
}

/// One train step, stackgrad against the nalgebra module `$na`, in type `$t`;
/// the first step's losses must agree to `$tol` (same math).
macro_rules! step_pair {
    ($t:ident, $na:ident, $tol:expr) => {{
        let mut net = classifier::<$t>();
        let mut grads = net.zeros_like();
        let (x, y) = batch::<$t>(0);
        let inputs = inputs::<$t>();
        let labels = dataset().1;
        let data = Dataset::new(&inputs, &labels).unwrap();
        let rows = core::array::from_fn(|i| i);
        let mut training = training::<$t>();
        let mut m = $na::from_net(&net);
        let (xn, yn) = $na::batch(0);
        let l_na = $na::step(&mut m.clone(), &xn, &yn, 1e-3);
        let l_sg = stackgrad_step(&mut net.clone(), &mut grads, &x, &y, 1e-3);
        assert!((l_sg - l_na).abs() < $tol * l_na.abs(), "{l_sg} vs {l_na}");
        let mut work = Workspace::new(&net);
        let l_tr = stackgrad_train_step(
            &mut training.clone(),
            &mut net.clone(),
            &mut Workspace::new(&net),
            data,
            &rows,
        );
        assert!((l_tr - l_na).abs() < $tol * l_na.abs(), "{l_tr} vs {l_na}");
        // The baseline, shared by both pairs.
        let mut nalgebra = || {
            black_box($na::step(
                black_box(&mut m),
                black_box(&xn),
                black_box(&yn),
                1e-3,
            ));
        };
        let trained = interleaved(
            || {
                black_box(stackgrad_train_step(
                    &mut training,
                    black_box(&mut net),
                    &mut work,
                    black_box(data),
                    black_box(&rows),
                ));
            },
            &mut nalgebra,
            200,
        );
        let by_hand = interleaved(
            || {
                black_box(stackgrad_step(
                    black_box(&mut net),
                    &mut grads,
                    black_box(&x),
                    black_box(&y),
                    1e-3,
                ));
            },
            &mut nalgebra,
            200,
        );
        (trained, by_hand)
    }};
}

fn train_step_pairs(t: &mut Table) {
    let (trained, by_hand) = step_pair!(f64, nalgebra_f64, 1e-12);
    t.row(
        "train step 2-25-4 b5 f64 (Training::epoch, 1 batch)",
        "nalgebra SMatrix f64",
        trained,
        "<= 0.5",
    );
    t.row(
        "same step, layers called by hand, f64",
        "nalgebra SMatrix f64",
        by_hand,
        "(no dispatch)",
    );
    let (trained, by_hand) = step_pair!(f32, nalgebra_f32, 1e-5);
    t.row(
        "train step 2-25-4 b5 f32 (Training::epoch, 1 batch)",
        "nalgebra SMatrix f32",
        trained,
        "<= 0.5",
    );
    t.row(
        "same step, layers called by hand, f32",
        "nalgebra SMatrix f32",
        by_hand,
        "(no dispatch)",
    );
    // Net (tuple, builder) against the same layers called by hand.
    {
        let net = classifier::<f64>();
        let mut grads = net.zeros_like();
        let mut grads2 = net.zeros_like();
        let (x, y) = batch::<f64>(0);
        let r = interleaved(
            || {
                black_box(net_fwd_bwd(black_box(&net), &mut grads, black_box(&x), &y));
            },
            || {
                black_box(hand_sequenced_fwd_bwd(
                    black_box(&net),
                    &mut grads2,
                    black_box(&x),
                    &y,
                ));
            },
            200,
        );
        assert_eq!(grads, grads2, "Net and hand-sequenced layers disagree");
        t.row(
            "fwd+loss+bwd via Net (builder tuple) f64",
            "same layers hand-sequenced",
            r,
            "~1.0",
        );
    }
}

/// The 500-epoch run, stackgrad against the nalgebra module `$na`, in type
/// `$t`; prints both runs' last-epoch loss (the same to 6 digits in f64).
macro_rules! run_pair {
    ($t:ident, $na:ident) => {{
        let start = classifier::<$t>();
        let m0 = $na::from_net(&start);
        let inputs = inputs::<$t>();
        let labels = dataset().1;
        let data = Dataset::new(&inputs, &labels).unwrap();
        let (a, b) = (
            stackgrad_training_run(&mut start.clone(), data),
            $na::run(&mut m0.clone()),
        );
        let by_hand = stackgrad_run(&mut start.clone());
        assert!((a - by_hand).abs() <= 1e-4 * a.abs(), "{a} vs {by_hand}");
        println!(
            "500-epoch run {}, last epoch loss sum: stackgrad {a:.6}, nalgebra {b:.6}",
            stringify!($t)
        );
        interleaved(
            || {
                black_box(stackgrad_training_run(&mut black_box(start), data));
            },
            || {
                black_box($na::run(&mut black_box(m0.clone())));
            },
            15,
        )
    }};
}

fn full_run_pairs(t: &mut Table) {
    t.row(
        "500 epochs x 8 steps (Training::epoch), f64",
        "nalgebra SMatrix f64",
        run_pair!(f64, nalgebra_f64),
        "<= 0.5",
    );
    t.row(
        "500 epochs x 8 steps (Training::epoch), f32",
        "nalgebra SMatrix f32",
        run_pair!(f32, nalgebra_f32),
        "<= 0.5",
    );
}

fn dense_256_pairs(t: &mut Table) {
    const B: usize = 32;
    const N: usize = 256;
    let mut rng = XorShift(3);
    let x = Matrix::<f32, B, N>::from_fn(|_, _| rng.uniform() as f32);
    let w = Box::new(Matrix::<f32, N, N>::from_fn(|_, _| rng.uniform() as f32));
    let layer = Box::new(Dense::new(*w, [0.5f32; N]));
    let mut out = Box::new(Matrix::<f32, B, N>::zeros());

    // matrixmultiply: C (32 x 256) = X (32 x 256) W (256 x 256), row-major.
    let mut c = vec![0.0f32; B * N];
    let sgemm = |x: &Matrix<f32, B, N>, w: &Matrix<f32, N, N>, c: &mut [f32]| {
        // SAFETY: the pointers cover B*N, N*N and B*N elements with the given
        // row-major strides (the bench, not the library, uses unsafe).
        unsafe {
            matrixmultiply::sgemm(
                B,
                N,
                N,
                1.0,
                x.as_slice().as_ptr(),
                N as isize,
                1,
                w.as_slice().as_ptr(),
                N as isize,
                1,
                0.0,
                c.as_mut_ptr(),
                N as isize,
                1,
            );
        }
    };
    sgemm(&x, &w, &mut c);
    let ours = x.matmul(&w);
    let err = ours
        .as_slice()
        .iter()
        .zip(&c)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(err < 1e-3, "stackgrad and sgemm disagree by {err}");

    let r = interleaved(
        || *out = black_box(&x).matmul(black_box(&w)),
        || sgemm(black_box(&x), black_box(&w), black_box(&mut c)),
        100,
    );
    black_box(&out);
    let gflops = |s: f64| 2.0 * (B * N * N) as f64 / s / 1e9;
    println!(
        "    throughput: stackgrad {:.1} GFLOP/s, sgemm {:.1} GFLOP/s",
        gflops(r.0),
        gflops(r.1)
    );
    t.row(
        "matmul 32x256 * 256x256 f32",
        "matrixmultiply::sgemm",
        r,
        "<= 1.25",
    );

    let xn = Box::new(nalgebra::SMatrix::<f32, B, N>::from_fn(|i, j| x[(i, j)]));
    let wn = Box::new(nalgebra::SMatrix::<f32, N, N>::from_fn(|i, j| w[(i, j)]));
    let mut on = Box::new(nalgebra::SMatrix::<f32, B, N>::zeros());
    let r = interleaved(
        || *out = black_box(&x).matmul(black_box(&w)),
        || black_box(&*xn).mul_to(black_box(&*wn), &mut *on),
        100,
    );
    black_box(&on);
    println!(
        "    throughput: stackgrad {:.1} GFLOP/s, nalgebra {:.1} GFLOP/s",
        gflops(r.0),
        gflops(r.1)
    );
    t.row(
        "matmul 32x256 * 256x256 f32",
        "nalgebra SMatrix product",
        r,
        "<= 0.5",
    );

    let r = interleaved(
        || *out = black_box(&*layer).infer(black_box(&x)),
        || sgemm(black_box(&x), black_box(&w), black_box(&mut c)),
        100,
    );
    t.row(
        "dense 256->256 b32 f32 fwd (XW + b)",
        "matrixmultiply::sgemm (XW)",
        r,
        "<= 1.25",
    );
}

/// A named group of pairs.
type Group = (&'static str, fn(&mut Table));

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing.
    // Under `cargo test` run nothing: this is a measurement, not a test.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    println!(
        "stackgrad vs baselines, interleaved, ratio = stackgrad time / baseline time (median of rounds)"
    );
    // Groups named on the command line (`-- step run`), or all of them.
    let named: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |group: &str| named.is_empty() || named.iter().any(|n| n == group);
    let mut t = Table(vec![]);
    let groups: [Group; 3] = [
        ("step", train_step_pairs),
        ("run", full_run_pairs),
        ("dense", dense_256_pairs),
    ];
    for (name, group) in groups {
        if wanted(name) {
            group(&mut t);
        }
    }
    println!("\n| what | stackgrad | baseline | baseline time | ratio | target |");
    println!("|---|---|---|---|---|---|");
    for (what, a, base, b, r, target) in &t.0 {
        println!(
            "| {what} | {} | {base} | {} | {r:.2} | {target} |",
            fmt_time(*a),
            fmt_time(*b)
        );
    }
}
