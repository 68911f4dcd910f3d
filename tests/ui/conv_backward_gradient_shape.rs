// Notebook 001's conv backward test: x 5x4x16x16, w 8x4x7x7, stride 2, pad 3,
// so the output is (16 + 2*3 - 7)/2 + 1 = 8 pixels a side, but the notebook
// feeds an upstream gradient of 16x16. stackgrad rejects it at compile time.
use stackgrad::nn::{Conv2d, Layer};
use stackgrad::Images;

fn main() {
    let conv = Conv2d::<f64, 4, 8, 7, 2, 3>::zeros();
    let x = Images::<f64, 5, 4, 16, 16>::zeros();
    let (y, cache) = conv.forward(&x);
    let dout = Images::<f64, 5, 8, 16, 16>::zeros();
    let mut grads = conv;
    let _dx = conv.backward(&x, &y, &cache, &dout, &mut grads);
}
