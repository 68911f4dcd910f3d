//! Fuzz the safetensors weights loader: any bytes either load into the network
//! or give an error, never a panic; a failed load leaves the weights unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stackgrad::io;
use stackgrad::nn::{Dense, Net, Params, Relu, Sigmoid};

type Small32 = Net<(Dense<f32, 2, 25>, Sigmoid, Dense<f32, 25, 4>)>;
type Small64 = Net<(Dense<f64, 2, 25>, Sigmoid, Dense<f64, 25, 4>)>;
type Digits = Net<(Dense<f32, 64, 64>, Relu, Dense<f32, 64, 10>)>;

fn load_or_keep<T: stackgrad::Scalar, P: Params<T> + Clone + PartialEq + core::fmt::Debug>(net: P, data: &[u8]) {
    let mut loaded = net.clone();
    if io::from_bytes(&mut loaded, data, "fuzz").is_err() {
        assert_eq!(loaded, net, "a failed load changed the weights");
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = io::File::parse(data, "fuzz");
    load_or_keep(Small32::new((Dense::zeros(), Sigmoid, Dense::zeros())), data);
    load_or_keep(Small64::new((Dense::zeros(), Sigmoid, Dense::zeros())), data);
    load_or_keep(Digits::new((Dense::zeros(), Relu, Dense::zeros())), data);
});
