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
        }
    }
}

impl core::error::Error for Error {}
