//! The Python bindings: the only file that knows PyO3.
//!
//! Every binding extracts borrowed array views while attached, runs the core
//! inside [`run_detached`] (GIL released, Ctrl-C polled between chunks, optional
//! dedicated thread pool) and maps core errors with one `From<Error> for PyErr`.

use crate::error::Error;
use crate::features::{self, FeatureMap, Projection, Sampling, Structured};
use crate::gram::{self, GramAccumulator};
use crate::kernels::{self, Kernel};
use crate::linear;
use crate::parallel::{Context, Interrupt};
use crate::real::Real;
use crate::ridge::{DualPath, PrimalPath, SpectralPath, SymmetricEigen};
use crate::simd::Isa;
use faer::{Mat, MatMut, MatRef};
use numpy::ndarray::{
    Array, ArrayBase, ArrayView2, ArrayViewMut2, CowArray, Data, Dimension, Ix1, Ix2, Ix3, NdIndex,
};
use numpy::{
    PY_ARRAY_API, PyArray1, PyArray2, PyArrayDescrMethods, PyArrayMethods, PyReadonlyArray1,
    PyReadonlyArray2, PyReadonlyArray3, PyReadwriteArray1, PyReadwriteArray2,
    PyUntypedArrayMethods, npyffi,
};
use pyo3::exceptions::{PyKeyboardInterrupt, PyMemoryError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
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

/// A numpy input as an ndarray: borrowed, or copied when its memory is not aligned
/// for its dtype (buffers unpickled at odd offsets, e.g. by Dask), which the core
/// cannot read in place.
fn view<'a, T: numpy::Element + Copy, D: Dimension>(
    a: &'a numpy::PyReadonlyArray<'_, T, D>,
) -> CowArray<'a, T, D>
where
    D::Pattern: NdIndex<D>,
{
    if a.is_aligned() {
        return a.as_array().into();
    }
    let raw = a.as_raw_array();
    Array::from_shape_fn(raw.raw_dim(), |index| {
        let element = raw
            .get_ptr(index)
            .expect("the index comes from the array's shape");
        // SAFETY: the pointer is in bounds of the live array; the read allows any alignment.
        unsafe { element.read_unaligned() }
    })
    .into()
}

/// The contiguous 1-d input `name` as a slice.
fn slice<'a, T>(a: &'a CowArray<'_, T, Ix1>, name: &str) -> PyResult<&'a [T]> {
    a.as_slice()
        .ok_or_else(|| PyValueError::new_err(format!("{name} must be a contiguous 1-d array")))
}

/// A faer view of an ndarray view (strides in elements, any sign).
fn faer_view<'a, T: Real, S: Data<Elem = T>>(a: &'a ArrayBase<S, Ix2>) -> MatRef<'a, T> {
    let strides = a.strides();
    // SAFETY: pointer, shape and element strides come from a live ndarray view
    // that outlives the returned reference.
    unsafe { MatRef::from_raw_parts(a.as_ptr(), a.nrows(), a.ncols(), strides[0], strides[1]) }
}

/// A mutable faer view of an ndarray view.
fn faer_view_mut<'a>(a: &'a mut ArrayViewMut2<'_, f64>) -> MatMut<'a, f64> {
    let (rows, cols, strides) = (a.nrows(), a.ncols(), a.strides().to_vec());
    // SAFETY: as `faer_view`, with exclusive access through the `&mut` borrow.
    unsafe { MatMut::from_raw_parts_mut(a.as_mut_ptr(), rows, cols, strides[0], strides[1]) }
}

/// An ndarray view copied into a faer matrix.
fn to_faer<S: Data<Elem = f64>>(a: &ArrayBase<S, Ix2>) -> Mat<f64> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[(i, j)])
}

/// A faer matrix as a new C-ordered numpy array.
fn to_numpy<'py>(py: Python<'py>, m: &Mat<f64>) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let values: Vec<f64> = (0..m.nrows())
        .flat_map(|i| (0..m.ncols()).map(move |j| m[(i, j)]))
        .collect();
    PyArray1::from_vec(py, values).reshape([m.nrows(), m.ncols()])
}

/// Coefficients (2-d) and intercepts (1-d) returned to Python.
type CoefAndIntercept<'py> = (Bound<'py, PyArray2<f64>>, Bound<'py, PyArray1<f64>>);

