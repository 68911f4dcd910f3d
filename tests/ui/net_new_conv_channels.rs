// A convolutional network wrapped with Net::new: its channels are checked
// without an input (the second convolution expects 8, the first makes 16).
use stackgrad::nn::{Conv2d, MaxPool2d, Net, Relu};

fn main() {
    let _net = Net::new((
        Conv2d::<f32, 1, 16, 3, 1, 1>::zeros(),
        Relu,
        MaxPool2d::<2>,
        Conv2d::<f32, 8, 32, 3, 1, 1>::zeros(),
    ));
}
