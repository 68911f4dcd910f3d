//! Shared by the benches: notebook 001's task (2 -> 25 -> 4, sigmoid, softmax
//! cross-entropy summed over the batch, batch 5, SGD) written with stackgrad and
//! by hand with nalgebra `SMatrix`, on the same deterministic data and weights.
#![allow(dead_code)]

#[path = "../../tests/support/notebooks.rs"]
mod notebooks;

use stackgrad::Matrix;
use stackgrad::batch::Dataset;
use stackgrad::loss::{Labels, Loss, SoftmaxCrossEntropy};
use stackgrad::nn::{Dense, Layer, Net, Params, Sigmoid, input};
use stackgrad::optim::{Optimizer, Sgd};
use stackgrad::rand::{SeedableRng, rngs::StdRng};
use stackgrad::train::{Training, Workspace};

/// Examples in notebook 001's data set (4 clusters of 10).
pub const SAMPLES: usize = 40;
/// Batch size.
pub const BATCH: usize = 5;
/// Epochs of the full run.
pub const EPOCHS: usize = 500;
/// Learning rate (notebook 001).
pub const LR: f64 = 1e-3;

/// The notebook's network type.
pub type Classifier<T> = Net<(Dense<T, 2, 25>, Sigmoid, Dense<T, 25, 4>)>;

