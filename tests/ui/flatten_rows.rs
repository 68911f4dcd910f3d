// A Flatten after a dense layer: there is nothing to flatten.
use stackgrad::nn::{Dense, Flatten, Net};

fn main() {
    let _net = Net::new((Dense::<f32, 4, 8>::zeros(), Flatten, Dense::<f32, 8, 2>::zeros()));
}
