//! 04: train a small convolutional network on the UCI handwritten digits (8x8
//! images, 10 classes) and print per-epoch loss, test accuracy and time.
//!
//! Split: row `i` of `data/digits.csv.gz` is a test row when `i % 5 == 4`
//! (1438 training, 359 test images). For scale: scikit-learn's MLPClassifier
//! (one hidden layer of 64, adam, 50 epochs) reaches 96.9-97.5% on this split.
//!
//! Network (every size after the input inferred at compile time):
//! `1x8x8 -> conv 3x3 pad 1 (16) -> relu -> conv 3x3 pad 1 (32) -> relu
//!  -> max-pool 2 -> flatten (512) -> dense 10`, trained with Adam on mini-batches
//! of 16 and softmax cross-entropy.
//!
//! Run: `cargo run --release --example 04_cnn_digits`

use std::io::Read;
use std::time::Instant;

use stackgrad::loss::{Labels, Loss, SoftmaxCrossEntropy};
use stackgrad::nn::{Conv2d, Dense, Flatten, MaxPool2d, Net, Params, Relu, image_input};
use stackgrad::rand::{RngExt, SeedableRng, rngs::StdRng};
use stackgrad::{Images, Matrix};

/// The network's type names its layers; heights and widths are not written.
type Cnn = Net<(
    Conv2d<f32, 1, 16, 3, 1, 1>,
    Relu,
    Conv2d<f32, 16, 32, 3, 1, 1>,
    Relu,
    MaxPool2d<2>,
    Flatten,
    Dense<f32, 512, 10>,
)>;

const BATCH: usize = 16;
const EPOCHS: usize = 15;
const TARGET: f64 = 0.98;

/// Images scaled to `[0, 1]` and their labels.
struct Split {
    images: Vec<Images<f32, 1, 1, 8, 8>>,
    labels: Vec<usize>,
}

/// Interim private reader of the digits file (64 pixel counts 0..=16, then the
/// label 0..=9, per line): the library's loader is being added on another branch.
fn load_digits(path: &str) -> Result<(Split, Split), String> {
    let raw = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(&raw[..])
        .read_to_string(&mut text)
        .map_err(|e| format!("{path}: not a gzip-compressed text file: {e}"))?;
    let mut train = Split {
        images: Vec::new(),
        labels: Vec::new(),
    };
    let mut test = Split {
        images: Vec::new(),
        labels: Vec::new(),
    };
    for (i, line) in text.lines().enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        if cells.len() != 65 {
            return Err(format!(
                "{path}:{}: expected 65 values, found {}",
                i + 1,
                cells.len()
            ));
        }
        let mut v = [0u8; 65];
        for (k, cell) in cells.iter().enumerate() {
            v[k] = cell
                .trim()
                .parse()
                .map_err(|_| format!("{path}:{}:{}: `{cell}` is not an integer", i + 1, k + 1))?;
        }
        if v[..64].iter().any(|&p| p > 16) || v[64] > 9 {
            return Err(format!("{path}:{}: pixel above 16 or label above 9", i + 1));
        }
        let image = Images::from_fn(|_, _, r, c| f32::from(v[r * 8 + c]) / 16.0);
        let part = if i % 5 == 4 { &mut test } else { &mut train };
        part.images.push(image);
        part.labels.push(usize::from(v[64]));
    }
    Ok((train, test))
}

/// Adam (Kingma & Ba, 2015) over every parameter tensor, by name-aligned index:
/// `m ← β1 m + (1-β1) g`, `v ← β2 v + (1-β2) g²`, `θ ← θ - lr m̂ / (√v̂ + ε)`.
/// (Interim: the library's optimizers are being added on another branch.)
struct Adam {
    m: Cnn,
    v: Cnn,
    t: i32,
}

impl Adam {
    const LR: f32 = 2e-3;
    const B1: f32 = 0.9;
    const B2: f32 = 0.999;
    const EPS: f32 = 1e-8;

    fn new(net: &Cnn) -> Self {
        Self {
            m: net.zeros_like(),
            v: net.zeros_like(),
            t: 0,
        }
    }