fn check_alpha(alpha: f64) -> PyResult<f64> {
    if alpha >= 0.0 && alpha.is_finite() {
        Ok(alpha)
    } else {
        Err(PyValueError::new_err(format!(
            "alpha must be a non-negative finite number, got {alpha}"
        )))
    }
}

/// An uninitialized `rows x cols` array: `MemoryError` (never a panic) when the
/// size is not addressable or numpy cannot allocate it.
fn new_output<'py, T: Real + numpy::Element>(
    py: Python<'py>,
    rows: usize,
    cols: usize,
) -> PyResult<Bound<'py, PyArray2<T>>> {
    let bytes = rows
        .checked_mul(cols)
        .and_then(|n| n.checked_mul(size_of::<T>()));
    if bytes.is_none_or(|b| b > isize::MAX as usize) {
        let bytes_needed = rows as u128 * cols as u128 * size_of::<T>() as u128;
        return Err(Error::TooLarge { bytes_needed }.into());
    }
    let mut dims = [rows as npyffi::npy_intp, cols as npyffi::npy_intp];
    // SAFETY: the arguments follow numpy's C API for a new C-ordered array with
    // uninitialized data; a NULL result carries numpy's MemoryError. Every caller
    // writes all elements before returning the array.
    unsafe {
        let ptr = PY_ARRAY_API.PyArray_NewFromDescr(
            py,
            npyffi::get_type_object(py, npyffi::NpyTypes::PyArray_Type),
            T::get_dtype(py).into_dtype_ptr(),
            2,
            dims.as_mut_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
            std::ptr::null_mut(),
        );
        Ok(Bound::from_owned_ptr_or_err(py, ptr)?.cast_into_unchecked())
    }
}

