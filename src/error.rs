//! [`Error`]: everything that can go wrong with user data, each variant naming
//! the problem and where it is.

use core::fmt;

/// An error caused by input data (labels, files, training values). Shape
/// errors are not here: the types make them compile errors.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A class label is not below the number of classes.
    LabelOutOfRange {
        /// The example's row in its batch.
        row: usize,
        /// The label found.
        label: usize,
        /// The number of classes.
        classes: usize,
    },
    /// A data set's inputs and targets differ in length, or it has no rows.
    DatasetSize {
        /// Number of inputs.
        inputs: usize,
        /// Number of targets.
        targets: usize,
    },
    /// A batch order names a row the data set does not have.
    BatchOrder {
        /// The offending index.
        index: usize,
        /// The data set's number of rows.
        rows: usize,
    },
    /// A batch size of zero.
    ZeroBatchSize,
    /// A setting of a layer or of training is outside the range where it
    /// means something (a dropout probability of 1.5, a negative eps, a
    /// learning rate of NaN, Adam's `beta2 = 1`).
    InvalidSetting {
        /// The layer or part of training (`"Dropout"`, `"BatchNorm1d"`,
        /// `"Adam"`, `"CosineAnnealing"`).
        layer: &'static str,
        /// The setting (`"p"`, `"eps"`, `"momentum"`).
        setting: &'static str,
        /// The value given.
        value: f64,
        /// The valid range, in words (`"in [0, 1)"`).
        expected: &'static str,
    },
    /// Training met a loss or gradient that is NaN or infinite and stopped
    /// before applying it; the weights are those from before that batch.
    NonFinite {
        /// The epoch, counted from 1.
        epoch: usize,
        /// The batch within the epoch, counted from 1.
        batch: usize,
        /// The first parameter whose gradient is not finite, or `None` when the
        /// loss itself is not finite.
        tensor: Option<crate::nn::ParamName>,
    },
    /// Training stopped because an optimizer step made a weight NaN or
    /// infinite (a learning rate of `f32::MAX`, say); the parameters are
    /// those from before that step (the optimizer's state includes it).
    NonFiniteStep {
        /// The epoch, counted from 1.
        epoch: usize,
        /// The batch within the epoch, counted from 1.
        batch: usize,
        /// The first parameter tensor the step made non-finite.
        tensor: crate::nn::ParamName,
    },
    /// Early stopping or a checkpoint watches a figure that training will
    /// not have (a validation loss without a validation set, an accuracy
    /// without class targets).
    Unmonitorable {
        /// The figure (`"the validation loss"`).
        monitor: &'static str,
        /// Why it is missing.
        reason: &'static str,
    },
    /// A file could not be opened or read.
    #[cfg(feature = "std")]
    Io {
        /// The file.
        path: std::string::String,
        /// The operating system's message.
        message: std::string::String,
    },
    /// A file as a whole is not in the expected format (not valid gzip, no rows).
    #[cfg(feature = "std")]
    Format {
        /// The file.
        path: std::string::String,
        /// What is wrong.
        message: std::string::String,
    },
    /// A text data file holds a bad value.
    #[cfg(feature = "std")]
    Parse {
        /// The file.
        path: std::string::String,
        /// The line, counted from 1.
        line: usize,
        /// The comma-separated column, counted from 1.
        column: usize,
        /// What is wrong.
        message: std::string::String,
    },
    /// The gradient checker was given a network with no parameters, or one whose
    /// every parameter gradient is zero both ways: a check that compares nothing
    /// must not pass.
    NothingToCheck,
    /// A tensor's gradient is zero both by backprop and by central differences,
    /// yet the loss changes when the tensor changes: the step is too small, or
    /// the parameters sit at a stationary point (a perfect fit), where a missing
    /// gradient and a correct zero look the same. The check would pass vacuously.
    VacuousGradient {
        /// The tensor (`"0.weight"`, or `"input"`).
        tensor: crate::nn::ParamName,
    },
    /// Two evaluations of a forward pass at the same parameters and input
    /// gave different results, so central differences would measure the
    /// randomness instead of the gradient (what a dropout, or another random
    /// layer, in training mode does). The gradient checker stops before
    /// differencing.
    NondeterministicForward {
        /// The layer whose forward pass differed, when the check was layer by
        /// layer; `None` for a whole network.
        layer: Option<crate::nn::LayerName>,
    },
    /// A layer-by-layer gradient-check report cannot hold every layer.
    TooManyLayers {
        /// Layers (and blocks) to report.
        layers: usize,
        /// What the report holds.
        capacity: usize,
    },
    /// The network has more parameter tensors than a gradient-check report holds.
    TooManyTensors {
        /// Tensors to report (parameters plus the input).
        tensors: usize,
        /// What the report holds.
        capacity: usize,
    },
    /// A weights file lacks a tensor the network has.
    #[cfg(feature = "std")]
    MissingTensor {
        /// The file.
        path: std::string::String,
        /// The tensor's name (`"0.weight"`).
        name: std::string::String,
    },
    /// A weights file holds a tensor the network does not have.
    #[cfg(feature = "std")]
    UnexpectedTensor {
        /// The file.
        path: std::string::String,
        /// The tensor's name.
        name: std::string::String,
    },
    /// A tensor in a weights file has another shape than the network's.
    #[cfg(feature = "std")]
    TensorShape {
        /// The file.
        path: std::string::String,
        /// The tensor's name.
        name: std::string::String,
        /// The network's shape.
        expected: std::vec::Vec<usize>,
        /// The file's shape.
        found: std::vec::Vec<usize>,
    },
    /// A weights file records another network architecture than the one it
    /// is loaded into.
    #[cfg(feature = "std")]
    Architecture {
        /// The file.
        path: std::string::String,
        /// The first difference, in words.
        difference: std::string::String,
    },
    /// A tensor in a weights file has another element type than the network's.
    #[cfg(feature = "std")]
    TensorDtype {
        /// The file.
        path: std::string::String,
        /// The tensor's name.
        name: std::string::String,
        /// The network's type (`"F32"`, `"F64"`).
        expected: &'static str,
        /// The file's type.
        found: std::string::String,
    },
    /// A tensor in a file in PyTorch's layout has another shape than the
    /// network's (see [`io::torch`](crate::io::torch)).
    #[cfg(feature = "std")]
    TorchShape {
        /// The file.
        path: std::string::String,
        /// The tensor's name.
        name: std::string::String,
        /// The file's shape.
        found: std::vec::Vec<usize>,
        /// The network's shape in PyTorch's layout (what the file should hold).
        torch: std::vec::Vec<usize>,
        /// The same tensor's shape in stackgrad's layout.
        stackgrad: std::vec::Vec<usize>,
    },
    /// A file holds the other layout than the loader reads: PyTorch's
    /// (written by [`io::torch`](crate::io::torch)) given to
    /// [`io::load`](crate::io::load), or stackgrad's given to
    /// [`io::torch::load`](crate::io::torch::load). Read from the file's
    /// metadata; a file without stackgrad's metadata is taken as it comes.
    #[cfg(feature = "std")]
    Layout {
        /// The file.
        path: std::string::String,
        /// The file's layout (`"PyTorch's"`, `"stackgrad's"`).
        file: &'static str,
        /// The function that reads it.
        loader: &'static str,
    },
    /// A finite value that the element type it is converted to cannot hold:
    /// it would become infinite (`1e5` saved as F16, an F64 `1e300` loaded
    /// into an `f32` network).
    #[cfg(feature = "std")]
    ValueRange {
        /// The file (`"(encoding)"` when saving).
        path: std::string::String,
        /// The tensor's name.
        name: std::string::String,
        /// The element's index in the file's row-major order.
        index: usize,
        /// The value.
        value: f64,
        /// The type it does not fit (`"F16"`, `"F32"`).
        dtype: &'static str,
    },
    /// A file ends before the data its header announces.
    #[cfg(feature = "std")]
    Truncated {
        /// The file.
        path: std::string::String,
        /// What is missing.
        message: std::string::String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidSetting {
                layer,
                setting,
                value,
                expected,
            } => write!(f, "{layer}: {setting} = {value} must be {expected}"),
            Error::LabelOutOfRange {
                row,
                label,
                classes,
            } => write!(
                f,
                "label {label} at row {row} is out of range: there are {classes} classes (0..={})",
                classes.saturating_sub(1)
            ),
            Error::DatasetSize { inputs, targets } => write!(
                f,
                "a data set needs one target per input and at least one row: got {inputs} inputs and {targets} targets"
            ),
            Error::BatchOrder { index, rows } => write!(
                f,
                "batch order holds row index {index} but the data set has {rows} rows"
            ),
            Error::ZeroBatchSize => write!(f, "the batch size must be at least 1"),
            Error::NonFinite {
                epoch,
                batch,
                tensor,
            } => {
                write!(f, "training stopped at epoch {epoch}, batch {batch}: ")?;
                match tensor {
                    None => write!(f, "the loss is not finite")?,
                    Some(name) => write!(f, "the gradient of {name} is not finite")?,
                }
                write!(f, " (weights kept from before this batch)")
            }
            Error::NonFiniteStep {
                epoch,
                batch,
                tensor,
            } => write!(
                f,
                "training stopped at epoch {epoch}, batch {batch}: the optimizer step made {tensor} not finite (weights kept from before this step)"
            ),
            Error::Unmonitorable { monitor, reason } => {
                write!(f, "cannot monitor {monitor}: {reason}")
            }
            #[cfg(feature = "std")]
            Error::Io { path, message } => write!(f, "cannot read {path}: {message}"),
            #[cfg(feature = "std")]
            Error::Format { path, message } => write!(f, "{path}: {message}"),
            #[cfg(feature = "std")]
            Error::Parse {
                path,
                line,
                column,
                message,
            } => write!(f, "{path}, line {line}, column {column}: {message}"),
            Error::NothingToCheck => f.write_str(
                "nothing to compare: the network has no parameters, or every gradient \
                 is zero both by backprop and by central differences",
            ),
            Error::VacuousGradient { tensor } => write!(
                f,
                "the gradient of {tensor} is zero both by backprop and by central differences, \
                 but the loss depends on it: the check would pass vacuously (the step is too small, \
                 or the parameters sit at a stationary point; check at another point)"
            ),
            Error::TooManyTensors { tensors, capacity } => write!(
                f,
                "{tensors} tensors to check but a report holds {capacity}: use `GradCheck::check_each` \
                 (a whole network) or `GradCheck::check_layers_each` (layer by layer)"
            ),
            Error::TooManyLayers { layers, capacity } => write!(
                f,
                "{layers} layers to check but a report holds {capacity}: use `GradCheck::check_layers_each`"
            ),
            Error::NondeterministicForward { layer } => {
                f.write_str("the forward pass ")?;
                if let Some(layer) = layer {
                    write!(f, "of {layer} ")?;
                }
                f.write_str(
                    "is not deterministic: two evaluations at the same parameters and input \
                     differ, so central differences would measure its randomness, not its \
                     gradient. A dropout or another random layer in training mode does this; \
                     check such a layer with a fixed mask (stackgrad's `Dropout::forward` \
                     always draws the same one), or check the network in evaluation mode \
                     (without the random layer, or with `Identity` in its place)",
                )
            }
            #[cfg(feature = "std")]
            Error::MissingTensor { path, name } => {
                write!(f, "{path}: no tensor named {name:?} (the network has one)")
            }
            #[cfg(feature = "std")]
            Error::UnexpectedTensor { path, name } => {
                write!(
                    f,
                    "{path}: tensor {name:?} is not a parameter of the network"
                )
            }
            #[cfg(feature = "std")]
            Error::TensorShape {
                path,
                name,
                expected,
                found,
            } => write!(
                f,
                "{path}: tensor {name:?} has shape {found:?} but the network expects {expected:?}"
            ),
            #[cfg(feature = "std")]
            Error::Architecture { path, difference } => {
                write!(f, "{path} was saved from another network: {difference}")
            }
            #[cfg(feature = "std")]
            Error::TensorDtype {
                path,
                name,
                expected,
                found,
            } => {
                write!(
                    f,
                    "{path}: tensor {name:?} has dtype {found} but the network expects {expected}"
                )?;
                let float = |d: &str| matches!(d, "F16" | "BF16" | "F32" | "F64");
                if float(found) && float(expected) {
                    write!(f, " (io::Options::new().convert() converts it)")?;
                }
                Ok(())
            }
            #[cfg(feature = "std")]
            Error::TorchShape {
                path,
                name,
                found,
                torch,
                stackgrad,
            } => {
                write!(
                    f,
                    "{path}: tensor {name:?} has shape {found:?} but the network expects {torch:?} \
                     in PyTorch's layout"
                )?;
                if torch == stackgrad {
                    write!(f, " (the same in stackgrad's)")
                } else {
                    write!(
                        f,
                        " (out x in; {stackgrad:?} in stackgrad's{})",
                        if found == stackgrad {
                            ", which the file holds: load it with io::load"
                        } else {
                            ""
                        }
                    )
                }
            }
            #[cfg(feature = "std")]
            Error::Layout { path, file, loader } => write!(
                f,
                "{path} holds {file} layout (recorded in its metadata): load it with {loader}"
            ),
            #[cfg(feature = "std")]
            Error::ValueRange {
                path,
                name,
                index,
                value,
                dtype,
            } => write!(
                f,
                "{path}: tensor {name:?} holds {value:e} at element {index}, beyond the range of {dtype}"
            ),
            #[cfg(feature = "std")]
            Error::Truncated { path, message } => write!(f, "{path} is truncated: {message}"),
        }
    }
}

impl core::error::Error for Error {}
