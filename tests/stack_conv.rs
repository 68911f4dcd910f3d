//! A 16-channel convolution over 28x28 inputs, flattened to 16 x 28 x 28 = 12544
//! features, runs forward and backward in a debug build on a 2 MiB thread (the
//! default test-thread size) without overflowing the stack (DESIGN.md section 4).
//!
//! Design: a batch of one keeps each activation at 12544 f32 (49 KiB); the only
//! large parameter tensor, the 12544 x 10 dense weight (490 KiB), is boxed in the
//! network's type; the convolution's own parameters are 160 values.

use stackgrad::loss::{Labels, Loss, SoftmaxCrossEntropy};
use stackgrad::nn::{Conv2d, Dense, Flatten, Net, Params, Relu, image_input};
use stackgrad::rand::{SeedableRng, rngs::StdRng};
use stackgrad::{Images, Matrix};

type Cnn = Net<(
    Conv2d<f32, 1, 16, 3, 1, 1>,
    Relu,
    Flatten,
    Box<Dense<f32, 12544, 10>>,
)>;

#[test]
fn conv_16x28x28_fits_a_2_mib_stack_in_debug() {
    let worker = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let mut rng = StdRng::seed_from_u64(0);
            let net: Cnn = image_input::<1, 28, 28>()
                .then(Conv2d::he_normal(&mut rng))
                .then(Relu)
                .then(Flatten)
                .then(Dense::boxed_zeros())
                .build();
            let mut grads = net.zeros_like();
            let x = Images::<f32, 1, 1, 28, 28>::from_fn(|_, _, i, j| ((i * 28 + j) as f32).sin());
            let (logits, cache) = net.forward(&x);
            let y = Labels::<1, 10>::new([3]).unwrap();
            let (loss, d) = SoftmaxCrossEntropy::mean().loss_and_grad(&logits, &y);
            let dx = net.backward(&cache, &d, &mut grads);
            let _: Matrix<f32, 1, 10> = logits;
            (loss, dx.max_abs(), grads.tensor(2).unwrap().data.iter().any(|&g| g != 0.0))
        })
        .unwrap();
    let (loss, dx_max, dense_grad_nonzero) = worker
        .join()
        .expect("the 2 MiB thread overflowed or panicked");
    // Zero dense weights: uniform logits, loss ln 10, and no gradient reaches the input.
    assert!((loss - 10f32.ln()).abs() < 1e-5, "loss {loss}");
    assert_eq!(dx_max, 0.0);
    assert!(dense_grad_nonzero, "the dense weight gradient must see the conv features");
}