/// Arrays of either float dtype, dispatched to one generic function.
#[derive(FromPyObject)]
enum FloatMatrix<'py> {
    F64(PyReadonlyArray2<'py, f64>),
    F32(PyReadonlyArray2<'py, f32>),
}

#[derive(FromPyObject)]
enum FloatVector<'py> {
    F64(PyReadonlyArray1<'py, f64>),
    F32(PyReadonlyArray1<'py, f32>),
}

/// The weights of a feature map as Python passes them: dense `(d, m)` (column `j`
/// is `w_j`) or the structured diagonals `(n_blocks, 3, P)`, in either float type.
#[derive(FromPyObject)]
enum FloatWeights<'py> {
    F64(PyReadonlyArray2<'py, f64>),
    F32(PyReadonlyArray2<'py, f32>),
    StructuredF64(PyReadonlyArray3<'py, f64>),
    StructuredF32(PyReadonlyArray3<'py, f32>),
}

/// Weights in one float type `T`.
enum Weights<'py, T: numpy::Element> {
    Dense(PyReadonlyArray2<'py, T>),
    Structured(PyReadonlyArray3<'py, T>),
}

/// A feature map's input, weights and offsets, checked to share one float type.
enum Typed<'py> {
    F64(
        PyReadonlyArray2<'py, f64>,
        Weights<'py, f64>,
        PyReadonlyArray1<'py, f64>,
    ),
    F32(
        PyReadonlyArray2<'py, f32>,
        Weights<'py, f32>,
        PyReadonlyArray1<'py, f32>,
    ),
}

fn typed<'py>(
    x: FloatMatrix<'py>,
    weights: FloatWeights<'py>,
    offsets: FloatVector<'py>,
) -> PyResult<Typed<'py>> {
    use FloatWeights as W;
    match (x, weights, offsets) {
        (FloatMatrix::F64(x), W::F64(w), FloatVector::F64(b)) => {
            Ok(Typed::F64(x, Weights::Dense(w), b))
        }
        (FloatMatrix::F64(x), W::StructuredF64(w), FloatVector::F64(b)) => {
            Ok(Typed::F64(x, Weights::Structured(w), b))
        }
        (FloatMatrix::F32(x), W::F32(w), FloatVector::F32(b)) => {
            Ok(Typed::F32(x, Weights::Dense(w), b))
        }
        (FloatMatrix::F32(x), W::StructuredF32(w), FloatVector::F32(b)) => {
            Ok(Typed::F32(x, Weights::Structured(w), b))
        }
        _ => Err(PyTypeError::new_err(
            "x, weights and offsets must share one float dtype",
        )),
    }
}

/// Borrowed (or, if unaligned, copied) weights, movable into a detached closure.
enum WeightsView<'a, T> {
    Dense(CowArray<'a, T, Ix2>),
    Structured(CowArray<'a, T, Ix3>),
}

impl<'py, T: Real + numpy::Element> Weights<'py, T> {
    fn view(&self) -> PyResult<WeightsView<'_, T>> {
        match self {
            Weights::Dense(w) => Ok(WeightsView::Dense(view(w))),
            Weights::Structured(w) => {
                if w.shape()[1] != 3 {
                    return Err(PyValueError::new_err(format!(
                        "structured weights must have shape (n_blocks, 3, P), got {:?}",
                        w.shape()
                    )));
                }
                Ok(WeightsView::Structured(view(w)))
            }
        }
    }
}

impl<T: Real> WeightsView<'_, T> {
    /// The projection of `n_frequencies` frequencies (one per offset) of
    /// `n_features_in`-dimensional inputs.
    fn projection(
        &self,
        n_features_in: usize,
        n_frequencies: usize,
    ) -> crate::Result<Projection<'_, T>> {
        match self {
            WeightsView::Dense(w) => Ok(Projection::Dense(faer_view(w))),
            WeightsView::Structured(w) => {
                let diagonals = w.as_slice().ok_or_else(|| {
                    Error::Shape("structured weights must be a C-contiguous array".into())
                })?;
                let padded = w.shape()[2];
                Ok(Projection::Structured(Structured::new(
                    diagonals,
                    n_features_in,
                    padded,
                    n_frequencies,
                )?))
            }
        }
    }
}

type WeightsAndOffsets<'py> = (Bound<'py, PyAny>, Bound<'py, PyAny>);

fn sample_weights_typed<'py, T: Real + numpy::Element>(
    py: Python<'py>,
    kernel: &Kernel,
    sampling: Sampling,
    seed: u64,
    n_features_in: usize,
    n_frequencies: usize,
    with_offsets: bool,
) -> PyResult<WeightsAndOffsets<'py>> {
    let (d, m) = (n_features_in, n_frequencies);
    if sampling == Sampling::Structured {
        let (w, b) =
            py.detach(|| features::sample_structured::<T>(kernel, seed, d, m, with_offsets))?;
        let padded = features::padded_dimension(d);
        let w = PyArray1::from_vec(py, w).reshape([m.div_ceil(padded), 3, padded])?;
        return Ok((w.into_any(), PyArray1::from_vec(py, b).into_any()));
    }
    let (w, b) =
        py.detach(|| features::sample_weights::<T>(kernel, sampling, seed, d, m, with_offsets))?;
    let w = PyArray1::from_vec(py, w).reshape([m, d])?;
    Ok((w.into_any(), PyArray1::from_vec(py, b).into_any()))
}

/// Draws the weights of `n_frequencies` random features; see `_core.pyi`.
#[pyfunction(name = "sample_weights")]
#[pyo3(signature = (
    kernel, *, gamma, bias, paired, n_features_in, n_frequencies, seed, dtype, sampling="iid"
))]
#[allow(clippy::too_many_arguments)]
fn sample_weights_py<'py>(
    py: Python<'py>,
    kernel: &str,
    gamma: f64,
    bias: f64,
    paired: bool,
    n_features_in: usize,
    n_frequencies: usize,
    seed: u64,
    dtype: &str,
    sampling: &str,
) -> PyResult<WeightsAndOffsets<'py>> {
    let kernel = Kernel::new(kernel, gamma, bias)?;
    let sampling = Sampling::new(sampling)?;
    sampling.check_kernel(&kernel)?;
    let with_offsets = FeatureMap::for_kernel(&kernel, paired)?.uses_offsets();
    let draw = match dtype {
        "float64" => sample_weights_typed::<f64>,
        "float32" => sample_weights_typed::<f32>,
        other => {
            return Err(PyTypeError::new_err(format!(
                "dtype must be 'float32' or 'float64', got {other:?}"
            )));
        }
    };
    draw(
        py,
        &kernel,
        sampling,
        seed,
        n_features_in,
        n_frequencies,
        with_offsets,
    )
}

