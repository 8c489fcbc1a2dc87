//! The ridge path classes: `PrimalRidgePath` (from `GramStatistics`) and
//! `DualRidgePath` (from a kernel matrix), each one eigendecomposition giving the
//! coefficients, training, GCV and leave-one-out errors of every ridge.

use super::convert::{
    FeatureArrays, FloatMatrix, FloatVector, FloatWeights, dispatch_float, faer_view, to_faer,
    to_numpy, typed, view, weights_slice, weights_view,
};
use super::features::feature_map;
use super::run_detached;
use super::stats::GramStatisticsPy;
use crate::features::FeatureMap;
use crate::real::Real;
use crate::ridge::{DualPath, PrimalPath, SpectralParts, SpectralPath, SymmetricEigen};
use faer::{Mat, MatRef};
use numpy::{PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

/// Coefficients (2-d) and intercepts (1-d) returned to Python.
type CoefAndIntercept<'py> = (Bound<'py, PyArray2<f64>>, Bound<'py, PyArray1<f64>>);

/// What both paths pickle of their [`SpectralParts`]: eigenvalues, eigenvectors,
/// projected targets, target squares, weight sum, rows, intercept, cut-off.
type SpectralState<'py> = (
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray1<f64>>,
    f64,
    usize,
    bool,
    f64,
);

fn spectral_state<'py>(py: Python<'py>, parts: &SpectralParts) -> PyResult<SpectralState<'py>> {
    Ok((
        PyArray1::from_slice(py, &parts.eigen.values),
        to_numpy(py, &parts.eigen.vectors)?,
        to_numpy(py, &parts.projected_cross)?,
        PyArray1::from_slice(py, &parts.target_squares),
        parts.weight_sum,
        parts.n_samples,
        parts.fit_intercept,
        parts.cutoff,
    ))
}

/// The spectral parts unpickled from their [`SpectralState`].
#[derive(FromPyObject)]
struct SpectralArrays<'py>(
    Vec<f64>,
    PyReadonlyArray2<'py, f64>,
    PyReadonlyArray2<'py, f64>,
    Vec<f64>,
    f64,
    usize,
    bool,
    f64,
);

impl SpectralArrays<'_> {
    fn parts(self) -> SpectralParts {
        let Self(values, vectors, projected, target_squares, weight_sum, n, intercept, cutoff) =
            self;
        SpectralParts {
            eigen: SymmetricEigen {
                values,
                vectors: to_faer(&vectors),
            },
            projected_cross: to_faer(&projected),
            target_squares,
            weight_sum,
            n_samples: n,
            fit_intercept: intercept,
            cutoff,
        }
    }
}

/// `(constructor, state)` for `__reduce__`: the class's `_from_state` and `state`.
fn reduce_with<'py, T: pyo3::PyClass>(
    slf: &Bound<'py, T>,
    state: impl IntoPyObject<'py, Target = PyTuple, Output = Bound<'py, PyTuple>>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
    let state = state.into_pyobject(slf.py()).map_err(Into::into)?;
    Ok((slf.as_any().get_type().getattr("_from_state")?, state))
}

/// A solution as Python receives it.
fn solution(
    py: Python<'_>,
    (coef, intercept): (Mat<f64>, Vec<f64>),
) -> PyResult<CoefAndIntercept<'_>> {
    Ok((to_numpy(py, &coef)?, PyArray1::from_vec(py, intercept)))
}

/// Errors per alpha and target (`n_alphas x t`) as Python receives them.
fn errors<'py>(
    py: Python<'py>,
    errors: crate::Result<Mat<f64>>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    to_numpy(py, &errors?)
}

/// The primal ridge path of random features; see `_core.pyi`.
#[pyclass(name = "PrimalRidgePath", module = "rfkernels._core", frozen)]
pub(super) struct PrimalRidgePathPy {
    path: PrimalPath,
}

#[pymethods]
impl PrimalRidgePathPy {
    #[new]
    #[pyo3(signature = (statistics, *, fit_intercept, n_jobs=None))]
    fn new(
        py: Python<'_>,
        statistics: PyRef<'_, GramStatisticsPy>,
        fit_intercept: bool,
        n_jobs: Option<usize>,
    ) -> PyResult<Self> {
        let stats = statistics.stats.clone();
        drop(statistics);
        let path = run_detached(py, n_jobs, |ctx| PrimalPath::new(stats, fit_intercept, ctx))?;
        Ok(Self { path })
    }

    /// The path rebuilt from the state `__reduce__` gives (unpickling).
    #[staticmethod]
    fn _from_state(
        spectrum: SpectralArrays<'_>,
        feature_means: Vec<f64>,
        target_means: Vec<f64>,
    ) -> PyResult<Self> {
        let path = PrimalPath {
            spectrum: spectrum.parts(),
            feature_means,
            target_means,
        };
        path.check_parts()?;
        Ok(Self { path })
    }

