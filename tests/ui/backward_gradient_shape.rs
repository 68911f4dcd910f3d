// The upstream gradient must have the network's output shape (5 x 4).
use stackgrad::nn::{Dense, Net, Params, Sigmoid};
use stackgrad::Matrix;

fn main() {
    let net = Net::new((Dense::<f64, 2, 25>::zeros(), Sigmoid, Dense::<f64, 25, 4>::zeros()));
    let x = Matrix::<f64, 5, 2>::zeros();
    let (y, cache) = net.forward(&x);
    let dy = Matrix::<f64, 5, 3>::zeros();
    let mut grads = net.zeros_like();
    let _ = net.backward(&x, &y, &cache, &dy, &mut grads);
}
