//! The `GramStatistics` class: the streamed sufficient statistics of a ridge fit
//! on random features ([`GramAccumulator`]), added to row block by row block in
//! Rust, combined with `+` and `-`, and pickled for Dask workers.

use super::convert::{
    FeatureArrays, FloatMatrix, FloatVector, FloatWeights, Targets, dispatch_float, faer_view,
    to_faer, to_numpy, typed, view,
};
use super::features::feature_map;
use super::run_detached;
use crate::error::Error;
use crate::features::FeatureMap;
use crate::gram::GramAccumulator;
use crate::real::Real;
use numpy::{PyArray1, PyArray2, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

/// Additive statistics of weighted least squares on random features; see `_core.pyi`.
#[pyclass(name = "GramStatistics", module = "rfkernels._core")]
pub(super) struct GramStatisticsPy {
    pub(super) stats: GramAccumulator,
}

impl GramStatisticsPy {
    fn add_typed<T: Real + numpy::Element>(
        &mut self,
        py: Python<'_>,
        arrays: FeatureArrays<'_, T>,
        targets: &Targets<'_>,
        map: FeatureMap,
        chunk_rows: usize,
        n_jobs: Option<usize>,
    ) -> PyResult<()> {
        let views = arrays.views()?;
        let features = views.features(map)?;
        let (y, sample_weight) = (targets.y(), targets.sample_weight());
        let stats = &mut self.stats;
        // Random features compute in the data's precision (float32 Gram tiles for
        // float32 rows).
        run_detached(py, n_jobs, |ctx| {
            stats.add_rows::<T, T>(views.rows(), y, sample_weight, &features, chunk_rows, ctx)
        })
    }

    fn combined(&self, other: &Self, add: bool) -> PyResult<Self> {
        let mut stats = self.stats.clone();
        if add {
            stats.merge(&other.stats)?;
        } else {
            stats.subtract(&other.stats)?;
        }
        Ok(Self { stats })
    }
}

#[pymethods]
impl GramStatisticsPy {
    #[new]
    fn new(n_components: usize, n_targets: usize) -> PyResult<Self> {
        let bytes_needed = GramAccumulator::bytes(n_components, n_targets);
        if bytes_needed > isize::MAX as u128 {
            return Err(Error::TooLarge { bytes_needed }.into());
        }
        Ok(Self {
            stats: GramAccumulator::new(n_components, n_targets),
        })
    }

    /// The number of features `D`.
    #[getter]
    fn n_components(&self) -> usize {
        self.stats.n_components()
    }

    /// The number of targets `t`.
    #[getter]
    fn n_targets(&self) -> usize {
        self.stats.n_targets()
    }

    /// The number of rows added.
    #[getter]
    fn n_samples(&self) -> usize {
        self.stats.n_samples
    }

    /// The relative rounding of the products: float64's epsilon, or float32's once
    /// float32 rows were added.
    #[getter]
    fn rounding(&self) -> f64 {
        self.stats.rounding
    }

    /// The total weight of the rows added.
    #[getter]
    fn weight_sum(&self) -> f64 {
        self.stats.weight_sum
    }

    /// `sum_i s_i z_i z_i^T`, `(D, D)`: only the lower triangle is maintained.
    #[getter]
    fn gram<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        to_numpy(py, &self.stats.gram)
    }

    /// `sum_i s_i z_i y_i^T`, `(D, t)`.
    #[getter]
    fn cross<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        to_numpy(py, &self.stats.cross)
    }

    /// `sum_i s_i z_i`, `(D,)`.
    #[getter]
    fn feature_sums<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, &self.stats.feature_sums)
    }

    /// `sum_i s_i y_i`, `(t,)`.
    #[getter]
    fn target_sums<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, &self.stats.target_sums)
    }

    /// `sum_i s_i y_i^2`, `(t,)`.
    #[getter]
    fn target_squares<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, &self.stats.target_squares)
    }

    #[pyo3(signature = (
        x, y, sample_weight, weights, offsets, *, kernel, paired, chunk_rows, n_jobs=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn add_rows<'py>(
        &mut self,
        py: Python<'py>,
        x: FloatMatrix<'py>,
        y: PyReadonlyArray2<'py, f64>,
        sample_weight: Option<numpy::PyReadonlyArray1<'py, f64>>,
        weights: FloatWeights<'py>,
        offsets: FloatVector<'py>,
        kernel: &str,
        paired: bool,
        chunk_rows: usize,
        n_jobs: Option<usize>,
    ) -> PyResult<()> {
        let map = feature_map(kernel, paired)?;
        let targets = Targets::new(&y, &sample_weight)?;
        dispatch_float!(typed(x, weights, offsets)?, arrays => {
            self.add_typed(py, arrays, &targets, map, chunk_rows, n_jobs)
        })
    }

    fn __add__(&self, other: PyRef<'_, Self>) -> PyResult<Self> {
        self.combined(&other, true)
    }

    fn __sub__(&self, other: PyRef<'_, Self>) -> PyResult<Self> {
        self.combined(&other, false)
    }

    fn leading(&self, n_components: usize) -> PyResult<Self> {
        Ok(Self {
            stats: self.stats.leading(n_components)?,
        })
    }

    #[pyo3(signature = (projection, *, n_jobs=None))]
    fn project(
        &self,
        py: Python<'_>,
        projection: PyReadonlyArray2<'_, f64>,
        n_jobs: Option<usize>,
    ) -> PyResult<Self> {
        let projection = view(&projection);
        let projection = faer_view(&projection);
        let stats = run_detached(py, n_jobs, |ctx| self.stats.project(projection, ctx))?;
        Ok(Self { stats })
    }

    fn shift_targets(&self, delta: Vec<f64>) -> PyResult<Self> {
        let mut stats = self.stats.clone();
        stats.shift_targets(&delta)?;
        Ok(Self { stats })
    }

    #[pyo3(signature = (coef, intercept, targets, *, n_jobs=None))]
    fn heldout_errors<'py>(
        &self,
        py: Python<'py>,
        coef: PyReadonlyArray2<'py, f64>,
        intercept: Vec<f64>,
        targets: Vec<usize>,
        n_jobs: Option<usize>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let coef = view(&coef);
        let coef = faer_view(&coef);
        let errors = run_detached(py, n_jobs, |ctx| {
            self.stats.heldout_errors(coef, &intercept, &targets, ctx)
        })?;
        Ok(PyArray1::from_vec(py, errors))
    }

    /// The statistics rebuilt from the state `__reduce__` gives (unpickling).
    #[staticmethod]
    #[allow(clippy::too_many_arguments)]
    fn _from_parts(
        gram: PyReadonlyArray2<'_, f64>,
        cross: PyReadonlyArray2<'_, f64>,
        feature_sums: Vec<f64>,
        target_sums: Vec<f64>,
        target_squares: Vec<f64>,
        weight_sum: f64,
        n_samples: usize,
        rounding: f64,
    ) -> PyResult<Self> {
        let stats = GramAccumulator::from_parts(
            to_faer(&gram),
            to_faer(&cross),
            feature_sums,
            target_sums,
            target_squares,
            weight_sum,
            n_samples,
            rounding,
        )?;
        Ok(Self { stats })
    }

    /// Pickling: the statistics' parts (Dask moves them between workers).
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let this = slf.borrow();
        let stats = &this.stats;
        let state = (
            this.gram(py)?,
            this.cross(py)?,
            this.feature_sums(py),
            this.target_sums(py),
            this.target_squares(py),
            stats.weight_sum,
            stats.n_samples,
            stats.rounding,
        );
        Ok((
            slf.get_type().getattr("_from_parts")?,
            state.into_pyobject(py)?,
        ))
    }
}
