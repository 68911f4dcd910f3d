//! Nothing on the hot paths touches the heap: forward and backward passes,
//! losses, optimizer steps, whole training epochs and gradient checks. A
//! counting global allocator (tests/support/counting_alloc.rs) counts the
//! allocations each call makes on its thread.

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
#[path = "support/notebooks.rs"]
mod notebooks;

use counting_alloc::allocations;
use stackgrad::Matrix;
use stackgrad::batch::Dataset;
use stackgrad::gradcheck::GradCheck;
use stackgrad::loss::{
    BinaryCrossEntropy, HalfSquaredError, Labels, Loss, Reduction, SoftmaxCrossEntropy,
};
use stackgrad::nn::{
    Dense, Elu, Gelu, GeluTanh, LeakyRelu, Net, Params, Recast, Relu, Sigmoid, Silu, Softmax,
    Softplus, Tanh, input,
};
use stackgrad::optim::{Adam, Clip, Momentum, Optimizer, RmsProp, Sgd};
use stackgrad::rand::{SeedableRng, rngs::StdRng};
use stackgrad::schedule::{CosineAnnealing, Schedule};
use stackgrad::train::{Training, Workspace};

#[test]
fn the_counter_sees_heap_allocations() {
    let (_, n) = allocations(|| std::hint::black_box(vec![1u8; 100]));
    assert_eq!(n, 1);
}

#[test]
fn forward_and_backward_allocate_nothing() {
    let mut rng = StdRng::seed_from_u64(0);
    // Notebook 001's 2 -> 25 -> 4 classifier.
    type Classifier = Net<(Dense<f64, 2, 25>, Sigmoid, Dense<f64, 25, 4>)>;
    let net: Classifier = input::<2>()
        .then(Dense::xavier_uniform(&mut rng))
        .then(Sigmoid)
        .then(Dense::xavier_uniform(&mut rng))
        .build();
    let x = Matrix::<f64, 5, 2>::from_fn(|b, j| (b as f64 - 2.0) * 0.7 + j as f64);
    let y = Labels::<5, 4>::new([0, 1, 2, 3, 0]).unwrap();
    let mut grads = net.zeros_like();

    let ((), n) = allocations(|| {
        let (logits, cache) = net.forward(&x);
        let (loss, dlogits) = SoftmaxCrossEntropy::sum().loss_and_grad(&logits, &y);
        let dx = net.backward(&x, &logits, &cache, &dlogits, &mut grads);
        std::hint::black_box((loss, dx, &grads));
    });
    assert_eq!(
        n, 0,
        "2 -> 25 -> 4 forward + loss + backward allocated {n} times"
    );

    // Every other layer kind, in f32.
    let deep = Net::new((
        Dense::<f32, 3, 8>::he_normal(&mut rng),
        Relu,
        Dense::<f32, 8, 8>::he_normal(&mut rng),
        Tanh,
        Dense::<f32, 8, 4>::he_normal(&mut rng),
        Softmax,
    ));
    let x = Matrix::<f32, 7, 3>::splat(0.5);
    let mut g = deep.zeros_like();
    let ((), n) = allocations(|| {
        let (p, cache) = deep.forward(&x);
        let dx = deep.backward(&x, &p, &cache, &p, &mut g);
        std::hint::black_box((deep.infer(&x), dx, &g));
    });
    assert_eq!(n, 0, "relu/tanh/softmax network allocated {n} times");

    // The smooth and leaky activations, small (inline) and on a batch of
    // 32 x 64 (through the run-time dispatch).
    let smooth = Net::new((
        Dense::<f32, 8, 64>::he_normal(&mut rng),
        LeakyRelu::new(0.1).unwrap(),
        Elu::default(),
        Gelu,
        GeluTanh,
        Silu,
        Softplus::default(),
    ));
    let x = Matrix::<f32, 32, 8>::from_fn(|b, j| ((b * 3 + j) % 9) as f32 * 0.4 - 1.6);
    let mut g = smooth.zeros_like();
    let ((), n) = allocations(|| {
        let (y, cache) = smooth.forward(&x);
        let dx = smooth.backward(&x, &y, &cache, &y, &mut g);
        std::hint::black_box((smooth.infer(&x), dx, &g));
    });
    assert_eq!(
        n, 0,
        "leaky/elu/gelu/silu/softplus network allocated {n} times"
    );

    // The register-tiled kernels (issue 6) at the digits MLP's shapes: full
    // tiles, edge rows and columns, the narrow-output and transposed paths.
    let mlp = Net::new((
        Dense::<f32, 64, 64>::he_normal(&mut rng),
        Relu,
        Dense::<f32, 64, 10>::he_normal(&mut rng),
    ));
    let x = Matrix::<f32, 32, 64>::from_fn(|b, j| ((b * 7 + j) % 11) as f32 * 0.1);
    let mut g = mlp.zeros_like();
    let ((), n) = allocations(|| {
        let (z, cache) = mlp.forward(&x);
        let dx = mlp.backward(&x, &z, &cache, &z, &mut g);
        let e = stackgrad::math::exp(std::hint::black_box(1.5f64));
        std::hint::black_box((dx, e, &g));
    });
    assert_eq!(n, 0, "64 -> 64 -> 10 batch 32 allocated {n} times");
    assert!(g.tensor(0).unwrap().data.iter().any(|&v| v != 0.0));
}

