use stackgrad::nn::{input, Concat, Dense, Net, Relu};

fn main() {
    // The block's input has 6 features; its second branch, a nested
    // network, starts with a layer that takes 5.
    let _net = input::<6>()
        .then(Concat::new(
            Dense::<f32, 6, 4>::zeros(),
            Net::new((Dense::<f32, 5, 3>::zeros(), Relu)),
        ))
        .then(Dense::<f32, 7, 2>::zeros())
        .build();
}
