// A deep network named by a type alias, the mistake at layer 4 of 7
// (counted from 0, as in parameter names such as "4.weight").
use stackgrad::nn::{Dense, Net, Relu, Tanh};

type Deep = Net<(
    Dense<f32, 16, 64>,
    Relu,
    Dense<f32, 64, 64>,
    Tanh,
    Dense<f32, 48, 32>,
    Relu,
    Dense<f32, 32, 10>,
)>;

fn main() {
    let net: Deep = Net::new((
        Dense::zeros(),
        Relu,
        Dense::zeros(),
        Tanh,
        Dense::zeros(),
        Relu,
        Dense::zeros(),
    ));
    let _ = net;
}
