//! `io::torch` and the element types of `io::Options` on files stackgrad
//! writes: round trips in every dtype, the conversions' rounding, the
//! layouts kept apart, and every mismatch an error that names the tensor
//! with the network left unchanged. (PyTorch-made files:
//! `tests/torch_fixtures.rs`.)

use stackgrad::half::{bf16_to_f32, f16_to_f32, f32_to_bf16, f32_to_f16};
use stackgrad::io::{self, Dtype, File, Options, torch};
use stackgrad::nn::{
    AvgPool2d, BatchNorm1d, Concat, Dense, Dropout, Identity, LayerNorm, Linear, MaxPool2d, Net,
    Params, Projected, Relu, Residual, Sigmoid, Softmax, Tanh,
};
use stackgrad::rand::{SeedableRng, rngs::StdRng};
use stackgrad::{Error, Matrix};

/// Dense layers inside a residual and a projected block, a batch norm, a
/// concatenation: every naming rule and both transposed kinds.
type Blocks<T> = Net<(
    Dense<T, 3, 4>,
    Residual<Net<(Dense<T, 4, 4>, Tanh)>>,
    BatchNorm1d<T, 4>,
    Projected<Net<(Linear<T, 4, 5>, Relu)>, Dense<T, 4, 5>>,
    Concat<Dense<T, 5, 2>, Identity>,
    Dense<T, 7, 2>,
)>;

fn blocks(seed: u64) -> Blocks<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut net = Net::new((
        Dense::xavier_uniform(&mut rng),
        Residual::new(Net::new((Dense::xavier_uniform(&mut rng), Tanh))),
        BatchNorm1d::new(),
        Projected::new(
            Net::new((
                Linear::new(Matrix::from_fn(|r, c| (r * 5 + c) as f32 * 0.1)),
                Relu,
            )),
            Dense::xavier_uniform(&mut rng),
        ),
        Concat::new(Dense::xavier_uniform(&mut rng), Identity),
        Dense::xavier_uniform(&mut rng),
    ));
    net.layers.2.running_mean = [0.5, -0.25, 1.0, 2.0];
    net.layers.2.running_var = [1.5, 0.75, 2.0, 0.125];
    net.layers.2.weight = [1.0, 2.0, 0.5, -1.0];
    net
}

fn zeros() -> Blocks<f32> {
    let mut net = blocks(0);
    net.for_each_state_mut_zero();
    net
}

/// Zeroes every state tensor (parameters and buffers).
trait ZeroState {
    fn for_each_state_mut_zero(&mut self);
}

impl<P: Params<f32>> ZeroState for P {
    fn for_each_state_mut_zero(&mut self) {
        for k in 0..P::TENSORS + P::BUFFERS {
            if let Some(t) = self.state_mut(k) {
                t.data.fill(0.0);
            }
        }
    }
}

fn names_and_shapes(bytes: &[u8]) -> Vec<(String, String, Vec<usize>)> {
    let file = File::parse(bytes, "t").unwrap();
    let names: Vec<String> = file.names().map(str::to_string).collect();
    names
        .into_iter()
        .map(|n| {
            let (d, s, _) = file.raw(&n).unwrap();
            (n.clone(), d.to_string(), s.to_vec())
        })
        .collect()
}

#[test]
fn names_and_shapes_follow_state_dict() {
    let bytes = torch::to_bytes(&blocks(1), Options::new()).unwrap();
    let got = names_and_shapes(&bytes);
    let want: Vec<(&str, Vec<usize>)> = vec![
        ("0.bias", vec![4]),
        ("0.weight", vec![4, 3]),
        ("1.0.0.bias", vec![4]),
        ("1.0.0.weight", vec![4, 4]),
        ("2.bias", vec![4]),
        ("2.running_mean", vec![4]),
        ("2.running_var", vec![4]),
        ("2.weight", vec![4]),
        ("3.0.0.weight", vec![5, 4]),
        ("3.1.bias", vec![5]),
        ("3.1.weight", vec![5, 4]),
        ("4.0.bias", vec![2]),
        ("4.0.weight", vec![2, 5]),
        ("5.bias", vec![2]),
        ("5.weight", vec![2, 7]),
    ];
    assert_eq!(
        got,
        want.into_iter()
            .map(|(n, s)| (n.to_string(), "F32".to_string(), s))
            .collect::<Vec<_>>()
    );
    // Transposed, element by element: PyTorch's weight[o][i] is ours [i][o].
    let file = File::parse(&bytes, "t").unwrap();
    let net = blocks(1);
    let (_, w) = file.values("3.0.0.weight").unwrap();
    let ours = net.layers.3.branch.layers.0.weight;
    for o in 0..5 {
        for i in 0..4 {
            assert_eq!(w[o * 4 + i], f64::from(ours[(i, o)]));
        }
    }
    assert_eq!(
        file.metadata().get(io::LAYOUT_KEY).map(String::as_str),
        Some("torch")
    );
}

