use stackgrad::nn::{BatchNorm1d, Layer};
use stackgrad::Matrix;

fn main() {
    let bn = BatchNorm1d::<f32, 4>::new();
    // Evaluation mode is fine at any batch size...
    let _ = bn.infer(&Matrix::<f32, 1, 4>::zeros());
    // ...training mode on a batch of one row is not.
    let _ = bn.forward(&Matrix::<f32, 1, 4>::zeros());
}