/// xorshift64: a deterministic, dependency-free stream for inputs and shuffles.
pub struct XorShift(pub u64);
impl XorShift {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// Uniform on [-1, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// Notebook 001's data (four Gaussian clusters of 10, the generator the tests
/// use: tests/support/notebooks.rs), as plain arrays.
pub fn dataset() -> ([[f64; 2]; SAMPLES], [usize; SAMPLES]) {
    let (_, x, y) = notebooks::notebook_001(1);
    (*x.as_array(), *y.as_array())
}

/// One batch of the data set in stackgrad's types (rows `start..start + 5`).
pub fn batch<T: stackgrad::Scalar>(start: usize) -> (Matrix<T, BATCH, 2>, Labels<BATCH, 4>) {
    let (x, y) = dataset();
    let xb = Matrix::from_fn(|b, j| T::from_f64(x[start + b][j]));
    let yb = Labels::new(core::array::from_fn(|b| y[start + b])).unwrap();
    (xb, yb)
}

/// Xavier-initialised network, seed 0.
pub fn classifier<T: stackgrad::Scalar>() -> Classifier<T> {
    let mut rng = StdRng::seed_from_u64(0);
    input::<2>()
        .then(Dense::xavier_uniform(&mut rng))
        .then(Sigmoid)
        .then(Dense::xavier_uniform(&mut rng))
        .build()
}

/// stackgrad: forward, loss and gradient, backward, SGD update. Returns the loss.
#[inline(never)]
pub fn stackgrad_step<T: stackgrad::Scalar>(
    net: &mut Classifier<T>,
    grads: &mut Classifier<T>,
    x: &Matrix<T, BATCH, 2>,
    y: &Labels<BATCH, 4>,
    lr: T,
) -> T {
    let (logits, cache) = net.forward(x);
    let (loss, dlogits) = SoftmaxCrossEntropy::sum().loss_and_grad(&logits, y);
    // Parameter gradients only, like the nalgebra step (no gradient for x).
    net.backward_params(x, &logits, &cache, &dlogits, grads);
    Sgd::new(lr).step(net, grads);
    loss
}

/// Forward, loss and backward through the composed `Net` (no update).
#[inline(never)]
pub fn net_fwd_bwd<T: stackgrad::Scalar>(
    net: &Classifier<T>,
    grads: &mut Classifier<T>,
    x: &Matrix<T, BATCH, 2>,
    y: &Labels<BATCH, 4>,
) -> T {
    let (logits, cache) = net.forward(x);
    let (loss, dlogits) = SoftmaxCrossEntropy::sum().loss_and_grad(&logits, y);
    net.backward(x, &logits, &cache, &dlogits, grads);
    loss
}

/// The same with the layers called one by one (no `Net`, no tuple): the
/// composed network must cost the same (static dispatch, no function pointers).
#[inline(never)]
pub fn hand_sequenced_fwd_bwd<T: stackgrad::Scalar>(
    net: &Classifier<T>,
    grads: &mut Classifier<T>,
    x: &Matrix<T, BATCH, 2>,
    y: &Labels<BATCH, 4>,
) -> T {
    let (l0, l1, l2) = &net.layers;
    let (g0, _, g2) = &mut grads.layers;
    let (h, c0) = l0.forward(x);
    let (a, c1) = Layer::<Matrix<T, BATCH, 25>>::forward(l1, &h);
    let (logits, c2) = l2.forward(&a);
    let (loss, dlogits) = SoftmaxCrossEntropy::sum().loss_and_grad(&logits, y);
    let da = l2.backward(&a, &logits, &c2, &dlogits, g2);
    let dh = Layer::<Matrix<T, BATCH, 25>>::backward(l1, &h, &a, &c1, &da, &mut Sigmoid);
    let _ = l0.backward(x, &h, &c0, &dh, g0);
    loss
}

/// A fixed permutation of the sample indices per epoch (Fisher–Yates on xorshift),
/// shared by both implementations of the full run.
pub fn shuffle(order: &mut [usize; SAMPLES], rng: &mut XorShift) {
    for i in (1..SAMPLES).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
}

/// The data set's inputs in type `T`, for a [`Dataset`].
pub fn inputs<T: stackgrad::Scalar>() -> Vec<[T; 2]> {
    dataset().0.iter().map(|r| r.map(T::from_f64)).collect()
}

/// stackgrad's training loop for the task: softmax cross-entropy (sum), SGD
/// at the notebook's rate, batches of 5.
pub fn training<T: stackgrad::Scalar>() -> Training<SoftmaxCrossEntropy, Sgd<T>, BATCH> {
    Training::new(SoftmaxCrossEntropy::sum(), Sgd::new(T::from_f64(LR))).batch::<BATCH>()
}

/// The training workspace of the notebook's network on batches of 5.
pub type Work<T> = Workspace<Classifier<T>, Matrix<T, BATCH, 2>>;

/// One train step as a user of the library runs it: [`Training::epoch`] over
/// one batch of 5 rows (building the batch from the data set, forward, loss,
/// backward, the finiteness check and the SGD update, in one run-time SIMD
/// dispatch), with the workspace kept from step to step. Returns the loss.
#[inline(never)]
pub fn stackgrad_train_step<T: stackgrad::Scalar>(
    training: &mut Training<SoftmaxCrossEntropy, Sgd<T>, BATCH>,
    net: &mut Classifier<T>,
    work: &mut Work<T>,
    data: Dataset<'_, T, 2, usize>,
    rows: &[usize; BATCH],
) -> T {
    match training.epoch(1, net, work, data, rows) {
        Ok(stats) => stats.total_loss,
        Err(e) => panic!("{e}"),
    }
}

/// The full 500-epoch run through [`Training::epoch`], with the same shuffled
/// order per epoch as [`stackgrad_run`] and the nalgebra run; returns the last
/// epoch's loss sum.
#[inline(never)]
pub fn stackgrad_training_run<T: stackgrad::Scalar>(
    net: &mut Classifier<T>,
    data: Dataset<'_, T, 2, usize>,
) -> T {
    let mut training = training::<T>();
    let mut work = Workspace::new(net);
    let mut order = core::array::from_fn(|i| i);
    let mut rng = XorShift(7);
    let mut epoch_loss = T::zero();
    for epoch in 1..=EPOCHS {
        shuffle(&mut order, &mut rng);
        match training.epoch(epoch, net, &mut work, data, &order) {
            Ok(stats) => epoch_loss = stats.total_loss,
            Err(e) => panic!("{e}"),
        }
    }
    epoch_loss
}

/// stackgrad: the full 500-epoch run from `net`; returns the last epoch's loss sum.
#[inline(never)]
pub fn stackgrad_run<T: stackgrad::Scalar>(net: &mut Classifier<T>) -> T {
    let (x, y) = dataset();
    let mut grads = net.zeros_like();
    let mut order = core::array::from_fn(|i| i);
    let mut rng = XorShift(7);
    let lr = T::from_f64(LR);
    let mut epoch_loss = T::zero();
    for _ in 0..EPOCHS {
        shuffle(&mut order, &mut rng);
        epoch_loss = T::zero();
        for chunk in order.chunks_exact(BATCH) {
            let xb = Matrix::from_fn(|b, j| T::from_f64(x[chunk[b]][j]));
            // Labels from the data set are < 4 by construction.
            let Ok(yb) = Labels::new(core::array::from_fn(|b| y[chunk[b]])) else {
                unreachable!()
            };
            epoch_loss += stackgrad_step(net, &mut grads, &xb, &yb, lr);
        }
    }
    epoch_loss
}

/// Hand-written nalgebra versions, stamped for f32 and f64.
macro_rules! nalgebra_impl {
    ($m:ident, $t:ty) => {
        pub mod $m {
            use super::*;
            use nalgebra::SMatrix;

            /// Weights and biases as `SMatrix` (bias as a 1 x n row).
            #[derive(Clone)]
            pub struct Mlp {
                pub w1: SMatrix<$t, 2, 25>,
                pub b1: SMatrix<$t, 1, 25>,
                pub w2: SMatrix<$t, 25, 4>,
                pub b2: SMatrix<$t, 1, 4>,
            }

            /// The same weights as `net`.
            pub fn from_net(net: &Classifier<$t>) -> Mlp {
                let (l0, _, l2) = &net.layers;
                Mlp {
                    w1: SMatrix::from_fn(|i, j| l0.weight[(i, j)]),
                    b1: SMatrix::from_fn(|_, j| l0.bias[j]),
                    w2: SMatrix::from_fn(|i, j| l2.weight[(i, j)]),
                    b2: SMatrix::from_fn(|_, j| l2.bias[j]),
                }
            }

            pub fn batch(start: usize) -> (SMatrix<$t, BATCH, 2>, [usize; BATCH]) {
                let (x, y) = dataset();
                (
                    SMatrix::from_fn(|b, j| x[start + b][j] as $t),
                    core::array::from_fn(|b| y[start + b]),
                )
            }

            fn sigmoid(x: $t) -> $t {
                if x >= 0.0 {
                    1.0 / (1.0 + (-x).exp())
                } else {
                    let e = x.exp();
                    e / (1.0 + e)
                }
            }

            /// What a Rust user writes today: nalgebra products, scalar std math.
            #[inline(never)]
            pub fn step(m: &mut Mlp, x: &SMatrix<$t, BATCH, 2>, y: &[usize; BATCH], lr: $t) -> $t {
                let mut z1 = x * m.w1;
                for mut row in z1.row_iter_mut() {
                    row += m.b1;
                }
                let a1 = z1.map(sigmoid);
                let mut z2 = a1 * m.w2;
                for mut row in z2.row_iter_mut() {
                    row += m.b2;
                }
                // Softmax cross-entropy (sum): loss and dZ2 = P - onehot.
                let mut dz2 = z2;
                let mut loss = 0.0;
                for (b, mut row) in dz2.row_iter_mut().enumerate() {
                    let mx = row.max();
                    row.apply(|v| *v = (*v - mx).exp());
                    let s = row.sum();
                    row /= s;
                    loss -= row[y[b]].ln();
                    row[y[b]] -= 1.0;
                }
                let dw2 = a1.tr_mul(&dz2);
                let db2 = dz2.row_sum();
                let da1 = dz2 * m.w2.transpose();
                let dz1 = da1.zip_map(&a1, |d, a| d * a * (1.0 - a));
                let dw1 = x.tr_mul(&dz1);
                let db1 = dz1.row_sum();
                m.w1 -= dw1 * lr;
                m.b1 -= db1 * lr;
                m.w2 -= dw2 * lr;
                m.b2 -= db2 * lr;
                loss
            }

            /// The full 500-epoch run with nalgebra.
            #[inline(never)]
            pub fn run(m: &mut Mlp) -> $t {
                let (x, y) = dataset();
                let mut order = core::array::from_fn(|i| i);
                let mut rng = XorShift(7);
                let mut epoch_loss = 0.0;
                for _ in 0..EPOCHS {
                    shuffle(&mut order, &mut rng);
                    epoch_loss = 0.0;
                    for chunk in order.chunks_exact(BATCH) {
                        let xb = SMatrix::<$t, BATCH, 2>::from_fn(|b, j| x[chunk[b]][j] as $t);
                        let yb = core::array::from_fn(|b| y[chunk[b]]);
                        epoch_loss += step(m, &xb, &yb, LR as $t);
                    }
                }
                epoch_loss
            }
        }
    };
}

nalgebra_impl!(nalgebra_f64, f64);
nalgebra_impl!(nalgebra_f32, f32);
