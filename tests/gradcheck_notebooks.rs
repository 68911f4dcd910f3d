//! The gradient checker on the notebooks' networks, against the figures the
//! notebooks print (see `/work/shared/seeds/README.md` for the notebooks).

use stackgrad::Matrix;
use stackgrad::gradcheck::{GradCheck, element_error};
use stackgrad::init::standard_normal;
use stackgrad::loss::{
    BinaryCrossEntropy, HalfSquaredError, Labels, Reduction, SoftmaxCrossEntropy,
};
use stackgrad::nn::{Dense, Linear, Net, Params, Relu, Sigmoid};
use stackgrad::rand::{SeedableRng, rngs::StdRng};

/// Notebook 000: 2 -> 3 -> 1 sigmoid network without biases, `J = ½ Σ (y - ŷ)²`,
/// X, Y, W1, W2 copied from the notebook's cell. numpy prints
/// `‖a - n‖ / ‖a + n‖ = 3.419e-10` at eps 1e-4.
#[test]
fn notebook_000_relative_error_below_1e9() {
    let net = Net::new((
        Linear::new(Matrix::from_array([
            [1.62434536, -0.61175641, -0.52817175],
            [-1.07296862, 0.86540763, -2.3015387],
        ])),
        Sigmoid,
        Linear::new(Matrix::from_array([
            [1.74481176],
            [-0.7612069],
            [0.3190391],
        ])),
        Sigmoid,
    ));
    let x = Matrix::from_array([[0.3, 1.0], [0.5, 0.2], [1.0, 0.4]]);
    let y = Matrix::from_array([[0.75], [0.82], [0.93]]);
    let report = GradCheck::new()
        .check(&net, &HalfSquaredError, &x, &y)
        .unwrap();
    println!("{report}");
    assert!(report.passed());

    // The notebook's single number over all parameters, at its step 1e-4 and at ours.
    for step in [1e-4, libm::cbrt(f64::EPSILON)] {
        let (n, _) =
            GradCheck::new()
                .step(step)
                .numerical_gradients(&net, &HalfSquaredError, &x, &y);
        let mut a = net.zeros_like();
        let (out, cache) = net.forward(&x);
        let d = out - y;
        net.backward(&cache, &d, &mut a);
        let (mut diff, mut sum) = (0.0f64, 0.0f64);
        for k in 0..2 {
            for (&a, &n) in a
                .tensor(k)
                .unwrap()
                .data
                .iter()
                .zip(n.tensor(k).unwrap().data)
            {
                diff += (a - n) * (a - n);
                sum += (a + n) * (a + n);
            }
        }
        let rel = diff.sqrt() / sum.sqrt();
        println!(
            "notebook 000, step {step:.1e}: ||a - n|| / ||a + n|| = {rel:.3e} (numpy: 3.419e-10)"
        );
        assert!(rel < 1e-9, "{rel}");
    }
}

