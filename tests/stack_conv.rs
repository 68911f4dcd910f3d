//! A 16-channel convolution over 28x28 inputs runs forward and backward in a
//! debug build on a 2 MiB thread (the default test-thread size) without
//! overflowing the stack (docs/DESIGN.md, section 5).
//!
//! Design: a batch of one keeps each 16 x 28 x 28 activation at 12544 f32
//! (49 KiB); the convolution's parameters are 160 values and stay inline; the
//! dense weight after pooling (3136 x 10, 123 KiB) is boxed in the network's
//! type. Measured: the whole pass needs more than 768 KiB and less than 1 MiB
//! of stack in debug. Flattening the full 16 x 28 x 28 into a boxed
//! 12544 x 10 dense layer instead needs between 1.5 and 2 MiB, most of it the
//! dense layer's 490 KiB weight-gradient temporary (`Xᵀ D`) in debug.

use stackgrad::loss::{Labels, Loss, SoftmaxCrossEntropy};
use stackgrad::nn::{Conv2d, Dense, Flatten, MaxPool2d, Net, Params, Relu, image_input};
use stackgrad::rand::{SeedableRng, rngs::StdRng};
use stackgrad::{Images, Matrix};

type Cnn = Net<(
    Conv2d<f32, 1, 16, 3, 1, 1>,
    Relu,
    MaxPool2d<2>,
    Flatten,
    Box<Dense<f32, 3136, 10>>,
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
                .then(MaxPool2d::<2>)
                .then(Flatten)
                .then(Dense::boxed_zeros())
                .build();
            let mut grads = net.zeros_like();
            let x = Images::<f32, 1, 1, 28, 28>::from_fn(|_, _, i, j| ((i * 28 + j) as f32).sin());
            let (logits, cache) = net.forward(&x);
            let y = Labels::<1, 10>::new([3]).unwrap();
            let (loss, d) = SoftmaxCrossEntropy::mean().loss_and_grad(&logits, &y);
            let dx = net.backward(&x, &logits, &cache, &d, &mut grads);
            let _: Matrix<f32, 1, 10> = logits;
            (
                loss,
                dx.max_abs(),
                grads.tensor(2).unwrap().data.iter().any(|&g| g != 0.0),
            )
        })
        .unwrap();
    let (loss, dx_max, dense_grad_nonzero) = worker
        .join()
        .expect("the 2 MiB thread overflowed or panicked");
    // Zero dense weights: uniform logits, loss ln 10, and no gradient reaches the input.
    assert!((loss - 10f32.ln()).abs() < 1e-5, "loss {loss}");
    assert_eq!(dx_max, 0.0);
    assert!(
        dense_grad_nonzero,
        "the dense weight gradient must see the conv features"
    );
}