type Mlp = Net<(Dense<f32, 8, 16>, Relu, Dense<f32, 16, 3>)>;

fn mlp() -> Mlp {
    let mut rng = StdRng::seed_from_u64(0);
    Net::new((
        Dense::he_normal(&mut rng),
        Relu,
        Dense::xavier_uniform(&mut rng),
    ))
}

fn grads(net: &Mlp) -> Mlp {
    let mut g = net.zeros_like();
    for k in 0..<Mlp as Params<f32>>::TENSORS {
        for (i, x) in g.tensor_mut(k).unwrap().data.iter_mut().enumerate() {
            *x = (i as f32 * 0.1).sin();
        }
    }
    g
}

#[test]
fn optimizer_steps_do_not_allocate() {
    let mut net = mlp();
    let g = grads(&net);
    let mut sgd = Sgd::new(0.01f32);
    let mut momentum = Momentum::new(0.01f32, 0.9);
    let mut adam = Adam::new(0.01f32);
    let mut nesterov = Sgd::new(0.01f32)
        .weight_decay(1e-4)
        .momentum(0.9)
        .nesterov();
    let mut adamw = Adam::new(0.01f32).decoupled_weight_decay(0.01);
    let mut rmsprop = RmsProp::new(0.01f32).momentum(0.9).centered();
    for step in 0..3 {
        // The first step of momentum and Adam creates their state (on the stack).
        let (_, n) = allocations(|| sgd.step(&mut net, &g));
        assert_eq!(n, 0, "SGD step {step}");
        let (_, n) = allocations(|| momentum.step(&mut net, &g));
        assert_eq!(n, 0, "momentum step {step}");
        let (_, n) = allocations(|| adam.step(&mut net, &g));
        assert_eq!(n, 0, "Adam step {step}");
        let (_, n) = allocations(|| nesterov.step(&mut net, &g));
        assert_eq!(n, 0, "Nesterov step {step}");
        let (_, n) = allocations(|| adamw.step(&mut net, &g));
        assert_eq!(n, 0, "AdamW step {step}");
        let (_, n) = allocations(|| rmsprop.step(&mut net, &g));
        assert_eq!(n, 0, "RMSprop step {step}");
        let mut clipped = g;
        let (_, n) = allocations(|| Clip::norm(0.1).unwrap().apply(&mut clipped));
        assert_eq!(n, 0, "clipping by norm {step}");
        let (_, n) = allocations(|| Clip::value(0.1).unwrap().apply(&mut clipped));
        assert_eq!(n, 0, "clipping by value {step}");
    }
    assert_eq!(adam.steps(), 3);
}

