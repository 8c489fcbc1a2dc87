//! The ridge path classes: `PrimalRidgePath` (from `GramStatistics`) and
//! `DualRidgePath` (from a kernel matrix), each one eigendecomposition giving the
//! coefficients, training, GCV and leave-one-out errors of every ridge. Both
//! extend `RidgePath`, which holds the same path as a [`SpectralPath`] and gives
//! the methods they share.

use super::convert::{
    FeatureArrays, FloatMatrix, FloatVector, FloatWeights, Targets, dispatch_float, faer_view,
    to_faer, to_numpy, typed, view,
};
use super::features::feature_map;
use super::run_detached;
use super::stats::GramStatisticsPy;
use crate::eigen::pooled_eigh;
use crate::error::Error;
use crate::features::FeatureMap;
use crate::parallel::Context;
use crate::real::Real;
use crate::ridge::{DualPath, PrimalPath, SpectralParts, SpectralPath, SymmetricEigen};
use faer::Mat;
use numpy::{PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::PyClass;
use pyo3::prelude::*;
use pyo3::pyclass_init::PyClassInitializer;
use pyo3::types::PyTuple;
use std::sync::Arc;

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

/// A core path as the path classes hold it: its [`SpectralPath`] methods, and
/// what its class pickles beside the spectral parts.
trait PickledPath: SpectralPath + Send + Sync + 'static {
    /// The arguments of the class's `_from_state` after the [`SpectralState`].
    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>>;

    /// The solution at ridge `alpha`: the coefficients the path's fit is linear in
    /// (of the features for the primal path, dual for the dual one) and intercepts.
    fn solution(&self, alpha: f64, ctx: &Context) -> crate::Result<(Mat<f64>, Vec<f64>)>;
}

impl PickledPath for PrimalPath {
    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let means = [&self.feature_means, &self.target_means];
        PyTuple::new(py, means.map(|m| PyArray1::from_slice(py, m)))
    }

    fn solution(&self, alpha: f64, ctx: &Context) -> crate::Result<(Mat<f64>, Vec<f64>)> {
        self.coef(alpha, ctx)
    }
}

impl PickledPath for DualPath {
    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let vector = |v: &[f64]| PyArray1::from_slice(py, v);
        let state = (
            to_numpy(py, &self.projected_targets)?,
            vector(&self.sqrt_weights),
            vector(&self.intercept_direction),
            vector(&self.kernel_means),
            vector(&self.target_means),
        );
        state.into_pyobject(py)
    }

    fn solution(&self, alpha: f64, ctx: &Context) -> crate::Result<(Mat<f64>, Vec<f64>)> {
        self.dual_coef(alpha, ctx)
    }
}

/// Errors (or error sums) per alpha and target, `n_alphas x t`.
type Errors<'py> = Bound<'py, PyArray2<f64>>;

/// Errors per alpha and target as Python receives them.
fn errors<'py>(py: Python<'py>, errors: crate::Result<Mat<f64>>) -> PyResult<Errors<'py>> {
    to_numpy(py, &errors?)
}

/// What the ridge path classes share (their base class); see `_core.pyi`.
#[pyclass(name = "RidgePath", module = "rfkernels._core", frozen, subclass)]
pub(super) struct RidgePathPy {
    /// The subclass's path (the same allocation), as the methods here see it.
    path: Arc<dyn PickledPath>,
}

impl RidgePathPy {
    /// The new object of the path class `S` holding `path`, its base sharing it.
    fn initializer<P: PickledPath, S: PyClass<BaseType = Self>>(
        path: P,
        class: fn(Arc<P>) -> S,
    ) -> PyClassInitializer<S> {
        let path = Arc::new(path);
        PyClassInitializer::from(Self { path: path.clone() }).add_subclass(class(path))
    }

