use stackgrad::nn::{image_input, BatchNorm2d, Conv2d};

fn main() {
    let _net = image_input::<1, 8, 8>()
        .then(Conv2d::<f32, 1, 16, 3, 1, 1>::zeros())
        .then(BatchNorm2d::<f32, 8>::new())
        .build();
}
