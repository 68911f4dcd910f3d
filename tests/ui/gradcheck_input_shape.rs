// The gradient checker is given inputs of the wrong width: 3 features for a
// network that takes 2.
use stackgrad::gradcheck::GradCheck;
use stackgrad::loss::HalfSquaredError;
use stackgrad::nn::{Linear, Net, Sigmoid};
use stackgrad::Matrix;

fn main() {
    let net = Net::new((Linear::<f64, 2, 1>::zeros(), Sigmoid));
    let x = Matrix::<f64, 3, 3>::zeros();
    let y = Matrix::<f64, 3, 1>::zeros();
    let _ = GradCheck::new().check(&net, &HalfSquaredError, &x, &y);
}
