use stackgrad::loss::{Labels, Loss, SoftmaxCrossEntropy};
use stackgrad::Matrix;

fn main() -> Result<(), stackgrad::Error> {
    let logits = Matrix::<f32, 4, 3>::zeros();
    let labels = Labels::<2, 3>::new([0, 2])?;
    let _ = SoftmaxCrossEntropy::mean().loss_and_grad(&logits, &labels);
    Ok(())
}
