// Training an f32 network on f64 data.
use stackgrad::batch::Dataset;
use stackgrad::loss::SoftmaxCrossEntropy;
use stackgrad::nn::{Dense, Net, Relu};
use stackgrad::optim::Sgd;
use stackgrad::train::Training;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let x = vec![[0.0f64; 4]; 10];
    let y = vec![0usize; 10];
    let mut net = Net::new((Dense::<f32, 4, 8>::zeros(), Relu, Dense::<f32, 8, 2>::zeros()));
    Training::new(SoftmaxCrossEntropy::sum(), Sgd::new(0.1f32))
        .batch::<5>()
        .fit(&mut net, Dataset::new(&x, &y)?, |_, _| {})?;
    Ok(())
}
