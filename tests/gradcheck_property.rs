//! Property test: every layer, activation and loss, composed into random small
//! networks over sizes from (1, 1) to (7, 5), in f32 and f64, passes the
//! gradient check with no false failure; ReLU kinks (made deliberately in some
//! cases by an input row of zeros meeting a zero bias) are reported, not failed.
//!
//! Sizes are type parameters, so a `macro_rules!` stamps one test body per size
//! tuple; everything else (architecture, activations, loss, weights, inputs) is
//! drawn per case from a seeded generator.

use stackgrad::gradcheck::{GradCheck, Report};
use stackgrad::init::standard_normal;
use stackgrad::loss::{
    BinaryCrossEntropy, BinaryCrossEntropyWithLogits, HalfSquaredError, Loss, MeanSquaredError,
    Reduction, SoftmaxCrossEntropy,
};
use stackgrad::nn::{
    Dense, Identity, Layer, Linear, Net, Params, Pattern, Recast, Relu, Sigmoid, Softmax, Tanh,
    Tensor, TensorMut,
};
use stackgrad::rand::{Rng, RngExt, SeedableRng, rngs::StdRng};
use stackgrad::{Matrix, Scalar};

/// Seeds per size tuple and precision: 6 size tuples x 2 precisions x 100 = 1200
/// networks, of which at least 1100 must be checked (the rest refused as vacuous).
/// `GRADCHECK_CASES=2000 cargo test --release --test gradcheck_property` soaks longer.
fn cases() -> u64 {
    std::env::var("GRADCHECK_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
}

/// An activation chosen at run time (test-only dispatch over the library's layers).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Act {
    Identity,
    Sigmoid,
    Tanh,
    Relu,
    Softmax,
}

impl<T: Scalar, const B: usize, const N: usize> Layer<Matrix<T, B, N>> for Act {
    type Output = Matrix<T, B, N>;
    type Cache = ();
    fn forward(&self, x: &Matrix<T, B, N>) -> (Matrix<T, B, N>, ()) {
        match self {
            Act::Identity => Identity.forward(x),
            Act::Sigmoid => Sigmoid.forward(x),
            Act::Tanh => Tanh.forward(x),
            Act::Relu => Relu.forward(x),
            Act::Softmax => Softmax.forward(x),
        }
    }
    fn backward(
        &self,
        x: &Matrix<T, B, N>,
        y: &Matrix<T, B, N>,
        (): &(),
        dy: &Matrix<T, B, N>,
        _: &mut Self,
    ) -> Matrix<T, B, N> {
        match self {
            Act::Identity => Identity.backward(x, y, &(), dy, &mut Identity),
            Act::Sigmoid => Sigmoid.backward(x, y, &(), dy, &mut Sigmoid),
            Act::Tanh => Tanh.backward(x, y, &(), dy, &mut Tanh),
            Act::Relu => Relu.backward(x, y, &(), dy, &mut Relu),
            Act::Softmax => Softmax.backward(x, y, &(), dy, &mut Softmax),
        }
    }
    fn pattern(&self, x: &Matrix<T, B, N>, y: &Matrix<T, B, N>, (): &(), p: &mut Pattern) {
        match self {
            Act::Identity => Identity.pattern(x, y, &(), p),
            Act::Sigmoid => Sigmoid.pattern(x, y, &(), p),
            Act::Tanh => Tanh.pattern(x, y, &(), p),
            Act::Relu => Relu.pattern(x, y, &(), p),
            Act::Softmax => Softmax.pattern(x, y, &(), p),
        }
    }
}

impl<S, A> stackgrad::nn::Connect<S, A> for Act {
    type Out = S;
}

impl<T: Scalar> Params<T> for Act {
    const TENSORS: usize = 0;
    const PARAMS: usize = 0;
    fn tensor(&self, _: usize) -> Option<Tensor<'_, T>> {
        None
    }
    fn tensor_mut(&mut self, _: usize) -> Option<TensorMut<'_, T>> {
        None
    }
    fn zeros_like(&self) -> Self {
        *self
    }
}

impl<U: Scalar> Recast<U> for Act {
    type Output = Self;
    fn recast(&self) -> Self {
        *self
    }
}

/// A loss chosen at run time; targets are rows of probabilities.
#[derive(Debug, Clone, Copy)]
enum AnyLoss {
    HalfSquared,
    MeanSquared,
    SoftmaxCe(Reduction),
    BceLogits(Reduction),
    /// Only after a sigmoid or softmax (predictions must be probabilities).
    BceProbs(Reduction),
}

