// A convolution right after rows of 64 pixels, without an Unflatten.
use stackgrad::nn::{Conv2d, Dense, Net, Relu};

fn main() {
    let _net = Net::new((
        Dense::<f32, 64, 64>::zeros(),
        Relu,
        Conv2d::<f32, 1, 4, 3, 1, 1>::zeros(),
    ));
}