#[test]
fn round_trip_in_every_dtype() {
    let net = blocks(2);
    let x = Matrix::<f32, 2, 3>::from_array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]);
    for dtype in [Dtype::F32, Dtype::F64, Dtype::F16, Dtype::BF16] {
        let bytes = torch::to_bytes(&net, Options::new().dtype(dtype)).unwrap();
        let mut back = zeros();
        let convert = Options::new().convert();
        torch::from_bytes(&mut back, &bytes, "t", convert).unwrap();
        // Each value is the nearest of the dtype (F16/BF16 via f32, exact back).
        let round = |v: f32| match dtype {
            Dtype::F32 | Dtype::F64 => v,
            Dtype::F16 => f16_to_f32(f32_to_f16(v)),
            Dtype::BF16 => bf16_to_f32(f32_to_bf16(v)),
        };
        for k in 0..<Blocks<f32> as Params<f32>>::TENSORS + <Blocks<f32> as Params<f32>>::BUFFERS {
            let (a, b) = (net.state(k).unwrap(), back.state(k).unwrap());
            assert_eq!(a.name, b.name);
            for (&u, &v) in a.data.iter().zip(b.data) {
                assert_eq!(round(u).to_bits(), v.to_bits(), "{dtype:?} {}", a.name);
            }
        }
        if matches!(dtype, Dtype::F32) {
            assert_eq!(back, net);
            assert_eq!(back.infer(&x), net.infer(&x));
        }
        // Without `convert`, only the network's own type loads.
        let mut other = zeros();
        let e = torch::from_bytes(&mut other, &bytes, "t", Options::new());
        assert_eq!(e.is_ok(), dtype == Dtype::F32, "{dtype:?}");
        // An f64 network takes every dtype exactly.
        let mut wide: Blocks<f64> = stackgrad::nn::Recast::recast(&zeros());
        torch::from_bytes(&mut wide, &bytes, "t", convert).unwrap();
        assert_eq!(
            wide.layers.0.weight[(2, 3)] as f32,
            round(net.layers.0.weight[(2, 3)])
        );
    }
}

#[test]
fn f64_to_f32_rounds_to_nearest_and_refuses_overflow() {
    let mut layer = Dense::<f64, 1, 3>::zeros();
    // 1 + 2^-24 is a tie between two f32s: to even, 1.0; 1 + 3 * 2^-25 rounds up.
    layer.weight = Matrix::from_array([[1.0 + 2f64.powi(-24), 1.0 + 3.0 * 2f64.powi(-25), -0.1]]);
    let bytes = torch::to_bytes(&layer, Options::new()).unwrap();
    let mut single = Dense::<f32, 1, 3>::zeros();
    torch::from_bytes(&mut single, &bytes, "t", Options::new().convert()).unwrap();
    assert_eq!(
        single.weight.row(0),
        &[1.0, 1.0 + 2f32.powi(-23), -0.1f32][..]
    );
    layer.weight[(0, 2)] = -1e39;
    let bytes = torch::to_bytes(&layer, Options::new()).unwrap();
    let before = single;
    let e = torch::from_bytes(&mut single, &bytes, "big", Options::new().convert()).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"big: tensor "weight" holds -1e39 at element 2, beyond the range of F32"#
    );
    assert_eq!(single, before);
    // Saving beyond a dtype's range is an error too, never an infinity.
    let e = torch::to_bytes(&layer, Options::new().dtype(Dtype::F32)).unwrap_err();
    assert!(
        matches!(
            e,
            Error::ValueRange {
                index: 2,
                dtype: "F32",
                ..
            }
        ),
        "{e}"
    );
    let mut half = Dense::<f32, 1, 2>::zeros();
    half.bias = [65504.0, 65520.0];
    let e = io::to_bytes_with(&half, &[], Options::new().dtype(Dtype::F16)).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"(encoding): tensor "bias" holds 6.552e4 at element 1, beyond the range of F16"#
    );
    // Infinities and NaN are values of every type: kept as they are.
    half.bias = [f32::INFINITY, f32::NAN];
    let bytes = io::to_bytes_with(&half, &[], Options::new().dtype(Dtype::BF16)).unwrap();
    let mut back = Dense::<f32, 1, 2>::zeros();
    io::from_bytes_with(&mut back, &bytes, "t", Options::new().convert()).unwrap();
    assert!(back.bias[0] == f32::INFINITY && back.bias[1].is_nan());
}

