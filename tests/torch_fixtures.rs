//! Networks trained by PyTorch, loaded through `io::torch`, reproduce
//! PyTorch's outputs. The fixtures in `tests/fixtures/torch/` and their
//! expected outputs were made by `python3 scripts/reference/torch_fixtures.py`
//! (torch 2.15, float32 training; see the script): a digits MLP and a CNN
//! with batch norm and a residual block, each saved as F32 and BF16. No
//! PyTorch is needed here.
//!
//! The comparison: for every output row, the largest difference from
//! PyTorch's logits, relative to the row's largest logit, must be at most
//! `1e-6` (f32 networks against PyTorch's float32 outputs and its float64
//! ones) or `1e-12` (f64 networks against float64).

use stackgrad::io::{self, File, Options, torch};
use stackgrad::nn::{
    BatchNorm2d, Conv2d, Dense, Flatten, Layer, MaxPool2d, Net, Relu, Residual, Unflatten,
};
use stackgrad::{Error, Matrix, Scalar};

type Mlp<T> = Net<(Dense<T, 64, 32>, Relu, Dense<T, 32, 10>)>;

type Block<T> = Net<(Conv2d<T, 8, 8, 3, 1, 1>, BatchNorm2d<T, 8>, Relu)>;
type Cnn<T> = Net<(
    Unflatten<1, 8, 8>,
    Conv2d<T, 1, 8, 3, 1, 1>,
    BatchNorm2d<T, 8>,
    Relu,
    Residual<Block<T>>,
    MaxPool2d<2>,
    Conv2d<T, 8, 16, 3, 1, 1>,
    BatchNorm2d<T, 16>,
    Relu,
    MaxPool2d<2>,
    Flatten,
    Dense<T, 64, 10>,
)>;

fn mlp<T: Scalar>() -> Mlp<T> {
    Net::new((Dense::zeros(), Relu, Dense::zeros()))
}

