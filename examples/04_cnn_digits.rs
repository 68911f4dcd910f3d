//! 04: train a small convolutional network on the UCI handwritten digits (8x8
//! images, 10 classes) and print per-epoch loss, test accuracy and time.
//!
//! Split: row `i` of `data/digits.csv.gz` is a test row when `i % 5 == 4`
//! (1438 training, 359 test images). For scale: scikit-learn's MLPClassifier
//! (one hidden layer of 64, adam, 50 epochs) reaches 96.9-97.5% on this split.
//!
//! Network (every size after the input is inferred at compile time):
//! `64 pixels -> 1x8x8 -> conv 3x3 pad 1 (16) -> relu -> conv 3x3 pad 1 (32)
//!  -> relu -> max-pool 2 -> flatten (512) -> dense 10`, trained by the
//! library's training loop with Adam on mini-batches of 16 and softmax
//! cross-entropy.
//!
//! Run: `cargo run --release --example 04_cnn_digits` (seed 4, one line per
//! epoch, then the training time without the per-epoch test pass), or
//! `-- --seeds 3` (seeds 1, 2, 3, one line each); `-- --epochs 1`
//! trains for one epoch instead of 15 (a quick run, as CI's debug build does;
//! the 98% check applies to full runs only).

use std::time::Instant;

use stackgrad::batch::Dataset;
use stackgrad::data::digits;
use stackgrad::loss::SoftmaxCrossEntropy;
use stackgrad::nn::{Conv2d, Dense, Flatten, MaxPool2d, Net, Params, Relu, Unflatten, input};
use stackgrad::optim::Adam;
use stackgrad::rand::{SeedableRng, rngs::StdRng};
use stackgrad::train::{EpochStats, Training};
use stackgrad::{Error, Matrix};

/// The network's type names its layers; heights and widths are not written.
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

/// Epochs of a full run.
const EPOCHS: usize = 15;
const TARGET: f64 = 0.98;

/// Fraction of the rows classified correctly (one image at a time).
fn accuracy(net: &Cnn, x: &[[f32; 64]], y: &[usize]) -> f64 {
    let correct = x
        .iter()
        .zip(y)
        .filter(|&(x, &y)| net.infer(&Matrix::from_array([*x])).row_argmax()[0] == y)
        .count();
    correct as f64 / y.len() as f64
}

/// Builds the network from `seed` and trains it for `epochs`; `on_epoch`
/// sees each epoch's statistics and the network. Returns the trained network.
fn train(
    seed: u64,
    epochs: usize,
    data: Dataset<'_, f32, 64, usize>,
    mut on_epoch: impl FnMut(&EpochStats<f32>, &Cnn) + Send,
) -> Result<Cnn, Error> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut net: Cnn = input::<64>()
        .then(Unflatten::<1, 8, 8>)
        .then(Conv2d::he_normal(&mut rng))
        .then(Relu)
        .then(Conv2d::he_normal(&mut rng))
        .then(Relu)
        .then(MaxPool2d::<2>)
        .then(Flatten)
        .then(Dense::xavier_uniform(&mut rng))
        .build();
    Training::new(SoftmaxCrossEntropy::mean(), Adam::new(2e-3f32))
        .batch::<16>()
        .epochs(epochs)
        .seed(seed)
        .fit(&mut net, data, |e, steer| on_epoch(e, steer.net()))?;
    Ok(net)
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
    let (train_rows, test) = digits::bundled()?.split();
    let (train_x, test_x) = (train_rows.features::<f32>(), test.features::<f32>());
    let data = Dataset::new(&train_x, &train_rows.labels)?;
    println!(
        "digits: {} training and {} test images (row i is a test row when i % 5 == 4); \
         {} parameters; Adam lr 2e-3, batch 16, {epochs} epochs",
        train_rows.len(),
        test.len(),
        <Cnn as Params<f32>>::PARAMS
    );

    if let Some(n) = seeds {
        for seed in 1..=n {
            let start = Instant::now();
            let net = train(seed, epochs, data, |_, _| {})?;
            println!(
                "seed {seed}: test accuracy {:.2}%, {:.3} s",
                100.0 * accuracy(&net, &test_x, &test.labels),
                start.elapsed().as_secs_f64()
            );
        }
        return Ok(());
    }

    let mut start = Instant::now();
    let mut training = 0.0;
    let mut test_acc = 0.0;
    train(4, epochs, data, |e, net| {
        let secs = start.elapsed().as_secs_f64();
        training += secs;
        test_acc = accuracy(net, &test_x, &test.labels);
        println!(
            "epoch {:2}: train loss {:.4}  train accuracy {:.2}%  test accuracy {:.2}%  time {:.3} s",
            e.epoch,
            e.mean_loss(),
            100.0 * e.accuracy().unwrap_or(0.0),
            100.0 * test_acc,
            secs
        );
        start = Instant::now();
    })?;
    println!(
        "final test accuracy {:.2}% (target {:.1}%)",
        100.0 * test_acc,
        100.0 * TARGET
    );
    println!(
        "training time: {training:.4} s for {epochs} epochs ({:.2} ms per epoch, without the per-epoch test pass)",
        1e3 * training / epochs.max(1) as f64
    );
    if epochs == EPOCHS && test_acc < TARGET {
        eprintln!(
            "test accuracy {:.2}% is below {:.1}%",
            100.0 * test_acc,
            100.0 * TARGET
        );
        std::process::exit(1);
    }
    Ok(())
}
