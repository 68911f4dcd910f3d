//! Hostile inputs: NaN, ±∞, magnitudes of 1e30 and out-of-range labels, in
//! inputs, weights and targets. Every entry point must either return a clear
//! error or produce its documented result, and never panic:
//!
//! - NaN propagates: a NaN input element makes the rows it feeds NaN (dense),
//!   stays NaN through every activation, and makes the loss NaN.
//! - Sigmoid maps ±∞ to 1 and 0; its output is always in `[0, 1]` or NaN.
//! - LeakyReLU, ELU, GELU (both forms), SiLU and Softplus give NaN exactly
//!   where their input is NaN, a finite value for every finite input, their
//!   limits at ±∞ (`-∞`, `-α`, 0, 0, 0, 0 at `-∞`; `+∞` at `+∞`), and a
//!   backward that is NaN exactly where the upstream gradient or the input
//!   is NaN and finite elsewhere (for finite upstream gradients).
//! - Softmax rows either sum to 1 or are NaN (a row holding NaN or +∞); `-∞`
//!   entries get probability 0.
//! - Cross-entropy from logits stays finite for every finite logit, 1e30 included.
//! - Binary cross-entropy from logits is exact at ±∞ (0 for a saturated correct
//!   logit, +∞ for a wrong one).
//! - Labels out of range are an `Error` when the `Labels` value is made.

use stackgrad::loss::{
    BinaryCrossEntropy, BinaryCrossEntropyWithLogits, HalfSquaredError, Labels, Loss,
    MeanSquaredError, SoftmaxCrossEntropy, accuracy,
};
use stackgrad::nn::{
    Activation, Dense, Elu, Gelu, GeluTanh, Identity, Layer, LeakyRelu, Params, Relu, Sigmoid,
    Silu, Softmax, Softplus, Tanh, softmax_rows,
};
use stackgrad::rand::{RngExt, SeedableRng, rngs::StdRng};
use stackgrad::{Elements, Error, Matrix, Scalar};

const CASES: usize = 2000;

/// A value that is NaN, ±∞, ±1e30, 0, or ordinary, with equal odds.
fn hostile<T: Scalar>(rng: &mut StdRng) -> T {
    let v = match rng.random_range(0..7) {
        0 => f64::NAN,
        1 => f64::INFINITY,
        2 => f64::NEG_INFINITY,
        3 => 1e30,
        4 => -1e30,
        5 => 0.0,
        _ => 4.0 * rng.random::<f64>() - 2.0,
    };
    T::from_f64(v)
}

fn hostile_matrix<T: Scalar, const R: usize, const C: usize>(rng: &mut StdRng) -> Matrix<T, R, C> {
    Matrix::from_fn(|_, _| hostile(rng))
}

