// The gradient checker is given targets of the wrong width: 2 columns for a
// network with 1 output.
use stackgrad::gradcheck::GradCheck;
use stackgrad::loss::HalfSquaredError;
use stackgrad::nn::{Linear, Net, Sigmoid};
use stackgrad::Matrix;

fn main() {
    let net = Net::new((Linear::<f64, 2, 1>::zeros(), Sigmoid));
    let x = Matrix::<f64, 3, 2>::zeros();
    let y = Matrix::<f64, 3, 2>::zeros();
    let _ = GradCheck::new().check(&net, &HalfSquaredError, &x, &y);
}
