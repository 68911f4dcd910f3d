//! The gradient checker on networks built from every layer of issue 17's
//! first part (Residual, Projected, Concat on matrices and images,
//! BatchNorm1d/2d, LayerNorm, Dropout with its fixed step-0 mask), in f64 and
//! f32; and the same networks with a planted backward bug in each new layer
//! (a wrapper that corrupts the layer's input gradient or its parameter
//! gradients), which the checker must fail.

use stackgrad::gradcheck::GradCheck;
use stackgrad::init::Init;
use stackgrad::loss::HalfSquaredError;
use stackgrad::nn::{
    BatchNorm1d, BatchNorm2d, Concat, Conv2d, Ctx, Dense, Dropout, Flatten, Layer, LayerNorm, Net,
    Params, Pattern, Projected, Recast, Relu, Residual, Tanh, Tensor, TensorMut, image_input,
    input,
};
use stackgrad::rand::{SeedableRng, rngs::StdRng};
use stackgrad::{Images, Matrix, Scalar};

/// How a [`Planted`] layer corrupts its backward pass.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Bug {
    None,
    /// `∂L/∂x` scaled by 1.5.
    InputGradient,
    /// Every parameter gradient's sign flipped.
    ParamSign,
}

/// A layer whose backward is the inner layer's with a planted bug.
#[derive(Clone, Copy, Debug)]
struct Planted<L> {
    inner: L,
    bug: Bug,
}

impl<X: stackgrad::Elements, L: Layer<X> + Params<X::Elem>> Layer<X> for Planted<L> {
    type Output = L::Output;
    type Cache = L::Cache;
    fn forward(&self, x: &X) -> (L::Output, L::Cache) {
        self.inner.forward(x)
    }
    fn forward_train(&self, x: &X, ctx: &Ctx, y: &mut L::Output, c: &mut L::Cache) {
        self.inner.forward_train(x, ctx, y, c);
    }
    fn infer(&self, x: &X) -> L::Output {
        self.inner.infer(x)
    }
    fn backward(&self, x: &X, y: &L::Output, c: &L::Cache, dy: &L::Output, g: &mut Self) -> X {
        let mut dx = self.inner.backward(x, y, c, dy, &mut g.inner);
        if self.bug == Bug::InputGradient {
            for v in dx.elems_mut() {
                *v *= <X::Elem as Scalar>::from_f64(1.5);
            }
        }
        if self.bug == Bug::ParamSign {
            flip::<X::Elem, L>(&mut g.inner);
        }
        dx
    }
    fn pattern(&self, x: &X, y: &L::Output, c: &L::Cache, p: &mut Pattern) {
        self.inner.pattern(x, y, c, p);
    }
}

fn flip<T: Scalar, P: Params<T>>(p: &mut P) {
    for k in 0..P::TENSORS {
        if let Some(t) = p.tensor_mut(k) {
            for v in t.data {
                *v = -*v;
            }
        }
    }
}

impl<S, A, L: stackgrad::nn::Connect<S, A>> stackgrad::nn::Connect<S, A> for Planted<L> {
    type Out = L::Out;
}

impl<T: Scalar, L: Params<T>> Params<T> for Planted<L> {
    const TENSORS: usize = L::TENSORS;
    const PARAMS: usize = L::PARAMS;
    fn tensor(&self, k: usize) -> Option<Tensor<'_, T>> {
        self.inner.tensor(k)
    }
    fn tensor_mut(&mut self, k: usize) -> Option<TensorMut<'_, T>> {
        self.inner.tensor_mut(k)
    }
    fn zeros_like(&self) -> Self {
        Self {
            inner: self.inner.zeros_like(),
            bug: self.bug,
        }
    }
}

impl<U: Scalar, L: Recast<U>> Recast<U> for Planted<L> {
    type Output = Planted<L::Output>;
    fn recast(&self) -> Self::Output {
        Planted {
            inner: self.inner.recast(),
            bug: self.bug,
        }
    }
}

fn rows<T: Scalar, const B: usize, const N: usize>(seed: usize) -> Matrix<T, B, N> {
    Matrix::from_fn(|r, c| T::from_f64((((seed + r * 17 + c * 5) as f64) * 0.73).sin()))
}

fn images<T: Scalar, const N: usize, const C: usize, const H: usize, const W: usize>()
-> Images<T, N, C, H, W> {
    Images::from_fn(|n, c, i, j| {
        T::from_f64((((n * 131 + c * 37 + i * 11 + j) as f64) * 0.61).sin())
    })
}

/// A dense network with every new matrix block, with `bug` planted in the
/// layer at `at` (0: residual, 1: batch norm, 2: projected, 3: concat,
/// 4: layer norm, 5: dropout).
#[allow(clippy::type_complexity)]
fn dense_net<T: Scalar>(
    at: usize,
    bug: Bug,
) -> Net<(
    Dense<T, 3, 4>,
    Planted<Residual<Net<(Dense<T, 4, 4>, Tanh)>>>,
    Planted<BatchNorm1d<T, 4>>,
    Planted<Projected<Net<(Dense<T, 4, 5>, Tanh)>, Dense<T, 4, 5>>>,
    Planted<Concat<Dense<T, 5, 2>, Tanh>>,
    Planted<LayerNorm<T, 7>>,
    Planted<Dropout>,
    Dense<T, 7, 2>,
)> {
    let mut rng = StdRng::seed_from_u64(5);
    let init = Init::Uniform { limit: 0.8 };
    let p = |i: usize| if i == at { bug } else { Bug::None };
    let mut bn = BatchNorm1d::new();
    bn.weight = core::array::from_fn(|j| T::from_f64(0.7 + 0.2 * j as f64));
    bn.bias = core::array::from_fn(|j| T::from_f64(0.1 * j as f64 - 0.1));
    let mut ln = LayerNorm::new();
    ln.weight = core::array::from_fn(|j| T::from_f64(1.2 - 0.1 * j as f64));
    Net::new((
        Dense::init(init, &mut rng),
        Planted {
            inner: Residual::new(Net::new((Dense::init(init, &mut rng), Tanh))),
            bug: p(0),
        },
        Planted {
            inner: bn,
            bug: p(1),
        },
        Planted {
            inner: Projected::new(
                Net::new((Dense::init(init, &mut rng), Tanh)),
                Dense::init(init, &mut rng),
            ),
            bug: p(2),
        },
        Planted {
            inner: Concat::new(Dense::init(init, &mut rng), Tanh),
            bug: p(3),
        },
        Planted {
            inner: ln,
            bug: p(4),
        },
        Planted {
            inner: Dropout::new(0.3).unwrap(),
            bug: p(5),
        },
        Dense::init(init, &mut rng),
    ))
}

