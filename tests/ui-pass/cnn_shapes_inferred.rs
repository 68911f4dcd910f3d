// conv -> relu -> conv -> pool -> flatten -> dense with no shape annotations:
// every height, width and the flattened size are computed at compile time.
use stackgrad::nn::{image_input, Conv2d, Dense, Flatten, MaxPool2d, Params, Relu};
use stackgrad::{Images, Matrix};

fn main() {
    let net = image_input::<1, 12, 12>()
        .then(Conv2d::<f32, 1, 4, 3, 1, 1>::zeros()) // 4 x 12 x 12
        .then(Relu)
        .then(Conv2d::<f32, 4, 8, 3, 2, 1>::zeros()) // 8 x 6 x 6
        .then(MaxPool2d::<2>) // 8 x 3 x 3
        .then(Flatten) // 72
        .then(Dense::<f32, 72, 10>::zeros())
        .build();
    let x = Images::<f32, 2, 1, 12, 12>::zeros();
    let (y, cache) = net.forward(&x);
    let _: &Matrix<f32, 2, 10> = &y;
    let mut grads = net.zeros_like();
    let dx = net.backward(&x, &y, &cache, &y, &mut grads);
    assert_eq!(dx, x);
}