/// Notebook 001: the 2 -> 25 -> 4 sigmoid / softmax classifier (Xavier uniform
/// init, 40 points from its four Gaussian clusters, cross-entropy summed over the
/// batch, here fused with the softmax). The notebook's acceptance test: the sum
/// over every parameter of `|a - n| / max(|a|, |n|)` is below 1e-4.
#[test]
fn notebook_001_sum_of_relative_errors_below_1e4() {
    let mut rng = StdRng::seed_from_u64(1);
    let clusters = [
        ([3.6, 40.0], [0.05f64.sqrt(), 10f64.sqrt()]),
        ([3.9, 10.0], [0.01f64.sqrt(), 5f64.sqrt()]),
        ([3.4, 30.0], [0.25f64.sqrt(), 5f64.sqrt()]),
        ([2.0, 10.0], [0.5f64.sqrt(), 10f64.sqrt()]),
    ];
    let classes: [usize; 40] = core::array::from_fn(|i| i / 10);
    let x = Matrix::<f64, 40, 2>::from_fn(|b, j| {
        let (mean, std) = clusters[classes[b]];
        mean[j] + std[j] * standard_normal(&mut rng)
    });
    let y = Labels::<40, 4>::new(classes).unwrap();
    let net = Net::new((
        Dense::<f64, 2, 25>::xavier_uniform(&mut rng),
        Sigmoid,
        Dense::<f64, 25, 4>::xavier_uniform(&mut rng),
    ));
    let loss = SoftmaxCrossEntropy::sum();
    let report = GradCheck::new().check(&net, &loss, &x, &y).unwrap();
    println!("{report}");
    assert!(report.passed());

    let (n, _) = GradCheck::new().numerical_gradients(&net, &loss, &x, &y);
    let mut a = net.zeros_like();
    let (out, cache) = net.forward(&x);
    let (_, d) = stackgrad::loss::Loss::loss_and_grad(&loss, &out, &y);
    net.backward(&cache, &d, &mut a);
    let mut total = 0.0;
    for k in 0..4 {
        for (&a, &n) in a
            .tensor(k)
            .unwrap()
            .data
            .iter()
            .zip(n.tensor(k).unwrap().data)
        {
            let m = a.abs().max(n.abs());
            if m > 0.0 {
                total += (a - n).abs() / m;
            }
        }
    }
    println!(
        "notebook 001: sum of |a - n| / max(|a|, |n|) over 179 parameters = {total:.3e} (must be < 1e-4)"
    );
    assert!(total < 1e-4, "{total}");
}

/// Notebook 004: 4 -> 5 -> 3 -> 1 network (ReLU, ReLU, sigmoid), binary
/// cross-entropy averaged over the batch of 3, parameters from
/// `np.random.seed(1)` (`test_case()`; the values below were printed by numpy
/// with that seed, and the notebook's own printout confirms them: its
/// "Parameter 0" is W1[0,0] = -0.3224172040135075 and its loss 2.4078333898).
/// The notebook's layout is features x batch with `W: out x in`; ours is batch
/// x features with `W: in x out`, so every matrix is transposed here.
/// Its check: `‖a - n‖ / (‖a‖ + ‖n‖) < 2e-7` at step 1e-7 (it prints 1.189e-7).
fn notebook_004() -> (
    Net<(
        Dense<f64, 4, 5>,
        Relu,
        Dense<f64, 5, 3>,
        Relu,
        Dense<f64, 3, 1>,
        Sigmoid,
    )>,
    Matrix<f64, 3, 4>,
    Matrix<f64, 3, 1>,
) {
    let x = Matrix::from_array([
        [1.6243453636632417, -0.6117564136500754, -0.5281717522634557],
        [-1.0729686221561705, 0.8654076293246785, -2.3015386968802827],
        [1.74481176421648, -0.7612069008951028, 0.31903909605709857],
        [-0.2493703754774101, 1.462107937044974, -2.060140709497654],
    ]);
    let w1 = Matrix::from_array([
        [
            -0.3224172040135075,
            -0.38405435466841564,
            1.1337694423354374,
            -1.0998912673140309,
        ],
        [
            -0.17242820755043575,
            -0.8778584179213718,
            0.04221374671559283,
            0.5828152137158222,
        ],
        [
            -1.1006191772129212,
            1.1447237098396141,
            0.9015907205927955,
            0.5024943389018682,
        ],
        [
            0.9008559492644118,
            -0.6837278591743331,
            -0.12289022551864817,
            -0.9357694342590688,
        ],
        [
            -0.2678880796260159,
            0.530355466738186,
            -0.691660751725309,
            -0.39675352685597737,
        ],
    ]);
    let b1 = [
        -0.6871727001195994,
        -0.8452056414987196,
        -0.671246130836819,
        -0.01266459891890136,
        -1.1173103486352778,
    ];
    let w2 = Matrix::from_array([
        [
            0.23441569781709215,
            1.6598021771098705,
            0.7420441605773356,
            -0.19183555236161492,
            -0.8876289640848363,
        ],
        [
            -0.7471582937508376,
            1.6924546010277466,
            0.05080775477602897,
            -0.6369956465693534,
            0.19091548466746602,
        ],
        [
            2.100255136478842,
            0.12015895248162915,
            0.6172031097074192,
            0.3001703199558275,
            -0.35224984649351865,
        ],
    ]);
    let b2 = [
        -1.1425181980221402,
        -0.3493427224128775,
        -0.2088942333747781,
    ];
    let w3 = Matrix::from_array([[0.5866231911821976, 0.8389834138745049, 0.9311020813035573]]);
    let b3 = [0.2855873252542588];
    let net = Net::new((
        Dense::new(w1.transpose(), b1),
        Relu,
        Dense::new(w2.transpose(), b2),
        Relu,
        Dense::new(w3.transpose(), b3),
        Sigmoid,
    ));
    (
        net,
        x.transpose(),
        Matrix::from_array([[1.0], [1.0], [0.0]]),
    )
}

