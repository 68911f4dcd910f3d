// An f64 layer after f32 ones.
use stackgrad::nn::{Dense, Relu, input};

fn main() {
    let _net = input::<4>()
        .then(Dense::<f32, 4, 8>::zeros())
        .then(Relu)
        .then(Dense::<f64, 8, 2>::zeros())
        .build();
}
