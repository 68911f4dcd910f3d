//! 03: train an MLP (64 -> 64 -> 10, ReLU, Adam, batches of 32, 50 epochs) on
//! the bundled handwritten digits and report per-epoch loss and accuracy, the
//! test accuracy and the training time.
//!
//! Run: `cargo run --release --example 03_mlp_digits` (seed 0, one line per epoch)
//! or `cargo run --release --example 03_mlp_digits -- --seeds 10` (one line per seed);
//! `-- --epochs 2` trains for 2 epochs instead of 50 (a quick run, as CI's
//! debug build does; the 97% check applies to full runs only).
//!
//! The test set is every fifth row of the file (`i % 5 == 4`, 359 images); the
//! other 1438 train. Pixels are scaled to `[0, 1]` (count / 16) and then
//! standardized per pixel with the training set's mean and standard deviation.
//! The example fails (exit code 1) when the test accuracy of the seed-0 run is
//! below 97%.

use std::time::{Duration, Instant};

use stackgrad::batch::Dataset;
use stackgrad::data::digits::{self, PIXELS};
use stackgrad::loss::SoftmaxCrossEntropy;
use stackgrad::nn::{Dense, Net, Params, Relu, input};
use stackgrad::optim::Adam;
use stackgrad::rand::{SeedableRng, rngs::StdRng};
use stackgrad::train::{EpochStats, Training};

type Mlp = Net<(Dense<f32, 64, 64>, Relu, Dense<f32, 64, 10>)>;

/// Epochs of a full run.
const EPOCHS: usize = 50;

/// Scales every pixel to zero mean and unit variance over the training set
/// (constant pixels, such as the always-blank corners, stay 0).
fn standardize(train: &mut [[f32; PIXELS]], test: &mut [[f32; PIXELS]]) {
    let n = train.len() as f64;
    let mut mean = [0f64; PIXELS];
    let mut var = [0f64; PIXELS];
    for row in train.iter() {
        for (m, &p) in mean.iter_mut().zip(row) {
            *m += f64::from(p) / n;
        }
    }
    for row in train.iter() {
        for ((v, &m), &p) in var.iter_mut().zip(&mean).zip(row) {
            *v += (f64::from(p) - m).powi(2) / n;
        }
    }
    for row in train.iter_mut().chain(test.iter_mut()) {
        for ((p, &m), &v) in row.iter_mut().zip(&mean).zip(&var) {
            let sd = v.sqrt();
            *p = if sd > 0.0 {
                ((f64::from(*p) - m) / sd) as f32
            } else {
                0.0
            };
        }
    }
}

struct Run {
    history: Vec<EpochStats<f32>>,
    test: EpochStats<f32>,
    elapsed: Duration,
}

