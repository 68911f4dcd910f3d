//! The gradient checker on the notebooks' networks, against the figures the
//! notebooks print (see `/work/shared/seeds/README.md` for the notebooks).

#[path = "support/notebooks.rs"]
mod notebooks;

use notebooks::{Net004, notebook_000, notebook_001, notebook_004};
use stackgrad::Matrix;
use stackgrad::gradcheck::{GradCheck, element_error};
use stackgrad::init::standard_normal;
use stackgrad::loss::{BinaryCrossEntropy, HalfSquaredError, Loss, Reduction, SoftmaxCrossEntropy};
use stackgrad::nn::{Flat, FlatParams, Params};
use stackgrad::rand::{SeedableRng, rngs::StdRng};

/// Notebook 000: 2 -> 3 -> 1 sigmoid network without biases, `J = ½ Σ (y - ŷ)²`,
/// X, Y, W1, W2 copied from the notebook's cell. numpy prints
/// `‖a - n‖ / ‖a + n‖ = 3.419e-10` at eps 1e-4.
#[test]
fn notebook_000_relative_error_below_1e9() {
    let (net, x, y) = notebook_000();
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
        net.backward(&x, &out, &cache, &d, &mut a);
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
        if step == 1e-4 {
            readme_quotes(&format!(
                "notebook 000's relative error {rel:.3e} at step 1e-4"
            ));
        }
        assert!(rel < 1e-9, "{rel}");
    }
}

/// Notebook 001: the 2 -> 25 -> 4 sigmoid / softmax classifier (Xavier uniform
/// init, 40 points from its four Gaussian clusters, cross-entropy summed over the
/// batch, here fused with the softmax). The notebook's acceptance test: the sum
/// over every parameter of `|a - n| / max(|a|, |n|)` is below 1e-4.
#[test]
fn notebook_001_sum_of_relative_errors_below_1e4() {
    let (net, x, y) = notebook_001(1);
    let loss = SoftmaxCrossEntropy::sum();
    let report = GradCheck::new().check(&net, &loss, &x, &y).unwrap();
    println!("{report}");
    assert!(report.passed());

    let (n, _) = GradCheck::new().numerical_gradients(&net, &loss, &x, &y);
    let mut a = net.zeros_like();
    let (out, cache) = net.forward(&x);
    let (_, d) = loss.loss_and_grad(&out, &y);
    net.backward(&x, &out, &cache, &d, &mut a);
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
    readme_quotes(&format!(
        "notebook 001's sum of relative errors {total:.3e}"
    ));
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
    let (_, d) = bce.loss_and_grad(&out, &y);
    net.backward(&x, &out, &cache, &d, &mut a);
    // As the notebook does: both gradients flattened into one vector each
    // (params_to_vector / grads_to_vector), here statically 47 long.
    let (av, nv): (Flat<f64, Net004>, Flat<f64, Net004>) = (a.to_flat(), n.to_flat());
    assert_eq!(av.len(), 47);
    let (mut diff, mut aa, mut nn) = (0.0f64, 0.0f64, 0.0f64);
    for (&a, &n) in av.iter().zip(nv.iter()) {
        diff += (a - n) * (a - n);
        aa += a * a;
        nn += n * n;
    }
    let difference = diff.sqrt() / (aa.sqrt() + nn.sqrt());
    println!(
        "notebook 004: difference = {difference:.4e} at step 1e-7 (numpy: 1.189e-7, must be < 2e-7)"
    );
    assert!(difference < 2e-7, "{difference}");
    readme_quotes(&format!(
        "notebook 004's difference {difference:.4e} at step 1e-7"
    ));

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

/// The README quotes the figures these tests compute; this keeps the quotes
/// true (line breaks count as spaces).
fn readme_quotes(phrase: &str) {
    let readme = include_str!("../README.md")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        readme.contains(phrase),
        "README.md should say {phrase:?}, which is what this test computes"
    );
}
