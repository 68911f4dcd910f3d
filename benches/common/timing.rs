//! Shared by the throughput and latency benches: the CPU's fused multiply-add
//! peak, measured in the same run, and median timings of alternated blocks.
#![allow(dead_code)]

use std::hint::black_box;
use std::time::Instant;

use pulp::{Simd, WithSimd};

/// 12 independent chains of fused multiply-adds (more than latency times
/// throughput on current x86 cores), `iters` steps each.
struct Chains {
    iters: usize,
}

impl WithSimd for Chains {
    type Output = (f32, usize);
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> (f32, usize) {
        let a = simd.splat_f32s(1.000_000_1);
        let b = simd.splat_f32s(0.999_999_9);
        let mut acc = [simd.splat_f32s(0.5); 12];
        for _ in 0..self.iters {
            for x in &mut acc {
                *x = simd.mul_add_f32s(*x, a, b);
            }
        }
        let s: f32 = acc.iter().map(|&v| simd.reduce_sum_f32s(v)).sum();
        (s, S::F32_LANES)
    }
}

/// Flops of one call of [`fma_chains`].
pub const CHAIN_FLOPS: f64 = 2.0 * 12.0 * 20_000.0;

/// 12 chains of 20 000 fused multiply-adds of one `f32` lane each, in the
/// widest vectors the CPU has, counted per lane: time a call and divide
/// [`CHAIN_FLOPS`] times the lanes by it for the peak. Returns the lanes.
pub fn fma_chains() -> usize {
    let (s, lanes) = pulp::Arch::new().dispatch(Chains {
        iters: black_box(20_000),
    });
    black_box(s);
    lanes
}

/// `f32` fused multiply-add peak of one core in GFLOP/s (2 flops per lane):
/// the best of AVX-512 and AVX2 chains, median of 7 runs of about 20 ms each.
pub fn fma_peak_gflops() -> f64 {
    let iters = black_box(2_000_000);
    let mut best: f64 = 0.0;
    let mut run = |f: &dyn Fn() -> (f32, usize)| {
        let mut rates = Vec::new();
        for _ in 0..7 {
            let t = Instant::now();
            let (s, lanes) = f();
            let dt = t.elapsed().as_secs_f64();
            black_box(s);
            rates.push(2.0 * (iters * 12 * lanes) as f64 / dt / 1e9);
        }
        best = best.max(median(&mut rates));
    };
    #[cfg(target_arch = "x86_64")]
    {
        if let Some(v4) = pulp::x86::V4::try_new() {
            run(&|| pulp::Simd::vectorize(v4, Chains { iters }));
        }
        if let Some(v3) = pulp::x86::V3::try_new() {
            run(&|| pulp::Simd::vectorize(v3, Chains { iters }));
        }
    }
    run(&|| pulp::Arch::new().dispatch(Chains { iters }));
    best
}

/// Median of a non-empty slice.
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Calls per block so that a block takes about `target` seconds.
pub fn calibrate(f: &mut dyn FnMut(), target: f64) -> usize {
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

/// Runs the functions in alternating blocks of about 2 ms for `rounds`
/// rounds; returns each one's median and fastest seconds per call.
pub fn alternated(fs: &mut [&mut dyn FnMut()], rounds: usize) -> Vec<(f64, f64)> {
    let ns: Vec<usize> = fs.iter_mut().map(|f| calibrate(*f, 2e-3)).collect();
    let mut times = vec![Vec::new(); fs.len()];
    for _ in 0..rounds {
        for ((f, &n), t) in fs.iter_mut().zip(&ns).zip(&mut times) {
            let start = Instant::now();
            for _ in 0..n {
                f();
            }
            t.push(start.elapsed().as_secs_f64() / n as f64);
        }
    }
    times
        .iter_mut()
        .map(|t| {
            let fastest = t.iter().copied().fold(f64::INFINITY, f64::min);
            (median(t), fastest)
        })
        .collect()
}

/// Seconds as ns, µs or ms.
pub fn fmt_time(s: f64) -> String {
    if s < 1e-6 {
        format!("{:.0} ns", s * 1e9)
    } else if s < 1e-3 {
        format!("{:.2} µs", s * 1e6)
    } else {
        format!("{:.2} ms", s * 1e3)
    }
}

/// The 1-minute load average, from /proc/loadavg where there is one.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}
