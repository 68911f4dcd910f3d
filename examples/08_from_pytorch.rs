//! 08: a network trained by PyTorch, loaded in PyTorch's layout, checked on
//! the whole test set against PyTorch's own predictions, and compiled into the
//! program as a `static` run without heap; then the way back: stackgrad
//! trains, saves in PyTorch's layout and prints the PyTorch module.
//!
//! The PyTorch network is `nn.Sequential(nn.Linear(64, 32), nn.ReLU(),
//! nn.Linear(32, 10))`, trained by `scripts/reference/torch_fixtures.py`
//! (Adam, 30 epochs, pixels / 16, the test split of example 03: rows
//! `i % 5 == 4`) and saved with `safetensors.torch.save_file`
//! (`tests/fixtures/torch/digits_mlp_f32.safetensors`).
//!
//! The way back writes `target/torch_round_trip/`: `model.py` (the module, as
//! `io::torch::python` prints it), `weights.safetensors` and
//! `weights_f16.safetensors` (the state in PyTorch's layout, F32 and F16), and
//! `io.safetensors` (16 test images and stackgrad's outputs for each file).
//! `python3 scripts/torch_round_trip.py target/torch_round_trip` (needs torch
//! and safetensors) loads them into PyTorch and compares the outputs.
//!
//! Run: `cargo run --release --example 08_from_pytorch`.

use std::path::Path;

use stackgrad::batch::Dataset;
use stackgrad::data::digits;
use stackgrad::embed;
use stackgrad::io::{self, Dtype, File, Options, torch};
use stackgrad::loss::SoftmaxCrossEntropy;
use stackgrad::nn::{
    BatchNorm1d, BatchNorm2d, Concat, Conv2d, Dense, Dropout, Flatten, MaxPool2d, Net, Relu,
    Residual, Tanh, Unflatten, input,
};
use stackgrad::optim::Adam;
use stackgrad::rand::{SeedableRng, rngs::StdRng};
use stackgrad::train::Training;
use stackgrad::{Error, Matrix};

/// PyTorch's `nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))`.
type Mlp = Net<(Dense<f32, 64, 32>, Relu, Dense<f32, 32, 10>)>;

/// The file PyTorch wrote, compiled into the program.
const FILE: &[u8] = include_bytes!("../tests/fixtures/torch/digits_mlp_f32.safetensors");

// Read out of the file at compile time (a wrong name, shape or dtype is a
// compile error): the network is in read-only memory, no start-up cost.
static NET: Mlp = Net::new((
    Dense::new(
        Matrix::from_array(embed::unwrap(embed::transposed(FILE, "0.weight"))),
        embed::unwrap(embed::vector(FILE, "0.bias")),
    ),
    Relu,
    Dense::new(
        Matrix::from_array(embed::unwrap(embed::transposed(FILE, "2.weight"))),
        embed::unwrap(embed::vector(FILE, "2.bias")),
    ),
));

/// Classifies one image with the static network: `core` and the stack only.
#[inline(never)]
fn classify(pixels: &[f32; 64]) -> usize {
    NET.infer(&Matrix::from_array([*pixels])).row_argmax()[0]
}

/// Counts heap allocations, to show that `classify` makes none.
#[path = "../tests/support/counting_alloc.rs"]
mod counting_alloc;

/// The network of the way back: a convolution with batch norm, a residual
/// block, dropout and a concatenation, so that every naming rule is used.
type Back = Net<(
    Unflatten<1, 8, 8>,
    Conv2d<f32, 1, 4, 3, 1, 1>,
    BatchNorm2d<f32, 4>,
    Relu,
    MaxPool2d<2>,
    Flatten,
    Residual<Net<(Dense<f32, 64, 64>, Tanh)>>,
    Dropout,
    Concat<Dense<f32, 64, 16>, Dense<f32, 64, 16>>,
    BatchNorm1d<f32, 32>,
    Relu,
    Dense<f32, 32, 10>,
)>;

