use stackgrad::loss::{BinaryCrossEntropy, Loss};
use stackgrad::Matrix;

fn main() {
    let p = Matrix::<f64, 5, 2>::splat(0.5);
    let y = Matrix::<f64, 5, 1>::zeros();
    let _ = BinaryCrossEntropy::default().loss_and_grad(&p, &y);
}