fn run_everything<T: Scalar>(seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    for _ in 0..CASES {
        let x: Matrix<T, 3, 4> = hostile_matrix(&mut rng);
        let layer = Dense::<T, 4, 5>::new(
            hostile_matrix(&mut rng),
            core::array::from_fn(|_| hostile(&mut rng)),
        );
        let (y, cache) = layer.forward(&x);
        // NaN propagates: a row with a NaN input is NaN wherever its weight... is
        // multiplied in; a NaN times anything is NaN, so every output of that row is NaN.
        for b in 0..3 {
            if x.row(b).iter().any(|v| v.is_nan()) {
                assert!(
                    y.row(b).iter().all(|v| v.is_nan()),
                    "NaN input row {b} gave {y:?}"
                );
            }
        }
        let mut g = layer.zeros_like();
        let dx = layer.backward(&x, &y, &cache, &y, &mut g);
        let _ = (dx, g);

        for v in Sigmoid.infer(&y).as_slice() {
            assert!(
                v.is_nan() || (T::zero()..=T::one()).contains(v),
                "sigmoid gave {v}"
            );
        }
        for v in Tanh.infer(&y).as_slice() {
            assert!(
                v.is_nan() || (-T::one()..=T::one()).contains(v),
                "tanh gave {v}"
            );
        }
        let r = Relu.infer(&y);
        for (a, b) in r.as_slice().iter().zip(y.as_slice()) {
            assert!(a.is_nan() == b.is_nan() && (a.is_nan() || *a >= T::zero()));
        }
        let dy: Matrix<T, 3, 5> = hostile_matrix(&mut rng);
        let minf = T::neg_infinity();
        let slope = LeakyRelu::new(0.3).unwrap();
        activation_rules(slope, &y, &dy, minf);
        activation_rules(Elu::new(1.5).unwrap(), &y, &dy, T::from_f64(-1.5));
        activation_rules(Gelu, &y, &dy, T::zero());
        activation_rules(GeluTanh, &y, &dy, T::zero());
        activation_rules(Silu, &y, &dy, T::zero());
        activation_rules(Softplus::default(), &y, &dy, T::zero());
        assert_eq!(
            Identity
                .infer(&y)
                .as_slice()
                .iter()
                .filter(|v| v.is_nan())
                .count(),
            y.as_slice().iter().filter(|v| v.is_nan()).count()
        );

        let (p, pc) = Softmax.forward(&y);
        for b in 0..3 {
            let row = p.row(b);
            let poisoned = y.row(b).iter().any(|v| v.is_nan() || *v == T::infinity())
                || y.row(b).iter().all(|v| *v == T::neg_infinity());
            if poisoned {
                assert!(
                    row.iter().all(|v| v.is_nan()),
                    "poisoned row {:?} gave {row:?}",
                    y.row(b)
                );
            } else {
                let s: f64 = row.iter().map(|v| v.as_f64()).sum();
                assert!((s - 1.0).abs() < 1e-5, "row {:?} sums to {s}", y.row(b));
            }
        }
        let _ = Softmax.backward(&y, &p, &pc, &p, &mut Softmax);

        // Losses never panic; with finite logits the cross-entropy is finite.
        let labels = Labels::<3, 5>::new(core::array::from_fn(|_| rng.random_range(0..5))).unwrap();
        let t: Matrix<T, 3, 5> = hostile_matrix(&mut rng);
        let (l, grad) = SoftmaxCrossEntropy::mean().loss_and_grad(&y, &labels);
        if y.is_finite() {
            assert!(
                l.is_finite() && grad.is_finite(),
                "finite logits {y:?} gave loss {l}"
            );
        }
        let _ = SoftmaxCrossEntropy::sum().loss_and_grad(&y, &t);
        let _ = HalfSquaredError.loss_and_grad(&y, &t);
        let _ = MeanSquaredError.loss_and_grad(&y, &t);
        let (l, grad) =
            BinaryCrossEntropyWithLogits::default().loss_and_grad(&y, &labels.one_hot());
        if y.is_finite() {
            assert!(
                l.is_finite() && grad.is_finite(),
                "finite logits {y:?} gave BCE {l}"
            );
        }
        // BCE from logits is exact at ±∞: with 0/1 targets and no NaN logit,
        // the loss is +∞ exactly where an infinite logit points the wrong
        // way and finite elsewhere; the gradient σ(z) - y is in [-1, 1].
        let onehot = labels.one_hot::<T>();
        if !y.as_slice().iter().any(|v| v.is_nan()) {
            let wrong = y.as_slice().iter().zip(onehot.as_slice()).any(|(&z, &t)| {
                (z == T::infinity() && t == T::zero()) || (z == T::neg_infinity() && t == T::one())
            });
            assert!(
                if wrong {
                    l == T::infinity()
                } else {
                    l.is_finite()
                },
                "logits {y:?} gave BCE {l}"
            );
            assert!(
                grad.as_slice()
                    .iter()
                    .all(|g| (-T::one()..=T::one()).contains(g)),
                "logits {y:?} gave the BCE gradient {grad:?}"
            );
        }
        let _ = BinaryCrossEntropy::default().loss_and_grad(&Sigmoid.infer(&y), &t);
        // BCE on probabilities: a value outside [0, 1] (or NaN) is never
        // clamped into range; it makes the loss NaN. In [0, 1] with 0/1
        // targets, loss and gradient are finite (0 and 1 are clamped to ε).
        let (l, grad) = BinaryCrossEntropy::default().loss_and_grad(&y, &onehot);
        if y.as_slice()
            .iter()
            .all(|p| (T::zero()..=T::one()).contains(p))
        {
            assert!(l.is_finite() && grad.is_finite(), "p = {y:?}: BCE {l}");
        } else {
            assert!(l.is_nan(), "invalid probabilities {y:?} gave BCE {l}");
        }
        let acc = accuracy(&y, &labels);
        assert!((T::zero()..=T::one()).contains(&acc));
        let _ = softmax_rows(&x);
    }
}

