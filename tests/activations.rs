//! The activations LeakyRelu, Elu, Gelu, GeluTanh, Silu and Softplus as
//! layers: the gradient checker passes on a network around each (f64 and
//! f32) and fails when a backward bug is planted in it; they compose with
//! `input().then(..)`, `Net::new`, tuples and blocks; they are named in
//! summaries and weight files and survive a save and load; `Training::fit`
//! trains through each (its dispatched loop, with the fused kernels).

use stackgrad::gradcheck::GradCheck;
use stackgrad::init::Init;
use stackgrad::loss::HalfSquaredError;
use stackgrad::nn::{
    Activation, Concat, Connect, Custom, Dense, Elu, Gelu, GeluTanh, Layer, LeakyRelu, Net, Params,
    Residual, Silu, Softplus, image_input, input,
};
use stackgrad::rand::{SeedableRng, rngs::StdRng};
use stackgrad::shape::{At, Unknown};
use stackgrad::{Error, Images, Matrix, Scalar};

/// Calls `$check(activation)` for each new activation, with settings off
/// their defaults where they have some.
macro_rules! for_each_activation {
    ($check:ident) => {
        $check(LeakyRelu::new(0.2).unwrap());
        $check(Elu::new(1.7).unwrap());
        $check(Gelu);
        $check(GeluTanh);
        $check(Silu);
        $check(Softplus::new(2.0, 15.0).unwrap());
        $check(LeakyRelu::default());
        $check(Elu::default());
        $check(Softplus::default());
    };
}

/// Inputs spread over about `[-3, 3]`, so that the hidden layer's
/// pre-activations cover both sides of 0 and the curved parts.
fn rows<T: Scalar, const B: usize, const N: usize>(seed: usize) -> Matrix<T, B, N> {
    Matrix::from_fn(|r, c| T::from_f64(3.0 * (((seed + r * 17 + c * 5) as f64) * 0.73).sin()))
}

fn net<T: Scalar, A: Copy>(a: A) -> Net<(Dense<T, 3, 6>, A, Dense<T, 6, 2>)>
where
    (Dense<T, 3, 6>, A, Dense<T, 6, 2>): Connect<Unknown, At<0>>,
{
    let mut rng = StdRng::seed_from_u64(3);
    let init = Init::Uniform { limit: 1.0 };
    Net::new((Dense::init(init, &mut rng), a, Dense::init(init, &mut rng)))
}

/// Whether the gradient checker passes on [`net`] around `$a` in `$t`.
macro_rules! passes {
    ($a:expr, $t:ty) => {{
        let report = GradCheck::new()
            .check(
                &net::<$t, _>($a),
                &HalfSquaredError,
                &rows::<$t, 8, 3>(1),
                &rows::<$t, 8, 2>(9),
            )
            .unwrap();
        println!("{:?} ({}):\n{report}", $a, <$t as Scalar>::NAME);
        report.passed()
    }};
}

#[test]
fn gradients_pass_for_every_activation_in_f64_and_f32() {
    macro_rules! check {
        ($a:expr) => {
            assert!(passes!($a, f64), "{:?} f64", $a);
            assert!(passes!($a, f32), "{:?} f32", $a);
        };
    }
    check!(LeakyRelu::new(0.2).unwrap());
    check!(Elu::new(1.7).unwrap());
    check!(Gelu);
    check!(GeluTanh);
    check!(Silu);
    check!(Softplus::new(2.0, 15.0).unwrap());
    check!(LeakyRelu::default());
    check!(Elu::default());
    check!(Softplus::default());
}

/// How a [`Planted`] activation's backward is wrong.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Bug {
    /// `∂L/∂x` scaled by 1.1.
    Scale,
    /// The derivative evaluated at the output instead of the input
    /// (`f'(y)` for `f'(x)`).
    AtOutput,
}

/// An activation whose backward has `bug`; forward is the activation's.
#[derive(Clone, Copy, Debug)]
struct Planted<A> {
    act: A,
    bug: Bug,
}

