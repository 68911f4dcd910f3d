use stackgrad::loss::{BinaryCrossEntropyWithLogits, Loss};
use stackgrad::Matrix;

fn main() {
    let logits = Matrix::<f32, 8, 1>::zeros();
    let y = Matrix::<f32, 4, 1>::zeros();
    let _ = BinaryCrossEntropyWithLogits::default().loss(&logits, &y);
}