    /// The object of the path class `S` holding the path `path(spectrum)`, rebuilt
    /// from its pickled state and checked ([`SpectralPath::check_parts`]).
    fn unpickled<'py, P: PickledPath, S: PyClass<BaseType = Self>>(
        py: Python<'py>,
        spectrum: SpectralArrays<'_>,
        path: impl FnOnce(SpectralParts) -> P,
        class: fn(Arc<P>) -> S,
    ) -> PyResult<Bound<'py, S>> {
        let path = path(spectrum.parts());
        path.check_parts()?;
        Bound::new(py, Self::initializer(path, class))
    }
}

#[pymethods]
impl RidgePathPy {
    /// Eigenvalues of the centered, weighted Gram or kernel matrix, ascending.
    #[getter]
    fn eigenvalues<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, self.path.eigenvalues())
    }

    fn train_errors<'py>(&self, py: Python<'py>, alphas: Vec<f64>) -> PyResult<Errors<'py>> {
        errors(py, self.path.train_errors(&alphas))
    }

    fn gcv_errors<'py>(&self, py: Python<'py>, alphas: Vec<f64>) -> PyResult<Errors<'py>> {
        errors(py, self.path.gcv_errors(&alphas))
    }

    #[pyo3(signature = (alpha, *, n_jobs=None))]
    fn coef<'py>(
        &self,
        py: Python<'py>,
        alpha: f64,
        n_jobs: Option<usize>,
    ) -> PyResult<CoefAndIntercept<'py>> {
        let (coef, intercept) = run_detached(py, n_jobs, |ctx| self.path.solution(alpha, ctx))?;
        Ok((to_numpy(py, &coef)?, PyArray1::from_vec(py, intercept)))
    }

    /// Pickling: `(type(self)._from_state, state)`, the state being the path's
    /// parts, so that it moves to other processes (Dask workers) without a new
    /// eigendecomposition.
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let (py, path) = (slf.py(), &slf.get().path);
        let spectrum = spectral_state(py, path.spectrum())?.into_pyobject(py)?;
        let state: Vec<_> = std::iter::once(spectrum.into_any())
            .chain(path.state(py)?)
            .collect();
        let from_state = slf.get_type().getattr("_from_state")?;
        Ok((from_state, PyTuple::new(py, state)?))
    }
}

/// The primal ridge path of random features; see `_core.pyi`.
#[pyclass(name = "PrimalRidgePath", module = "rfkernels._core", frozen, extends = RidgePathPy)]
pub(super) struct PrimalRidgePathPy {
    path: Arc<PrimalPath>,
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
    ) -> PyResult<PyClassInitializer<Self>> {
        let stats = statistics.stats.clone();
        drop(statistics);
        let path = run_detached(py, n_jobs, |ctx| PrimalPath::new(stats, fit_intercept, ctx))?;
        Ok(RidgePathPy::initializer(path, |path| Self { path }))
    }

    /// The path rebuilt from the state `__reduce__` gives (unpickling).
    #[staticmethod]
    fn _from_state<'py>(
        py: Python<'py>,
        spectrum: SpectralArrays<'_>,
        feature_means: Vec<f64>,
        target_means: Vec<f64>,
    ) -> PyResult<Bound<'py, Self>> {
        let path = |spectrum| PrimalPath {
            spectrum,
            feature_means,
            target_means,
        };
        RidgePathPy::unpickled(py, spectrum, path, |path| Self { path })
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
    ) -> PyResult<Errors<'py>> {
        let map = feature_map(kernel, paired)?;
        let targets = Targets::new(&y, &sample_weight)?;
        let sums = dispatch_float!(typed(x, weights, offsets)?, arrays => {
            self.loo_typed(py, arrays, &targets, map, &alphas, n_jobs)
        })?;
        to_numpy(py, &sums)
    }
}

impl PrimalRidgePathPy {
    /// The core path.
    pub(super) fn core(&self) -> &PrimalPath {
        &self.path
    }

