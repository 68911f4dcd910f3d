// Training data with 3 features for a network that takes 4.
use stackgrad::batch::Dataset;
use stackgrad::loss::SoftmaxCrossEntropy;
use stackgrad::nn::{Dense, Net, Relu};
use stackgrad::optim::Sgd;
use stackgrad::train::Training;

fn main() {
    let x = vec![[0.0f32; 3]; 10];
    let y = vec![0usize; 10];
    let mut net = Net::new((Dense::<f32, 4, 8>::zeros(), Relu, Dense::<f32, 8, 2>::zeros()));
    let data = Dataset::new(&x, &y).unwrap();
    let _ = Training::new(SoftmaxCrossEntropy::sum(), Sgd::new(0.1f32))
        .batch::<5>()
        .fit(&mut net, data, |_, _| {});
}
