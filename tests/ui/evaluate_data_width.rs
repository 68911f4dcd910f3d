// Evaluating a network that takes rows of 64 values on rows of 49.
use stackgrad::batch::Dataset;
use stackgrad::loss::SoftmaxCrossEntropy;
use stackgrad::nn::{Dense, Net, Relu};
use stackgrad::optim::Adam;
use stackgrad::train::Training;

fn main() -> Result<(), stackgrad::Error> {
    let x = vec![[0.0f32; 49]; 10];
    let y = vec![0usize; 10];
    let net = Net::new((Dense::<f32, 64, 32>::zeros(), Relu, Dense::<f32, 32, 10>::zeros()));
    let training = Training::new(SoftmaxCrossEntropy::mean(), Adam::new(1e-3f32)).batch::<8>();
    let _ = training.evaluate(&net, Dataset::new(&x, &y)?)?;
    Ok(())
}
