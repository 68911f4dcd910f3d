// The gradient checker on a CNN given images of the wrong size: the
// network was written for 8x8 images (4 x 4 x 4 = 64 values after pooling),
// the batch has 6x6 images (4 x 3 x 3 = 36).
use stackgrad::gradcheck::GradCheck;
use stackgrad::loss::HalfSquaredError;
use stackgrad::nn::{Conv2d, Dense, Flatten, MaxPool2d, Net, Tanh};
use stackgrad::{Images, Matrix};

type Cnn = Net<(Conv2d<f64, 1, 4, 3, 1, 1>, Tanh, MaxPool2d<2>, Flatten, Dense<f64, 64, 2>)>;

fn main() {
    let net: Cnn = Net::new((Conv2d::zeros(), Tanh, MaxPool2d, Flatten, Dense::zeros()));
    let x = Images::<f64, 2, 1, 6, 6>::zeros();
    let y = Matrix::<f64, 2, 2>::zeros();
    let _ = GradCheck::new().check(&net, &HalfSquaredError, &x, &y);
}