fn transform_typed<'py, T: Real + numpy::Element>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, T>,
    weights: Weights<'py, T>,
    offsets: PyReadonlyArray1<'py, T>,
    map: FeatureMap,
    n_jobs: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let (x, weights) = (view(&x), weights.view()?);
    let offsets = view(&offsets);
    let offsets = slice(&offsets, "offsets")?;
    let n_components = offsets.len() * map.components_per_frequency();
    let out = new_output::<T>(py, x.nrows(), n_components)?;
    let mut out_rw = out.readwrite();
    let out_slice = out_rw.as_slice_mut().expect("a new array is contiguous");
    run_detached(py, n_jobs, |ctx| {
        let projection = weights.projection(x.ncols(), offsets.len())?;
        features::transform(faer_view(&x), projection, offsets, map, out_slice, ctx)
    })?;
    drop(out_rw);
    Ok(out.into_any())
}

/// Computes random features `Z` of `X`; see `_core.pyi`.
#[pyfunction(name = "transform")]
#[pyo3(signature = (x, weights, offsets, *, kernel, paired, n_jobs=None))]
fn transform_py<'py>(
    py: Python<'py>,
    x: FloatMatrix<'py>,
    weights: FloatWeights<'py>,
    offsets: FloatVector<'py>,
    kernel: &str,
    paired: bool,
    n_jobs: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let map = FeatureMap::for_kernel_name(kernel, paired)?;
    match typed(x, weights, offsets)? {
        Typed::F64(x, w, b) => transform_typed(py, x, w, b, map, n_jobs),
        Typed::F32(x, w, b) => transform_typed(py, x, w, b, map, n_jobs),
    }
}

/// Computes the exact kernel matrix `K[i, j] = k(x_i, y_j)` in float64; see `_core.pyi`.
#[pyfunction(name = "kernel_matrix")]
#[pyo3(signature = (x, y=None, *, kernel, gamma, bias, depth=1, n_jobs=None))]
#[allow(clippy::too_many_arguments)]
fn kernel_matrix_py<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    y: Option<PyReadonlyArray2<'py, f64>>,
    kernel: &str,
    gamma: f64,
    bias: f64,
    depth: usize,
    n_jobs: Option<usize>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let kernel = Kernel::new(kernel, gamma, bias)?.with_depth(depth)?;
    let x = view(&x);
    let y = y.as_ref().map(view);
    let n_cols = y.as_ref().map_or(x.nrows(), |y| y.nrows());
    let out = new_output::<f64>(py, x.nrows(), n_cols)?;
    let mut out_rw = out.readwrite();
    let out_slice = out_rw.as_slice_mut().expect("a new array is contiguous");
    run_detached(py, n_jobs, |ctx| {
        let y = y.as_ref().map(faer_view);
        kernels::kernel_matrix(faer_view(&x), y, &kernel, out_slice, ctx)
    })?;
    drop(out_rw);
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn accumulate_gram_typed<T: Real + numpy::Element>(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, T>,
    y: ArrayView2<'_, f64>,
    sample_weight: Option<&[f64]>,
    weights: Weights<'_, T>,
    offsets: PyReadonlyArray1<'_, T>,
    map: FeatureMap,
    chunk_size: usize,
    mut gram: ArrayViewMut2<'_, f64>,
    mut cross: ArrayViewMut2<'_, f64>,
    feature_sums: &mut [f64],
    n_jobs: Option<usize>,
) -> PyResult<()> {
    let (x, weights) = (view(&x), weights.view()?);
    let offsets = view(&offsets);
    let offsets = slice(&offsets, "offsets")?;
    run_detached(py, n_jobs, |ctx| {
        let weights = weights.projection(x.ncols(), offsets.len())?;
        let (x, y) = (faer_view(&x), faer_view(&y));
        let (g, c) = (faer_view_mut(&mut gram), faer_view_mut(&mut cross));
        gram::accumulate_products(
            x,
            y,
            sample_weight,
            weights,
            offsets,
            map,
            chunk_size,
            g,
            c,
            feature_sums,
            ctx,
        )
    })
}

