use stackgrad::nn::{input, Dense, Relu};

fn main() {
    let _net = input::<783>()
        .then(Dense::<f32, 784, 128>::boxed_zeros())
        .then(Relu)
        .then(Dense::<f32, 128, 10>::zeros())
        .build();
}
