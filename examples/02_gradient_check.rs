//! 02: check backprop against central differences on the notebooks' networks,
//! and print the per-tensor report of each as a table.
//!
//! Run: `cargo run --release --example 02_gradient_check`

#[path = "../tests/support/notebooks.rs"]
mod notebooks;

use stackgrad::Error;
use stackgrad::gradcheck::GradCheck;
use stackgrad::loss::{BinaryCrossEntropy, HalfSquaredError, Reduction, SoftmaxCrossEntropy};
use stackgrad::nn::Recast;

fn main() -> Result<(), Error> {
    let check = GradCheck::new();

    println!("notebook 000: 2 -> 3 -> 1 sigmoid, no biases, J = 0.5 sum (y - yhat)^2");
    let (net, x, y) = notebooks::notebook_000();
    println!("{}\n", check.check(&net, &HalfSquaredError, &x, &y)?);

    println!("notebook 001: 2 -> 25 -> 4 sigmoid / softmax cross-entropy, 40 points");
    let (net, x, y) = notebooks::notebook_001(1);
    println!(
        "{}\n",
        check.check(&net, &SoftmaxCrossEntropy::sum(), &x, &y)?
    );

    println!("notebook 001 in f32, judged against the f64 copy of the same network");
    let (net32, x32) = (Recast::<f32>::recast(&net), Recast::<f32>::recast(&x));
    println!(
        "{}\n",
        check.check(&net32, &SoftmaxCrossEntropy::sum(), &x32, &y)?
    );

    println!("notebook 004: 4 -> 5 -> 3 -> 1 relu / sigmoid, binary cross-entropy, step 1e-7");
    let (net, x, y) = notebooks::notebook_004();
    let bce = BinaryCrossEntropy {
        reduction: Reduction::Mean,
    };
    println!("{}", check.step(1e-7).check(&net, &bce, &x, &y)?);
    Ok(())
}
