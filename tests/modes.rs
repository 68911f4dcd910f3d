//! The training/evaluation contract (`nn::mode`), as `fit`, `evaluate`,
//! optimizers and `io` honour it: dropout is seeded and reproducible, batch
//! norm's running statistics move only through `update` (never through an
//! optimizer), padding rows never reach batch statistics, `evaluate` runs in
//! evaluation mode, and the running statistics survive a save and load.

use stackgrad::Matrix;
use stackgrad::batch::Dataset;
use stackgrad::io;
use stackgrad::loss::{Loss, SoftmaxCrossEntropy};
use stackgrad::nn::{BatchNorm1d, Dense, Dropout, Layer, Net, Params, Relu, TensorKind, input};
use stackgrad::optim::{Adam, Optimizer, Sgd};
use stackgrad::rand::{SeedableRng, rngs::StdRng};
use stackgrad::train::{Shuffle, Training};

type BnNet = Net<(
    Dense<f64, 3, 4>,
    BatchNorm1d<f64, 4>,
    Relu,
    Dropout,
    Dense<f64, 4, 2>,
)>;

fn net(seed: u64) -> BnNet {
    let mut rng = StdRng::seed_from_u64(seed);
    input::<3>()
        .then(Dense::xavier_uniform(&mut rng))
        .then(BatchNorm1d::new())
        .then(Relu)
        .then(Dropout::new(0.3).unwrap())
        .then(Dense::xavier_uniform(&mut rng))
        .build()
}

fn data() -> (Vec<[f64; 3]>, Vec<usize>) {
    let x = (0..9)
        .map(|i| [i as f64 * 0.3, (i as f64).sin() * 2.0, 1.0 - i as f64 * 0.1])
        .collect();
    let y = (0..9).map(|i| i % 2).collect();
    (x, y)
}

fn fit(seed: u64, train_seed: u64) -> BnNet {
    let (x, y) = data();
    let mut n = net(seed);
    Training::new(SoftmaxCrossEntropy::mean(), Adam::new(1e-2))
        .batch::<4>()
        .epochs(3)
        .seed(train_seed)
        .fit(&mut n, Dataset::new(&x, &y).unwrap(), |_, _| {})
        .unwrap();
    n
}

#[test]
fn the_same_seed_gives_the_same_masks_and_weights() {
    assert_eq!(fit(1, 7), fit(1, 7));
    // Another training seed: other batch orders and masks, other weights.
    assert_ne!(fit(1, 7), fit(1, 8));
}

#[test]
fn optimizers_never_touch_buffers() {
    let mut n = net(2);
    n.layers.1.running_mean = [0.5; 4];
    n.layers.1.running_var = [2.0; 4];
    let mut grads = n.zeros_like();
    for k in 0..<BnNet as Params<f64>>::TENSORS {
        grads.tensor_mut(k).unwrap().data.fill(1.0);
    }
    let mut adam = Adam::new(0.1);
    adam.step(&mut n, &grads);
    assert_eq!(n.layers.1.running_mean, [0.5; 4]);
    assert_eq!(n.layers.1.running_var, [2.0; 4]);
    assert_ne!(n.layers.1.weight, [1.0; 4], "the parameters did move");
    let mut kinds = Vec::new();
    n.for_each_state(|t, kind| kinds.push((t.name.to_string(), kind)));
    assert_eq!(kinds[6], ("1.running_mean".to_string(), TensorKind::Buffer));
}

/// Nine rows in batches of 4: the last batch is one real row and three
/// padding rows. A hand-run of the same steps, each batch's statistics over
/// its real rows only, must give `fit`'s running statistics exactly.
#[test]
fn padding_rows_never_reach_batch_statistics() {
    let (x, y) = data();
    let mut trained = net(3);
    // A learning rate of 0: the weights stay fixed, only the statistics move.
    let mut t = Training::new(SoftmaxCrossEntropy::mean(), Sgd::new(0.0))
        .batch::<4>()
        .epochs(1)
        .seed(0)
        .shuffle(Shuffle::Never);
    t.fit(&mut trained, Dataset::new(&x, &y).unwrap(), |_, _| {})
        .unwrap();

    // The same three steps by hand (no optimizer: weights fixed).
    let mut by_hand = net(3);
    for chunk in x.chunks(4) {
        let rows: Vec<[f64; 3]> = chunk.to_vec();
        let mut batch = [[0.0; 3]; 4];
        batch[..rows.len()].copy_from_slice(&rows);
        let xb = Matrix::from_array(batch);
        let h = by_hand.layers.0.infer(&xb);
        let (mut z, mut cache) = by_hand.layers.1.forward(&h);
        by_hand.layers.1.forward_train(
            &h,
            &stackgrad::nn::Ctx::new(rows.len(), 0, 0),
            &mut z,
            &mut cache,
        );
        by_hand.layers.1.update(&h, &cache);
    }
    assert_eq!(trained.layers.1.running_mean, by_hand.layers.1.running_mean);
    assert_eq!(trained.layers.1.running_var, by_hand.layers.1.running_var);
    assert_ne!(trained.layers.1.running_mean, [0.0; 4]);
}

#[test]
fn evaluate_runs_in_evaluation_mode() {
    let (x, y) = data();
    let n = fit(4, 4);
    let stats = Training::new(SoftmaxCrossEntropy::sum(), ())
        .batch::<4>()
        .evaluate(&n, Dataset::new(&x, &y).unwrap())
        .unwrap();
    // The same loss from `infer` (running statistics, no dropout), row by row.
    let mut want = 0.0;
    for (row, &label) in x.iter().zip(&y) {
        let z = n.infer(&Matrix::from_array([*row]));
        let labels = stackgrad::loss::Labels::<1, 2>::new([label]).unwrap();
        want += SoftmaxCrossEntropy::sum().loss(&z, &labels);
    }
    assert!(
        (stats.mean_loss() * 9.0 - want).abs() < 1e-12,
        "{} vs {want}",
        stats.mean_loss() * 9.0
    );
    // Training mode differs (batch statistics and a dropout mask).
    let xb = Matrix::<f64, 4, 3>::from_fn(|r, c| x[r][c]);
    assert_ne!(n.forward(&xb).0, n.infer(&xb));
}

#[test]
fn running_statistics_survive_save_and_load() {
    let n = fit(5, 5);
    let bytes = io::to_bytes(&n, &[]).unwrap();
    let mut fresh = net(99);
    io::from_bytes(&mut fresh, &bytes, "in memory").unwrap();
    assert_eq!(fresh, n);
    let xb = Matrix::<f64, 2, 3>::from_fn(|r, c| (r + c) as f64);
    assert_eq!(fresh.infer(&xb), n.infer(&xb));
}
