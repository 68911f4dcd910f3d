//! Optimizers, learning-rate schedules and gradient clipping against
//! PyTorch 2.15 in float64. The constants in `reference` are what
//! `python3 scripts/reference/optim.py` prints; the script:
//!
//! ```python
//! # Reference values for tests/optim_reference.rs: PyTorch's optimizers,
//! # learning-rate schedulers and gradient clipping in float64. Prints Rust
//! # constants; the test file holds this output verbatim.
//! #
//! #   python3 scripts/reference/optim.py
//! #
//! # Parameters: the four tensors of (Dense<3, 2>, Sigmoid, Dense<2, 1>), in
//! # stackgrad's order (0.weight 3x2, 0.bias 2, 2.weight 2x1, 2.bias 1), flat.
//! # The gradient at every step is g = c * theta + d, element by element, so
//! # that it depends on where the optimizer has moved the weights.
//! import math
//! import torch
//!
//! torch.set_default_dtype(torch.float64)
//! SHAPES = [(3, 2), (2,), (2, 1), (1,)]
//! THETA0 = [0.5, -1.2, 0.3, 0.8, -0.4, 1.1, 0.2, -0.1, 0.7, -0.9, 0.05]
//! C = [1.0, 0.5, 2.0, -0.3, 1.5, 0.1, 3.0, 0.7, -0.2, 1.2, 0.9]
//! D = [0.1, -0.2, 0.05, 0.3, -0.15, 0.0, 0.25, -0.05, 0.4, -0.35, 0.2]
//! STEPS = 5
//!
//!
//! def tensors(flat):
//!     out, i = [], 0
//!     for s in SHAPES:
//!         n = math.prod(s)
//!         out.append(torch.tensor(flat[i : i + n]).reshape(s))
//!         i += n
//!     return out
//!
//!
//! def flat(ts):
//!     return [float(v) for t in ts for v in t.detach().reshape(-1)]
//!
//!
//! def rust(name, values):
//!     print(f"pub const {name}: [f64; {len(values)}] = [")
//!     for v in values:
//!         print(f"    {v!r},")
//!     print("];")
//!
//!
//! def set_grads(params, clip=None):
//!     for p, c, d in zip(params, tensors(C), tensors(D)):
//!         p.grad = c * p.detach() + d
//!     if clip is not None:
//!         torch.nn.utils.clip_grad_norm_(params, clip, foreach=False)
//!
//!
//! def run(make, clip=None):
//!     params = [torch.nn.Parameter(t) for t in tensors(THETA0)]
//!     opt = make(params)
//!     for _ in range(STEPS):
//!         set_grads(params, clip)
//!         opt.step()
//!     return flat(params)
//!
//!
//! O = torch.optim
//! print("// Optimizers: the weights after 5 steps.")
//! rust("SGD", run(lambda p: O.SGD(p, lr=0.1, foreach=False)))
//! rust("SGD_WD", run(lambda p: O.SGD(p, lr=0.1, weight_decay=0.01, foreach=False)))
//! rust("SGD_MOMENTUM", run(lambda p: O.SGD(p, lr=0.05, momentum=0.9, foreach=False)))
//! rust(
//!     "SGD_NESTEROV_WD",
//!     run(lambda p: O.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01, foreach=False)),
//! )
//! rust("ADAM", run(lambda p: O.Adam(p, lr=0.01, foreach=False)))
//! rust(
//!     "ADAM_L2",
//!     run(lambda p: O.Adam(p, lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1, foreach=False)),
//! )
//! rust("ADAMW", run(lambda p: O.AdamW(p, lr=0.01, weight_decay=0.1, foreach=False)))
//! rust("RMSPROP", run(lambda p: O.RMSprop(p, lr=0.01, foreach=False)))
//! rust(
//!     "RMSPROP_ALL",
//!     run(
//!         lambda p: O.RMSprop(
//!             p, lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.05, momentum=0.8, centered=True, foreach=False
//!         )
//!     ),
//! )
//!
//!
//! def lrs(make, epochs):
//!     opt = O.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
//!     sched = make(opt)
//!     out = []
//!     for _ in range(epochs):
//!         out.append(opt.param_groups[0]["lr"])
//!         opt.step()
//!         sched.step()
//!     return out
//!
//!
//! S = torch.optim.lr_scheduler
//! print("// Schedules: the learning rate of epochs 1, 2, ... (base 0.1).")
//! rust("STEP", lrs(lambda o: S.StepLR(o, step_size=3, gamma=0.5), 12))
//! rust("EXPONENTIAL", lrs(lambda o: S.ExponentialLR(o, gamma=0.9), 12))
//! rust("COSINE", lrs(lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.001), 25))
//! rust("WARMUP", lrs(lambda o: S.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=5), 10))
//! rust("LAMBDA", lrs(lambda o: S.LambdaLR(o, lambda e: 1.0 / (1.0 + e)), 8))
//!
//! print("// Clipping: the gradients at THETA0, clipped; the norm before clipping.")
//! params = [torch.nn.Parameter(t) for t in tensors(THETA0)]
//! set_grads(params)
//! norm = torch.nn.utils.clip_grad_norm_(params, 0.5, foreach=False)
//! rust("CLIP_NORM", [float(norm)] + flat([p.grad for p in params]))
//! set_grads(params)
//! norm = torch.nn.utils.clip_grad_norm_(params, 100.0, foreach=False)
//! rust("CLIP_NORM_UNDER", [float(norm)] + flat([p.grad for p in params]))
//! set_grads(params)
//! torch.nn.utils.clip_grad_value_(params, 0.3, foreach=False)
//! rust("CLIP_VALUE", flat([p.grad for p in params]))
//! rust("SGD_CLIPPED", run(lambda p: O.SGD(p, lr=0.1, momentum=0.9, foreach=False), clip=0.5))
//! ```