#[test]
fn notebook_004_difference_below_2e7_at_step_1e7() {
    let (net, x, y) = notebook_004();
    let bce = BinaryCrossEntropy {
        reduction: Reduction::Mean,
    };
    // Per tensor, at the notebook's step, against the default tolerance (1e-6):
    // a step of 1e-7 leaves about 1e-16 · J / 1e-7 ≈ 3e-9 of rounding noise in each
    // numerical element, which some of the small tensors feel at the 2e-7 level.
    let report = GradCheck::new()
        .step(1e-7)
        .check(&net, &bce, &x, &y)
        .unwrap();
    println!("{report}");
    // The notebook's loss, J_plus / J_minus around 2.4078333898.
    assert!(
        (report.loss - 2.407833389834357).abs() < 1e-12,
        "{}",
        report.loss
    );
    assert!(report.passed());

    // The notebook's single number over all 47 parameters, against its 2e-7.
    let (n, _) = GradCheck::new()
        .step(1e-7)
        .numerical_gradients(&net, &bce, &x, &y);
    let mut a = net.zeros_like();
    let (out, cache) = net.forward(&x);
    let (_, d) = stackgrad::loss::Loss::loss_and_grad(&bce, &out, &y);
    net.backward(&cache, &d, &mut a);
    let (mut diff, mut aa, mut nn) = (0.0f64, 0.0f64, 0.0f64);
    for k in 0..6 {
        for (&a, &n) in a
            .tensor(k)
            .unwrap()
            .data
            .iter()
            .zip(n.tensor(k).unwrap().data)
        {
            diff += (a - n) * (a - n);
            aa += a * a;
            nn += n * n;
        }
    }
    let difference = diff.sqrt() / (aa.sqrt() + nn.sqrt());
    println!(
        "notebook 004: difference = {difference:.4e} at step 1e-7 (numpy: 1.189e-7, must be < 2e-7)"
    );
    assert!(difference < 2e-7, "{difference}");

    // Our backprop reproduces the notebook's printed analytic gradients
    // (grads_to_vector: dW1 5x4, dB1, dW2 3x5, dB2, dW3, dB3, row-major).
    let printed: [f64; 47] = [
        -0.37347779,
        -1.47903216,
        0.17596143,
        -1.33685036,
        -0.01967514,
        -0.08573553,
        0.01188465,
        -0.07674312,
        0.03916037,
        -0.05539735,
        0.04872715,
        -0.09359393,
        -0.05337778,
        -0.21138458,
        0.02514856,
        -0.19106384,
        0.0,
        0.0,
        0.0,
        0.0,
        0.63290787,
        0.0372514,
        -0.06401301,
        0.09045575,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.91580165,
        0.02451548,
        -0.10797954,
        0.90281891,
        0.0,
        0.0,
        0.0,
        0.19763343,
        0.0,
        0.0,
        2.24404238,
        0.21225753,
    ];
    let layers = &a.layers;
    let mut ours = Vec::new();
    ours.extend_from_slice(layers.0.weight.transpose().as_slice());
    ours.extend_from_slice(&layers.0.bias);
    ours.extend_from_slice(layers.2.weight.transpose().as_slice());
    ours.extend_from_slice(&layers.2.bias);
    ours.extend_from_slice(layers.4.weight.transpose().as_slice());
    ours.extend_from_slice(&layers.4.bias);
    for (i, (o, p)) in ours.iter().zip(printed).enumerate() {
        assert!(
            (o - p).abs() < 1e-8,
            "gradient {i}: ours {o} vs notebook {p}"
        );
    }
}

