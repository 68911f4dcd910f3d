// A network that takes rows of 4 values, given rows of 3.
use stackgrad::nn::{Dense, Net, Relu};
use stackgrad::Matrix;

fn main() {
    let net = Net::new((Dense::<f32, 4, 8>::zeros(), Relu, Dense::<f32, 8, 2>::zeros()));
    let _ = net.forward(&Matrix::<f32, 5, 3>::zeros());
}