impl<A: Activation, T: Scalar, const B: usize, const N: usize> Layer<Matrix<T, B, N>>
    for Planted<A>
{
    type Output = Matrix<T, B, N>;
    type Cache = ();
    fn forward(&self, x: &Matrix<T, B, N>) -> (Matrix<T, B, N>, ()) {
        (x.map(|v| self.act.f(v)), ())
    }
    fn backward(
        &self,
        x: &Matrix<T, B, N>,
        y: &Matrix<T, B, N>,
        (): &(),
        dy: &Matrix<T, B, N>,
        _: &mut Self,
    ) -> Matrix<T, B, N> {
        Matrix::from_fn(|r, c| {
            let (x, y, d) = (x[(r, c)], y[(r, c)], dy[(r, c)]);
            match self.bug {
                Bug::Scale => d * self.act.df(x, y) * T::from_f64(1.1),
                Bug::AtOutput => d * self.act.df(y, y),
            }
        })
    }
}

#[test]
fn a_planted_backward_bug_in_each_activation_fails() {
    fn check<A: Activation>(a: A) {
        for bug in [Bug::Scale, Bug::AtOutput] {
            // A positive slope has the same sign at x and y: f'(y) = f'(x).
            if bug == Bug::AtOutput && format!("{a:?}").starts_with("LeakyRelu") {
                continue;
            }
            let planted = net::<f64, _>(Custom(Planted { act: a, bug }));
            let report = GradCheck::new()
                .check(
                    &planted,
                    &HalfSquaredError,
                    &rows::<f64, 8, 3>(1),
                    &rows::<f64, 8, 2>(9),
                )
                .unwrap();
            assert!(!report.passed(), "{a:?} with {bug:?} passed:\n{report}");
        }
    }
    for_each_activation!(check);
}

#[test]
fn activations_compose_in_builders_tuples_and_blocks() {
    let leaky = LeakyRelu::new(0.1).unwrap();
    let mlp = input::<4>()
        .then(Dense::<f64, 4, 8>::zeros())
        .then(Gelu)
        .then(Dense::zeros())
        .then(GeluTanh)
        .then(Residual::new(Net::new((Dense::<f64, 8, 8>::zeros(), Silu))))
        .then(Concat::new(Elu::default(), Softplus::default()))
        .then(Dense::<f64, 16, 3>::zeros())
        .then(leaky)
        .build();
    let x = rows::<f64, 5, 4>(2);
    let (y, cache) = mlp.forward(&x);
    // Zero weights: the concatenation is ELU(0) = 0 next to softplus(0) = ln 2,
    // and the last dense layer's zero weights give 0.
    assert_eq!(y, Matrix::zeros());
    let mut grads = mlp.zeros_like();
    let dx = mlp.backward(&x, &y, &cache, &Matrix::splat(1.0), &mut grads);
    assert!(dx.is_finite());
    let summary = mlp.summary::<Matrix<f64, 5, 4>, f64>().to_string();
    for name in ["Gelu", "GeluTanh", "Silu", "Elu", "Softplus", "LeakyRelu"] {
        assert!(summary.contains(name), "{name} missing from\n{summary}");
    }

    // In a tuple network, and on images.
    let tuple = Net::new((Dense::<f32, 2, 3>::zeros(), Elu::new(0.5).unwrap(), Silu));
    assert_eq!(
        tuple.infer(&Matrix::<f32, 4, 2>::splat(1.0)),
        Matrix::zeros()
    );
    let conv = image_input::<1, 3, 3>()
        .then(stackgrad::nn::Conv2d::<f32, 1, 2, 3, 1, 1>::zeros())
        .then(Softplus::new(2.0, 10.0).unwrap())
        .then(GeluTanh)
        .build();
    let out = conv.infer(&Images::<f32, 2, 1, 3, 3>::splat(1.0));
    let want = 0.5 * core::f32::consts::LN_2; // softplus(0) with β = 2
    let gt = GeluTanh.f(want);
    assert!(out.as_slice().iter().all(|&v| v == gt), "{out:?}");
}

