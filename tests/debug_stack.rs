//! What a newcomer runs first also runs on a 2 MiB thread (the size of a test
//! thread, a quarter of the usual main thread) in a debug build: the README's
//! quick start, and example 04's digits CNN forward and backward (one image;
//! a batch of 16 needs more, see `nn::stack_bytes`), and `Training::fit` on that CNN called from a 2 MiB
//! thread (it trains on a worker thread sized from the network's types;
//! docs/DESIGN.md section 5).
//!
//! Each test spawns its own 2 MiB thread, so the figure holds whatever
//! `RUST_MIN_STACK` says; an overflow aborts the test binary, a failure the
//! suite cannot miss.

use stackgrad::batch::Dataset;
use stackgrad::data::digits;
use stackgrad::loss::{Labels, Loss, SoftmaxCrossEntropy};
use stackgrad::nn::{
    Conv2d, Dense, Flatten, Layer, MaxPool2d, Net, Params, Relu, Unflatten, input, stack_bytes,
};
use stackgrad::optim::Adam;
use stackgrad::rand::{SeedableRng, rngs::StdRng};
use stackgrad::train::Training;
use stackgrad::{Error, Matrix};

/// Runs `f` on a thread with a 2 MiB stack and returns its result.
fn on_2_mib<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .expect("spawn a 2 MiB thread")
        .join()
        .expect("the 2 MiB thread panicked")
}

/// The README's quick start, verbatim between the markers (the test
/// `readme_quick_start_is_this_code` keeps the two the same).
#[rustfmt::skip]
fn quick_start() -> Result<(), Error> {
    // README quick start: begin
    use stackgrad::loss::{Labels, Loss, SoftmaxCrossEntropy};
    use stackgrad::nn::{Dense, Net, Params, Sigmoid, input};
    use stackgrad::rand::{SeedableRng, rngs::StdRng};
    use stackgrad::Matrix;

    // A network's type names its layers and nothing else.
    type Classifier = Net<(Dense<f64, 2, 25>, Sigmoid, Dense<f64, 25, 4>)>;

    let mut rng = StdRng::seed_from_u64(0);
    let net: Classifier = input::<2>()
        .then(Dense::xavier_uniform(&mut rng))
        .then(Sigmoid)
        .then(Dense::xavier_uniform(&mut rng))
        .build();

    let x = Matrix::from_array([[3.6, 40.0], [3.9, 10.0], [3.4, 30.0], [2.0, 10.0], [3.5, 41.0]]);
    let y = Labels::new([0, 1, 2, 3, 0])?;               // checked: every label < 4
    let (logits, cache) = net.forward(&x);                // Matrix<f64, 5, 4>
    let (loss, dlogits) = SoftmaxCrossEntropy::sum().loss_and_grad(&logits, &y);
    let mut grads = net.zeros_like();                     // same type as the network
    net.backward(&x, &logits, &cache, &dlogits, &mut grads); // input, output, cache
    grads.for_each_tensor(|t| println!("{} {}", t.name, t.shape)); // "0.weight 2 x 25", ...
    // README quick start: end
    assert!(loss.is_finite() && loss > 0.0);
    Ok(())
}

/// The layer-by-layer gradient check of a small CNN (a batch of 2 images)
/// runs in debug on a 2 MiB thread: it holds a few copies of one layer at a
/// time and an inline report.
#[test]
fn checking_a_cnn_layer_by_layer_fits_a_2_mib_thread() {
    use stackgrad::gradcheck::GradCheck;
    let report = on_2_mib(|| {
        let mut rng = StdRng::seed_from_u64(3);
        let net = input::<64>()
            .then(Unflatten::<1, 8, 8>)
            .then(Conv2d::<f32, 1, 4, 3, 1, 1>::he_normal(&mut rng))
            .then(Relu)
            .then(MaxPool2d::<2>)
            .then(Flatten)
            .then(Dense::<f32, 64, 10>::xavier_uniform(&mut rng))
            .build();
        let x = Matrix::<f32, 2, 64>::from_fn(|b, i| ((b * 64 + i) as f32 * 0.37).sin());
        GradCheck::new()
            .check_layers(&net, &x)
            .map(|r| r.to_string())
    });
    let report = report.unwrap();
    assert!(report.contains("every layer's backward agrees"), "{report}");
}

#[test]
fn readme_quick_start_runs_on_a_2_mib_thread() {
    on_2_mib(quick_start).unwrap();
}

#[test]
fn readme_quick_start_is_this_code() {
    let readme = include_str!("../README.md");
    let block = readme
        .split("## Quick start")
        .nth(1)
        .and_then(|s| s.split("```rust\n").nth(1))
        .and_then(|s| s.split("```").next())
        .expect("README.md has a Quick start section with a rust block");
    let shown: Vec<&str> = block
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    let source = include_str!("debug_stack.rs");
    let ours: Vec<&str> = source
        .split("// README quick start: begin\n")
        .nth(1)
        .and_then(|s| s.split("    // README quick start: end").next())
        .expect("markers")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect();
    assert_eq!(
        shown, ours,
        "README's quick start and tests/debug_stack.rs differ"
    );
}

