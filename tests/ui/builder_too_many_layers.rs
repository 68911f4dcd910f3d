// One tuple holds at most 32 layers; the 33rd is an error that says what to do.
use stackgrad::nn::{Dense, Relu, input};

fn main() {
    let _net = input::<4>()
        .then(Dense::<f32, 4, 4>::zeros()).then(Relu).then(Relu).then(Relu)
        .then(Relu).then(Relu).then(Relu).then(Relu)
        .then(Relu).then(Relu).then(Relu).then(Relu)
        .then(Relu).then(Relu).then(Relu).then(Relu)
        .then(Relu).then(Relu).then(Relu).then(Relu)
        .then(Relu).then(Relu).then(Relu).then(Relu)
        .then(Relu).then(Relu).then(Relu).then(Relu)
        .then(Relu).then(Relu).then(Relu).then(Relu)
        .then(Relu)
        .build();
}
