use stackgrad::io::torch;
use stackgrad::nn::{Custom, Dense, Layer, Net, Relu};
use stackgrad::{Matrix, Scalar};

#[derive(Clone, Copy, Debug, Default)]
struct Scale;

impl<T: Scalar, const B: usize, const N: usize> Layer<Matrix<T, B, N>> for Scale {
    type Output = Matrix<T, B, N>;
    type Cache = ();
    fn forward(&self, x: &Matrix<T, B, N>) -> (Matrix<T, B, N>, ()) {
        (*x, ())
    }
    fn backward(&self, _: &Matrix<T, B, N>, _: &Matrix<T, B, N>, _: &(), dy: &Matrix<T, B, N>, _: &mut Self) -> Matrix<T, B, N> {
        *dy
    }
}

fn main() {
    let net = Net::new((Dense::<f32, 4, 4>::zeros(), Custom(Scale), Relu));
    let _ = torch::python(&net);
}
