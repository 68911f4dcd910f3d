// A dense layer right after a convolution, without a Flatten.
use stackgrad::nn::{Conv2d, Dense, Relu, image_input};

fn main() {
    let _net = image_input::<1, 8, 8>()
        .then(Conv2d::<f32, 1, 4, 3, 1, 1>::zeros())
        .then(Relu)
        .then(Dense::<f32, 256, 10>::zeros())
        .build();
}