/// The rules of the smooth and leaky activations on hostile `x` and `dy`
/// (see the module docs); `at_minus_inf` is `f(-∞)`.
fn activation_rules<T: Scalar, A>(a: A, x: &Matrix<T, 3, 5>, dy: &Matrix<T, 3, 5>, at_minus_inf: T)
where
    A: Activation + Layer<Matrix<T, 3, 5>, Output = Matrix<T, 3, 5>, Cache = ()>,
{
    let (y, ()) = a.forward(x);
    let mut g = a;
    let dx = a.backward(x, &y, &(), dy, &mut g);
    for k in 0..15 {
        let (x, y, d, dx) = (
            x.as_slice()[k],
            y.as_slice()[k],
            dy.as_slice()[k],
            dx.as_slice()[k],
        );
        assert_eq!(y.is_nan(), x.is_nan(), "{a:?}({x}) = {y}");
        if x.is_finite() {
            assert!(y.is_finite(), "{a:?}({x}) = {y}");
        } else if x == T::infinity() {
            assert_eq!(y, x, "{a:?}({x})");
        } else if x == T::neg_infinity() {
            assert_eq!(y, at_minus_inf, "{a:?}({x})");
        }
        if d.is_nan() || x.is_nan() {
            assert!(dx.is_nan(), "{a:?}: x = {x}, dy = {d}, dx = {dx}");
        } else if d.is_finite() {
            assert!(dx.is_finite(), "{a:?}: x = {x}, dy = {d}, dx = {dx}");
        }
    }
}

#[test]
fn hostile_values_never_panic_and_follow_the_documented_rules_f32() {
    run_everything::<f32>(1);
}

#[test]
fn hostile_values_never_panic_and_follow_the_documented_rules_f64() {
    run_everything::<f64>(2);
}

#[test]
fn out_of_range_labels_are_errors() {
    let mut rng = StdRng::seed_from_u64(3);
    for _ in 0..CASES {
        let raw: [usize; 4] = core::array::from_fn(|_| match rng.random_range(0..3) {
            0 => rng.random_range(0..3),
            1 => rng.random_range(3..1000),
            _ => usize::MAX - rng.random_range(0..3),
        });
        match Labels::<4, 3>::new(raw) {
            Ok(l) => assert!(l.as_array().iter().all(|&c| c < 3)),
            Err(Error::LabelOutOfRange {
                row,
                label,
                classes,
            }) => {
                assert_eq!(classes, 3);
                assert_eq!(raw[row], label);
                assert!(label >= 3 && raw[..row].iter().all(|&c| c < 3));
            }
            Err(e) => panic!("unexpected error {e}"),
        }
    }
}

