//! Mutation suite: a dense-plus-sigmoid layer with one planted backprop bug at a
//! time. The checker must report each bug as failing, on the tensor the bug
//! corrupts (and only there), for every one of many random seeds, in f64 and f32;
//! the same layer without a bug must pass every time.

use stackgrad::gradcheck::{GradCheck, Hint, Report};
use stackgrad::init::standard_normal;
use stackgrad::loss::{HalfSquaredError, Loss, MeanSquaredError};
use stackgrad::nn::{
    Dense, Layer, Net, ParamName, Params, Recast, Shape, Tensor, TensorMut, sigmoid,
};
use stackgrad::rand::{SeedableRng, rngs::StdRng};
use stackgrad::{Matrix, Scalar};

const SEEDS: u64 = 100;

/// The planted bugs (`MissingOneOverN` lives in the loss, see [`ForgetfulMse`]).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Bug {
    None,
    /// `db = D[0]`: the first example's gradient, not the sum over the batch.
    MissingBatchSum,
    /// `db = mean over the batch of D` instead of the sum.
    MeanInsteadOfSum,
    /// `Dᵀ X` (O x I) written where `Xᵀ D` (I x O) belongs.
    TransposedWeight,
    /// `dW = -Xᵀ D`.
    SignFlip,
    /// `D = dY` instead of `dY ⊙ σ'(Z)`.
    MissingActivationDerivative,
    /// `dW` from the layer's output instead of its input.
    WrongInput,
    /// `dW` from an earlier batch's input (a cache that was not refreshed).
    StaleCache,
}

/// `Y = σ(X W + b)` with a planted bug in backward. `B` is in the type only so
/// that the layer can hold an earlier batch for [`Bug::StaleCache`].
#[derive(Debug, Clone, Copy)]
struct Mutant<T, const B: usize, const I: usize, const O: usize> {
    weight: Matrix<T, I, O>,
    bias: [T; O],
    earlier_batch: Matrix<T, B, I>,
    bug: Bug,
}

impl<T: Scalar, const B: usize, const I: usize, const O: usize> Layer<Matrix<T, B, I>>
    for Mutant<T, B, I, O>
{
    type Output = Matrix<T, B, O>;
    type Cache = (Matrix<T, B, I>, Matrix<T, B, O>);

    fn forward(&self, x: &Matrix<T, B, I>) -> (Matrix<T, B, O>, Self::Cache) {
        let y = x.matmul(&self.weight).add_row(&self.bias).map(sigmoid);
        (y, (*x, y))
    }

    // Reads its own cache (a copy of the input and output), not the `x` and
    // `y` it is given: the mutations below act on what it keeps.
    fn backward(
        &self,
        _: &Matrix<T, B, I>,
        _: &Matrix<T, B, O>,
        (x, y): &Self::Cache,
        dy: &Matrix<T, B, O>,
        g: &mut Self,
    ) -> Matrix<T, B, I> {
        let d = match self.bug {
            Bug::MissingActivationDerivative => *dy,
            _ => dy.zip_map(y, |dy, y| dy * y * (T::one() - y)),
        };
        let input = match self.bug {
            Bug::StaleCache => self.earlier_batch,
            Bug::WrongInput => Matrix::from_fn(|b, i| y[(b, i % O)]),
            _ => *x,
        };
        g.weight = match self.bug {
            Bug::SignFlip => -input.t_matmul(&d),
            Bug::TransposedWeight => Matrix::from_slice(d.t_matmul(&input).as_slice()).unwrap(),
            _ => input.t_matmul(&d),
        };
        g.bias = match self.bug {
            Bug::MissingBatchSum => *d.row(0),
            Bug::MeanInsteadOfSum => d.sum_rows().map(|s| s / T::from_usize(B)),
            _ => d.sum_rows(),
        };
        d.matmul_t(&self.weight)
    }
}

/// It takes rows of `I` values and gives rows of `O`, at batch `B` only.
impl<S, A, T, const B: usize, const I: usize, const O: usize> stackgrad::nn::Connect<S, A>
    for Mutant<T, B, I, O>
{
    type Out = stackgrad::shape::Rows<T, O>;
}

impl<T: Scalar, const B: usize, const I: usize, const O: usize> Params<T> for Mutant<T, B, I, O> {
    const TENSORS: usize = 2;
    const PARAMS: usize = I * O + O;
    fn tensor(&self, k: usize) -> Option<Tensor<'_, T>> {
        let (name, shape, data) = match k {
            0 => ("weight", Shape::new(&[I, O]), self.weight.as_slice()),
            1 => ("bias", Shape::new(&[O]), &self.bias[..]),
            _ => return None,
        };
        Some(Tensor {
            name: ParamName::leaf(name),
            shape,
            data,
        })
    }
    fn tensor_mut(&mut self, k: usize) -> Option<TensorMut<'_, T>> {
        let (name, shape, data) = match k {
            0 => ("weight", Shape::new(&[I, O]), self.weight.as_mut_slice()),
            1 => ("bias", Shape::new(&[O]), &mut self.bias[..]),
            _ => return None,
        };
        Some(TensorMut {
            name: ParamName::leaf(name),
            shape,
            data,
        })
    }
    fn zeros_like(&self) -> Self {
        Self {
            weight: Matrix::zeros(),
            bias: [T::zero(); O],
            ..*self
        }
    }
}

impl<T: Scalar, U: Scalar, const B: usize, const I: usize, const O: usize> Recast<U>
    for Mutant<T, B, I, O>
{
    type Output = Mutant<U, B, I, O>;
    fn recast(&self) -> Mutant<U, B, I, O> {
        Mutant {
            weight: self.weight.cast(),
            bias: self.bias.map(|b| U::from_f64(b.as_f64())),
            earlier_batch: self.earlier_batch.cast(),
            bug: self.bug,
        }
    }
}

