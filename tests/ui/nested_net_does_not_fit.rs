// A nested network (one layer of the outer one) whose first layer does not
// fit what the outer network gives it.
use stackgrad::nn::{Dense, Net, Relu, input};

fn main() {
    let _net = input::<3>()
        .then(Dense::<f32, 3, 5>::zeros())
        .then(Net::new((Dense::<f32, 4, 8>::zeros(), Relu)))
        .build();
}
