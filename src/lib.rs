//! rfkernels core: random-feature maps, exact kernels and ridge paths.
//!
//! This crate is pure Rust; the Python bindings live in the `python` module
//! (`src/python/`) behind the `python` feature and are the only code that knows
//! PyO3.
//!
//! - [`kernels`]: the kernel registry ([`kernels::KERNEL_TRAITS`]) and exact
//!   kernel matrices;
//! - [`features`]: spectral measures, frequency sampling and the fused feature
//!   maps;
//! - [`gram`]: streamed sufficient statistics; [`ridge`]: primal and dual ridge
//!   paths (coefficients, training, GCV and leave-one-out errors for every alpha);
//! - [`parallel`]: the thread pool and interrupt every long computation runs on.
//!
//! Conventions every module relies on:
//! - feature `j` (its weight vector `w_j` and offset `b_j`) is a pure function of
//!   `(seed, j)` ([`rng`]), so results are bit-identical for any thread count and
//!   the `k`-feature map is the first `k` columns of the `D`-feature map times
//!   `sqrt(D / k)`;
//! - features are scaled so that `Z Z^T -> K`, the exact kernel of [`kernels`], as
//!   the number of features grows.
#![warn(missing_docs)]
#![allow(non_snake_case)]

pub mod eigen;
pub mod error;
pub mod features;
pub mod fwht;
pub mod gram;
pub mod kernels;
pub mod linalg;
pub mod linear;
pub mod parallel;
pub mod real;
pub mod ridge;
pub mod rng;
pub mod simd;

#[cfg(feature = "python")]
mod python;
#[cfg(test)]
mod testing;

pub use error::{Error, Result};
pub use kernels::Kernel;
pub use parallel::{Context, Interrupt};
pub use real::Real;
