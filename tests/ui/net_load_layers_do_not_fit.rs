// A network type whose layers do not fit has no parameters to load (or save,
// or train), however the value was made.
use stackgrad::nn::{Dense, Net, Relu};

type Bad = Net<(Dense<f32, 4, 8>, Relu, Dense<f32, 6, 2>)>;

fn main() {
    let mut net: Bad = Net { layers: (Dense::zeros(), Relu, Dense::zeros()) };
    let _ = stackgrad::io::load(&mut net, "weights.safetensors");
}
