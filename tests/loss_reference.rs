//! Every loss, every reduction, value and gradient against PyTorch in f64:
//! `MSELoss`, `BCEWithLogitsLoss`, `BCELoss` and `CrossEntropyLoss` (class
//! indices and soft targets), `reduction='mean'` and `'sum'`, and the summed
//! `MSELoss` divided by the batch for `BatchMean`.
//!
//! The table is printed by `python3 scripts/loss_reference.py` (PyTorch's
//! autograd for the gradients; the script holds the inputs below).

use stackgrad::Matrix;
use stackgrad::loss::{
    BinaryCrossEntropy, BinaryCrossEntropyWithLogits, ElementwiseLoss, HalfSquaredError, Labels,
    Loss, MeanSquaredError, Reduction, SoftmaxCrossEntropy,
};

type M = Matrix<f64, 4, 3>;

// Printed by scripts/loss_reference.py.
const TORCH: [(&str, f64, [[f64; 3]; 4]); 11] = [
    (
        "mse_mean",
        2.1479166666666667,
        [
            [
                -0.11666666666666665,
                -0.19999999999999998,
                0.3333333333333333,
            ],
            [0.3333333333333333, -0.15, -0.15833333333333333],
            [-0.2333333333333333, 0.15, -0.15833333333333333],
            [
                0.21666666666666667,
                -0.4833333333333334,
                0.09999999999999999,
            ],
        ],
    ),
    (
        "bce_logits_mean",
        1.0335542907903144,
        [
            [
                -0.035463123599028416,
                0.019289601375081865,
                0.03534515166489638,
            ],
            [
                0.07339975649815686,
                -0.03958506771008833,
                0.0068176856526528246,
            ],
            [
                -0.04989063834270433,
                0.05924579188541699,
                -0.04062521695964914,
            ],
            [
                0.051464539682803644,
                -0.05002079257335957,
                0.05380469218548295,
            ],
        ],
    ),
    (
        "bce_mean",
        1.0335542907903141,
        [
            [
                -0.14506818505680982,
                0.10843285099268352,
                0.5041837067533164,
            ],
            [
                0.6990880082442201,
                -0.15873645150299662,
                0.03075006674799483,
            ],
            [
                -0.20765205813677254,
                0.28830025926307906,
                -0.16260245204172616,
            ],
            [0.3450604353533972, -0.5570223751745987, 0.23517656669920906],
        ],
    ),
    (
        "ce_labels_mean",
        1.2281187648572838,
        [
            [
                0.024394661931406166,
                0.005443184823521463,
                -0.02983784675492765,
            ],
            [
                -0.044538695857376714,
                0.030730563564294038,
                0.013808132293082668,
            ],
            [
                0.04007946087792542,
                -0.10293656776065238,
                0.06285710688272694,
            ],
            [
                0.17466721871416496,
                -0.24568161039461978,
                0.07101439168045486,
            ],
        ],
    ),
    (
        "ce_soft_mean",
        2.1729798759683945,
        [
            [-0.1422720047352605, 0.005443184823521463, 0.136828819911739],
            [
                0.20546130414262329,
                -0.16926943643570597,
                -0.03619186770691733,
            ],
            [
                -0.08492053912207459,
                0.14706343223934762,
                -0.06214289311727306,
            ],
            [
                0.1191116631586094,
                -0.19012605483906422,
                0.07101439168045486,
            ],
        ],
    ),
    (
        "mse_sum",
        25.775000000000002,
        [
            [-1.4, -2.4, 4.0],
            [4.0, -1.8, -1.9],
            [-2.8, 1.8, -1.9],
            [2.6, -5.800000000000001, 1.2],
        ],
    ),
    (
        "bce_logits_sum",
        12.402651489483771,
        [
            [
                -0.42555748318834097,
                0.23147521650098238,
                0.42414181997875655,
            ],
            [0.8807970779778823, -0.47502081252106, 0.0818122278318339],
            [-0.598687660112452, 0.7109495026250039, -0.48750260351578967],
            [0.6175744761936437, -0.6002495108803149, 0.6456563062257954],
        ],
    ),
    (
        "bce_sum",
        12.40265148948377,
        [
            [-1.7408182206817178, 1.3011942119122022, 6.050204481039796],
            [8.389056098930642, -1.9048374180359595, 0.36900080097593796],
            [-2.4918246976412703, 3.4596031111569485, -1.951229424500714],
            [4.140725224240766, -6.684268502095185, 2.8221188003905087],
        ],
    ),
    (
        "ce_labels_sum",
        4.912475059429135,
        [
            [
                0.09757864772562466,
                0.021772739294085852,
                -0.1193513870197106,
            ],
            [
                -0.17815478342950686,
                0.12292225425717615,
                0.05523252917233067,
            ],
            [
                0.16031784351170167,
                -0.4117462710426095,
                0.25142842753090777,
            ],
            [0.6986688748566598, -0.9827264415784791, 0.2840575667218194],
        ],
    ),
    (
        "ce_soft_sum",
        8.691919503873578,
        [
            [-0.569088018941042, 0.021772739294085852, 0.547315279646956],
            [
                0.8218452165704931,
                -0.6770777457428239,
                -0.14476747082766933,
            ],
            [
                -0.33968215648829836,
                0.5882537289573905,
                -0.24857157246909223,
            ],
            [0.4764466526344376, -0.7605042193562569, 0.2840575667218194],
        ],
    ),
    (
        "mse_batchmean",
        6.4437500000000005,
        [
            [-0.35, -0.6, 1.0],
            [1.0, -0.45, -0.475],
            [-0.7, 0.45, -0.475],
            [0.65, -1.4500000000000002, 0.3],
        ],
    ),
];