/// Adds the weighted feature products of a block of rows to the statistics in
/// place; see `_core.pyi`.
#[pyfunction(name = "accumulate_gram")]
#[pyo3(signature = (
    x, y, sample_weight, weights, offsets, gram, cross, feature_sums,
    *, kernel, paired, chunk_size, n_jobs=None
))]
#[allow(clippy::too_many_arguments)]
fn accumulate_gram_py<'py>(
    py: Python<'py>,
    x: FloatMatrix<'py>,
    y: PyReadonlyArray2<'py, f64>,
    sample_weight: Option<PyReadonlyArray1<'py, f64>>,
    weights: FloatWeights<'py>,
    offsets: FloatVector<'py>,
    mut gram: PyReadwriteArray2<'py, f64>,
    mut cross: PyReadwriteArray2<'py, f64>,
    mut feature_sums: PyReadwriteArray1<'py, f64>,
    kernel: &str,
    paired: bool,
    chunk_size: usize,
    n_jobs: Option<usize>,
) -> PyResult<()> {
    let map = FeatureMap::for_kernel_name(kernel, paired)?;
    let sample_weight = sample_weight.as_ref().map(view);
    let sample_weight = sample_weight
        .as_ref()
        .map(|s| slice(s, "sample_weight"))
        .transpose()?;
    let sums = feature_sums.as_slice_mut().map_err(|_| {
        PyValueError::new_err("feature_sums must be a contiguous, aligned 1-d array")
    })?;
    let (y, g, c) = (view(&y), gram.as_array_mut(), cross.as_array_mut());
    match typed(x, weights, offsets)? {
        Typed::F64(x, w, b) => accumulate_gram_typed(
            py,
            x,
            y.view(),
            sample_weight,
            w,
            b,
            map,
            chunk_size,
            g,
            c,
            sums,
            n_jobs,
        ),
        Typed::F32(x, w, b) => accumulate_gram_typed(
            py,
            x,
            y.view(),
            sample_weight,
            w,
            b,
            map,
            chunk_size,
            g,
            c,
            sums,
            n_jobs,
        ),
    }
}

#[allow(clippy::too_many_arguments)]
fn predict_linear_typed<'py, T: Real + numpy::Element>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, T>,
    weights: Weights<'py, T>,
    offsets: PyReadonlyArray1<'py, T>,
    map: FeatureMap,
    coef: ArrayView2<'_, f64>,
    intercept: &[f64],
    n_jobs: Option<usize>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let (x, weights) = (view(&x), weights.view()?);
    let offsets = view(&offsets);
    let offsets = slice(&offsets, "offsets")?;
    let out = new_output::<f64>(py, x.nrows(), coef.ncols())?;
    let mut out_rw = out.readwrite();
    let out_slice = out_rw.as_slice_mut().expect("a new array is contiguous");
    run_detached(py, n_jobs, |ctx| {
        let w = weights.projection(x.ncols(), offsets.len())?;
        let (x, c) = (faer_view(&x), faer_view(&coef));
        linear::predict(x, w, offsets, map, c, intercept, out_slice, ctx)
    })?;
    drop(out_rw);
    Ok(out)
}

/// Computes `Z(x) @ coef + intercept` without forming `Z`; see `_core.pyi`.
#[pyfunction(name = "predict_linear")]
#[pyo3(signature = (x, weights, offsets, coef, intercept, *, kernel, paired, n_jobs=None))]
#[allow(clippy::too_many_arguments)]
fn predict_linear_py<'py>(
    py: Python<'py>,
    x: FloatMatrix<'py>,
    weights: FloatWeights<'py>,
    offsets: FloatVector<'py>,
    coef: PyReadonlyArray2<'py, f64>,
    intercept: PyReadonlyArray1<'py, f64>,
    kernel: &str,
    paired: bool,
    n_jobs: Option<usize>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let map = FeatureMap::for_kernel_name(kernel, paired)?;
    let intercept = view(&intercept);
    let intercept = slice(&intercept, "intercept")?;
    let coef = view(&coef);
    match typed(x, weights, offsets)? {
        Typed::F64(x, w, b) => {
            predict_linear_typed(py, x, w, b, map, coef.view(), intercept, n_jobs)
        }
        Typed::F32(x, w, b) => {
            predict_linear_typed(py, x, w, b, map, coef.view(), intercept, n_jobs)
        }
    }
}

