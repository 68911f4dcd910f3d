//! An MNIST-sized dense network (784 -> 128 -> 10, f32) runs forward and
//! backward in a debug build on a 2 MiB thread (the default test-thread size)
//! without overflowing the stack (docs/DESIGN.md, section 5).

use stackgrad::Matrix;
use stackgrad::loss::{Labels, Loss, SoftmaxCrossEntropy};
use stackgrad::nn::{Dense, Net, Params, Relu, input};

/// The large layer is boxed in the type; the rest stays inline.
type Mnist = Net<(Box<Dense<f32, 784, 128>>, Relu, Dense<f32, 128, 10>)>;

#[test]
fn mnist_sized_net_fits_a_2_mib_stack_in_debug() {
    let worker = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let net: Mnist = input::<784>()
                .then(Dense::boxed_zeros())
                .then(Relu)
                .then(Dense::zeros())
                .build();
            let mut grads = net.zeros_like();
            let x: Box<Matrix<f32, 8, 784>> = Box::new(Matrix::splat(0.5));
            let (logits, cache) = net.forward(&*x);
            let y = Labels::<8, 10>::new([0, 1, 2, 3, 4, 5, 6, 7]).unwrap();
            let (loss, d) = SoftmaxCrossEntropy::mean().loss_and_grad(&logits, &y);
            net.backward(&*x, &logits, &cache, &d, &mut grads);
            loss
        })
        .unwrap();
    let loss = worker
        .join()
        .expect("the 2 MiB thread overflowed or panicked");
    assert!((loss - 10f32.ln()).abs() < 1e-5, "loss {loss}");
}
