use stackgrad::nn::{image_input, Conv2d, MaxPool2d};

fn main() {
    // After a stride-2 convolution the image is 2x2; a 3x3 window does not fit.
    let _net = image_input::<1, 4, 4>()
        .then(Conv2d::<f32, 1, 2, 3, 2, 1>::zeros())
        .then(MaxPool2d::<3>)
        .build();
}