/// The primal ridge path of random features; see `_core.pyi`.
#[pyclass(name = "PrimalRidgePath", module = "rfkernels._core", frozen)]
struct PrimalRidgePathPy {
    path: PrimalPath,
}

#[pymethods]
impl PrimalRidgePathPy {
    #[new]
    #[pyo3(signature = (
        gram, cross, feature_sums, target_sums, target_squares, weight_sum, n_samples,
        *, fit_intercept, n_jobs=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        gram: PyReadonlyArray2<'_, f64>,
        cross: PyReadonlyArray2<'_, f64>,
        feature_sums: Vec<f64>,
        target_sums: Vec<f64>,
        target_squares: Vec<f64>,
        weight_sum: f64,
        n_samples: usize,
        fit_intercept: bool,
        n_jobs: Option<usize>,
    ) -> PyResult<Self> {
        let (gram, cross) = (view(&gram), view(&cross));
        let (d, t) = (gram.nrows(), cross.ncols());
        let shapes_fit = gram.ncols() == d
            && cross.nrows() == d
            && feature_sums.len() == d
            && target_sums.len() == t
            && target_squares.len() == t;
        if !shapes_fit {
            return Err(PyValueError::new_err(
                "the statistics' shapes disagree: gram (D, D), cross (D, t), feature_sums (D,), \
                 target_sums (t,), target_squares (t,)",
            ));
        }
        let acc = GramAccumulator {
            gram: to_faer(&gram),
            cross: to_faer(&cross),
            feature_sums,
            target_sums,
            target_squares,
            weight_sum,
            n_samples,
        };
        let path = run_detached(py, n_jobs, |ctx| PrimalPath::new(acc, fit_intercept, ctx))?;
        Ok(Self { path })
    }

    /// The path rebuilt from the state `__reduce__` gives (unpickling).
    #[staticmethod]
    #[allow(clippy::too_many_arguments)]
    fn _from_state(
        values: Vec<f64>,
        vectors: PyReadonlyArray2<'_, f64>,
        projected_cross: PyReadonlyArray2<'_, f64>,
        target_squares: Vec<f64>,
        feature_means: Vec<f64>,
        target_means: Vec<f64>,
        fit_intercept: bool,
        weight_sum: f64,
        n_samples: usize,
        cutoff: f64,
    ) -> PyResult<Self> {
        let path = PrimalPath {
            eigen: SymmetricEigen {
                values,
                vectors: to_faer(&view(&vectors)),
            },
            projected_cross: to_faer(&view(&projected_cross)),
            target_squares,
            feature_means,
            target_means,
            fit_intercept,
            weight_sum,
            n_samples,
            cutoff,
        };
        path.check_parts()?;
        Ok(Self { path })
    }

    /// Pickling: the path's parts, so it moves to other processes (Dask workers)
    /// without a new eigendecomposition.
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let path = &slf.get().path;
        let state = (
            PyArray1::from_slice(py, &path.eigen.values),
            to_numpy(py, &path.eigen.vectors)?,
            to_numpy(py, &path.projected_cross)?,
            PyArray1::from_slice(py, &path.target_squares),
            PyArray1::from_slice(py, &path.feature_means),
            PyArray1::from_slice(py, &path.target_means),
            path.fit_intercept,
            path.weight_sum,
            path.n_samples,
            path.cutoff,
        );
        Ok((
            slf.get_type().getattr("_from_state")?,
            state.into_pyobject(py)?,
        ))
    }

    /// Eigenvalues of the centered Gram, ascending.
    #[getter]
    fn eigenvalues<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, self.path.eigenvalues())
    }

    fn coef<'py>(&self, py: Python<'py>, alpha: f64) -> PyResult<CoefAndIntercept<'py>> {
        let (coef, intercept) = self.path.coef(check_alpha(alpha)?);
        Ok((to_numpy(py, &coef)?, PyArray1::from_vec(py, intercept)))
    }

    fn train_errors<'py>(
        &self,
        py: Python<'py>,
        alphas: Vec<f64>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        to_numpy(py, &self.path.train_errors(&alphas)?)
    }

    fn gcv_errors<'py>(
        &self,
        py: Python<'py>,
        alphas: Vec<f64>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        to_numpy(py, &self.path.gcv_errors(&alphas)?)
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
        let map = FeatureMap::for_kernel_name(kernel, paired)?;
        let sample_weight = sample_weight.as_ref().map(view);
        let sample_weight = sample_weight
            .as_ref()
            .map(|s| slice(s, "sample_weight"))
            .transpose()?;
        let y = view(&y);
        let sums = match typed(x, weights, offsets)? {
            Typed::F64(x, w, b) => {
                self.loo_typed(py, x, y.view(), sample_weight, w, b, map, &alphas, n_jobs)
            }
            Typed::F32(x, w, b) => {
                self.loo_typed(py, x, y.view(), sample_weight, w, b, map, &alphas, n_jobs)
            }
        }?;
        to_numpy(py, &sums)
    }
}

