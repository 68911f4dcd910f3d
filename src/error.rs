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