use stackgrad::nn::{Dense, Params, Sigmoid};
use stackgrad::optim::{Adam, Clip, Momentum, Optimizer, RmsProp, Sgd};
use stackgrad::schedule::{
    CosineAnnealing, Exponential, Lambda, LinearWarmup, Schedule, StepDecay,
};

/// The output of `scripts/reference/optim.py`, verbatim.
#[allow(clippy::excessive_precision, clippy::unreadable_literal)]
mod reference {
    // Optimizers: the weights after 5 steps.
    pub const SGD: [f64; 11] = [
        0.254294,
        -0.8380494999999998,
        0.08149599999999999,
        0.7681451851400001,
        -0.12185265624999997,
        1.0460890548900001,
        -0.03571350000000001,
        -0.04783229188,
        0.5646949558399998,
        -0.33721386752000004,
        -0.052346804945000006,
    ];
    pub const SGD_WD: [f64; 11] = [
        0.25273876539823953,
        -0.8333532949716788,
        0.0809159379021947,
        0.7639699779644892,
        -0.12092083915268462,
        1.0408164393483441,
        -0.0358220158843252,
        -0.04750238513415991,
        0.5613296938439292,
        -0.33479439289652413,
        -0.05235166817504256,
    ];
    pub const SGD_MOMENTUM: [f64; 11] = [
        0.15029356249999998,
        -0.704605859375,
        -0.03447700000000003,
        0.759155022273125,
        0.010977163085937517,
        1.0285565926590623,
        -0.18428632812500007,
        -0.02746026234624998,
        0.52506245007,
        -0.08673959775999995,
        -0.09455014608890627,
    ];
    pub const SGD_NESTEROV_WD: [f64; 11] = [
        0.08701601300688161,
        -0.5846685334146223,
        -0.05986337365525923,
        0.7393176240189626,
        0.06283785476726038,
        1.000439397681336,
        -0.17675383074950513,
        -0.012041187051077675,
        0.46649351750385665,
        0.041625848321518985,
        -0.12114523776494512,
    ];
    pub const ADAM: [f64; 11] = [
        0.4500802242424537,
        -1.1500281754743549,
        0.25016167979906684,
        0.7498441014797416,
        -0.3500982954085139,
        1.050041728385835,
        0.15019070235791435,
        -0.05036269600782726,
        0.649968274890506,
        -0.8500383450381873,
        0.00020025359239335232,
    ];
    pub const ADAM_L2: [f64; 11] = [
        0.45012837944958173,
        -1.150047193817067,
        0.2502497814688345,
        0.7499064429187351,
        -0.3501559845133518,
        1.0500667161832837,
        0.15029457809569857,
        -0.05057427717382806,
        0.649979183825922,
        -0.8500624295496101,
        0.000337594412809979,
    ];
    pub const ADAMW: [f64; 11] = [
        0.44768940211194613,
        -1.1441435331445717,
        0.24877003318440466,
        0.7459443354343259,
        -0.3482064278242958,
        1.0446574093947008,
        0.1492968504040622,
        -0.049967694484198084,
        0.6465731283536875,
        -0.8456508049357233,
        5.145131900509935e-05,
    ];
    pub const RMSPROP: [f64; 11] = [
        0.2127536906944189,
        -0.8881285181598478,
        0.05251441528357309,
        0.41742723315329505,
        -0.12157100601441995,
        0.7943899346645116,
        -0.03379186016985314,
        0.06816075314219985,
        0.3621460989430986,
        -0.5928167354509233,
        -0.1794066464483362,
    ];
    pub const RMSPROP_ALL: [f64; 11] = [
        0.2164459174060756,
        -0.905449747326092,
        0.03426613452645961,
        0.4818137151334608,
        -0.12036372171857856,
        0.8081257208283208,
        -0.059122305252131996,
        0.12043725426162254,
        0.3953364436313436,
        -0.6074999453140681,
        -0.2048013856582926,
    ];
    // Schedules: the learning rate of epochs 1, 2, ... (base 0.1).
    pub const STEP: [f64; 12] = [
        0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125, 0.0125,
    ];
    pub const EXPONENTIAL: [f64; 12] = [
        0.1,
        0.09000000000000001,
        0.08100000000000002,
        0.07290000000000002,
        0.06561000000000002,
        0.05904900000000002,
        0.05314410000000002,
        0.04782969000000002,
        0.043046721000000024,
        0.03874204890000002,
        0.03486784401000002,
        0.03138105960900001,
    ];
    pub const COSINE: [f64; 25] = [
        0.1,
        0.09757729755661011,
        0.0905463412215599,
        0.07959536998847742,
        0.0657963412215599,
        0.0505,
        0.03520365877844011,
        0.02140463001152259,
        0.010453658778440109,
        0.0034227024433899004,
        0.001,
        0.0034227024433899004,
        0.01045365877844014,
        0.02140463001152267,
        0.035203658778440255,
        0.05050000000000022,
        0.06579634122156018,
        0.07959536998847777,
        0.09054634122156031,
        0.09757729755661054,
        0.10000000000000045,
        0.09757729755661054,
        0.09054634122156033,
        0.07959536998847778,
        0.0657963412215602,
    ];
    pub const WARMUP: [f64; 10] = [
        0.010000000000000002,
        0.028000000000000004,
        0.046000000000000006,
        0.064,
        0.082,
        0.1,
        0.1,
        0.1,
        0.1,
        0.1,
    ];
    pub const LAMBDA: [f64; 8] = [
        0.1,
        0.05,
        0.03333333333333333,
        0.025,
        0.020000000000000004,
        0.016666666666666666,
        0.014285714285714285,
        0.0125,
    ];
    // Clipping: the gradients at THETA0, clipped; the norm before clipping.
    pub const CLIP_NORM: [f64; 12] = [
        2.215880186291669,
        0.13538632028464362,
        -0.18051509371285818,
        0.14666851364169725,
        0.013538632028464361,
        -0.16923290035580454,
        0.024820825385518,
        0.1917972870699118,
        -0.027077264056928722,
        0.05866740545667891,
        -0.322670730011734,
        0.05528274744956282,
    ];
    pub const CLIP_NORM_UNDER: [f64; 12] = [
        2.215880186291669,
        0.6,
        -0.8,
        0.65,
        0.06,
        -0.7500000000000001,
        0.11000000000000001,
        0.8500000000000001,
        -0.12,
        0.26,
        -1.4300000000000002,
        0.24500000000000002,
    ];
    pub const CLIP_VALUE: [f64; 11] = [
        0.3,
        -0.3,
        0.3,
        0.06,
        -0.3,
        0.11000000000000001,
        0.3,
        -0.12,
        0.26,
        -0.3,
        0.24500000000000002,
    ];
    pub const SGD_CLIPPED: [f64; 11] = [
        0.3178131066237808,
        -0.9494465038680857,
        0.11464033607597375,
        0.7802657374752247,
        -0.17927148966483689,
        1.0646921640746516,
        -0.027373695573295383,
        -0.06287823438120238,
        0.6150032508083538,
        -0.47116575110656533,
        -0.024856709967528482,
    ];
}