impl<T: Scalar, const B: usize, const O: usize> Loss<Matrix<T, B, O>, Matrix<T, B, O>> for AnyLoss {
    type Value = T;
    fn loss(&self, p: &Matrix<T, B, O>, y: &Matrix<T, B, O>) -> T {
        self.loss_and_grad(p, y).0
    }
    fn loss_and_grad(&self, p: &Matrix<T, B, O>, y: &Matrix<T, B, O>) -> (T, Matrix<T, B, O>) {
        match *self {
            AnyLoss::HalfSquared => HalfSquaredError.loss_and_grad(p, y),
            AnyLoss::MeanSquared => MeanSquaredError.loss_and_grad(p, y),
            AnyLoss::SoftmaxCe(reduction) => SoftmaxCrossEntropy { reduction }.loss_and_grad(p, y),
            AnyLoss::BceLogits(reduction) => {
                BinaryCrossEntropyWithLogits { reduction }.loss_and_grad(p, y)
            }
            AnyLoss::BceProbs(reduction) => BinaryCrossEntropy { reduction }.loss_and_grad(p, y),
        }
    }
}

/// Totals over all cases, for the final assertions.
#[derive(Debug, Default)]
struct Tally {
    cases: usize,
    kinks: usize,
    relu_cases: usize,
    /// Networks the checker refused as vacuous (not counted in `cases`).
    vacuous: usize,
    /// Tensors whose relative error exceeded the tolerance but whose difference
    /// was below the rounding noise (vanishing gradients): passed, counted here.
    below_noise: usize,
}

fn act(rng: &mut StdRng, width: usize) -> Act {
    // A softmax over one column is the constant 1: it cuts every gradient
    // before it, which the checker rightly refuses to call a pass.
    let choices: &[Act] = if width > 1 {
        &[
            Act::Identity,
            Act::Sigmoid,
            Act::Tanh,
            Act::Relu,
            Act::Softmax,
        ]
    } else {
        &[Act::Identity, Act::Sigmoid, Act::Tanh, Act::Relu]
    };
    choices[rng.random_range(0..choices.len())]
}

fn loss_after(rng: &mut StdRng, last: Act, width: usize) -> AnyLoss {
    let reduction = if rng.random::<bool>() {
        Reduction::Sum
    } else {
        Reduction::Mean
    };
    let probabilities = matches!(last, Act::Sigmoid | Act::Softmax);
    match rng.random_range(0..if probabilities { 5 } else { 4 }) {
        0 => AnyLoss::HalfSquared,
        1 => AnyLoss::MeanSquared,
        // Softmax cross-entropy over one class is the constant 0 (see `act`).
        2 if width > 1 => AnyLoss::SoftmaxCe(reduction),
        2 => AnyLoss::HalfSquared,
        3 => AnyLoss::BceLogits(reduction),
        _ => AnyLoss::BceProbs(reduction),
    }
}

fn fill<T: Scalar>(values: &mut [T], std: f64, rng: &mut impl Rng) {
    for v in values {
        *v = T::from_f64(std * standard_normal(rng));
    }
}

/// Random weights (std 1/sqrt(fan-in)) and biases for every tensor of `net`.
fn randomize<T: Scalar, N: Params<T>>(net: &mut N, rng: &mut StdRng) {
    for k in 0..N::TENSORS {
        if let Some(t) = net.tensor_mut(k) {
            let fan_in = t.shape.dims()[0].max(1) as f64;
            let std = if t.shape.dims().len() == 2 {
                1.0 / fan_in.sqrt()
            } else {
                0.5
            };
            fill(t.data, std, rng);
        }
    }
}

/// Runs one check and records it; panics with the report on a failure.
fn record<T: Scalar, N, const B: usize, const I: usize, const O: usize>(
    tally: &mut Tally,
    label: &str,
    net: &N,
    loss: AnyLoss,
    x: &Matrix<T, B, I>,
    y: &Matrix<T, B, O>,
    relu: bool,
) where
    N: stackgrad::gradcheck::Checkable<Matrix<T, B, I>, Matrix<T, B, O>, AnyLoss>,
{
    let report: Report = match GradCheck::new().check(net, &loss, x, y) {
        Ok(r) => r,
        // Every ReLU dead (or a softmax over one column): no gradient anywhere and
        // the loss depends on no parameter. Refusing is the right answer.
        Err(stackgrad::Error::NothingToCheck) => {
            tally.vacuous += 1;
            return;
        }
        Err(e) => panic!("{label}: {loss:?}: {e}\n{}", core::any::type_name::<N>()),
    };
    assert!(
        report.passed(),
        "{label} ({}), {loss:?}:\n{report}",
        T::NAME
    );
    tally.cases += 1;
    tally.kinks += report.kinks();
    tally.below_noise += report
        .tensors()
        .iter()
        .filter(|t| t.verdict == stackgrad::gradcheck::Verdict::BelowNoise)
        .count();
    tally.relu_cases += usize::from(relu);
}

