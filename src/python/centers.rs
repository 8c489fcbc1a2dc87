//! The `KernelCenters` class: a kernel against fixed centers `C`, the one object
//! behind the Nystrom features and the kernel solvers on centers. It gives the
//! Nystrom basis, the features and their streamed passes (Gram statistics,
//! leave-one-out), the on-the-fly products of the conjugate-gradient solver and
//! predictions from center coefficients. Projections and coefficients stay numpy
//! arrays on the Python side and are borrowed for each call.

use super::convert::{FloatMatrix, Targets, faer_view, new_output, slice, to_numpy, view};
use super::ridge::PrimalRidgePathPy;
use super::run_detached;
use super::stats::GramStatisticsPy;
use crate::features::{self, FeatureSource, NystroemBasis, NystroemFeatures};
use crate::kernels::{Kernel, KernelColumns, products};
use crate::real::Real;
use faer::{Mat, MatRef};
use numpy::ndarray::{CowArray, Ix1};
use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

/// Runs `$body` with `$x` bound to the rows of either float type.
macro_rules! dispatch_rows {
    ($rows:expr, $x:ident => $body:expr) => {
        match $rows {
            FloatMatrix::F64($x) => $body,
            FloatMatrix::F32($x) => $body,
        }
    };
}

/// A kernel against fixed centers; see `_core.pyi`.
#[pyclass(name = "KernelCenters", module = "rfkernels._core", frozen)]
pub(super) struct KernelCentersPy {
    kernel: Kernel,
    name: String,
    gamma: f64,
    bias: f64,
    depth: usize,
    centers: Mat<f64>,
}

impl KernelCentersPy {
    /// The kernel's columns `k(., c_j)`.
    fn columns(&self) -> crate::Result<KernelColumns<'_>> {
        KernelColumns::new(&self.kernel, self.centers.as_ref())
    }

    /// The Nystrom features with the projection `projection` (`M x r`), or the
    /// kernel columns for `None`.
    fn nystroem<'a>(
        &'a self,
        projection: Option<MatRef<'a, f64>>,
    ) -> crate::Result<NystroemFeatures<'a>> {
        NystroemFeatures::new(&self.kernel, self.centers.as_ref(), projection)
    }

    fn transform_typed<'py, T: Real + numpy::Element>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, T>,
        projection: MatRef<'_, f64>,
        n_jobs: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let x = view(&x);
        let map = self.nystroem(Some(projection))?;
        let n_components = FeatureSource::<T>::n_components(&map);
        let out = new_output::<T>(py, x.nrows(), n_components)?;
        let mut out_rw = out.readwrite();
        let out_slice = out_rw.as_slice_mut().expect("a new array is contiguous");
        run_detached(py, n_jobs, |ctx| {
            features::transform(faer_view(&x), &map, out_slice, ctx)
        })?;
        drop(out_rw);
        Ok(out.into_any())
    }
}

/// The contiguous row weights, if given.
fn weights_slice<'a>(weights: &'a Option<CowArray<'_, f64, Ix1>>) -> PyResult<Option<&'a [f64]>> {
    weights
        .as_ref()
        .map(|w| slice(w, "sample_weight"))
        .transpose()
}

/// The Nystrom basis as Python receives it: eigenvalues, projection, cut-off.
type Basis<'py> = (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray2<f64>>, f64);

/// A projection or coefficient matrix borrowed from numpy.
type Matrix<'py> = PyReadonlyArray2<'py, f64>;

#[pymethods]
impl KernelCentersPy {
    #[new]
    #[pyo3(signature = (centers, *, kernel, gamma, bias, depth=1))]
    fn new(
        centers: PyReadonlyArray2<'_, f64>,
        kernel: &str,
        gamma: f64,
        bias: f64,
        depth: usize,
    ) -> PyResult<Self> {
        let parsed = Kernel::new(kernel, gamma, bias)?.with_depth(depth)?;
        let centers = view(&centers);
        let centers = faer_view(&centers).to_owned();
        // Checks the centers' norms once, here.
        KernelColumns::new(&parsed, centers.as_ref())?;
        Ok(Self {
            kernel: parsed,
            name: kernel.to_owned(),
            gamma,
            bias,
            depth,
            centers,
        })
    }

