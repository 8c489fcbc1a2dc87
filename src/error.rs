//! The errors the core reports; the bindings (`src/python/`) map each variant to one
//! Python exception.

use std::fmt;

/// A failure caused by the caller's input or by the user (Ctrl-C).
///
/// Messages name the offending argument and value so that they read well on their
/// own, even though the Python layer validates most input before calling the core.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// Array shapes do not fit together.
    Shape(String),
    /// A parameter is outside its allowed range.
    InvalidParameter(String),
    /// A computed value is NaN or infinite.
    NonFinite(String),
    /// The requested output does not fit in the address space or cannot be allocated.
    TooLarge {
        /// Bytes the output would need.
        bytes_needed: u128,
    },
    /// An iterative solver (the eigendecomposition) did not converge.
    NoConvergence,
    /// The computation was stopped by an [`Interrupt`](crate::Interrupt) (Ctrl-C).
    Interrupted,
}

/// `Result` with the core's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// [`Error::Shape`] unless an output buffer of `len` elements holds a row-major
/// `rows x cols` matrix.
///
/// # Errors
/// [`Error::Shape`] naming the two sizes.
pub fn check_output_len(len: usize, rows: usize, cols: usize) -> Result<()> {
    if len == rows * cols {
        return Ok(());
    }
    Err(Error::Shape(format!(
        "the output buffer has {len} elements, expected {rows} x {cols}"
    )))
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Shape(msg) | Error::InvalidParameter(msg) | Error::NonFinite(msg) => {
                f.write_str(msg)
            }
            Error::TooLarge { bytes_needed } => write!(
                f,
                "the requested array needs {bytes_needed} bytes, more than this machine can allocate"
            ),
            Error::NoConvergence => f.write_str("the eigendecomposition did not converge"),
            Error::Interrupted => f.write_str("interrupted"),
        }
    }
}

impl std::error::Error for Error {}
