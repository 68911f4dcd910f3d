//! stackgrad: small neural networks whose every dimension is a type parameter,
//! living on the stack.
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
//!   loads the bundled digits and `io` saves and loads safetensors weights
//!   (both with the `std` feature).
//! - [`gradcheck`] checks every backward pass against central differences, per
//!   parameter tensor, with a verdict that names the tensor, the worst element
//!   and, where it can, the bug (sign, 1/N, transposition).
//!
//! Forward and backward passes use static caches and allocate nothing.
//!
//! ```
//! use stackgrad::loss::{Labels, Loss, SoftmaxCrossEntropy};
//! use stackgrad::nn::{input, Dense, Net, Params, Sigmoid};
//! use stackgrad::rand::{SeedableRng, rngs::StdRng};
//! use stackgrad::Matrix;
//!
//! let mut rng = StdRng::seed_from_u64(0);
//! let net = input::<2>()
//!     .then(Dense::<f64, 2, 25>::xavier_uniform(&mut rng))
//!     .then(Sigmoid)
//!     .then(Dense::<f64, 25, 4>::xavier_uniform(&mut rng))
//!     .build();
//!
//! let x = Matrix::from_array([[3.6, 40.0], [3.9, 10.0], [3.4, 30.0], [2.0, 10.0], [3.5, 41.0]]);
//! let y = Labels::new([0, 1, 2, 3, 0])?;
//! let (logits, cache) = net.forward(&x);
//! let (loss, dlogits) = SoftmaxCrossEntropy::sum().loss_and_grad(&logits, &y);
//! let mut grads = net.zeros_like();
//! net.backward(&cache, &dlogits, &mut grads);
//! assert!(loss > 0.0);
//! assert_eq!(grads.tensor(0).unwrap().shape.dims(), &[2, 25]);
//! # Ok::<(), stackgrad::Error>(())
//! ```
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(all(feature = "std", not(test)))]
extern crate std;

pub mod batch;
#[cfg(feature = "std")]
pub mod data;
mod error;
pub mod gradcheck;
mod image;
pub mod init;
#[cfg(feature = "std")]
pub mod io;
pub mod loss;
mod matrix;
pub mod nn;
pub mod optim;
mod scalar;
pub mod shape;
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
