use stackgrad::nn::{image_input, Conv2d, Flatten};

fn main() {
    // 32 x 32 x 32 = 32768 is beyond the largest supported flattened size (16384).
    let _net = image_input::<1, 32, 32>()
        .then(Conv2d::<f32, 1, 32, 3, 1, 1>::zeros())
        .then(Flatten)
        .build();
}
