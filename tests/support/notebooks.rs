//! The notebooks' networks and batches, shared by the gradient-check tests and
//! `examples/02_gradient_check.rs` (included there with `#[path]`). Where each
//! number comes from is said at each function.
#![allow(dead_code, clippy::excessive_precision)]

use stackgrad::Matrix;
use stackgrad::init::standard_normal;
use stackgrad::loss::Labels;
use stackgrad::nn::{Dense, Linear, Net, Relu, Sigmoid};
use stackgrad::rand::{SeedableRng, rngs::StdRng};

/// Notebook 000's network: 2 -> 3 -> 1, sigmoid, no biases.
pub type Net000 = Net<(Linear<f64, 2, 3>, Sigmoid, Linear<f64, 3, 1>, Sigmoid)>;
/// Notebook 001's classifier: 2 -> 25 -> 4, sigmoid hidden layer (softmax in the loss).
pub type Net001 = Net<(Dense<f64, 2, 25>, Sigmoid, Dense<f64, 25, 4>)>;
/// Notebook 004's network: 4 -> 5 -> 3 -> 1, ReLU, ReLU, sigmoid.
pub type Net004 = Net<(
    Dense<f64, 4, 5>,
    Relu,
    Dense<f64, 5, 3>,
    Relu,
    Dense<f64, 3, 1>,
    Sigmoid,
)>;

/// Notebook 000: X, Y, W1, W2 copied from its cell (`J = ½ Σ (y - ŷ)²`).
pub fn notebook_000() -> (Net000, Matrix<f64, 3, 2>, Matrix<f64, 3, 1>) {
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
    (net, x, y)
}

/// Notebook 001: Xavier-uniform 2 -> 25 -> 4 network and 40 points, 10 from each
/// of its four Gaussian clusters (means and variances from its cell 20), drawn
/// from a seeded generator (the notebook's draws are unseeded).
pub fn notebook_001(seed: u64) -> (Net001, Matrix<f64, 40, 2>, Labels<40, 4>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let clusters = [
        ([3.6, 40.0], [0.05f64.sqrt(), 10f64.sqrt()]),
        ([3.9, 10.0], [0.01f64.sqrt(), 5f64.sqrt()]),
        ([3.4, 30.0], [0.25f64.sqrt(), 5f64.sqrt()]),
        ([2.0, 10.0], [0.5f64.sqrt(), 10f64.sqrt()]),
    ];
    let classes: [usize; 40] = core::array::from_fn(|i| i / 10);
    let x = Matrix::from_fn(|b, j| {
        let (mean, std) = clusters[classes[b]];
        mean[j] + std[j] * standard_normal(&mut rng)
    });
    let y = Labels::new(classes).expect("classes 0..4");
    let net = Net::new((
        Dense::xavier_uniform(&mut rng),
        Sigmoid,
        Dense::xavier_uniform(&mut rng),
    ));
    (net, x, y)
}

/// Notebook 004: 4 -> 5 -> 3 -> 1 network (ReLU, ReLU, sigmoid), binary
/// cross-entropy averaged over the batch of 3, parameters from
/// `np.random.seed(1)` (`test_case()`; the values below were printed by numpy
/// with that seed, and the notebook's own printout confirms them: its
/// "Parameter 0" is W1[0,0] = -0.3224172040135075 and its loss 2.4078333898).
/// The notebook's layout is features x batch with `W: out x in`; ours is batch
/// x features with `W: in x out`, so every matrix is transposed here.
/// Its check: `‖a - n‖ / (‖a‖ + ‖n‖) < 2e-7` at step 1e-7 (it prints 1.189e-7).
pub fn notebook_004() -> (Net004, Matrix<f64, 3, 4>, Matrix<f64, 3, 1>) {
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
