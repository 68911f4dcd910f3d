use stackgrad::loss::{Labels, Loss, SoftmaxCrossEntropy};
use stackgrad::nn::{input, Dense, Net, Sigmoid};
use stackgrad::Matrix;

type Classifier = Net<(Dense<f64, 2, 25>, Sigmoid, Dense<f64, 25, 4>)>;

fn main() -> Result<(), stackgrad::Error> {
    let net: Classifier = input::<2>()
        .then(Dense::zeros())
        .then(Sigmoid)
        .then(Dense::zeros())
        .build();
    let (logits, _) = net.forward(&Matrix::<f64, 5, 2>::zeros());
    let _ = SoftmaxCrossEntropy::sum().loss_and_grad(&logits, &Matrix::<f64, 5, 4>::zeros());
    let _ = SoftmaxCrossEntropy::sum().loss_and_grad(&logits, &Labels::<5, 4>::new([0; 5])?);
    let _ = Matrix::<f64, 2, 3>::zeros().matmul(&Matrix::<f64, 3, 2>::zeros());
    Ok(())
}