#[test]
fn networks_with_activations_save_and_load() {
    let mut rng = StdRng::seed_from_u64(11);
    let init = Init::XavierUniform;
    let trained = Net::new((
        Dense::<f32, 3, 4>::init(init, &mut rng),
        LeakyRelu::new(0.2).unwrap(),
        Dense::<f32, 4, 4>::init(init, &mut rng),
        Gelu,
        Dense::<f32, 4, 2>::init(init, &mut rng),
        Softplus::default(),
    ));
    let bytes = stackgrad::io::to_bytes(&trained, &[]).unwrap();
    let mut fresh = Net::new((
        Dense::<f32, 3, 4>::zeros(),
        LeakyRelu::new(0.2).unwrap(),
        Dense::<f32, 4, 4>::zeros(),
        Gelu,
        Dense::<f32, 4, 2>::zeros(),
        Softplus::default(),
    ));
    stackgrad::io::from_bytes(&mut fresh, &bytes, "mem").unwrap();
    assert_eq!(fresh, trained);
    let x = rows::<f32, 5, 3>(4);
    assert_eq!(fresh.infer(&x), trained.infer(&x));

    // The file names its activations: GELU's tanh form is another network.
    let mut other = Net::new((
        Dense::<f32, 3, 4>::zeros(),
        LeakyRelu::new(0.2).unwrap(),
        Dense::<f32, 4, 4>::zeros(),
        GeluTanh,
        Dense::<f32, 4, 2>::zeros(),
        Softplus::default(),
    ));
    match stackgrad::io::from_bytes(&mut other, &bytes, "mem") {
        Err(Error::Architecture { difference, .. }) => {
            assert_eq!(
                difference,
                "layer 3 is Gelu in the file but GeluTanh in the network"
            );
        }
        other => panic!("{other:?}"),
    }
}

/// The training loop (whose epoch runs in the dispatched copy, with each
/// activation's `f_fused`/`df_fused` where the CPU has FMA) learns the
/// quadrant XOR through each activation: at least 230 of 256 points right
/// after 60 epochs (251 to 254 measured, from 120 to 177 before), the same
/// weights for the same seed.
#[test]
fn fit_trains_through_each_activation() {
    use stackgrad::batch::Dataset;
    use stackgrad::loss::SoftmaxCrossEntropy;
    use stackgrad::optim::Adam;
    use stackgrad::train::Training;

    let x: Vec<[f32; 2]> = (0..256)
        .map(|i| {
            let (a, b) = ((i as f32 * 0.61).sin(), (i as f32 * 1.37).cos());
            [2.0 * a, 2.0 * b]
        })
        .collect();
    let y: Vec<usize> = x.iter().map(|p| usize::from(p[0] * p[1] > 0.0)).collect();
    macro_rules! check {
        ($a:expr) => {{
            let fit = || {
                let mut rng = StdRng::seed_from_u64(5);
                let mut net = Net::new((
                    Dense::<f32, 2, 64>::init(Init::XavierUniform, &mut rng),
                    $a,
                    Dense::<f32, 64, 2>::init(Init::XavierUniform, &mut rng),
                ));
                let mut t = Training::new(SoftmaxCrossEntropy::mean(), Adam::new(2e-2))
                    .batch::<32>()
                    .epochs(60)
                    .seed(1);
                let data = Dataset::new(&x, &y).unwrap();
                let before = t.evaluate(&net, data).unwrap();
                t.fit(&mut net, data, |_, _| {}).unwrap();
                let after = t.evaluate(&net, data).unwrap();
                (net, before.correct.unwrap(), after.correct.unwrap())
            };
            let (net, before, after) = fit();
            println!("{:?}: {before} -> {after} of 256", $a);
            assert!(after >= 230, "{:?}: {before} -> {after} of 256", $a);
            assert_eq!(fit().0, net);
        }};
    }
    check!(LeakyRelu::new(0.2).unwrap());
    check!(Elu::default());
    check!(Gelu);
    check!(GeluTanh);
    check!(Silu);
    check!(Softplus::default());
}