fn run(
    seed: u64,
    epochs: usize,
    train: Dataset<'_, f32, 64, usize>,
    test: Dataset<'_, f32, 64, usize>,
    verbose: bool,
) -> Result<Run, stackgrad::Error> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut net: Mlp = input::<64>()
        .then(Dense::he_normal(&mut rng))
        .then(Relu)
        .then(Dense::xavier_uniform(&mut rng))
        .build();
    let mut training = Training::new(SoftmaxCrossEntropy::mean(), Adam::new(1e-3))
        .batch::<32>()
        .epochs(epochs)
        .seed(seed);
    let eval = Training::new(SoftmaxCrossEntropy::mean(), ()).batch::<32>();
    let mut reporting = Duration::ZERO;
    let start = Instant::now();
    let history = training.fit(&mut net, train, |e, steer| {
        if verbose {
            let t0 = Instant::now();
            let t = eval
                .evaluate(steer.net(), test)
                .ok()
                .and_then(|s| s.accuracy());
            println!(
                "epoch {:2}  loss {:.4}  train accuracy {:.4}  test accuracy {:.4}",
                e.epoch,
                e.mean_loss(),
                e.accuracy().unwrap_or(0.0),
                t.unwrap_or(0.0)
            );
            reporting += t0.elapsed();
        }
    })?;
    // Training time without the per-epoch test pass and printing.
    let elapsed = start.elapsed().saturating_sub(reporting);
    Ok(Run {
        history,
        test: eval.evaluate(&net, test)?,
        elapsed,
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Arguments: `--seeds N` and `--epochs N`, in any order.
    let (mut seeds, mut epochs) = (None, EPOCHS);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || -> Result<usize, Box<dyn std::error::Error>> {
            Ok(args
                .next()
                .ok_or(format!("{arg} needs a number"))?
                .parse()?)
        };
        match arg.as_str() {
            "--seeds" => seeds = Some(value()? as u64),
            "--epochs" => epochs = value()?,
            other => {
                return Err(
                    format!("unknown argument {other:?}; use --seeds N, --epochs N").into(),
                );
            }
        }
    }
    let all = digits::bundled()?;
    let (train, test) = all.split();
    let (mut x_train, mut x_test) = (train.features::<f32>(), test.features::<f32>());
    standardize(&mut x_train, &mut x_test);
    let train_set = Dataset::new(&x_train, &train.labels)?;
    let test_set = Dataset::new(&x_test, &test.labels)?;
    println!(
        "digits: {} training and {} test images; MLP 64 -> 64 -> 10 (ReLU), {} parameters; \
         Adam lr 1e-3, batch 32, {epochs} epochs",
        train_set.len(),
        test_set.len(),
        <Mlp as Params<f32>>::PARAMS
    );

    if let Some(n) = seeds {
        let mut accs = Vec::new();
        for seed in 0..n {
            let r = run(seed, epochs, train_set, test_set, false)?;
            let acc = r.test.accuracy().unwrap_or(0.0);
            println!(
                "seed {seed:2}: test accuracy {acc:.4} ({} of {}), final train loss {:.4}, {:.4} s",
                r.test.correct.unwrap_or(0),
                r.test.examples,
                r.history.last().map_or(f32::NAN, |e| e.mean_loss()),
                r.elapsed.as_secs_f64()
            );
            accs.push(acc);
        }
        let min = accs.iter().copied().fold(f64::INFINITY, f64::min);
        let max = accs.iter().copied().fold(0.0, f64::max);
        let mean = accs.iter().sum::<f64>() / accs.len().max(1) as f64;
        let above = accs.iter().filter(|&&a| a >= 0.97).count();
        println!(
            "{n} seeds: test accuracy min {min:.4}, mean {mean:.4}, max {max:.4}; {above} of {n} at or above 0.97"
        );
        return Ok(());
    }

    // Baseline for the timing, measured in this run: one inference pass over
    // the training set.
    let net0: Mlp = input::<64>()
        .then(Dense::he_normal(&mut StdRng::seed_from_u64(0)))
        .then(Relu)
        .then(Dense::xavier_uniform(&mut StdRng::seed_from_u64(0)))
        .build();
    let eval = Training::new(SoftmaxCrossEntropy::mean(), ()).batch::<32>();
    let before = eval.evaluate(&net0, train_set)?;
    let mut pass = Duration::MAX;
    for _ in 0..5 {
        let t0 = Instant::now();
        std::hint::black_box(eval.evaluate(&net0, std::hint::black_box(train_set))?);
        pass = pass.min(t0.elapsed());
    }

    let r = run(0, epochs, train_set, test_set, true)?;
    let last = r.history.last().ok_or("no epochs")?;
    let acc = r.test.accuracy().unwrap_or(0.0);
    println!(
        "untrained: loss {:.4}, accuracy {:.4}",
        before.mean_loss(),
        before.accuracy().unwrap_or(0.0)
    );
    println!(
        "after {} epochs: train loss {:.4}, train accuracy {:.4}; test loss {:.4}, test accuracy {acc:.4} ({} of {})",
        last.epoch,
        last.mean_loss(),
        last.accuracy().unwrap_or(0.0),
        r.test.mean_loss(),
        r.test.correct.unwrap_or(0),
        r.test.examples
    );
    println!(
        "training time: {:.4} s for {} epochs ({:.2} ms per epoch, without the per-epoch test pass) \
         = {:.0} x one inference pass over the training set ({:.3} ms, fastest of 5, same run)",
        r.elapsed.as_secs_f64(),
        r.history.len(),
        r.elapsed.as_secs_f64() * 1e3 / r.history.len() as f64,
        r.elapsed.as_secs_f64() / pass.as_secs_f64(),
        pass.as_secs_f64() * 1e3
    );
    if epochs == EPOCHS && acc < 0.97 {
        eprintln!("test accuracy {acc:.4} is below 0.97");
        std::process::exit(1);
    }
    Ok(())
}