/// Image layers and the gradient checker under the same hostile values: no
/// panic; NaN propagates through convolution and pooling; the checker returns
/// a report or an error.
fn run_images_and_checker<T: Scalar>(seed: u64) {
    use stackgrad::Images;
    use stackgrad::gradcheck::GradCheck;
    use stackgrad::nn::{AvgPool2d, Conv2d, Flatten, MaxPool2d};

    let mut rng = StdRng::seed_from_u64(seed);
    for _ in 0..CASES / 10 {
        let x = Images::<T, 2, 2, 6, 6>::from_fn(|_, _, _, _| hostile(&mut rng));
        let conv = Conv2d::<T, 2, 3, 3, 1, 1>::new(
            core::array::from_fn(|_| {
                core::array::from_fn(|_| {
                    core::array::from_fn(|_| core::array::from_fn(|_| hostile(&mut rng)))
                })
            }),
            core::array::from_fn(|_| hostile(&mut rng)),
        );
        let (y, cache) = conv.forward(&x);
        // A NaN weight reaches every output whose taps all read real pixels
        // (padding taps are skipped): the centre pixel (2, 2) is such an output.
        for n in 0..2 {
            for f in 0..3 {
                if conv.weight[f]
                    .iter()
                    .flatten()
                    .flatten()
                    .any(|w| w.is_nan())
                {
                    assert!(
                        y[(n, f, 2, 2)].is_nan(),
                        "NaN filter {f} vanished at the centre"
                    );
                }
            }
        }
        let mut g = conv.zeros_like();
        let _: Images<T, 2, 2, 6, 6> = conv.backward(&x, &y, &cache, &y, &mut g);
        let (p, pc) = MaxPool2d::<2>.forward(&y);
        let _: Images<T, 2, 3, 6, 6> =
            MaxPool2d::<2>.backward(&y, &p, &pc, &p, &mut MaxPool2d::<2>);
        let (a, ac) = AvgPool2d::<2>.forward(&y);
        let _: Images<T, 2, 3, 6, 6> =
            AvgPool2d::<2>.backward(&y, &a, &ac, &a, &mut AvgPool2d::<2>);
        let (flat, fc) = Flatten.forward(&p);
        let _: Images<T, 2, 3, 3, 3> = Flatten.backward(&p, &flat, &fc, &flat, &mut Flatten);
        // NaN propagates through max-pooling: a window holding a NaN gives NaN.
        for n in 0..2 {
            for c in 0..3 {
                for i in 0..3 {
                    for j in 0..3 {
                        let window_nan = (0..2)
                            .any(|a| (0..2).any(|b| y[(n, c, 2 * i + a, 2 * j + b)].is_nan()));
                        if window_nan {
                            assert!(p[(n, c, i, j)].is_nan(), "max-pool hid a NaN");
                        }
                    }
                }
            }
        }

        // The checker on a hostile dense network: a report or an error, never a panic.
        let net = stackgrad::nn::Net::new((
            Dense::<T, 3, 2>::new(
                hostile_matrix(&mut rng),
                core::array::from_fn(|_| hostile(&mut rng)),
            ),
            Sigmoid,
        ));
        let xm: Matrix<T, 2, 3> = hostile_matrix(&mut rng);
        let ym: Matrix<T, 2, 2> = hostile_matrix(&mut rng);
        match GradCheck::new().check(&net, &HalfSquaredError, &xm, &ym) {
            Ok(report) => {
                let _ = report.passed();
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
}

#[test]
fn hostile_images_and_gradient_checks_never_panic_f32() {
    run_images_and_checker::<f32>(4);
}

#[test]
fn hostile_images_and_gradient_checks_never_panic_f64() {
    run_images_and_checker::<f64>(5);
}

/// A NaN in the upstream gradient reaches the input gradient of every layer
/// that reads that element (it is never turned into 0), and the parameter
/// gradients of every layer with parameters.
#[test]
fn a_nan_upstream_gradient_propagates_through_every_backward() {
    use stackgrad::nn::{
        AvgPool2d, BatchNorm1d, BatchNorm2d, Concat, Conv2d, Dropout, Flatten, LayerNorm, Linear,
        MaxPool2d, Projected, Residual, Unflatten,
    };
    use stackgrad::num_traits::Float;
    use stackgrad::{Elements, Images};

    fn dx_has_nan<X: Elements, L: Layer<X> + Params<X::Elem>>(layer: L, x: X) -> bool
    where
        L::Output: Elements<Elem = X::Elem>,
    {
        let (y, cache) = layer.forward(&x);
        let mut dy = y;
        for v in dy.elems_mut() {
            *v = X::Elem::from_f64(0.5);
        }
        dy.elems_mut()[0] = X::Elem::nan();
        let mut g = layer.zeros_like();
        let dx = layer.backward(&x, &y, &cache, &dy, &mut g);
        let params_ok =
            (0..L::TENSORS).all(|k| g.tensor(k).unwrap().data.iter().any(|v| v.is_nan()));
        dx.elems().iter().any(|v| v.is_nan()) && params_ok
    }

    let m = Matrix::<f64, 4, 3>::from_fn(|r, c| (r * 3 + c) as f64 * 0.3 - 1.0);
    let w = Matrix::<f64, 3, 3>::from_fn(|r, c| if r == c { 1.0 } else { 0.2 });
    let img = Images::<f64, 2, 2, 4, 4>::from_fn(|n, c, i, j| ((n + c + i * 4 + j) as f64).sin());
    assert!(dx_has_nan(Dense::new(w, [0.1; 3]), m), "Dense");
    assert!(dx_has_nan(Linear::new(w), m), "Linear");
    assert!(dx_has_nan(Softmax, m), "Softmax");
    assert!(dx_has_nan(BatchNorm1d::<f64, 3>::new(), m), "BatchNorm1d");
    assert!(dx_has_nan(LayerNorm::<f64, 3>::new(), m), "LayerNorm");
    assert!(dx_has_nan(Dropout::new(0.0).unwrap(), m), "Dropout");
    assert!(dx_has_nan(Relu, m), "Relu");
    assert!(dx_has_nan(Sigmoid, m), "Sigmoid");
    assert!(dx_has_nan(Tanh, m), "Tanh");
    assert!(dx_has_nan(LeakyRelu::default(), m), "LeakyRelu");
    assert!(dx_has_nan(Elu::default(), m), "Elu");
    assert!(dx_has_nan(Gelu, m), "Gelu");
    assert!(dx_has_nan(GeluTanh, img), "GeluTanh");
    assert!(dx_has_nan(Silu, img), "Silu");
    assert!(dx_has_nan(Softplus::default(), m), "Softplus");
    assert!(
        dx_has_nan(Residual::new(Dense::new(w, [0.0; 3])), m),
        "Residual"
    );
    assert!(
        dx_has_nan(Projected::new(Dense::new(w, [0.0; 3]), Relu), m),
        "Projected"
    );
    assert!(
        dx_has_nan(Concat::new(Dense::<f64, 3, 2>::zeros(), Tanh), m),
        "Concat"
    );
    let mut conv = Conv2d::<f64, 2, 2, 3, 1, 1>::zeros();
    conv.weight = [[[[0.1; 3]; 3]; 2]; 2];
    assert!(dx_has_nan(conv, img), "Conv2d");
    assert!(dx_has_nan(MaxPool2d::<2>, img), "MaxPool2d");
    assert!(dx_has_nan(AvgPool2d::<2>, img), "AvgPool2d");
    assert!(dx_has_nan(BatchNorm2d::<f64, 2>::new(), img), "BatchNorm2d");
    assert!(dx_has_nan(Flatten, img), "Flatten");
    assert!(
        dx_has_nan(Unflatten::<2, 4, 4>, Matrix::<f64, 2, 32>::splat(0.5)),
        "Unflatten"
    );
}

// ---------------------------------------------------------------------------
// NaN through every backward pass.
//
// Oracle: the same backward with a 1 where the NaN is (0 elsewhere). Wherever
// that 1 reaches (a nonzero in the input gradient or a parameter gradient),
// the NaN must reach as NaN; and it must reach the input gradient somewhere,
// also where the layer's local derivative is 0 (a ReLU at a non-positive
// input, a saturated sigmoid, a max-pool window's other elements): a NaN
// upstream gradient never becomes 0. The in-place (`backward_into`) and
// parameters-only (`backward_params`) paths give the same NaNs.

/// A deterministic value in [-1, 1] for element `i`: negatives, positives
/// and exact zeros (every 11th element).
fn det(i: usize) -> f64 {
    ((i * 7 + 3) % 11) as f64 / 5.0 - 1.0
}

fn nan_mask(v: &[f64]) -> Vec<bool> {
    v.iter().map(|x| x.is_nan()).collect()
}

fn check_nan_backward<L, X>(name: &str, layer: &L, x: &X)
where
    L: Layer<X> + Params<f64>,
    X: Elements<Elem = f64>,
    L::Output: Elements<Elem = f64>,
{
    let (y, cache) = layer.forward(x);
    for k in 0..<L::Output as Elements>::LEN {
        let mut one = y;
        one.elems_mut().fill(0.0);
        one.elems_mut()[k] = 1.0;
        let mut nan = one;
        nan.elems_mut()[k] = f64::NAN;

        let mut g_one = layer.zeros_like();
        let dx_one = layer.backward(x, &y, &cache, &one, &mut g_one);
        let mut g_nan = layer.zeros_like();
        let dx_nan = layer.backward(x, &y, &cache, &nan, &mut g_nan);

        let at = |what: &str| format!("{name}: NaN at output {k}: {what}");
        assert!(
            dx_nan.elems().iter().any(|v| v.is_nan()),
            "{}",
            at(&format!("no NaN in dx {:?}", dx_nan.elems()))
        );
        for (j, (r, n)) in dx_one.elems().iter().zip(dx_nan.elems()).enumerate() {
            assert!(
                *r == 0.0 || n.is_nan(),
                "{}",
                at(&format!("dx[{j}] = {n} where a 1 gives {r}"))
            );
        }
        for t in 0..L::TENSORS {
            let (Some(r), Some(n)) = (g_one.tensor(t), g_nan.tensor(t)) else {
                continue;
            };
            for (j, (a, b)) in r.data.iter().zip(n.data).enumerate() {
                assert!(
                    *a == 0.0 || b.is_nan(),
                    "{}",
                    at(&format!("grad {}[{j}] = {b} where a 1 gives {a}", n.name))
                );
            }
        }

        // The in-place and the parameters-only paths agree.
        let (_, mut scratch) = layer.forward(x);
        let mut dx_into = *x;
        let mut g_into = layer.zeros_like();
        layer.backward_into(x, &y, &cache, &mut scratch, &nan, &mut dx_into, &mut g_into);
        assert_eq!(
            nan_mask(dx_into.elems()),
            nan_mask(dx_nan.elems()),
            "{}",
            at("backward_into's dx")
        );
        let mut g_params = layer.zeros_like();
        layer.backward_params(x, &y, &cache, &nan, &mut g_params);
        for t in 0..L::TENSORS {
            let (Some(a), Some(b), Some(c)) =
                (g_nan.tensor(t), g_into.tensor(t), g_params.tensor(t))
            else {
                continue;
            };
            assert_eq!(
                nan_mask(a.data),
                nan_mask(b.data),
                "{}",
                at("backward_into's grads")
            );
            assert_eq!(
                nan_mask(a.data),
                nan_mask(c.data),
                "{}",
                at("backward_params' grads")
            );
        }
    }
}

/// Every layer kind, and networks of them: a NaN upstream gradient reaches
/// the input gradient and every parameter gradient it feeds, never as 0.
#[test]
fn nan_upstream_gradient_propagates_through_every_backward() {
    use stackgrad::Images;
    use stackgrad::nn::{
        AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d, Net, Unflatten, image_input, input,
    };

    let m: Matrix<f64, 3, 4> = Matrix::from_fn(|r, c| det(r * 4 + c));
    // Every element non-positive: a ReLU's slope is 0 everywhere.
    let negative: Matrix<f64, 3, 4> = Matrix::from_fn(|r, c| -det(r * 4 + c).abs());
    // Saturated: sigmoid's and tanh's slopes are exactly 0.
    let saturated: Matrix<f64, 3, 4> =
        Matrix::from_fn(|r, c| if (r + c) % 2 == 0 { 1e4 } else { -1e4 });
    let img: Images<f64, 2, 2, 4, 4> =
        Images::from_fn(|n, c, i, j| det(((n * 2 + c) * 4 + i) * 4 + j));

    for x in [&m, &negative, &saturated] {
        check_nan_backward("Identity", &Identity, x);
        check_nan_backward("Sigmoid", &Sigmoid, x);
        check_nan_backward("Tanh", &Tanh, x);
        check_nan_backward("Relu", &Relu, x);
        check_nan_backward("Softmax", &Softmax, x);
    }
    check_nan_backward("Relu on images", &Relu, &img);
    check_nan_backward("Sigmoid on images", &Sigmoid, &img);

    let dense =
        Dense::<f64, 4, 3>::new(Matrix::from_fn(|i, o| det(i * 3 + o + 1)), [0.5, 0.0, -0.5]);
    check_nan_backward("Dense", &dense, &m);
    check_nan_backward("Linear", &Linear::new(dense.weight), &m);
    check_nan_backward("Box<Dense>", &Box::new(dense), &m);

    let conv = Conv2d::<f64, 2, 3, 3, 1, 1>::new(
        core::array::from_fn(|f| {
            core::array::from_fn(|c| {
                core::array::from_fn(|i| {
                    core::array::from_fn(|j| det(((f * 2 + c) * 3 + i) * 3 + j + 2))
                })
            })
        }),
        [0.1, 0.0, -0.1],
    );
    check_nan_backward("Conv2d<2, 3, 3, 1, 1>", &conv, &img);
    let strided = Conv2d::<f64, 2, 2, 2, 2, 0>::new(
        core::array::from_fn(|f| {
            core::array::from_fn(|c| {
                core::array::from_fn(|i| {
                    core::array::from_fn(|j| det(((f * 2 + c) * 2 + i) * 2 + j))
                })
            })
        }),
        [0.0; 2],
    );
    check_nan_backward("Conv2d<2, 2, 2, 2, 0>", &strided, &img);
    check_nan_backward("MaxPool2d<2>", &MaxPool2d::<2>, &img);
    check_nan_backward("MaxPool2d<3, 1>", &MaxPool2d::<3, 1>, &img);
    check_nan_backward("AvgPool2d<2>", &AvgPool2d::<2>, &img);
    check_nan_backward("Flatten", &Flatten, &img);
    let flat: Matrix<f64, 2, 32> = Matrix::from_fn(|r, c| det(r * 32 + c));
    check_nan_backward("Unflatten<2, 4, 4>", &Unflatten::<2, 4, 4>, &flat);

    let mlp = input::<4>()
        .then(dense)
        .then(Relu)
        .then(Dense::<f64, 3, 2>::new(
            Matrix::from_fn(|i, o| det(i * 2 + o + 5)),
            [0.0; 2],
        ))
        .then(Sigmoid)
        .build();
    check_nan_backward("dense network", &mlp, &negative);
    check_nan_backward("dense network", &mlp, &m);
    let cnn: Net<_> = image_input::<2, 4, 4>()
        .then(conv)
        .then(Relu)
        .then(MaxPool2d::<2>)
        .then(Flatten)
        .then(Dense::<f64, 12, 2>::new(
            Matrix::from_fn(|i, o| det(i * 2 + o + 1)),
            [0.0; 2],
        ))
        .then(Softmax)
        .build();
    check_nan_backward("conv network", &cnn, &img);
}

/// The oracle above misses a product that skips exact zeros (a 1 times 0 is
/// 0 too): with zero inputs, NaN · 0 must still be NaN in the weight
/// gradient. `dW = Xᵀ D`: a NaN in column `o` of `D` makes column `o` of
/// `dW` NaN, every row, the zero inputs' rows included; likewise every
/// weight of filter `f` of a convolution without padding.
#[test]
fn nan_upstream_gradient_is_not_skipped_at_zero_inputs() {
    use stackgrad::Images;
    use stackgrad::nn::Conv2d;

    let x = Matrix::<f64, 2, 3>::from_array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]);
    let layer = Dense::<f64, 3, 2>::new(Matrix::splat(0.0), [0.0; 2]);
    let (y, cache) = layer.forward(&x);
    let dy = Matrix::from_array([[0.0, f64::NAN], [0.0, 0.0]]);
    let mut g = layer.zeros_like();
    let dx = layer.backward(&x, &y, &cache, &dy, &mut g);
    for i in 0..3 {
        assert!(
            g.weight[(i, 1)].is_nan() && g.weight[(i, 0)] == 0.0,
            "{:?}",
            g.weight
        );
        assert!(dx[(0, i)].is_nan() && dx[(1, i)] == 0.0, "{dx:?}");
    }
    assert!(g.bias[1].is_nan() && g.bias[0] == 0.0);

    let x = Images::<f64, 1, 1, 3, 3>::zeros();
    let conv = Conv2d::<f64, 1, 2, 2, 1, 0>::zeros();
    let (y, cache) = conv.forward(&x);
    let mut dy = y;
    dy.as_mut_slice()[5] = f64::NAN; // filter 1, output (0, 1)
    let mut g = conv.zeros_like();
    let dx = conv.backward(&x, &y, &cache, &dy, &mut g);
    assert!(
        g.weight[1].iter().flatten().flatten().all(|w| w.is_nan()),
        "{:?}",
        g.weight
    );
    assert!(g.weight[0].iter().flatten().flatten().all(|w| *w == 0.0));
    assert!(g.bias[1].is_nan() && g.bias[0] == 0.0);
    // Output (0, 1)'s window: rows 0..2, columns 1..3.
    for i in 0..3 {
        for j in 0..3 {
            let inside = i < 2 && j >= 1;
            assert_eq!(
                dx.get(0, 0, i, j).unwrap().is_nan(),
                inside,
                "dx at ({i}, {j})"
            );
        }
    }
}

/// The losses' gradients: a NaN prediction gives a NaN loss and a NaN
/// gradient at that element (softmax cross-entropy: the whole row, which
/// the NaN makes NaN), never 0.
#[test]
fn nan_prediction_gives_nan_loss_gradient() {
    let mut z: Matrix<f64, 2, 3> = Matrix::from_fn(|r, c| det(r * 3 + c) * 0.4 + 0.5);
    z[(0, 1)] = f64::NAN;
    let t: Matrix<f64, 2, 3> = Matrix::from_array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]);
    let labels = Labels::<2, 3>::new([2, 0]).unwrap();
    let check = |name: &str, (l, g): (f64, Matrix<f64, 2, 3>), row: bool| {
        assert!(l.is_nan(), "{name}: loss {l}");
        for c in 0..3 {
            let want = c == 1 || row;
            assert_eq!(g[(0, c)].is_nan(), want, "{name}: {g:?}");
            assert!(!g[(1, c)].is_nan(), "{name}: {g:?}");
        }
    };
    check(
        "HalfSquaredError",
        HalfSquaredError.loss_and_grad(&z, &t),
        false,
    );
    check(
        "MeanSquaredError",
        MeanSquaredError.loss_and_grad(&z, &t),
        false,
    );
    check(
        "BinaryCrossEntropy",
        BinaryCrossEntropy::default().loss_and_grad(&z, &t),
        false,
    );
    check(
        "BinaryCrossEntropyWithLogits",
        BinaryCrossEntropyWithLogits::default().loss_and_grad(&z, &t),
        false,
    );
    check(
        "SoftmaxCrossEntropy (labels)",
        SoftmaxCrossEntropy::mean().loss_and_grad(&z, &labels),
        true,
    );
    check(
        "SoftmaxCrossEntropy (dense)",
        SoftmaxCrossEntropy::sum().loss_and_grad(&z, &t),
        true,
    );
}
