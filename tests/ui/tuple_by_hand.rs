// A tuple of layers written by hand, wrapped later.
use stackgrad::nn::{Dense, Net, Relu};

fn main() {
    let layers: (Dense<f32, 8, 16>, Relu, Dense<f32, 12, 2>) = (Dense::zeros(), Relu, Dense::zeros());
    let _net = Net::new(layers);
}
