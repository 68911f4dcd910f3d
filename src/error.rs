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
        }
    }
}

impl core::error::Error for Error {}
