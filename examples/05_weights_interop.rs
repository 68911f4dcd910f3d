//! 05: save trained weights in the safetensors format, load them back, and
//! write inputs and expected outputs so another reader can check them.
//!
//! Run: `cargo run --release --example 05_weights_interop`, then
//! `python3 scripts/check_safetensors.py target/interop` (needs only numpy),
//! which rebuilds each network's forward pass from the files and compares.
//!
//! Writes, for the notebook-001 classifier (f64, 2 -> 25 -> 4, sigmoid, trained
//! 200 epochs) and the digits MLP (f32, 64 -> 64 -> 10, ReLU, trained 5 epochs):
//! `NAME.safetensors` (the weights, with the layer kinds in `__metadata__`) and
//! `NAME_io.safetensors` (tensors `x`, a batch of inputs, and `y`, the logits).

use std::path::Path;

use stackgrad::batch::Dataset;
use stackgrad::data::digits;
use stackgrad::init::standard_normal;
use stackgrad::io;
use stackgrad::loss::SoftmaxCrossEntropy;
use stackgrad::nn::{Dense, Net, Relu, Sigmoid, input};
use stackgrad::optim::{Adam, Sgd};
use stackgrad::rand::{SeedableRng, rngs::StdRng};
use stackgrad::train::Training;
use stackgrad::{Error, Matrix};

type Classifier = Net<(Dense<f64, 2, 25>, Sigmoid, Dense<f64, 25, 4>)>;
type Mlp = Net<(Dense<f32, 64, 64>, Relu, Dense<f32, 64, 10>)>;

fn main() -> Result<(), Error> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/interop");
    std::fs::create_dir_all(&dir).map_err(|e| Error::Io {
        path: dir.display().to_string(),
        message: e.to_string(),
    })?;

    // Notebook 001's classifier on its four clusters.
    let mut rng = StdRng::seed_from_u64(1);
    let clusters = [
        ([3.6, 40.0], [0.05f64, 10.0]),
        ([3.9, 10.0], [0.01, 5.0]),
        ([3.4, 30.0], [0.25, 5.0]),
        ([2.0, 10.0], [0.5, 10.0]),
    ];
    let mut x = Vec::new();
    let mut y = Vec::new();
    for (class, (mean, var)) in clusters.iter().enumerate() {
        for _ in 0..10 {
            x.push([0, 1].map(|j| mean[j] + var[j].sqrt() * standard_normal(&mut rng)));
            y.push(class);
        }
    }
    let mut net: Classifier = input::<2>()
        .then(Dense::xavier_uniform(&mut rng))
        .then(Sigmoid)
        .then(Dense::xavier_uniform(&mut rng))
        .build();
    Training::new(SoftmaxCrossEntropy::sum(), Sgd::new(1e-3))
        .batch::<5>()
        .epochs(200)
        .fit(&mut net, Dataset::new(&x, &y)?, |_, _| {})?;
    let probe = Matrix::<f64, 8, 2>::from_fn(|r, c| x[r * 5][c]);
    let mut back: Classifier = Net::new((Dense::zeros(), Sigmoid, Dense::zeros()));
    write_and_reload(
        &dir,
        "notebook001_f64",
        &net,
        &mut back,
        "dense,sigmoid,dense",
    )?;
    let (a, b) = (net.infer(&probe), back.infer(&probe));
    assert_eq!(a, b, "reloaded network differs");
    write_io(
        &dir,
        "notebook001_f64",
        probe.as_slice(),
        &[8, 2],
        a.as_slice(),
        &[8, 4],
    )?;

    // The digits MLP in f32.
    let all = digits::bundled()?;
    let (train, test) = all.split();
    let xs = train.features::<f32>();
    let mut rng = StdRng::seed_from_u64(2);
    let mut mlp: Mlp = input::<64>()
        .then(Dense::he_normal(&mut rng))
        .then(Relu)
        .then(Dense::xavier_uniform(&mut rng))
        .build();
    Training::new(SoftmaxCrossEntropy::mean(), Adam::new(1e-3))
        .batch::<32>()
        .epochs(5)
        .fit(&mut mlp, Dataset::new(&xs, &train.labels)?, |_, _| {})?;
    let xt = test.features::<f32>();
    let probe = Matrix::<f32, 16, 64>::from_fn(|r, c| xt[r][c]);
    let mut back: Mlp = Net::new((Dense::zeros(), Relu, Dense::zeros()));
    write_and_reload(&dir, "digits_mlp_f32", &mlp, &mut back, "dense,relu,dense")?;
    let (a, b) = (mlp.infer(&probe), back.infer(&probe));
    assert_eq!(a, b, "reloaded network differs");
    write_io(
        &dir,
        "digits_mlp_f32",
        probe.as_slice(),
        &[16, 64],
        a.as_slice(),
        &[16, 10],
    )?;
    Ok(())
}

fn write_and_reload<T: stackgrad::Scalar, P: stackgrad::nn::Params<T>>(
    dir: &Path,
    name: &str,
    net: &P,
    back: &mut P,
    layers: &str,
) -> Result<(), Error> {
    let path = dir.join(format!("{name}.safetensors"));
    io::save(net, &path, &[("layers", layers)])?;
    io::load(back, &path)?;
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "{name}: saved {} ({size} bytes, {} parameters as {}), reloaded: same outputs",
        path.display(),
        P::PARAMS,
        io::dtype::<T>()
    );
    Ok(())
}

fn write_io<T: stackgrad::Scalar>(
    dir: &Path,
    name: &str,
    x: &[T],
    x_shape: &[usize],
    y: &[T],
    y_shape: &[usize],
) -> Result<(), Error> {
    let path = dir.join(format!("{name}_io.safetensors"));
    let bytes = io::encode(&[("x", x_shape, x), ("y", y_shape, y)], &[])?;
    std::fs::write(&path, bytes).map_err(|e| Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    println!(
        "{name}: wrote inputs {x_shape:?} and logits {y_shape:?} to {}",
        path.display()
    );
    Ok(())
}