/// A whole epoch (batching, forward, loss, backward, finiteness check, Adam
/// step) allocates nothing, including its padded last batch.
#[test]
fn a_training_epoch_does_not_allocate() {
    let x: Vec<[f32; 8]> = (0..37)
        .map(|i| std::array::from_fn(|j| ((i * 8 + j) as f32).cos()))
        .collect();
    let y: Vec<usize> = (0..37).map(|i| i % 3).collect();
    let data = Dataset::new(&x, &y).unwrap();
    let order: Vec<usize> = (0..37).rev().collect();
    let mut net = mlp();
    let mut work = Workspace::new(&net);
    let mut t = Training::new(SoftmaxCrossEntropy::mean(), Adam::new(1e-3f32)).batch::<8>();
    for epoch in 1..=2 {
        let (stats, n) = allocations(|| t.epoch(epoch, &mut net, &mut work, data, &order).unwrap());
        assert_eq!(n, 0, "epoch {epoch}");
        assert_eq!((stats.examples, stats.batches), (37, 5));
    }
    // With clipping, a per-batch hook, the checked step, AdamW and a
    // schedule stepped between epochs (issue 18).
    let mut t = Training::new(
        SoftmaxCrossEntropy::mean(),
        Adam::new(1e-3f32).decoupled_weight_decay(0.01),
    )
    .batch::<8>()
    .clip(Clip::norm(0.5).unwrap());
    let mut schedule = CosineAnnealing::new(4, 0.0).unwrap();
    let mut batches = 0;
    let mut lr = 1e-3;
    for epoch in 1..=3 {
        let (stats, n) = allocations(|| {
            let mut hook = |_: &stackgrad::train::BatchEnd<f32>| batches += 1;
            let s = t
                .epoch_with(epoch, &mut net, &mut work, data, &order, Some(&mut hook))
                .unwrap();
            lr = schedule.lr(epoch, 1e-3, lr);
            t.optimizer.lr = lr as f32;
            s
        });
        assert_eq!(n, 0, "clipped epoch {epoch}");
        assert!(stats.max_grad_norm.is_some());
    }
    assert_eq!(batches, 15);
    // And with the notebook's sigmoid network in f64.
    let mut net = Net::new((
        Dense::<f64, 2, 25>::zeros(),
        Sigmoid,
        Dense::<f64, 25, 4>::zeros(),
    ));
    let mut work = Workspace::new(&net);
    let x2: Vec<[f64; 2]> = (0..13).map(|i| [i as f64, 1.0]).collect();
    let y2: Vec<usize> = (0..13).map(|i| i % 4).collect();
    let order: Vec<usize> = (0..13).collect();
    let mut t = Training::new(SoftmaxCrossEntropy::sum(), Sgd::new(1e-3)).batch::<5>();
    let (_, n) = allocations(|| {
        t.epoch(
            1,
            &mut net,
            &mut work,
            Dataset::new(&x2, &y2).unwrap(),
            &order,
        )
        .unwrap()
    });
    assert_eq!(n, 0);
}

