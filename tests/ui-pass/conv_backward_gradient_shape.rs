// The corrected version of notebook 001's conv backward test: the upstream
// gradient has the output's shape, 8x8, and the gradients have the shapes of
// the input, the weights and the biases.
use stackgrad::nn::{Conv2d, Layer, Params};
use stackgrad::Images;

fn main() {
    let conv = Conv2d::<f64, 4, 8, 7, 2, 3>::zeros();
    let x = Images::<f64, 5, 4, 16, 16>::splat(0.5);
    let (y, cache) = conv.forward(&x);
    let _: &Images<f64, 5, 8, 8, 8> = &y; // (16 + 2*3 - 7)/2 + 1 = 8
    let dout = Images::<f64, 5, 8, 8, 8>::splat(1.0);
    let mut grads = conv.zeros_like();
    let dx: Images<f64, 5, 4, 16, 16> = conv.backward(&x, &y, &cache, &dout, &mut grads);
    assert_eq!(dx.as_slice().len(), 5 * 4 * 16 * 16);
    assert_eq!(grads.tensor(0).unwrap().shape.dims(), &[8, 4, 7, 7]);
    assert_eq!(grads.tensor(1).unwrap().shape.dims(), &[8]);
    // Every bias gradient is the sum of its 5 x 8 x 8 upstream values.
    assert_eq!(grads.bias, [320.0; 8]);
}