    /// Pickling: the path's parts, so it moves to other processes (Dask workers)
    /// without a new eigendecomposition.
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let (py, path) = (slf.py(), &slf.get().path);
        let state = (
            spectral_state(py, &path.spectrum)?,
            PyArray1::from_slice(py, &path.feature_means),
            PyArray1::from_slice(py, &path.target_means),
        );
        reduce_with(slf, state)
    }

    /// Eigenvalues of the centered Gram, ascending.
    #[getter]
    fn eigenvalues<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, self.path.eigenvalues())
    }

    fn coef<'py>(&self, py: Python<'py>, alpha: f64) -> PyResult<CoefAndIntercept<'py>> {
        solution(py, self.path.coef(alpha)?)
    }

    fn train_errors<'py>(
        &self,
        py: Python<'py>,
        alphas: Vec<f64>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        errors(py, self.path.train_errors(&alphas))
    }

    fn gcv_errors<'py>(
        &self,
        py: Python<'py>,
        alphas: Vec<f64>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        errors(py, self.path.gcv_errors(&alphas))
    }

    #[pyo3(signature = (x, y, sample_weight, weights, offsets, alphas, *, kernel, paired, n_jobs=None))]
    #[allow(clippy::too_many_arguments)]
    fn loo_error_sums<'py>(
        &self,
        py: Python<'py>,
        x: FloatMatrix<'py>,
        y: PyReadonlyArray2<'py, f64>,
        sample_weight: Option<PyReadonlyArray1<'py, f64>>,
        weights: FloatWeights<'py>,
        offsets: FloatVector<'py>,
        alphas: Vec<f64>,
        kernel: &str,
        paired: bool,
        n_jobs: Option<usize>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let map = feature_map(kernel, paired)?;
        let sample_weight = weights_view(&sample_weight);
        let sample_weight = weights_slice(&sample_weight)?;
        let y = view(&y);
        let y = faer_view(&y);
        let sums = dispatch_float!(typed(x, weights, offsets)?, arrays => {
            self.loo_typed(py, arrays, y, sample_weight, map, &alphas, n_jobs)
        })?;
        to_numpy(py, &sums)
    }
}

impl PrimalRidgePathPy {
    #[allow(clippy::too_many_arguments)]
    fn loo_typed<T: Real + numpy::Element>(
        &self,
        py: Python<'_>,
        arrays: FeatureArrays<'_, T>,
        y: MatRef<'_, f64>,
        sample_weight: Option<&[f64]>,
        map: FeatureMap,
        alphas: &[f64],
        n_jobs: Option<usize>,
    ) -> PyResult<Mat<f64>> {
        let views = arrays.views()?;
        run_detached(py, n_jobs, |ctx| {
            let (x, b) = (views.rows(), views.offsets());
            let projection = views.projection()?;
            self.path
                .loo_error_sums(x, y, sample_weight, projection, b, map, alphas, ctx)
        })
    }
}

/// The dual ridge path on a kernel matrix; see `_core.pyi`.
#[pyclass(name = "DualRidgePath", module = "rfkernels._core", frozen)]
pub(super) struct DualRidgePathPy {
    path: DualPath,
}

#[pymethods]
impl DualRidgePathPy {
    #[new]
    #[pyo3(signature = (kernel, y, sample_weight=None, *, fit_intercept, n_jobs=None))]
    fn new(
        py: Python<'_>,
        kernel: PyReadonlyArray2<'_, f64>,
        y: PyReadonlyArray2<'_, f64>,
        sample_weight: Option<PyReadonlyArray1<'_, f64>>,
        fit_intercept: bool,
        n_jobs: Option<usize>,
    ) -> PyResult<Self> {
        let (kernel, y) = (view(&kernel), view(&y));
        let sample_weight = weights_view(&sample_weight);
        let sample_weight = weights_slice(&sample_weight)?;
        let path = run_detached(py, n_jobs, |ctx| {
            let (kernel, y) = (faer_view(&kernel), faer_view(&y));
            DualPath::new(kernel, y, sample_weight, fit_intercept, ctx)
        })?;
        Ok(Self { path })
    }

    /// The path rebuilt from the state `__reduce__` gives (unpickling).
    #[staticmethod]
    fn _from_state(
        spectrum: SpectralArrays<'_>,
        projected_targets: PyReadonlyArray2<'_, f64>,
        sqrt_weights: Vec<f64>,
        intercept_direction: Vec<f64>,
        kernel_means: Vec<f64>,
        target_means: Vec<f64>,
    ) -> PyResult<Self> {
        let path = DualPath {
            spectrum: spectrum.parts(),
            projected_targets: to_faer(&projected_targets),
            sqrt_weights,
            intercept_direction,
            kernel_means,
            target_means,
        };
        path.check_parts()?;
        Ok(Self { path })
    }

    /// Pickling: the path's parts, without a new eigendecomposition.
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let (py, path) = (slf.py(), &slf.get().path);
        let state = (
            spectral_state(py, &path.spectrum)?,
            to_numpy(py, &path.projected_targets)?,
            PyArray1::from_slice(py, &path.sqrt_weights),
            PyArray1::from_slice(py, &path.intercept_direction),
            PyArray1::from_slice(py, &path.kernel_means),
            PyArray1::from_slice(py, &path.target_means),
        );
        reduce_with(slf, state)
    }

    /// Eigenvalues of the centered, weighted kernel matrix, ascending.
    #[getter]
    fn eigenvalues<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, self.path.eigenvalues())
    }

    fn dual_coef<'py>(&self, py: Python<'py>, alpha: f64) -> PyResult<CoefAndIntercept<'py>> {
        solution(py, self.path.dual_coef(alpha)?)
    }

    fn train_errors<'py>(
        &self,
        py: Python<'py>,
        alphas: Vec<f64>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        errors(py, self.path.train_errors(&alphas))
    }

    fn gcv_errors<'py>(
        &self,
        py: Python<'py>,
        alphas: Vec<f64>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        errors(py, self.path.gcv_errors(&alphas))
    }

    #[pyo3(signature = (alphas, *, n_jobs=None))]
    fn loo_errors<'py>(
        &self,
        py: Python<'py>,
        alphas: Vec<f64>,
        n_jobs: Option<usize>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let loo = run_detached(py, n_jobs, |ctx| self.path.loo_errors(&alphas, ctx))?;
        to_numpy(py, &loo)
    }
}