fn inputs() -> (M, M, M, Labels<4, 3>, M) {
    let z = Matrix::from_array([
        [0.3, -1.2, 2.5],
        [2.0, 0.1, -0.7],
        [-0.4, 0.9, 0.05],
        [1.5, -2.2, 0.6],
    ]);
    let y = Matrix::from_array([
        [1.0, 0.0, 0.5],
        [0.0, 1.0, 0.25],
        [1.0, 0.0, 1.0],
        [0.2, 0.7, 0.0],
    ]);
    // p = sigmoid(z) and soft = y / row sums, as the script computes them.
    let p = z.map(|v: f64| 1.0 / (1.0 + (-v).exp()));
    let soft = Matrix::from_fn(|r, c| y[(r, c)] / (0..3).map(|j| y[(r, j)]).sum::<f64>());
    (z, y, p, Labels::new([2, 0, 1, 1]).unwrap(), soft)
}

fn ours(name: &str) -> (f64, M) {
    let (z, y, p, labels, soft) = inputs();
    let (kind, red) = name.rsplit_once('_').unwrap();
    let r = match red {
        "mean" => Reduction::Mean,
        "sum" => Reduction::Sum,
        "batchmean" => Reduction::BatchMean,
        _ => unreachable!("{name}"),
    };
    match kind {
        "mse" => MeanSquaredError.with(r).loss_and_grad(&z, &y),
        "bce_logits" => BinaryCrossEntropyWithLogits { reduction: r }.loss_and_grad(&z, &y),
        "bce" => BinaryCrossEntropy { reduction: r }.loss_and_grad(&p, &y),
        "ce_labels" => SoftmaxCrossEntropy { reduction: r }.loss_and_grad(&z, &labels),
        "ce_soft" => SoftmaxCrossEntropy { reduction: r }.loss_and_grad(&z, &soft),
        _ => unreachable!("{name}"),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

#[test]
fn every_loss_and_reduction_matches_pytorch() {
    let mut worst = 0.0f64;
    for (name, value, grad) in TORCH {
        let (l, g) = ours(name);
        assert!(close(l, value), "{name}: loss {l} vs PyTorch {value}");
        for (r, row) in grad.iter().enumerate() {
            for (c, &want) in row.iter().enumerate() {
                let got = g[(r, c)];
                assert!(
                    close(got, want),
                    "{name}: grad ({r},{c}) {got} vs PyTorch {want}"
                );
                worst = worst.max((got - want).abs() / want.abs().max(1.0));
            }
        }
        worst = worst.max((l - value).abs() / value.abs().max(1.0));
    }
    println!(
        "largest difference from PyTorch over {} cases: {worst:.1e}",
        TORCH.len()
    );
}

/// The defaults are PyTorch's: a mean over all elements (the squared error
/// and both binary cross-entropies) or over the rows (cross-entropy).
#[test]
fn defaults_are_pytorch_means() {
    let (z, y, p, labels, _) = inputs();
    let value = |name: &str| TORCH.iter().find(|t| t.0 == name).unwrap().1;
    assert!(close(MeanSquaredError.loss(&z, &y), value("mse_mean")));
    assert!(close(
        BinaryCrossEntropyWithLogits::default().loss(&z, &y),
        value("bce_logits_mean")
    ));
    assert!(close(
        BinaryCrossEntropy::default().loss(&p, &y),
        value("bce_mean")
    ));
    assert!(close(
        SoftmaxCrossEntropy::default().loss(&z, &labels),
        value("ce_labels_mean")
    ));
    assert!(close(
        SoftmaxCrossEntropy::sum().loss(&z, &labels),
        value("ce_labels_sum")
    ));
}

/// Notebook 002's loss, `(1/B) Σ_b ½ Σ_o (p - y)²`, is half of PyTorch's
/// summed `MSELoss` divided by the batch, and so is its gradient.
#[test]
fn notebook_002_loss_is_half_the_batch_mean() {
    let (z, y, ..) = inputs();
    let want = TORCH.iter().find(|t| t.0 == "mse_batchmean").unwrap();
    let (l, g) = HalfSquaredError::batch_mean().loss_and_grad(&z, &y);
    assert!(close(2.0 * l, want.1), "{l}");
    for (r, row) in want.2.iter().enumerate() {
        for (c, &w) in row.iter().enumerate() {
            assert!(close(2.0 * g[(r, c)], w));
        }
    }
}
