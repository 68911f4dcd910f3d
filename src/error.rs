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
    /// The network has more parameter tensors than a gradient-check report holds.
    TooManyTensors {
        /// Tensors to report (parameters plus the input).
        tensors: usize,
        /// What the report holds.
        capacity: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::LabelOutOfRange {
                row,
                label,
                classes,
            } => write!(
                f,
                "label {label} at row {row} is out of range: there are {classes} classes (0..={})",
                classes.saturating_sub(1)
            ),
            Error::NothingToCheck => f.write_str(
                "nothing to compare: the network has no parameters, or every parameter \
                 gradient is zero both by backprop and by central differences",
            ),
            Error::VacuousGradient { tensor } => write!(
                f,
                "the gradient of {tensor} is zero both by backprop and by central differences, \
                 but the loss depends on it: the check would pass vacuously (the step is too small, \
                 or the parameters sit at a stationary point; check at another point)"
            ),
            Error::TooManyTensors { tensors, capacity } => write!(
                f,
                "{tensors} tensors to check but a report holds {capacity}: use `GradCheck::check_each`"
            ),
        }
    }
}

impl core::error::Error for Error {}
