// A network whose layers do not fit is an error where it is built, even if
// it is never run.
use stackgrad::nn::{Dense, Net, Sigmoid};

fn main() {
    let _net = Net::new((Dense::<f64, 2, 25>::zeros(), Sigmoid, Dense::<f64, 24, 4>::zeros()));
}