/// Notebook 003: one sigmoid neuron `f = σ(x w + b)` with w = [2, -3], x = [-1, -2],
/// b = -3: s = 1, f = 0.731059, dx = [0.39322387, -0.5898358],
/// dw = [-0.19661193, -0.39322387]; and the matrix-product gradients
/// `dW = Xᵀ dD`, `dX = dD Wᵀ` checked with `eval_numerical_gradient_array`
/// (the notebook's relative errors: 1.3e-10 and 3.1e-11).
#[test]
fn notebook_003_vector_jacobian_checks() {
    let w = Matrix::from_array([[2.0f64], [-3.0]]);
    let x = Matrix::from_array([[-1.0f64, -2.0]]);
    let neuron = |x: &Matrix<f64, 1, 2>, w: &Matrix<f64, 2, 1>| {
        x.matmul(w).map(|s| stackgrad::nn::sigmoid(s - 3.0))
    };
    let f = neuron(&x, &w);
    assert!((f[(0, 0)] - 0.731059).abs() < 1e-6);
    let ds = f.map(|f| f * (1.0 - f)); // upstream gradient 1
    let dx = ds.matmul_t(&w);
    let dw = x.t_matmul(&ds);
    for (got, want) in dx.as_slice().iter().zip([0.39322387, -0.5898358]) {
        assert!((got - want).abs() < 1e-8, "{got} vs {want}");
    }
    for (got, want) in dw.as_slice().iter().zip([-0.19661193, -0.39322387]) {
        assert!((got - want).abs() < 1e-8, "{got} vs {want}");
    }
    let one = Matrix::from_array([[1.0]]);
    let check = GradCheck::new().step(1e-5);
    let rx = check.check_vjp(|x| neuron(x, &w), &x, &one, &dx);
    let rw = check.check_vjp(|w| neuron(&x, w), &w, &one, &dw);
    println!(
        "notebook 003 neuron: dx {:.2e}, dw {:.2e}",
        rx.worst.unwrap().error,
        rw.worst.unwrap().error
    );
    assert!(rx.passed() && rw.passed());

    // D = X W with random X (3 x 4), W (4 x 5), dD (3 x 5), as in cell 4.
    let mut rng = StdRng::seed_from_u64(3);
    let mut randn = || standard_normal(&mut rng);
    let w = Matrix::<f64, 4, 5>::from_fn(|_, _| randn());
    let x = Matrix::<f64, 3, 4>::from_fn(|_, _| randn());
    let dd = Matrix::<f64, 3, 5>::from_fn(|_, _| randn());
    let re_w = check.check_vjp(|w| x.matmul(w), &w, &dd, &x.t_matmul(&dd));
    let re_x = check.check_vjp(|x| x.matmul(&w), &x, &dd, &dd.matmul_t(&w));
    let (ew, ex) = (re_w.worst.unwrap().error, re_x.worst.unwrap().error);
    println!(
        "notebook 003 matmul: max relative error dX {ex:.2e}, dW {ew:.2e} (numpy: 1.3e-10, 3.1e-11)"
    );
    assert!(ew < 1e-8 && ex < 1e-8);
    // A transposed dW (Dᵀ X stored where Xᵀ D belongs) is caught and named.
    let wrong = Matrix::<f64, 4, 5>::from_slice(dd.t_matmul(&x).as_slice()).unwrap();
    let r = check.check_vjp(|w| x.matmul(w), &w, &dd, &wrong);
    assert!(!r.passed());
    assert_eq!(r.hint, Some(stackgrad::gradcheck::Hint::Transposed));
    let _ = element_error(0.0, 0.0);
}
