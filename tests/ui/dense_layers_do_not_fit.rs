use stackgrad::nn::{input, Dense, Sigmoid};

fn main() {
    let net = input::<2>()
        .then(Dense::<f64, 2, 25>::zeros())
        .then(Sigmoid)
        .then(Dense::<f64, 24, 4>::zeros())
        .build();
    let _y = net.forward(&stackgrad::Matrix::<f64, 5, 2>::zeros());
}
