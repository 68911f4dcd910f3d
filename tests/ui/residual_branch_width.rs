use stackgrad::nn::{input, Dense, Net, Relu, Residual};

fn main() {
    let _net = input::<4>()
        .then(Residual::new(Net::new((Dense::<f32, 4, 5>::zeros(), Relu))))
        .then(Dense::<f32, 5, 2>::zeros())
        .build();
}