fn check_dense<T: Scalar>(at: usize, bug: Bug) -> bool {
    let net = dense_net::<T>(at, bug);
    let x = rows::<T, 6, 3>(1);
    let y = rows::<T, 6, 2>(9);
    let report = GradCheck::new()
        .check(&net, &HalfSquaredError, &x, &y)
        .unwrap();
    if bug == Bug::None {
        println!("{report}");
    }
    report.passed()
}

#[test]
fn gradients_of_every_new_matrix_layer_pass_in_f64_and_f32() {
    assert!(check_dense::<f64>(0, Bug::None));
    assert!(check_dense::<f32>(0, Bug::None));
}

#[test]
fn a_planted_bug_in_each_new_matrix_layer_fails() {
    for at in 0..6 {
        assert!(
            !check_dense::<f64>(at, Bug::InputGradient),
            "input-gradient bug at {at} passed"
        );
        assert!(
            !check_dense::<f32>(at, Bug::InputGradient),
            "input-gradient bug at {at} passed (f32)"
        );
    }
    // Layers with parameters: a sign flip in their gradients.
    for at in [0, 1, 2, 3, 4] {
        assert!(
            !check_dense::<f64>(at, Bug::ParamSign),
            "parameter bug at {at} passed"
        );
    }
}

#[allow(clippy::type_complexity)]
fn image_net<T: Scalar>(
    at: usize,
    bug: Bug,
) -> Net<(
    Conv2d<T, 2, 3, 3, 1, 1>,
    Planted<BatchNorm2d<T, 3>>,
    Planted<Residual<Net<(Conv2d<T, 3, 3, 3, 1, 1>, Relu)>>>,
    Planted<Concat<Conv2d<T, 3, 2, 1, 1, 0>, Conv2d<T, 3, 1, 3, 1, 1>>>,
    Flatten,
    Dense<T, 48, 2>,
)> {
    let mut rng = StdRng::seed_from_u64(7);
    let init = Init::Uniform { limit: 0.6 };
    let p = |i: usize| if i == at { bug } else { Bug::None };
    let mut bn = BatchNorm2d::new();
    bn.weight = [T::from_f64(0.9), T::from_f64(1.3), T::from_f64(0.6)];
    image_input::<2, 4, 4>()
        .then(Conv2d::init(init, &mut rng))
        .then(Planted {
            inner: bn,
            bug: p(0),
        })
        .then(Planted {
            inner: Residual::new(Net::new((Conv2d::init(init, &mut rng), Relu))),
            bug: p(1),
        })
        .then(Planted {
            inner: Concat::new(Conv2d::init(init, &mut rng), Conv2d::init(init, &mut rng)),
            bug: p(2),
        })
        .then(Flatten)
        .then(Dense::init(init, &mut rng))
        .build()
}

fn check_images<T: Scalar>(at: usize, bug: Bug) -> bool {
    let net = image_net::<T>(at, bug);
    let x = images::<T, 2, 2, 4, 4>();
    let y = rows::<T, 2, 2>(3);
    let report = GradCheck::new()
        .check(&net, &HalfSquaredError, &x, &y)
        .unwrap();
    if bug == Bug::None {
        println!("{report}");
    }
    report.passed()
}

#[test]
fn gradients_of_image_blocks_pass_in_f64_and_f32() {
    assert!(check_images::<f64>(9, Bug::None));
    assert!(check_images::<f32>(9, Bug::None));
}

#[test]
fn a_planted_bug_in_each_image_block_fails() {
    for at in 0..3 {
        assert!(
            !check_images::<f64>(at, Bug::InputGradient),
            "input-gradient bug at {at} passed"
        );
        assert!(
            !check_images::<f64>(at, Bug::ParamSign),
            "parameter bug at {at} passed"
        );
    }
}

/// Parameters and buffers are named by position inside blocks.
#[test]
fn block_tensors_are_named_by_position() {
    let net = input::<3>()
        .then(Dense::<f64, 3, 4>::zeros())
        .then(Residual::new(Net::new((
            Dense::<f64, 4, 4>::zeros(),
            BatchNorm1d::<f64, 4>::new(),
        ))))
        .then(Projected::new(
            Dense::<f64, 4, 2>::zeros(),
            Dense::<f64, 4, 2>::zeros(),
        ))
        .build();
    let mut names = Vec::new();
    net.for_each_state(|t, _| names.push(t.name.to_string()));
    assert_eq!(
        names,
        [
            "0.weight",
            "0.bias",
            "1.0.0.weight",
            "1.0.0.bias",
            "1.0.1.weight",
            "1.0.1.bias",
            "2.0.weight",
            "2.0.bias",
            "2.1.weight",
            "2.1.bias",
            "1.0.1.running_mean",
            "1.0.1.running_var",
        ]
    );
}
