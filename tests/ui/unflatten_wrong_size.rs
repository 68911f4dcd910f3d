// 28 x 28 images are rows of 784 values; the input has 748.
use stackgrad::nn::{Conv2d, Unflatten, input};

fn main() {
    let _net = input::<748>()
        .then(Unflatten::<1, 28, 28>)
        .then(Conv2d::<f32, 1, 4, 3, 1, 1>::zeros())
        .build();
}