type Net = (Dense<f64, 3, 2>, Sigmoid, Dense<f64, 2, 1>);

const THETA0: [f64; 11] = [0.5, -1.2, 0.3, 0.8, -0.4, 1.1, 0.2, -0.1, 0.7, -0.9, 0.05];
const C: [f64; 11] = [1.0, 0.5, 2.0, -0.3, 1.5, 0.1, 3.0, 0.7, -0.2, 1.2, 0.9];
const D: [f64; 11] = [
    0.1, -0.2, 0.05, 0.3, -0.15, 0.0, 0.25, -0.05, 0.4, -0.35, 0.2,
];

fn from_flat(v: &[f64; 11]) -> Net {
    let mut net = (Dense::zeros(), Sigmoid, Dense::zeros());
    let mut i = 0;
    for k in 0..<Net as Params<f64>>::TENSORS {
        for x in net.tensor_mut(k).unwrap().data {
            *x = v[i];
            i += 1;
        }
    }
    net
}

fn flat(net: &Net) -> Vec<f64> {
    let mut out = Vec::new();
    net.for_each_tensor(|t| out.extend_from_slice(t.data));
    out
}

/// The script's gradient, `g = c θ + d` element by element.
fn grads(net: &Net) -> Net {
    let mut g = *net;
    let mut i = 0;
    for k in 0..<Net as Params<f64>>::TENSORS {
        for x in g.tensor_mut(k).unwrap().data {
            *x = C[i] * *x + D[i];
            i += 1;
        }
    }
    g
}