    fn loo_typed<T: Real + numpy::Element>(
        &self,
        py: Python<'_>,
        arrays: FeatureArrays<'_, T>,
        targets: &Targets<'_>,
        map: FeatureMap,
        alphas: &[f64],
        n_jobs: Option<usize>,
    ) -> PyResult<Mat<f64>> {
        let views = arrays.views()?;
        let features = views.features(map)?;
        let (y, sample_weight) = (targets.y(), targets.sample_weight());
        run_detached(py, n_jobs, |ctx| {
            let x = views.rows();
            self.path
                .loo_error_sums::<T, T>(x, y, sample_weight, &features, alphas, ctx)
        })
    }
}

/// The dual ridge path on a kernel matrix; see `_core.pyi`.
#[pyclass(name = "DualRidgePath", module = "rfkernels._core", frozen, extends = RidgePathPy)]
pub(super) struct DualRidgePathPy {
    path: Arc<DualPath>,
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
    ) -> PyResult<PyClassInitializer<Self>> {
        let kernel = view(&kernel);
        let targets = Targets::new(&y, &sample_weight)?;
        let (y, sample_weight) = (targets.y(), targets.sample_weight());
        let path = run_detached(py, n_jobs, |ctx| {
            DualPath::new(faer_view(&kernel), y, sample_weight, fit_intercept, ctx)
        })?;
        Ok(RidgePathPy::initializer(path, |path| Self { path }))
    }

    /// The path rebuilt from the state `__reduce__` gives (unpickling).
    #[staticmethod]
    fn _from_state<'py>(
        py: Python<'py>,
        spectrum: SpectralArrays<'_>,
        projected_targets: PyReadonlyArray2<'_, f64>,
        sqrt_weights: Vec<f64>,
        intercept_direction: Vec<f64>,
        kernel_means: Vec<f64>,
        target_means: Vec<f64>,
    ) -> PyResult<Bound<'py, Self>> {
        let path = |spectrum| DualPath {
            spectrum,
            projected_targets: to_faer(&projected_targets),
            sqrt_weights,
            intercept_direction,
            kernel_means,
            target_means,
        };
        RidgePathPy::unpickled(py, spectrum, path, |path| Self { path })
    }

    #[pyo3(signature = (alphas, *, n_jobs=None))]
    fn loo_errors<'py>(
        &self,
        py: Python<'py>,
        alphas: Vec<f64>,
        n_jobs: Option<usize>,
    ) -> PyResult<Errors<'py>> {
        let loo = run_detached(py, n_jobs, |ctx| self.path.loo_errors(&alphas, ctx))?;
        to_numpy(py, &loo)
    }
}

/// Eigenvalues (ascending) and eigenvectors (columns) returned to Python.
type Eigenpairs<'py> = (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray2<f64>>);

/// The eigenvalues (ascending) and eigenvectors of the symmetric `a` (its lower
/// triangle is read) by the eigensolver of every ridge path; see `_core.pyi`.
#[pyfunction(name = "symmetric_eigh")]
#[pyo3(signature = (a, *, n_jobs=None))]
pub(super) fn symmetric_eigh_py<'py>(
    py: Python<'py>,
    a: PyReadonlyArray2<'py, f64>,
    n_jobs: Option<usize>,
) -> PyResult<Eigenpairs<'py>> {
    let matrix = to_faer(&a);
    let (rows, cols) = (matrix.nrows(), matrix.ncols());
    if rows != cols {
        return Err(Error::Shape(format!("a must be square; got {rows} x {cols}")).into());
    }
    let finite = (0..cols).all(|j| matrix.col(j).iter().skip(j).all(|v| v.is_finite()));
    if !finite {
        let msg = "a contains NaN or infinity in its lower triangle".to_string();
        return Err(Error::NonFinite(msg).into());
    }
    let (values, vectors) = run_detached(py, n_jobs, |ctx| pooled_eigh(matrix, ctx))?;
    Ok((PyArray1::from_vec(py, values), to_numpy(py, &vectors)?))
}