#[test]
fn the_two_layouts_are_kept_apart() {
    // A square dense weight would load either way, transposed: the
    // recorded layout decides.
    let mut square = Dense::<f32, 2, 2>::zeros();
    square.weight = Matrix::from_array([[1.0, 2.0], [3.0, 4.0]]);
    let torch_file = torch::to_bytes(&square, Options::new()).unwrap();
    let ours = io::to_bytes(&square, &[]).unwrap();
    let mut back = Dense::<f32, 2, 2>::zeros();
    let e = io::from_bytes(&mut back, &torch_file, "t.safetensors").unwrap_err();
    assert_eq!(
        e.to_string(),
        "t.safetensors holds PyTorch's layout (recorded in its metadata): load it with io::torch::load"
    );
    let e = torch::from_bytes(&mut back, &ours, "s.safetensors", Options::new()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "s.safetensors holds stackgrad's layout (recorded in its metadata): load it with io::load"
    );
    assert_eq!(back, Dense::zeros());
    torch::from_bytes(&mut back, &torch_file, "t", Options::new()).unwrap();
    assert_eq!(back, square);
    // As PyTorch stores it: weight[o][i].
    let (_, w) = File::parse(&torch_file, "t")
        .unwrap()
        .values("weight")
        .unwrap();
    assert_eq!(w, [1.0, 3.0, 2.0, 4.0]);
}

#[test]
fn architecture_is_checked_in_pytorch_layout_too() {
    let bytes = torch::to_bytes(&blocks(3), Options::new()).unwrap();
    type Other = Net<(
        Dense<f32, 3, 4>,
        Residual<Net<(Dense<f32, 4, 4>, Sigmoid)>>,
        BatchNorm1d<f32, 4>,
        Projected<Net<(Linear<f32, 4, 5>, Relu)>, Dense<f32, 4, 5>>,
        Concat<Dense<f32, 5, 2>, Identity>,
        Dense<f32, 7, 2>,
    )>;
    let mut other: Other = Net::new((
        Dense::zeros(),
        Residual::new(Net::new((Dense::zeros(), Sigmoid))),
        BatchNorm1d::new(),
        Projected::new(Net::new((Linear::zeros(), Relu)), Dense::zeros()),
        Concat::new(Dense::zeros(), Identity),
        Dense::zeros(),
    ));
    let e = torch::from_bytes(&mut other, &bytes, "t", Options::new()).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("t was saved from another network: layer 1 is Residual<(Dense<f32, 4, 4>, Tanh)> in the file"),
        "{e}"
    );
}

/// A PyTorch `state_dict` of `nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))`
/// as `safetensors.torch.save_file` writes it (no stackgrad metadata).
fn pytorch_like(batches_dtype: &str, batches_shape: &str) -> Vec<u8> {
    let names = [
        "0.weight",
        "0.bias",
        "1.weight",
        "1.bias",
        "1.running_mean",
        "1.running_var",
    ];
    let sizes = [4usize, 2, 2, 2, 2, 2];
    let mut header = String::from("{");
    let mut at = 0;
    for (n, s) in names.iter().zip(sizes) {
        let shape = if s == 4 { "[2,2]" } else { "[2]" };
        header += &format!(
            r#""{n}":{{"dtype":"F32","shape":{shape},"data_offsets":[{at},{}]}},"#,
            at + 4 * s
        );
        at += 4 * s;
    }
    header += &format!(
        r#""1.num_batches_tracked":{{"dtype":"{batches_dtype}","shape":{batches_shape},"data_offsets":[{at},{}]}}}}"#,
        at + 8
    );
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend(header.as_bytes());
    for k in 0..at / 4 {
        bytes.extend((k as f32).to_le_bytes());
    }
    bytes.extend(7i64.to_le_bytes());
    bytes
}

