use stackgrad::nn::{image_input, Conv2d};

fn main() {
    // A 5x5 kernel without padding does not fit a 3x3 image.
    let _net = image_input::<1, 3, 3>()
        .then(Conv2d::<f32, 1, 1, 5, 1, 0>::zeros())
        .build();
}