impl PrimalRidgePathPy {
    #[allow(clippy::too_many_arguments)]
    fn loo_typed<T: Real + numpy::Element>(
        &self,
        py: Python<'_>,
        x: PyReadonlyArray2<'_, T>,
        y: ArrayView2<'_, f64>,
        sample_weight: Option<&[f64]>,
        weights: Weights<'_, T>,
        offsets: PyReadonlyArray1<'_, T>,
        map: FeatureMap,
        alphas: &[f64],
        n_jobs: Option<usize>,
    ) -> PyResult<Mat<f64>> {
        let (x, weights) = (view(&x), weights.view()?);
        let offsets = view(&offsets);
        let offsets = slice(&offsets, "offsets")?;
        run_detached(py, n_jobs, |ctx| {
            let w = weights.projection(x.ncols(), offsets.len())?;
            let (x, y) = (faer_view(&x), faer_view(&y));
            self.path
                .loo_error_sums(x, y, sample_weight, w, offsets, map, alphas, ctx)
        })
    }
}

/// The dual ridge path on a kernel matrix; see `_core.pyi`.
#[pyclass(name = "DualRidgePath", module = "rfkernels._core", frozen)]
struct DualRidgePathPy {
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
        let sample_weight = sample_weight.as_ref().map(view);
        let sample_weight = sample_weight
            .as_ref()
            .map(|s| slice(s, "sample_weight"))
            .transpose()?;
        let path = run_detached(py, n_jobs, |ctx| {
            DualPath::new(
                faer_view(&kernel),
                faer_view(&y),
                sample_weight,
                fit_intercept,
                ctx,
            )
        })?;
        Ok(Self { path })
    }

    /// Eigenvalues of the centered, weighted kernel matrix, ascending.
    #[getter]
    fn eigenvalues<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, self.path.eigenvalues())
    }

    fn dual_coef<'py>(&self, py: Python<'py>, alpha: f64) -> PyResult<CoefAndIntercept<'py>> {
        let (coef, intercept) = self.path.dual_coef(check_alpha(alpha)?);
        Ok((to_numpy(py, &coef)?, PyArray1::from_vec(py, intercept)))
    }

    fn train_errors<'py>(
        &self,
        py: Python<'py>,
        alphas: Vec<f64>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        to_numpy(py, &self.path.train_errors(&alphas)?)
    }

    fn gcv_errors<'py>(
        &self,
        py: Python<'py>,
        alphas: Vec<f64>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        to_numpy(py, &self.path.gcv_errors(&alphas)?)
    }

    fn loo_errors<'py>(
        &self,
        py: Python<'py>,
        alphas: Vec<f64>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let errors = py.detach(|| self.path.loo_errors(&alphas))?;
        to_numpy(py, &errors)
    }
}

/// The SIMD instruction set the kernels dispatch to on this CPU.
#[pyfunction(name = "simd_isa")]
fn simd_isa_py() -> &'static str {
    Isa::detect().name()
}

/// rfkernels' compiled core.
#[pymodule]
mod _core {
    #[pymodule_export]
    use super::{
        DualRidgePathPy, PrimalRidgePathPy, accumulate_gram_py, kernel_matrix_py,
        predict_linear_py, sample_weights_py, simd_isa_py, transform_py,
    };

    #[pymodule_init]
    fn init(m: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
        use pyo3::types::PyModuleMethods;
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        m.add("KERNEL_NAMES", crate::kernels::KERNEL_NAMES.to_vec())?;
        m.add("SAMPLING_NAMES", crate::features::SAMPLING_NAMES.to_vec())
    }
}