macro_rules! sizes {
    ($($name:ident: B = $b:literal, I = $i:literal, H = $h:literal, O = $o:literal;)*) => {$(
        fn $name<T: Scalar>(seed: u64, tally: &mut Tally) {
            const B: usize = $b;
            const I: usize = $i;
            const H: usize = $h;
            const O: usize = $o;
            let mut rng = StdRng::seed_from_u64(seed);
            let mut x = Matrix::<T, B, I>::zeros();
            fill(x.as_mut_slice(), 1.0, &mut rng);
            // Targets: rows of probabilities (valid for every loss).
            let y = Matrix::<T, B, O>::from_fn(|_, _| T::from_f64(rng.random::<f64>()));
            // Sometimes make kinks on purpose: a zero input row meets a zero bias,
            // so a following ReLU sits exactly at 0 for that example.
            let make_kinks = rng.random_range(0..4) == 0;
            if make_kinks {
                x.as_array_mut()[0] = [T::zero(); I];
            }
            let label = format!("B={B} I={I} H={H} O={O} seed {seed}");
            match rng.random_range(0..3) {
                0 => {
                    let a = act(&mut rng, O);
                    let mut net = Net::new((Dense::<T, I, O>::zeros(), a));
                    randomize(&mut net, &mut rng);
                    if make_kinks { net.layers.0.bias = [T::zero(); O]; }
                    let loss = loss_after(&mut rng, a, O);
                    record(tally, &label, &net, loss, &x, &y, a == Act::Relu);
                }
                1 => {
                    let (a0, a1) = (act(&mut rng, H), act(&mut rng, O));
                    let mut net = Net::new((Dense::<T, I, H>::zeros(), a0, Dense::<T, H, O>::zeros(), a1));
                    randomize(&mut net, &mut rng);
                    if make_kinks { net.layers.0.bias = [T::zero(); H]; }
                    let loss = loss_after(&mut rng, a1, O);
                    let relu = a0 == Act::Relu || a1 == Act::Relu;
                    record(tally, &label, &net, loss, &x, &y, relu);
                }
                _ => {
                    let (a0, a1, a2) = (act(&mut rng, H), act(&mut rng, H), act(&mut rng, O));
                    let mut net = Net::new((
                        Linear::<T, I, H>::zeros(), a0,
                        Dense::<T, H, H>::zeros(), a1,
                        Linear::<T, H, O>::zeros(), a2,
                    ));
                    randomize(&mut net, &mut rng);
                    let loss = loss_after(&mut rng, a2, O);
                    let relu = [a0, a1, a2].contains(&Act::Relu);
                    record(tally, &label, &net, loss, &x, &y, relu);
                }
            }
        }
    )*

        fn all_sizes<T: Scalar>(tally: &mut Tally) {
            for seed in 0..cases() {
                $($name::<T>(seed, tally);)*
            }
        }
    };
}

sizes! {
    s1x1: B = 1, I = 1, H = 1, O = 1;
    s1x4: B = 2, I = 1, H = 3, O = 4;
    s4x1: B = 3, I = 4, H = 2, O = 1;
    s2x3: B = 4, I = 2, H = 5, O = 3;
    s3x2: B = 2, I = 3, H = 7, O = 2;
    s7x5: B = 5, I = 7, H = 6, O = 5;
}

#[test]
fn random_networks_pass_in_f64() {
    let mut tally = Tally::default();
    all_sizes::<f64>(&mut tally);
    println!("f64: {tally:?}");
    assert!(tally.cases as u64 >= cases() * 55 / 10, "{tally:?}");
    assert!(tally.kinks > 0, "no kink was ever exercised");
}

#[test]
fn random_networks_pass_in_f32() {
    let mut tally = Tally::default();
    all_sizes::<f32>(&mut tally);
    println!("f32: {tally:?}");
    assert!(tally.cases as u64 >= cases() * 55 / 10, "{tally:?}");
    assert!(tally.kinks > 0, "no kink was ever exercised");
}
