use stackgrad::loss::{Labels, Loss, SoftmaxCrossEntropy};
use stackgrad::Matrix;

fn main() -> Result<(), stackgrad::Error> {
    let logits = Matrix::<f32, 3, 4>::zeros();
    let labels = Labels::<3, 10>::new([0, 1, 2])?;
    let _ = SoftmaxCrossEntropy::mean().loss_and_grad(&logits, &labels);
    Ok(())
}
