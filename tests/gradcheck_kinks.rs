//! Kinks: the subgradients the library documents where a function has no
//! derivative, pinned against PyTorch's, and every checker (a single layer,
//! a vector-Jacobian product, a whole network) reporting an input on a kink,
//! or within a step of one, as a kink instead of a failure.

use stackgrad::gradcheck::GradCheck;
use stackgrad::loss::HalfSquaredError;
use stackgrad::nn::{
    Activation, Dense, Elu, Layer, LeakyRelu, MaxPool2d, Net, Relu, Sigmoid, Softplus, Tanh,
};
use stackgrad::{Images, Matrix};

/// `∂/∂x Σ layer(x)` at each element of `x`, through the layer's backward.
fn slopes<L: Layer<Matrix<f64, 1, 4>, Output = Matrix<f64, 1, 4>> + Copy>(
    layer: L,
    x: [f64; 4],
) -> [f64; 4] {
    let x = Matrix::from_array([x]);
    let (y, cache) = layer.forward(&x);
    let dx = layer.backward(&x, &y, &cache, &Matrix::splat(1.0), &mut layer.clone());
    *dx.row(0)
}

/// PyTorch 2.15, float64 (`scripts` style; the values below are its output):
///
/// ```python
/// import torch
/// torch.set_default_dtype(torch.float64)
/// def grad(f, x, dy=None):
///     x = torch.tensor(x, requires_grad=True)
///     y = f(x)
///     y.backward(torch.ones_like(y) if dy is None else torch.tensor(dy))
///     return x.grad.tolist()
/// F = torch.nn.functional
/// grad(torch.relu, [-1.0, -0.0, 0.0, 2.0])                     # [0.0, 0.0, 0.0, 1.0]
/// grad(lambda x: F.leaky_relu(x, 0.01), [-1.0, -0.0, 0.0, 2.0])  # [0.01, 0.01, 0.01, 1.0]
/// grad(lambda x: F.leaky_relu(x, 0.2), [-1.0, -0.0, 0.0, 2.0])   # [0.2, 0.2, 0.2, 1.0]
/// grad(lambda x: F.elu(x, 1.5), [-1.0, -0.0, 0.0, 2.0])          # [0.5518191617571635, 1.5, 1.5, 1.0]
/// grad(lambda x: F.softplus(x, 1.0, 20.0), [20.0, 20.000001, 19.999, 0.0])
/// # [0.9999999979388464, 1.0, 0.9999999979367842, 0.5]
/// ```
#[test]
fn documented_subgradients_at_kinks_match_pytorch() {
    let at = [-1.0, -0.0, 0.0, 2.0];
    // ReLU'(0) = 0, on both zeros.
    assert_eq!(slopes(Relu, at), [0.0, 0.0, 0.0, 1.0]);
    // Leaky ReLU at 0: the slope below.
    assert_eq!(slopes(LeakyRelu::default(), at), [0.01, 0.01, 0.01, 1.0]);
    assert_eq!(
        slopes(LeakyRelu::new(0.2).unwrap(), at),
        [0.2, 0.2, 0.2, 1.0]
    );
    // ELU at 0 with α = 1.5: α, the slope below.
    let elu = slopes(Elu::new(1.5).unwrap(), at);
    assert_eq!(elu[1..], [1.5, 1.5, 1.0]);
    assert!((elu[0] - 0.5518191617571635).abs() < 1e-15, "{elu:?}");
    // Softplus at its threshold βx = 20: still σ(20), 1 only above.
    let sp = slopes(Softplus::default(), [20.0, 20.000001, 19.999, 0.0]);
    assert!((sp[0] - 0.9999999979388464).abs() < 1e-15, "{sp:?}");
    assert_eq!(sp[1], 1.0);
    assert!((sp[2] - 0.9999999979367842).abs() < 1e-15, "{sp:?}");
    assert_eq!(sp[3], 0.5);
}

