use stackgrad::nn::{image_input, Conv2d};

fn main() {
    // Sides above 1024 are beyond the compile-time shape arithmetic.
    let _net = image_input::<1, 2000, 8>()
        .then(Conv2d::<f32, 1, 1, 3, 1, 1>::zeros())
        .build();
}
