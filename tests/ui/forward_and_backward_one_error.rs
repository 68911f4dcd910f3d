// A type alias network given rows of the wrong width, run forward and
// backward: one error, at the first use.
use stackgrad::nn::{Dense, Net, Params, Relu};
use stackgrad::Matrix;
type Mlp = Net<(Dense<f32, 4, 8>, Relu, Dense<f32, 8, 2>)>;
fn main() {
    let net: Mlp = Net::new((Dense::zeros(), Relu, Dense::zeros()));
    let x = Matrix::<f32, 5, 3>::zeros();
    let (y, cache) = net.forward(&x);
    let mut grads = net.zeros_like();
    let _dx = net.backward(&x, &y, &cache, &y, &mut grads);
}
