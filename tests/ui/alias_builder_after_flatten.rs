// A CNN named by an alias, built with inferred layers: 8 channels of 4x4
// flatten to 128 values, but the dense layer takes 100.
use stackgrad::nn::{Conv2d, Dense, Flatten, MaxPool2d, Net, Relu, Unflatten, input};
use stackgrad::rand::{SeedableRng, rngs::StdRng};

type Cnn = Net<(
    Unflatten<1, 8, 8>,
    Conv2d<f32, 1, 8, 3, 1, 1>,
    Relu,
    MaxPool2d<2>,
    Flatten,
    Dense<f32, 100, 10>,
)>;

fn main() {
    let mut rng = StdRng::seed_from_u64(0);
    let _net: Cnn = input::<64>()
        .then(Unflatten::<1, 8, 8>)
        .then(Conv2d::he_normal(&mut rng))
        .then(Relu)
        .then(MaxPool2d::<2>)
        .then(Flatten)
        .then(Dense::xavier_uniform(&mut rng))
        .build();
}