    fn step(&mut self, net: &mut Cnn, grads: &Cnn) {
        self.t += 1;
        let c1 = 1.0 - Self::B1.powi(self.t);
        let c2 = 1.0 - Self::B2.powi(self.t);
        for k in 0..<Cnn as Params<f32>>::TENSORS {
            let (Some(p), Some(g), Some(m), Some(v)) = (
                net.tensor_mut(k),
                grads.tensor(k),
                self.m.tensor_mut(k),
                self.v.tensor_mut(k),
            ) else {
                unreachable!("every index below TENSORS has a tensor");
            };
            for (((p, &g), m), v) in p.data.iter_mut().zip(g.data).zip(m.data).zip(v.data) {
                *m = Self::B1 * *m + (1.0 - Self::B1) * g;
                *v = Self::B2 * *v + (1.0 - Self::B2) * g * g;
                *p -= Self::LR * (*m / c1) / ((*v / c2).sqrt() + Self::EPS);
            }
        }
    }
}

/// Fraction of `split` classified correctly (one image at a time).
fn test_accuracy(net: &Cnn, split: &Split) -> f64 {
    let correct = split
        .images
        .iter()
        .zip(&split.labels)
        .filter(|&(x, &y)| net.infer(x).row_argmax()[0] == y)
        .count();
    correct as f64 / split.labels.len() as f64
}

fn main() -> Result<(), String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits.csv.gz");
    let (train, test) = load_digits(path)?;
    println!(
        "digits: {} training and {} test images (row i is a test row when i % 5 == 4)",
        train.labels.len(),
        test.labels.len()
    );

    let mut rng = StdRng::seed_from_u64(4);
    let mut net: Cnn = image_input::<1, 8, 8>()
        .then(Conv2d::he_normal(&mut rng))
        .then(Relu)
        .then(Conv2d::he_normal(&mut rng))
        .then(Relu)
        .then(MaxPool2d::<2>)
        .then(Flatten)
        .then(Dense::xavier_uniform(&mut rng))
        .build();
    println!("parameters: {}", <Cnn as Params<f32>>::PARAMS);

    let mut adam = Adam::new(&net);
    let mut grads = net.zeros_like();
    let mut order: Vec<usize> = (0..train.labels.len()).collect();
    let loss_fn = SoftmaxCrossEntropy::mean();
    let mut acc = 0.0;
    for epoch in 1..=EPOCHS {
        let start = Instant::now();
        // Fisher-Yates shuffle; the last partial batch of an epoch is skipped
        // (a different one each epoch).
        for i in (1..order.len()).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        let mut total = 0.0f64;
        let mut batches = 0;
        for chunk in order.chunks_exact(BATCH) {
            let x = Images::<f32, BATCH, 1, 8, 8>::from_fn(|n, _, r, c| {
                train.images[chunk[n]][(0, 0, r, c)]
            });
            let y = Labels::<BATCH, 10>::new(core::array::from_fn(|n| train.labels[chunk[n]]))
                .map_err(|e| e.to_string())?;
            let (logits, cache): (Matrix<f32, BATCH, 10>, _) = net.forward(&x);
            let (loss, dlogits) = loss_fn.loss_and_grad(&logits, &y);
            net.backward(&cache, &dlogits, &mut grads);
            adam.step(&mut net, &grads);
            total += f64::from(loss);
            batches += 1;
        }
        let secs = start.elapsed().as_secs_f64();
        acc = test_accuracy(&net, &test);
        println!(
            "epoch {epoch:2}: train loss {:.4}  test accuracy {:.2}%  time {:.3} s",
            total / f64::from(batches),
            100.0 * acc,
            secs
        );
    }
    println!(
        "final test accuracy {:.2}% (target {:.1}%)",
        100.0 * acc,
        100.0 * TARGET
    );
    if acc < TARGET {
        return Err(format!(
            "test accuracy {:.2}% is below {:.1}%",
            100.0 * acc,
            100.0 * TARGET
        ));
    }
    Ok(())
}
