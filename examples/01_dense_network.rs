//! 01: build notebook 001's 2 -> 25 -> 4 classifier, run one forward and one
//! backward pass on a batch of 5, and print the loss and the gradient norms.
//!
//! Run: `cargo run --release --example 01_dense_network`

use stackgrad::init::standard_normal;
use stackgrad::loss::{Labels, Loss, SoftmaxCrossEntropy, accuracy};
use stackgrad::nn::{Dense, Net, Params, Sigmoid, input};
use stackgrad::rand::{SeedableRng, rngs::StdRng};
use stackgrad::{Error, Matrix};

/// The network's type: its layers and nothing else.
type Classifier = Net<(Dense<f64, 2, 25>, Sigmoid, Dense<f64, 25, 4>)>;

fn main() -> Result<(), Error> {
    let mut rng = StdRng::seed_from_u64(1);
    // One point from each of notebook 001's four Gaussian clusters, plus one more
    // from the first: (mean, standard deviation) per feature.
    let clusters = [
        ([3.6, 40.0], [0.05f64.sqrt(), 10f64.sqrt()]),
        ([3.9, 10.0], [0.01f64.sqrt(), 5f64.sqrt()]),
        ([3.4, 30.0], [0.25f64.sqrt(), 5f64.sqrt()]),
        ([2.0, 10.0], [0.5f64.sqrt(), 10f64.sqrt()]),
    ];
    let classes = [0, 1, 2, 3, 0];
    let x = Matrix::<f64, 5, 2>::from_fn(|b, j| {
        let (mean, std) = clusters[classes[b]];
        mean[j] + std[j] * standard_normal(&mut rng)
    });
    let y = Labels::<5, 4>::new(classes)?;

    let net: Classifier = input::<2>()
        .then(Dense::xavier_uniform(&mut rng))
        .then(Sigmoid)
        .then(Dense::xavier_uniform(&mut rng))
        .build();

    let (logits, cache) = net.forward(&x);
    let (loss, dlogits) = SoftmaxCrossEntropy::sum().loss_and_grad(&logits, &y);
    let mut grads = net.zeros_like();
    net.backward(&x, &logits, &cache, &dlogits, &mut grads);

    println!("input batch (5 x 2):\n{x:.3}");
    println!("logits (5 x 4):\n{logits:.4}");
    println!("cross-entropy loss (sum over the batch): {loss:.6}");
    println!("accuracy before training: {:.2}", accuracy(&logits, &y));
    println!("parameters: {}", <Classifier as Params<f64>>::PARAMS);
    println!("gradient norms:");
    grads.for_each_tensor(|t| {
        let norm = t.data.iter().map(|g| g * g).sum::<f64>().sqrt();
        println!(
            "  {:<10} {:>8}  {norm:.6e}",
            t.name.to_string(),
            t.shape.to_string()
        );
    });
    Ok(())
}