/// `a` and `b` agree element by element within `tol`; prints both and the
/// difference otherwise.
#[track_caller]
fn assert_close(what: &str, a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol,
            "{what}[{i}]: stackgrad {x:e}, PyTorch {y:e}, difference {:e}",
            x - y
        );
    }
}

/// Five steps of `opt` from `THETA0`, compared with PyTorch's weights.
#[track_caller]
fn five_steps(what: &str, mut opt: impl Optimizer<f64, Net>, want: &[f64; 11]) {
    opt.check().unwrap();
    let mut net = from_flat(&THETA0);
    for _ in 0..5 {
        let g = grads(&net);
        opt.step(&mut net, &g);
    }
    let got = flat(&net);
    let worst = got
        .iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    println!("{what}: largest difference from PyTorch {worst:e}");
    assert_close(what, &got, want, 1e-12);
    // Not vacuous: every weight moved by more than the tolerance.
    for (a, b) in flat(&net).iter().zip(THETA0) {
        assert!((a - b).abs() > 1e-6, "{what}: a weight did not move");
    }
}

#[test]
fn sgd_matches_pytorch() {
    five_steps("SGD", Sgd::new(0.1), &reference::SGD);
    five_steps(
        "SGD wd",
        Sgd::new(0.1).weight_decay(0.01),
        &reference::SGD_WD,
    );
}

#[test]
fn momentum_and_nesterov_match_pytorch() {
    five_steps(
        "momentum",
        Momentum::new(0.05, 0.9),
        &reference::SGD_MOMENTUM,
    );
    five_steps(
        "Nesterov wd",
        Sgd::new(0.05).weight_decay(0.01).momentum(0.9).nesterov(),
        &reference::SGD_NESTEROV_WD,
    );
}

#[test]
fn adam_and_adamw_match_pytorch() {
    five_steps("Adam", Adam::new(0.01), &reference::ADAM);
    five_steps(
        "Adam L2",
        Adam::with_betas(0.01, 0.8, 0.95, 1e-6).weight_decay(0.1),
        &reference::ADAM_L2,
    );
    five_steps(
        "AdamW",
        Adam::new(0.01).decoupled_weight_decay(0.1),
        &reference::ADAMW,
    );
}