    /// The centers, `(M, d)`.
    #[getter]
    fn centers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        to_numpy(py, &self.centers)
    }

    /// The number of centers `M`.
    #[getter]
    fn n_centers(&self) -> usize {
        self.centers.nrows()
    }

    #[pyo3(signature = (*, n_jobs=None))]
    fn basis<'py>(&self, py: Python<'py>, n_jobs: Option<usize>) -> PyResult<Basis<'py>> {
        let basis = run_detached(py, n_jobs, |ctx| {
            NystroemBasis::new(&self.kernel, self.centers.as_ref(), ctx)
        })?;
        Ok((
            PyArray1::from_vec(py, basis.eigenvalues),
            to_numpy(py, &basis.projection)?,
            basis.cutoff,
        ))
    }

    #[pyo3(signature = (x, projection, *, n_jobs=None))]
    fn transform<'py>(
        &self,
        py: Python<'py>,
        x: FloatMatrix<'py>,
        projection: Matrix<'py>,
        n_jobs: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let projection = view(&projection);
        let projection = faer_view(&projection);
        dispatch_rows!(x, x => self.transform_typed(py, x, projection, n_jobs))
    }

    #[pyo3(signature = (statistics, x, y, sample_weight, projection, *, chunk_rows, n_jobs=None))]
    #[allow(clippy::too_many_arguments)]
    fn add_rows<'py>(
        &self,
        py: Python<'py>,
        mut statistics: PyRefMut<'py, GramStatisticsPy>,
        x: FloatMatrix<'py>,
        y: PyReadonlyArray2<'py, f64>,
        sample_weight: Option<PyReadonlyArray1<'py, f64>>,
        projection: Option<Matrix<'py>>,
        chunk_rows: usize,
        n_jobs: Option<usize>,
    ) -> PyResult<()> {
        let targets = Targets::new(&y, &sample_weight)?;
        let (y, sample_weight) = (targets.y(), targets.sample_weight());
        let projection = projection.as_ref().map(view);
        let map = self.nystroem(projection.as_ref().map(faer_view))?;
        let stats = &mut statistics.stats;
        dispatch_rows!(x, x => {
            let x = view(&x);
            run_detached(py, n_jobs, |ctx| {
                // Nystrom features compute in float64 whatever the data: their basis
                // amplifies rounding by 1 / sqrt(lambda).
                stats.add_rows::<_, f64>(faer_view(&x), y, sample_weight, &map, chunk_rows, ctx)
            })
        })
    }

    #[pyo3(signature = (path, x, y, sample_weight, projection, alphas, *, n_jobs=None))]
    #[allow(clippy::too_many_arguments)]
    fn loo_error_sums<'py>(
        &self,
        py: Python<'py>,
        path: PyRef<'py, PrimalRidgePathPy>,
        x: FloatMatrix<'py>,
        y: PyReadonlyArray2<'py, f64>,
        sample_weight: Option<PyReadonlyArray1<'py, f64>>,
        projection: Matrix<'py>,
        alphas: Vec<f64>,
        n_jobs: Option<usize>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let targets = Targets::new(&y, &sample_weight)?;
        let (y, sample_weight) = (targets.y(), targets.sample_weight());
        let projection = view(&projection);
        let lift = faer_view(&projection);
        let columns = self.nystroem(None)?;
        let path = path.core();
        let sums = dispatch_rows!(x, x => {
            let x = view(&x);
            run_detached(py, n_jobs, |ctx| {
                path.loo_error_sums_lifted(
                    faer_view(&x), y, sample_weight, &columns, lift, &alphas, ctx,
                )
            })
        })?;
        to_numpy(py, &sums)
    }

    #[pyo3(signature = (x, b, sample_weight=None, *, n_jobs=None))]
    fn transpose_products<'py>(
        &self,
        py: Python<'py>,
        x: FloatMatrix<'py>,
        b: Matrix<'py>,
        sample_weight: Option<PyReadonlyArray1<'py, f64>>,
        n_jobs: Option<usize>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let weights = sample_weight.as_ref().map(view);
        let weights = weights_slice(&weights)?;
        let b = view(&b);
        let columns = self.columns()?;
        let products = dispatch_rows!(x, x => {
            let x = view(&x);
            run_detached(py, n_jobs, |ctx| {
                products::transpose_products(faer_view(&x), &columns, faer_view(&b), weights, ctx)
            })
        })?;
        to_numpy(py, &products)
    }

    #[pyo3(signature = (x, u, shift, sample_weight=None, *, n_jobs=None))]
    fn normal_products<'py>(
        &self,
        py: Python<'py>,
        x: FloatMatrix<'py>,
        u: Matrix<'py>,
        shift: Vec<f64>,
        sample_weight: Option<PyReadonlyArray1<'py, f64>>,
        n_jobs: Option<usize>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let weights = sample_weight.as_ref().map(view);
        let weights = weights_slice(&weights)?;
        let u = view(&u);
        let columns = self.columns()?;
        let products = dispatch_rows!(x, x => {
            let x = view(&x);
            run_detached(py, n_jobs, |ctx| {
                let u = faer_view(&u);
                products::normal_products(faer_view(&x), &columns, u, &shift, weights, ctx)
            })
        })?;
        to_numpy(py, &products)
    }

    #[pyo3(signature = (x, coef, intercept, *, n_jobs=None))]
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: FloatMatrix<'py>,
        coef: Matrix<'py>,
        intercept: PyReadonlyArray1<'py, f64>,
        n_jobs: Option<usize>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let intercept = view(&intercept);
        let intercept = slice(&intercept, "intercept")?;
        let coef = view(&coef);
        let columns = self.columns()?;
        dispatch_rows!(x, x => {
            let x = view(&x);
            let out = new_output::<f64>(py, x.nrows(), coef.ncols())?;
            let mut out_rw = out.readwrite();
            let out_slice = out_rw.as_slice_mut().expect("a new array is contiguous");
            run_detached(py, n_jobs, |ctx| {
                let coef = faer_view(&coef);
                products::predict_kernel(faer_view(&x), &columns, coef, intercept, out_slice, ctx)
            })?;
            drop(out_rw);
            Ok(out)
        })
    }

    /// The object rebuilt from the state `__reduce__` gives (unpickling).
    #[staticmethod]
    fn _from_parts(
        centers: PyReadonlyArray2<'_, f64>,
        kernel: &str,
        gamma: f64,
        bias: f64,
        depth: usize,
    ) -> PyResult<Self> {
        Self::new(centers, kernel, gamma, bias, depth)
    }

    /// Pickling: the centers and the kernel's parameters.
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let this = slf.get();
        let state = (
            this.centers(py)?,
            this.name.as_str(),
            this.gamma,
            this.bias,
            this.depth,
        );
        Ok((
            slf.get_type().getattr("_from_parts")?,
            state.into_pyobject(py)?,
        ))
    }
}