#[test]
fn num_batches_tracked_is_accepted_and_checked() {
    type Bn = Net<(Dense<f32, 2, 2>, BatchNorm1d<f32, 2>)>;
    let fresh = || -> Bn { Net::new((Dense::zeros(), BatchNorm1d::new())) };
    let mut net = fresh();
    torch::from_bytes(&mut net, &pytorch_like("I64", "[]"), "pt", Options::new()).unwrap();
    // weight[o][i] = 0, 1, 2, 3 in the file.
    assert_eq!(
        net.layers.0.weight,
        Matrix::from_array([[0.0, 2.0], [1.0, 3.0]])
    );
    assert_eq!(net.layers.1.running_var, [12.0, 13.0]);
    let mut net = fresh();
    let e =
        torch::from_bytes(&mut net, &pytorch_like("F32", "[2]"), "pt", Options::new()).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"pt: tensor "1.num_batches_tracked" has dtype F32 but the network expects I64"#
    );
    let e =
        torch::from_bytes(&mut net, &pytorch_like("I64", "[1]"), "pt", Options::new()).unwrap_err();
    assert!(
        matches!(&e, Error::TensorShape { name, .. } if name == "1.num_batches_tracked"),
        "{e}"
    );
    assert_eq!(net, fresh());
    // Only beside a batch norm; in stackgrad's layout not at all.
    let mut dense = Net::new((Dense::<f32, 2, 2>::zeros(),));
    let e = torch::from_bytes(&mut dense, &pytorch_like("I64", "[]"), "pt", Options::new())
        .unwrap_err();
    assert!(
        matches!(&e, Error::UnexpectedTensor { name, .. } if name == "1.bias"),
        "{e}"
    );
    let e = io::from_bytes(&mut fresh(), &pytorch_like("I64", "[]"), "pt").unwrap_err();
    assert!(
        matches!(&e, Error::UnexpectedTensor { name, .. } if name == "1.num_batches_tracked"),
        "{e}"
    );
}

#[test]
fn saved_files_leave_num_batches_tracked_out() {
    let bytes = torch::to_bytes(&blocks(0), Options::new()).unwrap();
    let file = File::parse(&bytes, "t").unwrap();
    assert!(file.names().all(|n| !n.contains("num_batches_tracked")));
}

#[test]
fn python_prints_every_layer() {
    let net = Net::new((
        Dense::<f64, 4, 6>::zeros(),
        Dropout::new(0.25).unwrap(),
        LayerNorm::<f64, 6>::with_eps(1e-6).unwrap(),
        BatchNorm1d::<f64, 6>::with(0.01, 1e-5).unwrap(),
        Concat::new(Linear::<f64, 6, 2>::zeros(), Sigmoid),
        Projected::new(Tanh, Identity),
        Softmax,
    ));
    let source = torch::python(&net);
    assert!(source.starts_with(
        "# PyTorch equivalent of stackgrad's Net<(Dense<f64, 4, 6>, Dropout, LayerNorm<f64, 6>"
    ));
    for class in [
        "class Concat(nn.ModuleList):",
        "class Projected(nn.ModuleList):",
    ] {
        assert_eq!(source.matches(class).count(), 1, "{class}");
    }
    assert!(!source.contains("class Residual"));
    assert!(source.ends_with(
        "model = nn.Sequential(
    nn.Linear(4, 6),
    nn.Dropout(p=0.25),
    nn.LayerNorm(6, eps=1e-6),
    nn.BatchNorm1d(6, momentum=0.01),
    Concat(
        nn.Linear(6, 2, bias=False),
        nn.Sigmoid(),
    ),
    Projected(
        nn.Tanh(),
        nn.Identity(),
    ),
    nn.Softmax(dim=1),
).double()
"
    ));
    let pools = torch::python(&Net::new((
        MaxPool2d::<3, 2>,
        AvgPool2d::<2>,
        stackgrad::nn::Conv2d::<f32, 2, 3, 3, 2, 0>::zeros(),
    )));
    assert!(pools.ends_with(
        "model = nn.Sequential(
    nn.MaxPool2d(3, stride=2),
    nn.AvgPool2d(2),
    nn.Conv2d(2, 3, 3, stride=2),
)
"
    ));
}

#[test]
fn a_failed_load_changes_nothing() {
    let full = torch::to_bytes(&blocks(5), Options::new()).unwrap();
    // Drop the last tensor from the header: the file stays valid, one
    // tensor is missing, the ones before it fit.
    let file = File::parse(&full, "t").unwrap();
    let names: Vec<String> = file.names().map(str::to_string).collect();
    let keep: Vec<(String, Vec<usize>, Vec<f32>)> = names
        .iter()
        .filter(|n| n.as_str() != "5.weight")
        .map(|n| {
            let (s, v) = file.values(n).unwrap();
            (n.clone(), s.to_vec(), v.iter().map(|&x| x as f32).collect())
        })
        .collect();
    let list: Vec<(&str, &[usize], &[f32])> = keep
        .iter()
        .map(|(n, s, v)| (n.as_str(), s.as_slice(), v.as_slice()))
        .collect();
    let partial = io::encode(&list, &[]).unwrap();
    let mut net = zeros();
    let e = torch::from_bytes(&mut net, &partial, "p", Options::new()).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"p: no tensor named "5.weight" (the network has one)"#
    );
    assert_eq!(net, zeros());
}