/// Max pooling sends a tied window's gradient to its first maximum in
/// row-major order, as PyTorch does:
///
/// ```python
/// x = [[[[1.0, 1.0, 0.5, 2.0], [1.0, 1.0, 2.0, 2.0]]]]
/// grad(lambda x: F.max_pool2d(x, 2), x, [[[[10.0, 20.0]]]])
/// # [[[[10.0, 0.0, 0.0, 20.0], [0.0, 0.0, 0.0, 0.0]]]]
/// x = [[[[0.0, 0.0, 0.0], [0.0, 3.0, 3.0], [0.0, 3.0, 0.0]]]]
/// grad(lambda x: F.max_pool2d(x, 2, 1), x, [[[[1.0, 2.0], [4.0, 8.0]]]])
/// # [[[[0.0, 0.0, 0.0], [0.0, 15.0, 0.0], [0.0, 0.0, 0.0]]]]
/// ```
#[test]
fn max_pool_ties_go_to_the_first_maximum_as_in_pytorch() {
    let x = Images::<f64, 1, 1, 2, 4>::from_array([[[[1.0, 1.0, 0.5, 2.0], [1.0, 1.0, 2.0, 2.0]]]]);
    let (y, c) = MaxPool2d::<2>.forward(&x);
    let dy = Images::from_array([[[[10.0, 20.0]]]]);
    let dx = MaxPool2d::<2>.backward(&x, &y, &c, &dy, &mut MaxPool2d);
    assert_eq!(
        dx.into_array(),
        [[[[10.0, 0.0, 0.0, 20.0], [0.0, 0.0, 0.0, 0.0]]]]
    );

    let x = Images::<f64, 1, 1, 3, 3>::from_array([[[
        [0.0, 0.0, 0.0],
        [0.0, 3.0, 3.0],
        [0.0, 3.0, 0.0],
    ]]]);
    let (y, c) = MaxPool2d::<2, 1>.forward(&x);
    let dy = Images::from_array([[[[1.0, 2.0], [4.0, 8.0]]]]);
    let dx = MaxPool2d::<2, 1>.backward(&x, &y, &c, &dy, &mut MaxPool2d);
    assert_eq!(
        dx.into_array(),
        [[[[0.0, 0.0, 0.0], [0.0, 15.0, 0.0], [0.0, 0.0, 0.0]]]]
    );
}

/// A single layer checked at inputs exactly on its kink and within the step
/// of it (the default step is about 6e-6 here): kinks, reported, passed.
#[test]
fn a_single_layer_on_or_near_a_kink_is_a_kink() {
    let check = GradCheck::new();
    // Element 0 on the kink, element 3 within h of it, the rest away.
    let x = Matrix::from_array([[0.0f64, 1.5, -2.0, 2e-6], [0.7, -0.1, 3.0, -0.4]]);
    let layers = [
        check.check_layer(&Relu, &x).unwrap(),
        check
            .check_layer(&LeakyRelu::new(0.2).unwrap(), &x)
            .unwrap(),
        check.check_layer(&Elu::new(1.5).unwrap(), &x).unwrap(),
    ];
    for report in &layers {
        let input = report.tensors(&report.layers()[0])[0];
        assert!(report.passed(), "{report}");
        assert_eq!((input.kinks, input.first_kink), (2, Some(0)), "{report}");
        assert_eq!(input.compared, 6);
    }
    // ELU with α = 1 has no kink at 0.
    let report = check.check_layer(&Elu::default(), &x).unwrap();
    assert_eq!(report.kinks(), 0, "{report}");
    assert!(report.passed());

    // Max pooling over tied windows: moving either tied element moves the
    // maximum, a kink; the untied window compares.
    let img = Images::<f64, 2, 1, 2, 4>::from_array([
        [[[1.0, 1.0, 0.5, 2.5], [0.3, 0.2, 2.0, -1.0]]],
        [[[0.0, 0.0, 4.0, 1.0], [0.0, 0.0, 2.0, 3.0]]],
    ]);
    let report = check.check_layer(&MaxPool2d::<2>, &img).unwrap();
    assert!(report.passed(), "{report}");
    let input = report.tensors(&report.layers()[0])[0];
    assert_eq!((input.kinks, input.first_kink), (6, Some(0)), "{report}");
}