#[test]
fn checking_allocates_nothing() {
    let check = GradCheck::new();
    let (net, x, y) = notebooks::notebook_000();
    let (report, n) = allocations(|| check.check(&net, &HalfSquaredError, &x, &y));
    assert_eq!(n, 0, "notebook 000 check allocated");
    assert!(report.unwrap().passed());

    let (net, x, y) = notebooks::notebook_001(1);
    let (report, n) = allocations(|| check.check(&net, &SoftmaxCrossEntropy::sum(), &x, &y));
    assert_eq!(n, 0, "notebook 001 check allocated");
    assert!(report.unwrap().passed());

    // f32 against the f64 reference.
    let (net32, x32) = (Recast::<f32>::recast(&net), Recast::<f32>::recast(&x));
    let (report, n) = allocations(|| check.check(&net32, &SoftmaxCrossEntropy::sum(), &x32, &y));
    assert_eq!(n, 0, "f32 check allocated");
    assert!(report.unwrap().passed());

    let (net, x, y) = notebooks::notebook_004();
    let bce = BinaryCrossEntropy {
        reduction: Reduction::Mean,
    };
    let (report, n) = allocations(|| check.check(&net, &bce, &x, &y));
    assert_eq!(n, 0, "notebook 004 check allocated");
    let report = report.unwrap();
    assert!(report.passed());

    let w = Matrix::<f64, 2, 3>::from_fn(|i, j| (i * 3 + j) as f64 * 0.1 - 0.2);
    let xm = Matrix::<f64, 4, 2>::from_fn(|b, i| (b + i) as f64 * 0.3 - 0.5);
    let dd = Matrix::<f64, 4, 3>::splat(1.0);
    let (vjp, n) = allocations(|| check.check_vjp(|x| x.matmul(&w), &xm, &dd, &dd.matmul_t(&w)));
    assert_eq!(n, 0, "vector-Jacobian check allocated");
    assert!(vjp.passed());

    // Formatting may allocate (and does, into a String).
    let (text, n) = allocations(|| report.to_string());
    assert!(n > 0 && text.contains("overall: PASS"));

    // Layer by layer, and a single layer: the report is inline too.
    let (net, x, _) = notebooks::notebook_004();
    let (layers, n) = allocations(|| check.check_layers(&net, &x));
    assert_eq!(n, 0, "layer-by-layer check allocated");
    assert!(layers.unwrap().passed());
    let (net32, x32) = (Recast::<f32>::recast(&net), Recast::<f32>::recast(&x));
    let (layers, n) = allocations(|| check.check_layers(&net32, &x32));
    assert_eq!(n, 0, "f32 layer-by-layer check allocated");
    assert!(layers.unwrap().passed());
    let (layer, n) = allocations(|| check.check_layer(&net.layers.0, &x));
    assert_eq!(n, 0, "single-layer check allocated");
    assert!(layer.unwrap().passed());
}

/// Issue 17's layers allocate nothing either: a training epoch (forward in
/// training mode, backward, Adam, running-statistics update) of a network
/// with a residual block, batch norm, a concatenation, layer norm and
/// dropout, and its inference.
#[test]
fn epochs_with_blocks_and_normalization_do_not_allocate() {
    use stackgrad::nn::{BatchNorm1d, Concat, Dropout, LayerNorm, Residual};
    let x: Vec<[f32; 8]> = (0..37)
        .map(|i| std::array::from_fn(|j| ((i * 8 + j) as f32).cos()))
        .collect();
    let y: Vec<usize> = (0..37).map(|i| i % 3).collect();
    let data = Dataset::new(&x, &y).unwrap();
    let order: Vec<usize> = (0..37).collect();
    let mut rng = StdRng::seed_from_u64(1);
    let mut net = input::<8>()
        .then(Dense::<f32, 8, 6>::xavier_uniform(&mut rng))
        .then(BatchNorm1d::new())
        .then(Residual::new(Net::new((
            Dense::<f32, 6, 6>::xavier_uniform(&mut rng),
            Relu,
        ))))
        .then(Concat::new(
            Dense::<f32, 6, 2>::xavier_uniform(&mut rng),
            Tanh,
        ))
        .then(LayerNorm::new())
        .then(Dropout::new(0.2).unwrap())
        .then(Dense::<f32, 8, 3>::xavier_uniform(&mut rng))
        .build();
    let mut work = Workspace::new(&net);
    let mut t = Training::new(SoftmaxCrossEntropy::mean(), Adam::new(1e-3f32)).batch::<8>();
    for epoch in 1..=2 {
        let (_, n) = allocations(|| t.epoch(epoch, &mut net, &mut work, data, &order).unwrap());
        assert_eq!(n, 0, "epoch {epoch}");
    }
    let (_, n) = allocations(|| net.infer(&Matrix::<f32, 8, 8>::zeros()));
    assert_eq!(n, 0);
}
