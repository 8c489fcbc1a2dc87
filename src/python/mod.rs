//! The Python bindings: the only module that knows PyO3.
//!
//! - [`convert`]: numpy arrays in (borrowed views, one float dispatch) and out;
//! - [`features`]: drawing frequencies, transforms, linear predictions, exact
//!   kernel matrices and the kernel registry;
//! - [`stats`]: the `GramStatistics` class over [`crate::gram::GramAccumulator`];
//! - [`centers`]: the `KernelCenters` class (Nystrom features, kernel products
//!   and predictions on centers);
//! - [`ridge`]: the `PrimalRidgePath` and `DualRidgePath` classes and their base
//!   `RidgePath`.
//!
//! Every long call extracts borrowed array views while attached, runs the core
//! inside [`run_detached`] (GIL released, Ctrl-C polled between chunks, a pool of
//! `n_jobs` threads) and maps core errors with one `From<Error> for PyErr`.

mod centers;
mod convert;
mod features;
mod ridge;
mod stats;

use crate::error::Error;
use crate::parallel::{Context, Interrupt};
use pyo3::exceptions::{PyKeyboardInterrupt, PyMemoryError, PyValueError};
use pyo3::prelude::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

pyo3::import_exception!(numpy.linalg, LinAlgError);

impl From<Error> for PyErr {
    fn from(error: Error) -> PyErr {
        match error {
            Error::Shape(_) | Error::InvalidParameter(_) | Error::NonFinite(_) => {
                PyValueError::new_err(error.to_string())
            }
            Error::TooLarge { .. } => PyMemoryError::new_err(error.to_string()),
            Error::NoConvergence => LinAlgError::new_err(error.to_string()),
            Error::Interrupted => PyKeyboardInterrupt::new_err("interrupted by the user"),
        }
    }
}

/// Polls Python's signal handlers (Ctrl-C) from the thread that released the GIL,
/// keeping the exception a handler raised (KeyboardInterrupt, or e.g. a timeout's
/// own exception) to re-raise it unchanged once the core has stopped.
#[derive(Default)]
struct PythonSignals {
    raised: Mutex<Option<PyErr>>,
}

impl Interrupt for PythonSignals {
    fn check(&self) -> crate::Result<()> {
        Python::attach(|py| py.check_signals()).map_err(|err| {
            *self.raised.lock().unwrap_or_else(|e| e.into_inner()) = Some(err);
            Error::Interrupted
        })
    }
}

/// The thread pool of `n` threads, built on first use and kept for later calls
/// (starting threads on every call would cost more than small calls do).
fn pool_of(n: usize) -> PyResult<Arc<rayon::ThreadPool>> {
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<rayon::ThreadPool>>>> = OnceLock::new();
    let mut pools = POOLS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(pool) = pools.get(&n) {
        return Ok(Arc::clone(pool));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .map_err(|e| PyValueError::new_err(format!("cannot start {n} threads: {e}")))?;
    Ok(Arc::clone(pools.entry(n).or_insert(Arc::new(pool))))
}

/// Runs `work` with the GIL released, on a pool of `n_jobs` threads (the global
/// rayon pool, sized by `RAYON_NUM_THREADS` or the core count, when `None`).
fn run_detached<R: Send>(
    py: Python<'_>,
    n_jobs: Option<usize>,
    work: impl FnOnce(&Context) -> crate::Result<R> + Send,
) -> PyResult<R> {
    let pool = n_jobs.map(pool_of).transpose()?;
    let signals = PythonSignals::default();
    let result = py.detach(|| work(&Context::new(pool.as_deref(), &signals)));
    result.map_err(|error| match signals.raised.into_inner() {
        Ok(Some(raised)) => raised,
        _ => PyErr::from(error),
    })
}

/// rfkernels' compiled core.
#[pymodule]
mod _core {
    #[pymodule_export]
    use super::centers::KernelCentersPy;
    #[pymodule_export]
    use super::features::{
        check_feature_params_py, draw_frequencies_py, kernel_matrix_py, predict_linear_py,
        simd_isa_py, supported_isas_py, transform_py,
    };
    #[pymodule_export]
    use super::ridge::{DualRidgePathPy, PrimalRidgePathPy, RidgePathPy, symmetric_eigh_py};
    #[pymodule_export]
    use super::stats::GramStatisticsPy;

    #[pymodule_init]
    fn init(m: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
        use pyo3::types::PyModuleMethods;
        // A mistyped or unsupported RFKERNELS_ISA stops the import (ValueError)
        // rather than silently running another instruction set.
        crate::simd::Isa::configured()?;
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        m.add("TARGETS_OVERFLOW", crate::ridge::TARGETS_OVERFLOW)?;
        super::features::add_registry(m)
    }
}
