use stackgrad::nn::{input, Concat, Dense, Relu};

fn main() {
    // The block concatenates 4 + 3 = 7 features; the next layer expects 8.
    let _net = input::<6>()
        .then(Concat::new(Dense::<f32, 6, 4>::zeros(), Dense::<f32, 6, 3>::zeros()))
        .then(Relu)
        .then(Dense::<f32, 8, 2>::zeros())
        .build();
}
