use stackgrad::nn::{image_input, Conv2d, Relu};

fn main() {
    // The second convolution expects 8 channels; the first produces 4.
    let _net = image_input::<1, 12, 12>()
        .then(Conv2d::<f32, 1, 4, 3, 1, 1>::zeros())
        .then(Relu)
        .then(Conv2d::<f32, 8, 4, 3, 2, 1>::zeros())
        .build();
}
