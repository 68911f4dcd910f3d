use stackgrad::loss::{Loss, MeanSquaredError};
use stackgrad::Matrix;

fn main() {
    let pred = Matrix::<f64, 4, 3>::zeros();
    let y = Matrix::<f64, 4, 1>::zeros();
    let _ = MeanSquaredError.loss_and_grad(&pred, &y);
}