/// The vector-Jacobian check finds kinks from the function's values alone:
/// a leaky ReLU and an ELU on and near 0 pass with their kinks reported; a
/// smooth function reports none, and a wrong derivative still fails.
#[test]
fn a_vector_jacobian_product_on_or_near_a_kink_is_a_kink() {
    let check = GradCheck::new();
    let x = Matrix::from_array([[0.0f64, 1.5, -2.0, 2e-6], [0.7, -0.1, 3.0, -0.4]]);
    let dy = Matrix::from_array([[1.0, -0.5, 2.0, 0.3], [1.5, 0.7, -1.0, 2.0]]);
    let vjp = |act: &dyn Fn(f64, f64) -> f64, f: &dyn Fn(f64) -> f64| {
        let analytic = Matrix::from_fn(|r, c| dy[(r, c)] * act(x[(r, c)], f(x[(r, c)])));
        check.check_vjp(|x| x.map(f), &x, &dy, &analytic)
    };
    let leaky = LeakyRelu::new(0.2).unwrap();
    let r = vjp(&|x, y| leaky.df(x, y), &|x| leaky.f(x));
    assert!(r.passed() && (r.kinks, r.first_kink) == (2, Some(0)), "{r}");
    let elu = Elu::new(1.5).unwrap();
    let r = vjp(&|x, y| elu.df(x, y), &|x| elu.f(x));
    assert!(r.passed() && (r.kinks, r.first_kink) == (2, Some(0)), "{r}");
    let r = vjp(&|x, y| Relu.df(x, y), &|x| Relu.f(x));
    assert!(r.passed() && r.kinks == 2, "{r}");
    // Smooth: no kinks, also where the curvature changes sign or the slope is 0.
    let r = vjp(&|x, y| Tanh.df(x, y), &|x| Tanh.f(x));
    assert!(r.passed() && r.kinks == 0, "{r}");
    let r = vjp(&|x, _| 3.0 * x * x, &|x| x * x * x);
    assert!(r.passed() && r.kinks == 0, "{r}");
    let r = vjp(&|x, y| Sigmoid.df(x, y), &|x| Sigmoid.f(x));
    assert!(r.passed() && r.kinks == 0, "{r}");
    // A wrong derivative at the smooth elements fails, kinks or not.
    let r = vjp(&|x, _| if x > 0.0 { 0.2 } else { 1.0 }, &|x| leaky.f(x));
    assert!(!r.passed() && r.kinks == 2, "{r}");
    let r = vjp(&|_, y| 1.0 - y, &|x| Tanh.f(x));
    assert!(!r.passed() && r.kinks == 0, "{r}");
}

/// A network whose ELU (α = 1.5) sits on its kink: an input row of zeros
/// meets a zero bias. The end-to-end check reports the kinks (it failed
/// them before ELU wrote its pieces into the pattern).
#[test]
fn a_network_on_an_elu_kink_reports_it() {
    let net = Net::new((
        Dense::<f64, 2, 1>::new(Matrix::from_array([[0.8], [-0.3]]), [0.0]),
        Elu::new(1.5).unwrap(),
    ));
    let x = Matrix::from_array([[0.0, 0.0], [1.0, 0.5]]);
    let y = Matrix::from_array([[1.0], [0.0]]);
    let report = GradCheck::new()
        .check(&net, &HalfSquaredError, &x, &y)
        .unwrap();
    assert!(report.passed(), "{report}");
    assert_eq!(report.tensor("0.bias").unwrap().kinks, 1, "{report}");
    assert_eq!(report.tensor("input").unwrap().kinks, 2, "{report}");
}
