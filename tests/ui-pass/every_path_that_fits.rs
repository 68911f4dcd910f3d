// The correct versions of the failing cases in tests/ui: every way of
// writing a network compiles when its layers fit.
use stackgrad::batch::Dataset;
use stackgrad::gradcheck::GradCheck;
use stackgrad::loss::{BinaryCrossEntropy, HalfSquaredError, Loss, MeanSquaredError, SoftmaxCrossEntropy};
use stackgrad::nn::{Conv2d, Dense, Flatten, MaxPool2d, Net, Params, Relu, Tanh, Unflatten, input};
use stackgrad::optim::Adam;
use stackgrad::rand::{SeedableRng, rngs::StdRng};
use stackgrad::train::Training;
use stackgrad::{Images, Matrix};

type Mlp = Net<(Dense<f32, 64, 64>, Relu, Dense<f32, 64, 10>)>;
type Cnn = Net<(Unflatten<1, 8, 8>, Conv2d<f32, 1, 8, 3, 1, 1>, Relu, MaxPool2d<2>, Flatten, Dense<f32, 128, 10>)>;
type Small = Net<(Conv2d<f64, 1, 4, 3, 1, 1>, Tanh, MaxPool2d<2>, Flatten, Dense<f64, 64, 2>)>;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = StdRng::seed_from_u64(0);
    let mut mlp: Mlp = input::<64>()
        .then(Dense::he_normal(&mut rng))
        .then(Relu)
        .then(Dense::xavier_uniform(&mut rng))
        .build();
    let cnn: Cnn = input::<64>()
        .then(Unflatten::<1, 8, 8>)
        .then(Conv2d::he_normal(&mut rng))
        .then(Relu)
        .then(MaxPool2d::<2>)
        .then(Flatten)
        .then(Dense::xavier_uniform(&mut rng))
        .build();
    let _ = cnn.infer(&Matrix::<f32, 2, 64>::zeros());

    // A network of 32 layers in one tuple, and a nested one.
    let deep = input::<4>()
        .then(Dense::<f32, 4, 4>::zeros()).then(Relu).then(Relu).then(Relu)
        .then(Relu).then(Relu).then(Relu).then(Relu)
        .then(Relu).then(Relu).then(Relu).then(Relu)
        .then(Relu).then(Relu).then(Relu).then(Relu)
        .then(Relu).then(Relu).then(Relu).then(Relu)
        .then(Relu).then(Relu).then(Relu).then(Relu)
        .then(Relu).then(Relu).then(Relu).then(Relu)
        .then(Relu).then(Relu).then(Relu).then(Net::new((Relu, Dense::<f32, 4, 2>::zeros())))
        .build();
    let _: Matrix<f32, 1, 2> = deep.infer(&Matrix::<f32, 1, 4>::zeros());

    // Forward and backward of a network wrapped with Net::new.
    let net = Net::new((Dense::<f64, 2, 25>::zeros(), Tanh, Dense::<f64, 25, 4>::zeros()));
    let x = Matrix::<f64, 5, 2>::zeros();
    let (y, cache) = net.forward(&x);
    let mut grads = net.zeros_like();
    let _ = net.backward(&x, &y, &cache, &Matrix::zeros(), &mut grads);

    // Every loss with targets of the predictions' shape.
    let _ = MeanSquaredError.loss_and_grad(&y, &Matrix::zeros());
    let _ = BinaryCrossEntropy::default().loss(&Matrix::<f64, 5, 1>::splat(0.5), &Matrix::zeros());
    let _ = HalfSquaredError.loss(&y, &y);

    // Training and evaluation on rows of the network's width.
    let xs = vec![[0.0f32; 64]; 10];
    let ys = vec![0usize; 10];
    let mut training = Training::new(SoftmaxCrossEntropy::mean(), Adam::new(1e-3f32)).batch::<5>().epochs(1);
    training.fit(&mut mlp, Dataset::new(&xs, &ys)?, |_, _| {})?;
    let _ = training.evaluate(&mlp, Dataset::new(&xs, &ys)?)?;

    // The gradient checker on a CNN given images of its size.
    let small: Small = Net::new((Conv2d::zeros(), Tanh, MaxPool2d, Flatten, Dense::zeros()));
    let _ = GradCheck::new().check(&small, &HalfSquaredError, &Images::<f64, 2, 1, 8, 8>::zeros(), &Matrix::<f64, 2, 2>::zeros());
    Ok(())
}
