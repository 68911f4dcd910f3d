//! stackgrad: small neural networks whose every dimension is a type parameter,
//! living on the stack.
//!
//! Every shape is a const generic, so composing layers that do not fit is a
//! compile error that names the numbers ("layer 2 (Dense<f64, 24, 4>) expects
//! 24 inputs but receives 25"); forward and backward passes use typed caches
//! and never touch the heap; gradients have the parameters' own types, so one
//! visitor drives optimizers, the gradient checker and weight files.
//!
//! # A tour
//!
//! ## Matrices
//!
//! [`Matrix<T, R, C>`](Matrix) is a row-major `R x C` matrix stored inline
//! (`[[T; C]; R]`, `Copy`). Rows are examples: a batch of 3 two-feature inputs
//! is a `Matrix<f32, 3, 2>`. Products check their inner dimensions at compile
//! time.
//!
//! ```
//! use stackgrad::Matrix;
//! let x = Matrix::from_array([[1.0f32, 2.0], [3.0, 4.0], [5.0, 6.0]]); // 3 x 2
//! let w = Matrix::from_array([[0.5, -1.0, 0.0], [0.25, 0.0, 1.0]]);    // 2 x 3
//! let y = x.matmul(&w).add_row(&[0.0, 0.0, 1.0]);                      // 3 x 3
//! assert_eq!(y.row(0), &[1.0, -1.0, 3.0]);
//! assert_eq!(x.t_matmul(&y), x.transpose().matmul(&y)); // Xᵀ Y without a copy
//! ```
//!
//! ## Layers
//!
//! A [`Layer`](nn::Layer) has a forward pass returning its output and a cache
//! (what backward needs besides its input and output: nothing, for the layers
//! here), and a backward pass that turns `∂L/∂output` into `∂L/∂input` from the
//! input, output and cache, writing the parameter gradients into a value of the
//! layer's own type.
//! [`Dense`](nn::Dense) computes `Y = X W + b`; its backward is `dW = Xᵀ D`,
//! `db = Σ_batch D`, `dX = D Wᵀ`.
//!
//! ```
//! use stackgrad::nn::{Dense, Layer, Params, Sigmoid};
//! use stackgrad::Matrix;
//! // notebook 003's neuron: σ(x·w + b) with w = [2, -3], b = -3, x = [-1, -2]
//! let dense = Dense::<f64, 2, 1>::new(Matrix::from_array([[2.0], [-3.0]]), [-3.0]);
//! let x = Matrix::from_array([[-1.0, -2.0]]);
//! let (s, dense_cache) = dense.forward(&x);
//! let (f, sigmoid_cache) = Sigmoid.forward(&s);
//! assert!((f[(0, 0)] - 0.731059).abs() < 1e-6);
//! let ds = Sigmoid.backward(&s, &f, &sigmoid_cache, &Matrix::splat(1.0), &mut Sigmoid);
//! let mut grads = dense.zeros_like();
//! let dx = dense.backward(&x, &s, &dense_cache, &ds, &mut grads);
//! assert!((dx[(0, 0)] - 0.39322387).abs() < 1e-8);
//! assert!((grads.weight[(1, 0)] + 0.39322387).abs() < 1e-8);
//! ```
//!
//! ## Networks
//!
//! A network is a tuple of layers in a [`Net`](nn::Net). The builder
//! [`input`](nn::input) checks each connection where it is made; the network's
//! type names its layers and nothing else, so it fits in a struct field or a
//! signature. [`Params`](nn::Params) walks its tensors by name.
//!
//! ```
//! use stackgrad::nn::{input, Dense, Net, Params, Relu};
//! use stackgrad::rand::{SeedableRng, rngs::StdRng};
//! use stackgrad::Matrix;
//!
//! type Mlp = Net<(Dense<f32, 4, 16>, Relu, Dense<f32, 16, 3>)>;
//! fn build(seed: u64) -> Mlp {
//!     let mut rng = StdRng::seed_from_u64(seed);
//!     input::<4>().then(Dense::he_normal(&mut rng)).then(Relu).then(Dense::xavier_uniform(&mut rng)).build()
//! }
//! let net = build(0);
//! let y: Matrix<f32, 8, 3> = net.infer(&Matrix::splat(1.0)); // any batch size
//! assert!(y.is_finite());
//! assert_eq!(<Mlp as Params<f32>>::PARAMS, 4 * 16 + 16 + 16 * 3 + 3);
//! let names: Vec<String> = (0..4).map(|k| net.tensor(k).unwrap().name.to_string()).collect();
//! assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
//! ```
//!
//! ## Losses
//!
//! Each [`Loss`](loss::Loss) returns its value and its gradient with respect to
//! the predictions. Class labels are checked against the class count when they
//! are made ([`Labels`](loss::Labels)), so a loss never sees a bad one.
//!
//! ```
//! use stackgrad::loss::{Labels, Loss, SoftmaxCrossEntropy};
//! use stackgrad::Matrix;
//! let logits = Matrix::from_array([[2.0f64, 0.0, 0.0], [0.0, 0.0, 1e4]]);
//! let labels = Labels::new([0, 2])?;
//! let (loss, grad) = SoftmaxCrossEntropy::mean().loss_and_grad(&logits, &labels);
//! assert!(loss.is_finite() && grad.is_finite()); // stable for large logits
//! assert!(Labels::<1, 3>::new([3]).is_err());   // "label 3 at row 0 is out of range ..."
//! # Ok::<(), stackgrad::Error>(())
//! ```
//!
//! ## Training
//!
//! [`Training`](train::Training) runs seeded mini-batch epochs with an
//! [`optim`] optimizer (SGD, momentum, Adam), reports each epoch through a
//! callback, stops with an error naming the epoch and batch on a non-finite
//! loss or gradient, and gives bit-identical weights for the same seed.
//!
//! ```
//! use stackgrad::batch::Dataset;
//! use stackgrad::loss::SoftmaxCrossEntropy;
//! use stackgrad::nn::{input, Dense, Tanh};
//! use stackgrad::optim::Adam;
//! use stackgrad::rand::{SeedableRng, rngs::StdRng};
//! use stackgrad::train::Training;
//!
//! // XOR.
//! let x = [[0.0f32, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
//! let y = [0usize, 1, 1, 0];
//! let mut rng = StdRng::seed_from_u64(3);
//! let mut net = input::<2>()
//!     .then(Dense::<f32, 2, 8>::xavier_uniform(&mut rng))
//!     .then(Tanh)
//!     .then(Dense::<f32, 8, 2>::xavier_uniform(&mut rng))
//!     .build();
//! let history = Training::new(SoftmaxCrossEntropy::mean(), Adam::new(0.05))
//!     .batch::<4>()
//!     .epochs(300)
//!     .fit(&mut net, Dataset::new(&x, &y)?, |_epoch, _net| {})?;
//! assert_eq!(history.last().unwrap().accuracy(), Some(1.0));
//! # Ok::<(), stackgrad::Error>(())
//! ```
//!
//! ## Gradient checking
//!
//! [`GradCheck`](gradcheck::GradCheck) compares every parameter's backprop
//! gradient with central differences, per tensor, and names the tensor, the
//! worst element and, where it can, the bug (sign flipped, a ratio,
//! transposed); [`check_layers`](gradcheck::GradCheck::check_layers) checks
//! each layer on its own and names the one whose backward is wrong.
//!
//! ```
//! use stackgrad::gradcheck::GradCheck;
//! use stackgrad::loss::{Labels, SoftmaxCrossEntropy};
//! use stackgrad::nn::{input, Dense, Sigmoid};
//! use stackgrad::rand::{SeedableRng, rngs::StdRng};
//! use stackgrad::Matrix;
//!
//! let mut rng = StdRng::seed_from_u64(1);
//! let net = input::<2>()
//!     .then(Dense::<f32, 2, 25>::xavier_uniform(&mut rng))
//!     .then(Sigmoid)
//!     .then(Dense::<f32, 25, 4>::xavier_uniform(&mut rng))
//!     .build();
//! let x = Matrix::<f32, 5, 2>::from_fn(|b, j| (b * 2 + j) as f32 * 0.3 - 1.0);
//! let y = Labels::new([0, 1, 2, 3, 0])?;
//! // An f32 network is judged against an f64 copy of itself.
//! let report = GradCheck::new().check(&net, &SoftmaxCrossEntropy::sum(), &x, &y)?;
//! assert!(report.passed(), "{report}");
//! // Each layer against its own forward, at the input it receives.
//! let layers = GradCheck::new().check_layers(&net, &x)?;
//! assert!(layers.passed() && layers.first_faulty().is_none(), "{layers}");
//! # Ok::<(), stackgrad::Error>(())
//! ```
//!
//! ## Images
//!
//! [`Images<T, N, C, H, W>`](Images) holds a batch in NCHW layout;
//! [`Conv2d`](nn::Conv2d), pooling and [`Flatten`](nn::Flatten) compute their
//! output sizes at compile time, so a CNN needs no shape annotations.
//!
//! ```
//! use stackgrad::nn::{image_input, Conv2d, Dense, Flatten, MaxPool2d, Relu};
//! use stackgrad::Images;
//! let net = image_input::<1, 8, 8>()
//!     .then(Conv2d::<f32, 1, 4, 3, 1, 1>::zeros()) // 4 x 8 x 8
//!     .then(Relu)
//!     .then(MaxPool2d::<2>)                        // 4 x 4 x 4
//!     .then(Flatten)                               // 64
//!     .then(Dense::<f32, 64, 10>::zeros())
//!     .build();
//! let logits = net.infer(&Images::<f32, 2, 1, 8, 8>::zeros());
//! assert_eq!(logits.row(0), &[0.0; 10]);
//! ```
//!
//! # Modules
//!
//! - [`Matrix<T, R, C>`](Matrix) is a row-major matrix stored inline; a batch of
//!   `B` examples with `N` features is a `Matrix<T, B, N>`.
//! - [`nn`] has the layers ([`Dense`](nn::Dense), activations, [`Softmax`](nn::Softmax))
//!   and their composition into networks, checked where they are built: a layer
//!   that does not fit is a compile error that names the numbers.
//! - [`Images<T, N, C, H, W>`](Images) is a batch of `N` images (NCHW, inline);
//!   [`nn`] has [`Conv2d`](nn::Conv2d), pooling and [`Flatten`](nn::Flatten),
//!   whose output sizes are computed at compile time ([`shape`]).
//! - [`loss`] has the losses (squared error, softmax and binary cross-entropy),
//!   each returning its value and gradient.
//! - [`init`] has the initializers (Xavier/Glorot, He, scaled normal).
//! - [`batch`], [`optim`] and [`train`] train networks: seeded mini-batches,
//!   SGD/momentum/Adam, and a loop with per-epoch loss and accuracy; `data`
//!   loads the bundled digits and `io` saves and loads safetensors weights,
//!   in stackgrad's layout or PyTorch's (`io::torch`), in F16, BF16, F32 or
//!   F64 (both with the `std` feature); [`embed`] reads weights at compile
//!   time into a `static` network, [`half`] converts 16-bit floats.
//! - [`gradcheck`] checks every backward pass against central differences, per
//!   parameter tensor, with a verdict that names the tensor, the worst element
//!   and, where it can, the bug (sign, a ratio, transposition), and layer by
//!   layer, naming the faulty layer.
//!
//! # Features
//!
//! - `std` (default): file loading (`data`, `io`), `Box<L>` layers and
//!   [`Training::fit`](train::Training::fit). Without it the crate is `no_std`
//!   without `alloc` and its math goes through `libm`.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(all(feature = "std", not(test)))]
extern crate std;