fn io_err(path: &Path, e: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

fn main() -> Result<(), Error> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixtures = root.join("tests/fixtures/torch");
    let (train, test) = digits::bundled()?.split();
    let x_test = test.features::<f32>();

    // 1. Load PyTorch's file at run time, in PyTorch's layout.
    let mut net: Mlp = Net::new((Dense::zeros(), Relu, Dense::zeros()));
    let weights = fixtures.join("digits_mlp_f32.safetensors");
    torch::load(&mut net, &weights, Options::new())?;
    println!("loaded {}", weights.display());
    println!(
        "the PyTorch module of this network:\n{}",
        torch::python(&net)
    );

    // 2. Test accuracy, against PyTorch's own (recorded by the script) and
    //    PyTorch's class for every test image.
    let bytes = std::fs::read(&weights).map_err(|e| io_err(&weights, e))?;
    let recorded = File::parse(&bytes, "weights")?
        .metadata()
        .get("test_correct")
        .cloned()
        .unwrap_or_default();
    let io_path = fixtures.join("digits_mlp_io.safetensors");
    let io_bytes = std::fs::read(&io_path).map_err(|e| io_err(&io_path, e))?;
    let io_file = File::parse(&io_bytes, "io")?;
    let theirs = io_file.raw("test_predictions").map_or(&[][..], |t| t.2);
    let mut correct = 0;
    let mut agree = 0;
    for ((x, &label), &pytorch) in x_test.iter().zip(&test.labels).zip(theirs) {
        let class = net.infer(&Matrix::from_array([*x])).row_argmax()[0];
        correct += usize::from(class == label);
        agree += usize::from(class == usize::from(pytorch));
    }
    let n = x_test.len();
    println!(
        "test accuracy in stackgrad: {correct}/{n} = {:.2}%; PyTorch's: {recorded}",
        100.0 * correct as f64 / n as f64
    );
    println!("same class as PyTorch on {agree}/{n} test images");
    assert_eq!(
        format!("{correct}/{n}"),
        recorded,
        "accuracy differs from PyTorch's"
    );
    assert_eq!(agree, n, "a prediction differs from PyTorch's");

    // 3. The static network: the same weights, no heap while classifying.
    assert_eq!(NET, net, "the static differs from the loaded network");
    let (static_correct, allocations) = counting_alloc::allocations(|| {
        x_test
            .iter()
            .zip(&test.labels)
            .filter(|&(x, &label)| classify(x) == label)
            .count()
    });
    println!(
        "static network ({} bytes, read-only): {static_correct}/{n} correct, \
         {allocations} heap allocations",
        size_of::<Mlp>()
    );
    assert_eq!((static_correct, allocations), (correct, 0));

    // 4. The way back: train in stackgrad, save in PyTorch's layout.
    let out = root.join("target/torch_round_trip");
    std::fs::create_dir_all(&out).map_err(|e| io_err(&out, e))?;
    let mut rng = StdRng::seed_from_u64(8);
    let mut back: Back = input::<64>()
        .then(Unflatten::<1, 8, 8>)
        .then(Conv2d::he_normal(&mut rng))
        .then(BatchNorm2d::new())
        .then(Relu)
        .then(MaxPool2d::<2>)
        .then(Flatten)
        .then(Residual::new(Net::new((
            Dense::xavier_uniform(&mut rng),
            Tanh,
        ))))
        .then(Dropout::new(0.1)?)
        .then(Concat::new(
            Dense::xavier_uniform(&mut rng),
            Dense::xavier_uniform(&mut rng),
        ))
        .then(BatchNorm1d::new())
        .then(Relu)
        .then(Dense::xavier_uniform(&mut rng))
        .build();
    let x_train = train.features::<f32>();
    let history = Training::new(SoftmaxCrossEntropy::mean(), Adam::new(1e-2))
        .batch::<32>()
        .epochs(3)
        .seed(8)
        .fit(&mut back, Dataset::new(&x_train, &train.labels)?, |_, _| {})?;
    let back_correct = x_test
        .iter()
        .zip(&test.labels)
        .filter(|&(x, &label)| back.infer(&Matrix::from_array([*x])).row_argmax()[0] == label)
        .count();
    println!(
        "stackgrad's network, 3 epochs: training loss {:.4}, test accuracy {back_correct}/{n}",
        history.last().map_or(f32::NAN, |e| e.mean_loss())
    );
    let python = torch::python(&back);
    let model = out.join("model.py");
    std::fs::write(&model, &python).map_err(|e| io_err(&model, e))?;
    torch::save(&back, out.join("weights.safetensors"), Options::new())?;
    let f16 = out.join("weights_f16.safetensors");
    torch::save(&back, &f16, Options::new().dtype(Dtype::F16))?;
    // stackgrad's outputs: with its own weights, and with the F16 file's
    // (loaded back, exactly, into a copy).
    let mut rounded = back;
    torch::load(&mut rounded, &f16, Options::new().convert())?;
    let input: Vec<f32> = x_test[..16].iter().flatten().copied().collect();
    let outputs = |net: &Back| -> Vec<f32> {
        x_test[..16]
            .iter()
            .flat_map(|x| net.infer(&Matrix::from_array([*x])).row(0).to_vec())
            .collect()
    };
    let (y, y16) = (outputs(&back), outputs(&rounded));
    let io_out = out.join("io.safetensors");
    let bytes = io::encode(
        &[
            ("input", &[16, 64], &input),
            ("output", &[16, 10], &y),
            ("output_f16", &[16, 10], &y16),
        ],
        &[],
    )?;
    std::fs::write(&io_out, bytes).map_err(|e| io_err(&io_out, e))?;
    println!(
        "wrote {} (model.py, weights.safetensors, weights_f16.safetensors, io.safetensors)",
        out.display()
    );
    println!("the module:\n{python}");
    println!(
        "check with PyTorch: python3 scripts/torch_round_trip.py {}",
        out.display()
    );
    Ok(())
}
