use stackgrad::nn::{image_input, Conv2d, Dense, Flatten};

fn main() {
    // 4 channels of 8x8 flatten to 256 features; the dense layer takes 255.
    let _net = image_input::<1, 8, 8>()
        .then(Conv2d::<f32, 1, 4, 3, 1, 1>::zeros())
        .then(Flatten)
        .then(Dense::<f32, 255, 10>::zeros())
        .build();
}