/// Mean squared error whose gradient forgets the `1/B` of the mean: the
/// "missing 1/N" bug. Every gradient comes out `B` times too large.
#[derive(Debug, Clone, Copy)]
struct ForgetfulMse;

impl<T: Scalar, const B: usize, const O: usize> Loss<Matrix<T, B, O>, Matrix<T, B, O>>
    for ForgetfulMse
{
    type Value = T;
    fn loss(&self, p: &Matrix<T, B, O>, y: &Matrix<T, B, O>) -> T {
        MeanSquaredError.loss(p, y)
    }
    fn loss_and_grad(&self, p: &Matrix<T, B, O>, y: &Matrix<T, B, O>) -> (T, Matrix<T, B, O>) {
        (self.loss(p, y), *p - *y)
    }
}

const B: usize = 5;
type Case<T> = (
    Net<(Mutant<T, B, 3, 4>, Dense<T, 4, 2>)>,
    Matrix<T, B, 3>,
    Matrix<T, B, 2>,
);

/// A random network, batch and target for one seed.
fn case<T: Scalar>(bug: Bug, seed: u64) -> Case<T> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut randn = || T::from_f64(standard_normal(&mut rng));
    let mutant = Mutant {
        weight: Matrix::from_fn(|_, _| randn()),
        bias: core::array::from_fn(|_| randn()),
        earlier_batch: Matrix::from_fn(|_, _| randn()),
        bug,
    };
    let dense = Dense::new(
        Matrix::from_fn(|_, _| randn()),
        core::array::from_fn(|_| randn()),
    );
    let x = Matrix::from_fn(|_, _| randn());
    let y = Matrix::from_fn(|_, _| randn());
    (Net::new((mutant, dense)), x, y)
}

/// The names of the failing tensors.
fn failing(report: &Report) -> Vec<String> {
    report.failures().map(|t| t.name.to_string()).collect()
}

/// Every seed: exactly `expected` fail, each with `hint` where one is given.
fn assert_caught<T: Scalar>(bug: Bug, expected: &[&str], hint: Option<Hint>) {
    for seed in 0..SEEDS {
        let (net, x, y) = case::<T>(bug, seed);
        let report = GradCheck::new()
            .check(&net, &HalfSquaredError, &x, &y)
            .unwrap();
        assert_eq!(
            failing(&report),
            expected,
            "{bug:?} ({}), seed {seed}:\n{report}",
            T::NAME
        );
        if let Some(h) = hint {
            for name in expected {
                assert_eq!(
                    report.tensor(name).unwrap().hint,
                    Some(h),
                    "{bug:?}, seed {seed}:\n{report}"
                );
            }
        }
    }
}

fn suite<T: Scalar>() {
    println!(
        "{}: 7 planted bugs and the bug-free layer, {SEEDS} seeds each: every bug failed on its tensor",
        T::NAME
    );
    assert_caught::<T>(Bug::None, &[], None);
    assert_caught::<T>(Bug::MissingBatchSum, &["0.bias"], None);
    assert_caught::<T>(
        Bug::MeanInsteadOfSum,
        &["0.bias"],
        Some(Hint::DividedByBatch(B)),
    );
    assert_caught::<T>(Bug::TransposedWeight, &["0.weight"], Some(Hint::Transposed));
    assert_caught::<T>(Bug::SignFlip, &["0.weight"], Some(Hint::SignFlipped));
    assert_caught::<T>(
        Bug::MissingActivationDerivative,
        &["0.weight", "0.bias", "input"],
        None,
    );
    assert_caught::<T>(Bug::WrongInput, &["0.weight"], None);
    assert_caught::<T>(Bug::StaleCache, &["0.weight"], None);
}

#[test]
fn every_planted_bug_fails_on_its_tensor_f64() {
    suite::<f64>();
}

#[test]
fn every_planted_bug_fails_on_its_tensor_f32() {
    suite::<f32>();
}

/// The loss forgets `1/B`: every tensor fails, each with the ratio `B` named.
#[test]
fn missing_one_over_n_scales_every_tensor_by_the_batch() {
    for seed in 0..SEEDS {
        let (net, x, y) = case::<f64>(Bug::None, seed);
        let report = GradCheck::new().check(&net, &ForgetfulMse, &x, &y).unwrap();
        assert_eq!(
            failing(&report),
            ["0.weight", "0.bias", "1.weight", "1.bias", "input"],
            "seed {seed}"
        );
        for t in report.tensors() {
            assert_eq!(
                t.hint,
                Some(Hint::MultipliedByBatch(B)),
                "seed {seed}:\n{report}"
            );
        }
        let (net, x, y) = case::<f32>(Bug::None, seed);
        let report = GradCheck::new().check(&net, &ForgetfulMse, &x, &y).unwrap();
        assert_eq!(report.failures().count(), 5, "seed {seed}:\n{report}");
    }
}

/// What a failing report looks like (run with `--nocapture`).
#[test]
fn failing_report_names_tensor_element_and_hint() {
    let (net, x, y) = case::<f64>(Bug::SignFlip, 0);
    let report = GradCheck::new()
        .check(&net, &HalfSquaredError, &x, &y)
        .unwrap();
    let text = report.to_string();
    println!("{text}");
    assert!(text.contains("0.weight") && text.contains("FAIL") && text.contains("sign flipped"));
    assert!(text.contains("overall: FAIL"));
}
