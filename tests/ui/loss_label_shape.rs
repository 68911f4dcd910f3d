use stackgrad::loss::{Loss, SoftmaxCrossEntropy};
use stackgrad::Matrix;

fn main() {
    let logits = Matrix::<f64, 5, 4>::zeros();
    let one_hot = Matrix::<f64, 5, 3>::zeros();
    let _ = SoftmaxCrossEntropy::sum().loss_and_grad(&logits, &one_hot);
}
