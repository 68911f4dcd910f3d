use stackgrad::nn::{input, BatchNorm1d, Dense};

fn main() {
    let _net = input::<3>()
        .then(Dense::<f32, 3, 8>::zeros())
        .then(BatchNorm1d::<f32, 6>::new())
        .build();
}
