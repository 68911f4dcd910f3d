// The README's pattern: the network's type is an alias and the builder
// infers each layer from it. The last layer's 63 does not fit.
use stackgrad::nn::{Dense, Net, Relu, input};
use stackgrad::rand::{SeedableRng, rngs::StdRng};

type Mlp = Net<(Dense<f32, 64, 64>, Relu, Dense<f32, 63, 10>)>;

fn main() {
    let mut rng = StdRng::seed_from_u64(0);
    let _net: Mlp = input::<64>()
        .then(Dense::he_normal(&mut rng))
        .then(Relu)
        .then(Dense::xavier_uniform(&mut rng))
        .build();
}