/// Example 04's network.
type Cnn = Net<(
    Unflatten<1, 8, 8>,
    Conv2d<f32, 1, 16, 3, 1, 1>,
    Relu,
    Conv2d<f32, 16, 32, 3, 1, 1>,
    Relu,
    MaxPool2d<2>,
    Flatten,
    Dense<f32, 512, 10>,
)>;

fn cnn(seed: u64) -> Cnn {
    let mut rng = StdRng::seed_from_u64(seed);
    input::<64>()
        .then(Unflatten::<1, 8, 8>)
        .then(Conv2d::he_normal(&mut rng))
        .then(Relu)
        .then(Conv2d::he_normal(&mut rng))
        .then(Relu)
        .then(MaxPool2d::<2>)
        .then(Flatten)
        .then(Dense::xavier_uniform(&mut rng))
        .build()
}

/// One forward pass, loss and backward pass of `P` at batch `B` on a thread
/// of `stack` bytes; returns the loss and the gradients' norm.
fn pass_on<P, const B: usize, const N: usize>(stack: usize, net: fn() -> P) -> (f32, f32)
where
    P: Layer<Matrix<f32, B, N>, Output = Matrix<f32, B, 10>> + Params<f32> + 'static,
{
    std::thread::Builder::new()
        .stack_size(stack)
        .spawn(move || {
            let net = net();
            let x = Matrix::<f32, B, N>::from_fn(|r, c| ((r * N + c) as f32 * 0.37).sin().abs());
            let y = Labels::<B, 10>::new(core::array::from_fn(|r| r % 10)).unwrap();
            let (logits, cache) = net.forward(&x);
            let (loss, d) = SoftmaxCrossEntropy::mean().loss_and_grad(&logits, &y);
            let mut grads = net.zeros_like();
            net.backward(&x, &logits, &cache, &d, &mut grads);
            let mut sq = 0.0f32;
            grads.for_each_tensor(|t| sq += t.data.iter().map(|g| g * g).sum::<f32>());
            (loss, sq.sqrt())
        })
        .expect("spawn")
        .join()
        .expect("the pass panicked")
}

fn assert_trains(loss: f32, grad_norm: f32) {
    assert!(loss.is_finite() && loss > 0.0, "loss {loss}");
    assert!(
        grad_norm.is_finite() && grad_norm > 0.0,
        "gradient norm {grad_norm}"
    );
}

#[test]
fn digits_cnn_forward_backward_on_a_2_mib_thread() {
    const { assert!(stack_bytes::<Cnn, Matrix<f32, 1, 64>>() <= 2 << 20) };
    let (loss, norm) = pass_on::<Cnn, 1, 64>(2 << 20, || cnn(4));
    assert_trains(loss, norm);
}

/// `stack_bytes` is an upper bound: each pass runs on a thread of exactly
/// that size (an overflow aborts the test binary).
#[test]
fn stack_bytes_bounds_a_debug_pass() {
    type Mlp = Net<(Dense<f32, 64, 64>, Relu, Dense<f32, 64, 10>)>;
    type Mnist = Net<(Dense<f32, 784, 128>, Relu, Dense<f32, 128, 10>)>;
    let mlp = || -> Mlp {
        Net::new((
            Dense::xavier_uniform(&mut StdRng::seed_from_u64(0)),
            Relu,
            Dense::zeros(),
        ))
    };
    let mnist = || -> Mnist {
        Net::new((
            Dense::xavier_uniform(&mut StdRng::seed_from_u64(0)),
            Relu,
            Dense::zeros(),
        ))
    };
    let (l, n) = pass_on::<Cnn, 16, 64>(stack_bytes::<Cnn, Matrix<f32, 16, 64>>(), || cnn(4));
    assert_trains(l, n);
    let (l, n) = pass_on::<Mlp, 32, 64>(stack_bytes::<Mlp, Matrix<f32, 32, 64>>(), mlp);
    assert_trains(l, n);
    let (l, n) = pass_on::<Mnist, 32, 784>(stack_bytes::<Mnist, Matrix<f32, 32, 784>>(), mnist);
    assert_trains(l, n);
}

#[test]
fn fit_trains_the_digits_cnn_from_a_2_mib_thread() {
    let (first, last) = on_2_mib(|| {
        let (train, _) = digits::bundled().unwrap().split();
        let x: Vec<[f32; 64]> = train.features::<f32>().into_iter().take(160).collect();
        let data = Dataset::new(&x, &train.labels[..160]).unwrap();
        let mut net = cnn(1);
        let history = Training::new(SoftmaxCrossEntropy::mean(), Adam::new(2e-3f32))
            .batch::<16>()
            .epochs(2)
            .seed(1)
            .fit(&mut net, data, |_, _| {})
            .unwrap();
        (history[0].mean_loss(), history[1].mean_loss())
    });
    assert!(last < first, "loss {first} -> {last}");
}