fn cnn<T: Scalar>() -> Cnn<T> {
    Net::new((
        Unflatten,
        Conv2d::zeros(),
        BatchNorm2d::new(),
        Relu,
        Residual::new(Net::new((Conv2d::zeros(), BatchNorm2d::new(), Relu))),
        MaxPool2d,
        Conv2d::zeros(),
        BatchNorm2d::new(),
        Relu,
        MaxPool2d,
        Flatten,
        Dense::zeros(),
    ))
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/torch/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The fixture's tensor `name` as f64s.
fn tensor(bytes: &[u8], name: &str) -> Vec<f64> {
    let file = File::parse(bytes, "io").unwrap();
    file.values(name).unwrap_or_else(|| panic!("no {name}")).1
}

/// The worst difference over rows, relative to each row's largest |logit|.
fn worst_relative(ours: &[f64], theirs: &[f64]) -> f64 {
    assert_eq!(ours.len(), theirs.len());
    ours.chunks(10)
        .zip(theirs.chunks(10))
        .map(|(a, b)| {
            let scale = b.iter().fold(0f64, |m, v| m.max(v.abs()));
            a.iter()
                .zip(b)
                .fold(0f64, |m, (x, y)| m.max((x - y).abs() / scale))
        })
        .fold(0f64, f64::max)
}

/// Runs `net` on each input row (one at a time: small stacks in debug).
fn outputs<T: Scalar, N: Layer<Matrix<T, 1, 64>, Output = Matrix<T, 1, 10>>>(
    net: &N,
    inputs: &[f64],
) -> Vec<f64> {
    inputs
        .chunks(64)
        .flat_map(|row| {
            let x = Matrix::<T, 1, 64>::from_fn(|_, c| T::from_f64(row[c]));
            net.infer(&x)
                .row(0)
                .iter()
                .map(|v| v.as_f64())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Loads `NAME_{f32,bf16}` into f32 and f64 copies of the network and
/// compares with PyTorch's outputs; returns the worst f32 error.
fn check<N32, N64>(name: &str, mut net32: N32, mut net64: N64) -> f64
where
    N32: stackgrad::nn::Params<f32>
        + torch::TorchModule
        + Layer<Matrix<f32, 1, 64>, Output = Matrix<f32, 1, 10>>,
    N64: stackgrad::nn::Params<f64>
        + torch::TorchModule
        + Layer<Matrix<f64, 1, 64>, Output = Matrix<f64, 1, 10>>,
{
    let io_bytes = fixture(&format!("{name}_io.safetensors"));
    let input = tensor(&io_bytes, "input");
    assert_eq!(input.len(), 16 * 64);
    let mut worst = 0f64;
    for tag in ["f32", "bf16"] {
        let source = format!("{name}_{tag}.safetensors");
        let bytes = fixture(&source);
        // F32 loads as it is; BF16 only when asked, exactly.
        let options = if tag == "f32" {
            Options::new()
        } else {
            Options::new().convert()
        };
        torch::from_bytes(&mut net32, &bytes, &source, options).unwrap();
        torch::from_bytes(&mut net64, &bytes, &source, Options::new().convert()).unwrap();
        let ours32 = outputs(&net32, &input);
        let ours64 = outputs(&net64, &input);
        let theirs32 = tensor(&io_bytes, &format!("output_{tag}"));
        let theirs64 = tensor(&io_bytes, &format!("output_{tag}_f64"));
        let (e32, e32_64, e64) = (
            worst_relative(&ours32, &theirs32),
            worst_relative(&ours32, &theirs64),
            worst_relative(&ours64, &theirs64),
        );
        println!(
            "{source}: f32 vs PyTorch float32 {e32:.2e}, f32 vs PyTorch float64 {e32_64:.2e}, \
             f64 vs PyTorch float64 {e64:.2e}"
        );
        assert!(e32 <= 1e-6, "{source}: f32 against float32: {e32:e}");
        assert!(e32_64 <= 1e-6, "{source}: f32 against float64: {e32_64:e}");
        assert!(e64 <= 1e-12, "{source}: f64 against float64: {e64:e}");
        worst = worst.max(e32);
    }
    worst
}

#[test]
fn digits_mlp_reproduces_pytorch() {
    let worst = check("digits_mlp", mlp::<f32>(), mlp::<f64>());
    assert!(
        worst > 0.0,
        "a comparison that finds no difference at all is suspicious"
    );
}

#[test]
fn cnn_with_batch_norm_and_a_residual_block_reproduces_pytorch() {
    check("cnn_bn", cnn::<f32>(), cnn::<f64>());
}

/// Every test image gets PyTorch's class (the fixture stores PyTorch's 359
/// predictions), so the test accuracy is PyTorch's.
#[test]
fn digits_mlp_predicts_what_pytorch_predicts_on_the_whole_test_split() {
    let mut net = mlp::<f32>();
    torch::from_bytes(
        &mut net,
        &fixture("digits_mlp_f32.safetensors"),
        "mlp",
        Options::new(),
    )
    .unwrap();
    let io_bytes = fixture("digits_mlp_io.safetensors");
    let file = File::parse(&io_bytes, "io").unwrap();
    let (dtype, shape, theirs) = file.raw("test_predictions").unwrap();
    assert_eq!((dtype, shape), ("U8", &[359usize][..]));
    let (_, test) = stackgrad::data::digits::bundled().unwrap().split();
    let x = test.features::<f32>();
    let mut agree = 0;
    let mut correct = 0;
    for ((row, &label), &pytorch) in x.iter().zip(&test.labels).zip(theirs) {
        let class = net.infer(&Matrix::from_array([*row])).row_argmax()[0];
        agree += usize::from(class == usize::from(pytorch));
        correct += usize::from(class == label);
    }
    assert_eq!(agree, 359);
    let weights = fixture("digits_mlp_f32.safetensors");
    let meta = File::parse(&weights, "mlp").unwrap().metadata().clone();
    assert_eq!(meta["test_correct"], format!("{correct}/359"));
}

/// The module `io::torch::python` prints for the CNN's type is the one the
/// fixture script built (its `nn.Sequential`, the same `Residual` class).
#[test]
fn printed_module_is_the_one_pytorch_trained() {
    let source = torch::python(&cnn::<f32>());
    let script = std::fs::read_to_string(format!(
        "{}/scripts/reference/torch_fixtures.py",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let class =
        &source[source.find("class Residual").unwrap()..source.find("\n\n\nmodel").unwrap()];
    fn body(s: &str) -> Vec<&str> {
        s.lines().map(str::trim).filter(|l| !l.is_empty()).collect()
    }
    let theirs = &script[script.find("class Residual").unwrap()..];
    assert_eq!(body(class), body(theirs)[..body(class).len()]);
    let model = &source[source.find("model = ").unwrap() + 8..];
    let flat: String = model.split_whitespace().collect();
    assert_eq!(
        flat,
        "nn.Sequential(nn.Unflatten(1,(1,8,8)),nn.Conv2d(1,8,3,padding=1),nn.BatchNorm2d(8),\
         nn.ReLU(),Residual(nn.Sequential(nn.Conv2d(8,8,3,padding=1),nn.BatchNorm2d(8),nn.ReLU(),),),\
         nn.MaxPool2d(2),nn.Conv2d(8,16,3,padding=1),nn.BatchNorm2d(16),nn.ReLU(),nn.MaxPool2d(2),\
         nn.Flatten(),nn.Linear(64,10),)"
    );
    let scripted: String = script[script.find("cnn = nn.Sequential(").unwrap() + 6..]
        .split("\ntrain(cnn")
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    // The script's differs only in trailing commas.
    assert_eq!(flat.replace(",)", ")"), scripted.replace(",)", ")"));
}

#[test]
fn mismatches_name_the_tensor_and_load_nothing() {
    let bytes = fixture("digits_mlp_bf16.safetensors");
    let mut net = mlp::<f32>();
    let e = torch::from_bytes(&mut net, &bytes, "mlp_bf16", Options::new()).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"mlp_bf16: tensor "0.weight" has dtype BF16 but the network expects F32 (io::Options::new().convert() converts it)"#
    );
    let mut narrow: Net<(Dense<f32, 64, 16>, Relu, Dense<f32, 16, 10>)> =
        Net::new((Dense::zeros(), Relu, Dense::zeros()));
    let e =
        torch::from_bytes(&mut narrow, &bytes, "mlp_bf16", Options::new().convert()).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"mlp_bf16: tensor "0.weight" has shape [32, 64] but the network expects [16, 64] in PyTorch's layout (out x in; [64, 16] in stackgrad's)"#
    );
    assert_eq!(narrow, Net::new((Dense::zeros(), Relu, Dense::zeros())));
    // The CNN's file into the MLP: the first network tensor it lacks.
    let mut wrong = mlp::<f32>();
    let e = torch::from_bytes(
        &mut wrong,
        &fixture("cnn_bn_f32.safetensors"),
        "cnn",
        Options::new(),
    )
    .unwrap_err();
    assert!(
        matches!(&e, Error::MissingTensor { name, .. } if name == "0.weight"),
        "{e}"
    );
    // The MLP's file read in stackgrad's layout: PyTorch wrote no layout
    // record, so the shapes speak.
    let e = io::from_bytes(&mut wrong, &fixture("digits_mlp_f32.safetensors"), "mlp").unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"mlp: tensor "0.weight" has shape [32, 64] but the network expects [64, 32]"#
    );
    assert_eq!(wrong, mlp::<f32>());
}
