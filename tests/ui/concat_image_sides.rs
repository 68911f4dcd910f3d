// The two paths of a Concat keep different image sizes.
use stackgrad::nn::{Concat, Conv2d, MaxPool2d, Net, image_input};

fn main() {
    let _net = image_input::<1, 8, 8>()
        .then(Concat::new(
            Conv2d::<f32, 1, 4, 3, 1, 1>::zeros(),
            Net::new((Conv2d::<f32, 1, 4, 3, 1, 1>::zeros(), MaxPool2d::<2>)),
        ))
        .build();
}
