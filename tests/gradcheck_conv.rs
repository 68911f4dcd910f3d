//! The gradient checker (`stackgrad::gradcheck`) on the image layers: Conv2d
//! over strides, paddings, kernel 1 and kernels equal to the (padded) input;
//! max- and average-pooling; Flatten and Unflatten; in f64 and f32 (an f32
//! network is judged against the checker's f64 reference). Each network ends in
//! `Flatten` so that a matrix loss (half squared error against a fixed target)
//! closes it. Max-pooling reports ties as kinks through `Layer::pattern`.

use stackgrad::gradcheck::{GradCheck, Report};
use stackgrad::init::Init;
use stackgrad::loss::HalfSquaredError;
use stackgrad::nn::{
    AvgPool2d, Conv2d, Dense, Flatten, Layer, MaxPool2d, Net, Relu, Unflatten, image_input, input,
};
use stackgrad::rand::{SeedableRng, rngs::StdRng};
use stackgrad::{Images, Matrix, Scalar};

fn image<T: Scalar, const N: usize, const C: usize, const H: usize, const W: usize>(
    seed: usize,
) -> Images<T, N, C, H, W> {
    Images::from_fn(|n, c, i, j| {
        T::from_f64((((seed + n * 131 + c * 37 + i * 11 + j) as f64) * 0.61).sin())
    })
}

fn target<T: Scalar, const N: usize, const L: usize>() -> Matrix<T, N, L> {
    Matrix::from_fn(|r, c| T::from_f64(((r * L + c) as f64 * 0.3).cos()))
}

/// A fixed target of the prediction's (inferred) shape.
fn target_like<T: Scalar, const N: usize, const L: usize>(_: &Matrix<T, N, L>) -> Matrix<T, N, L> {
    target()
}

fn assert_passed(what: &str, report: &Report) {
    println!("{what}:\n{report}");
    assert!(report.passed(), "{what}:\n{report}");
}

macro_rules! conv_cases {
    ($($name:ident: $t:ty, N=$n:literal C=$c:literal H=$h:literal W=$w:literal F=$f:literal K=$k:literal S=$s:literal P=$p:literal;)*) => {$(
        #[test]
        fn $name() {
            let mut rng = StdRng::seed_from_u64(3);
            let mut conv = Conv2d::<$t, $c, $f, $k, $s, $p>::init(Init::Uniform { limit: 1.0 }, &mut rng);
            conv.bias = core::array::from_fn(|f| <$t>::from_f64(0.2 * f as f64 - 0.1));
            let net = image_input::<$c, $h, $w>().then(conv).then(Flatten).build();
            let x = image::<$t, $n, $c, $h, $w>(1);
            let y = net.infer(&x);
            let report = GradCheck::new()
                .check(&net, &HalfSquaredError, &x, &target_like(&y))
                .unwrap();
            assert_passed(stringify!($name), &report);
        }
    )*};
}

conv_cases! {
    conv_k3_s1_p0_f64: f64, N=2 C=2 H=5 W=5 F=3 K=3 S=1 P=0;
    conv_k3_s2_p1_f64: f64, N=2 C=3 H=6 W=7 F=2 K=3 S=2 P=1;
    conv_k3_s3_p2_f64: f64, N=1 C=2 H=7 W=7 F=2 K=3 S=3 P=2;
    conv_k1_s1_p0_f64: f64, N=1 C=2 H=4 W=5 F=3 K=1 S=1 P=0;
    conv_k1_s2_p1_f64: f64, N=1 C=2 H=5 W=4 F=2 K=1 S=2 P=1;
    conv_k_eq_padded_input_f64: f64, N=2 C=2 H=3 W=3 F=2 K=5 S=1 P=1;
    conv_k_eq_input_f64: f64, N=1 C=1 H=4 W=4 F=2 K=4 S=3 P=0;
    conv_k3_s1_p0_f32: f32, N=2 C=2 H=5 W=5 F=3 K=3 S=1 P=0;
    conv_k3_s2_p1_f32: f32, N=2 C=3 H=6 W=7 F=2 K=3 S=2 P=1;
    conv_k1_s2_p1_f32: f32, N=1 C=2 H=5 W=4 F=2 K=1 S=2 P=1;
    conv_k_eq_padded_input_f32: f32, N=2 C=2 H=3 W=3 F=2 K=5 S=1 P=1;
    conv_k5_s2_p2_f32: f32, N=1 C=2 H=8 W=6 F=2 K=5 S=2 P=2;
}

