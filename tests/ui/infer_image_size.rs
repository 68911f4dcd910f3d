// A CNN built for 8x8 images (flattened to 4 x 8 x 8 = 256 values before
// the dense layer) is given 6x6 images: the dense layer receives 144.
use stackgrad::nn::{Conv2d, Dense, Flatten, Relu, image_input};
use stackgrad::Images;

fn main() {
    let net = image_input::<1, 8, 8>()
        .then(Conv2d::<f32, 1, 4, 3, 1, 1>::zeros())
        .then(Relu)
        .then(Flatten)
        .then(Dense::<f32, 256, 10>::zeros())
        .build();
    let _ = net.infer(&Images::<f32, 2, 1, 6, 6>::zeros());
}