#[test]
fn rmsprop_matches_pytorch() {
    five_steps("RMSprop", RmsProp::new(0.01), &reference::RMSPROP);
    five_steps(
        "RMSprop all",
        RmsProp::new(0.01)
            .alpha(0.9)
            .eps(1e-6)
            .weight_decay(0.05)
            .momentum(0.8)
            .centered(),
        &reference::RMSPROP_ALL,
    );
}

/// The variants differ from each other by far more than the tolerance, so
/// a test above cannot pass with the wrong variant.
#[test]
fn the_references_tell_the_variants_apart() {
    let all = [
        reference::SGD,
        reference::SGD_WD,
        reference::SGD_MOMENTUM,
        reference::SGD_NESTEROV_WD,
        reference::ADAM,
        reference::ADAM_L2,
        reference::ADAMW,
        reference::RMSPROP,
        reference::RMSPROP_ALL,
    ];
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            let gap = a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f64::max);
            assert!(gap > 1e-5, "{i}: {gap}");
        }
    }
}

/// The rates of epochs 1, 2, ... from base 0.1, bit for bit.
#[track_caller]
fn rates(what: &str, mut s: impl Schedule, want: &[f64]) {
    s.check().unwrap();
    let got: Vec<f64> = s.rates(0.1).take(want.len()).collect();
    for (e, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(
            g.to_bits(),
            w.to_bits(),
            "{what}, epoch {}: {g:e} vs PyTorch {w:e}",
            e + 1
        );
    }
}

#[test]
fn schedules_match_pytorch_exactly() {
    rates("StepLR", StepDecay::new(3, 0.5).unwrap(), &reference::STEP);
    rates(
        "ExponentialLR",
        Exponential::new(0.9).unwrap(),
        &reference::EXPONENTIAL,
    );
    rates(
        "CosineAnnealingLR",
        CosineAnnealing::new(10, 0.001).unwrap(),
        &reference::COSINE,
    );
    rates(
        "LinearLR",
        LinearWarmup::new(0.1, 1.0, 5).unwrap(),
        &reference::WARMUP,
    );
    rates(
        "LambdaLR",
        Lambda(|e: usize| 1.0 / (1.0 + e as f64)),
        &reference::LAMBDA,
    );
    // Not vacuous: each schedule changes the rate.
    for s in [
        &reference::STEP[..],
        &reference::EXPONENTIAL,
        &reference::COSINE,
        &reference::WARMUP,
        &reference::LAMBDA,
    ] {
        assert!(s.iter().any(|&r| r != s[0]));
    }
}

#[test]
fn clipping_matches_pytorch() {
    let g0 = grads(&from_flat(&THETA0));
    // By norm: the norm before clipping, and the clipped gradients.
    for (max, want) in [
        (0.5, &reference::CLIP_NORM),
        (100.0, &reference::CLIP_NORM_UNDER),
    ] {
        let mut g = g0;
        let norm = Clip::norm(max).unwrap().apply(&mut g);
        assert_close("norm", &[norm], &want[..1], 1e-12);
        assert_close("clipped by norm", &flat(&g), &want[1..], 1e-12);
    }
    // The first clips (the gradients change), the second does not.
    assert_ne!(&flat(&g0)[..], &reference::CLIP_NORM[1..]);
    assert_eq!(&flat(&g0)[..], &reference::CLIP_NORM_UNDER[1..]);
    // By value.
    let mut g = g0;
    Clip::value(0.3).unwrap().apply::<f64, Net>(&mut g);
    assert_close("clipped by value", &flat(&g), &reference::CLIP_VALUE, 1e-12);
    assert_ne!(flat(&g0), flat(&g));
    // Five momentum steps on clipped gradients.
    let clip = Clip::norm(0.5).unwrap();
    let mut net = from_flat(&THETA0);
    let mut opt = Momentum::new(0.1, 0.9);
    for _ in 0..5 {
        let mut g = grads(&net);
        clip.apply(&mut g);
        opt.step(&mut net, &g);
    }
    assert_close("clipped SGD", &flat(&net), &reference::SGD_CLIPPED, 1e-12);
}