macro_rules! pool_cases {
    ($($name:ident: $pool:expr, $t:ty, N=$n:literal C=$c:literal H=$h:literal W=$w:literal;)*) => {$(
        #[test]
        fn $name() {
            // A convolution in front gives the checker parameters to perturb
            // (and, for max-pooling, moves maxima only at genuine kinks).
            let conv = Conv2d::<$t, $c, $c, 1>::init(Init::Uniform { limit: 1.0 }, &mut StdRng::seed_from_u64(5));
            let net = image_input::<$c, $h, $w>().then(conv).then($pool).then(Flatten).build();
            let x = image::<$t, $n, $c, $h, $w>(2);
            let y = net.infer(&x);
            let report = GradCheck::new()
                .check(&net, &HalfSquaredError, &x, &target_like(&y))
                .unwrap();
            assert_passed(stringify!($name), &report);
        }
    )*};
}

pool_cases! {
    max_k2_f64: MaxPool2d::<2>, f64, N=2 C=2 H=4 W=6;
    max_k3_s2_overlapping_f64: MaxPool2d::<3, 2>, f64, N=1 C=2 H=7 W=5;
    max_k2_f32: MaxPool2d::<2>, f32, N=2 C=2 H=4 W=6;
    max_k3_s1_f32: MaxPool2d::<3, 1>, f32, N=1 C=2 H=5 W=5;
    avg_k2_f64: AvgPool2d::<2>, f64, N=2 C=2 H=4 W=6;
    avg_k3_s2_overlapping_f64: AvgPool2d::<3, 2>, f64, N=1 C=2 H=7 W=5;
    avg_k2_f32: AvgPool2d::<2>, f32, N=2 C=2 H=4 W=6;
    avg_k3_s1_f32: AvgPool2d::<3, 1>, f32, N=1 C=2 H=5 W=5;
}

/// Flatten and Unflatten inside a network with dense layers on both sides.
#[test]
fn flatten_and_unflatten_f64_and_f32() {
    let mut rng = StdRng::seed_from_u64(9);
    let net = input::<12>()
        .then(Dense::<f64, 12, 12>::xavier_uniform(&mut rng))
        .then(Unflatten::<3, 2, 2>)
        .then(Conv2d::<f64, 3, 2, 2>::xavier_uniform(&mut rng))
        .then(Flatten)
        .then(Dense::<f64, 2, 3>::xavier_uniform(&mut rng))
        .build();
    let x = Matrix::<f64, 2, 12>::from_fn(|r, c| ((r * 12 + c) as f64).sin());
    let y = target::<f64, 2, 3>();
    assert_passed(
        "f64",
        &GradCheck::new()
            .check(&net, &HalfSquaredError, &x, &y)
            .unwrap(),
    );
    let net32: Net<_> = stackgrad::nn::Recast::<f32>::recast(&net);
    let report = GradCheck::new()
        .check(
            &net32,
            &HalfSquaredError,
            &x.map(|v| v as f32),
            &y.map(|v| v as f32),
        )
        .unwrap();
    assert_passed("f32", &report);
}

/// Ties inside max-pooling windows are kinks: reported, not failures.
#[test]
fn max_pool_ties_are_reported_as_kinks() {
    let conv = Conv2d::<f64, 1, 1, 1>::new([[[[1.0]]]], [0.0]);
    let net = Net::new((conv, Relu, MaxPool2d::<2>, Flatten));
    // The first window's maximum is tied (0.5 twice): perturbing either tied
    // input moves it, a kink. The second window's maximum (0.9) is clear and
    // its gradient is checked normally.
    let x = Images::<f64, 1, 1, 2, 4>::from_array([[[[0.5, 0.5, 0.2, 0.9], [0.1, 0.3, 0.7, 0.4]]]]);
    let report = GradCheck::new()
        .check(&net, &HalfSquaredError, &x, &Matrix::<f64, 1, 2>::zeros())
        .unwrap();
    println!("{report}");
    assert!(report.passed(), "{report}");
    assert_eq!(
        report.tensor("input").unwrap().kinks,
        2,
        "the tied maxima are kinks:\n{report}"
    );
    assert!(report.tensor("input").unwrap().error < 1e-9, "{report}");
    assert_eq!(Layer::infer(&net, &x).into_array(), [[0.5, 0.9]]);
}