pub mod batch;
#[cfg(feature = "std")]
pub mod data;
pub mod embed;
mod error;
pub mod gradcheck;
pub mod half;
mod image;
pub mod init;
#[cfg(feature = "std")]
pub mod io;
mod kernel;
pub mod loss;
pub mod math;
mod matrix;
pub mod nn;
pub mod optim;
#[cfg(feature = "std")]
pub mod progress;
mod scalar;
pub mod schedule;
pub mod shape;
mod simd;
mod tensor;
pub mod train;

pub use error::Error;
pub use image::{Images, Img};
pub use matrix::{Mat, Mat64, Matrix};
pub use scalar::Scalar;
pub use tensor::Elements;

/// The `rand` crate stackgrad's initializers take their randomness from, re-exported
/// so that `stackgrad::rand::rngs::StdRng` is the same version.
pub use rand;

/// The `num-traits` crate that [`Scalar`] builds on (`Scalar: Float`),
/// re-exported so that user code generic over the element type can name its
/// traits without a dependency of its own:
///
/// ```
/// use stackgrad::num_traits::{One, Zero};
/// use stackgrad::{Matrix, Scalar};
/// fn trace<T: Scalar, const N: usize>(m: &Matrix<T, N, N>) -> T {
///     (0..N).fold(T::zero(), |s, i| s + m[(i, i)])
/// }
/// assert_eq!(trace(&Matrix::<f32, 2, 2>::from_fn(|r, c| (r + c) as f32)), 2.0);
/// assert_eq!(f64::one(), 1.0);
/// ```
pub use num_traits;

/// The README's Rust code blocks, compiled and run as doctests so that they
/// stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// docs/TRAINING.md's Rust code blocks, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/TRAINING.md")]
struct TrainingGuideDoctests;
