//! Bindings of the feature maps and exact kernels: drawing frequencies,
//! transforms, linear predictions without forming `Z`, kernel matrices, and the
//! kernel registry exported to Python.

use super::convert::{
    FeatureArrays, FloatMatrix, FloatVector, FloatWeights, dispatch_float, new_output, slice,
    typed, view,
};
use super::run_detached;
use crate::features::{self, FeatureMap, Sampling};
use crate::kernels::{self, Kernel, KernelTraits};
use crate::linear;
use crate::real::Real;
use crate::simd::Isa;
use faer::MatRef;
use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyModule};

/// The feature map of the kernel called `kernel` (`paired`: sin/cos pairs).
pub(super) fn feature_map(kernel: &str, paired: bool) -> PyResult<FeatureMap> {
    Ok(FeatureMap::for_traits(
        KernelTraits::named(kernel)?,
        paired,
    )?)
}

/// Adds the kernel registry to the module: `KERNEL_TRAITS` (name -> traits, in the
/// registry's order, with the samplings each kernel allows) and `SAMPLING_NAMES`.
pub(super) fn add_registry(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let registry = PyDict::new(py);
    for traits in &kernels::KERNEL_TRAITS {
        let entry = PyDict::new(py);
        entry.set_item("fourier", traits.fourier)?;
        entry.set_item("gaussian", traits.gaussian)?;
        entry.set_item("isotropic", traits.isotropic)?;
        entry.set_item("paired_columns", traits.paired_columns)?;
        entry.set_item("layered", traits.layered)?;
        entry.set_item("uses_bias", traits.uses_bias)?;
        let samplings = Sampling::ALL.iter().filter(|s| s.allows(traits));
        entry.set_item("samplings", samplings.map(|s| s.name()).collect::<Vec<_>>())?;
        registry.set_item(traits.name, entry)?;
    }
    m.add("KERNEL_TRAITS", registry)?;
    m.add("SAMPLING_NAMES", features::SAMPLING_NAMES.to_vec())
}

/// Checks what depends on the kernel in its parameters; see `_core.pyi`.
#[pyfunction(name = "check_feature_params")]
#[pyo3(signature = (kernel, *, sampling="iid", depth=1))]
pub(super) fn check_feature_params_py(kernel: &str, sampling: &str, depth: usize) -> PyResult<()> {
    // The scales do not enter these checks: any valid gamma and bias will do.
    let kernel = Kernel::new(kernel, 1.0, 0.0)?.with_depth(depth)?;
    Sampling::new(sampling)?.check_kernel(&kernel)?;
    Ok(())
}

type WeightsAndOffsets<'py> = (Bound<'py, PyAny>, Bound<'py, PyAny>);

/// Drawn weights, reshaped to `shape`, and offsets as numpy arrays.
fn weights_and_offsets<'py, T: numpy::Element>(
    py: Python<'py>,
    shape: &[usize],
    drawn: PyResult<(Vec<T>, Vec<T>)>,
) -> PyResult<WeightsAndOffsets<'py>> {
    let (w, b) = drawn?;
    let w = PyArray1::from_vec(py, w).reshape(shape)?;
    Ok((w.into_any(), PyArray1::from_vec(py, b).into_any()))
}

/// Draws the frequencies (projection weights) of random features; see `_core.pyi`.
#[pyfunction(name = "draw_frequencies")]
#[pyo3(signature = (
    kernel, *, gamma, bias, paired, n_features_in, n_frequencies, seed, dtype, sampling="iid",
    n_jobs=None
))]
#[allow(clippy::too_many_arguments)]
pub(super) fn draw_frequencies_py<'py>(
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
    n_jobs: Option<usize>,
) -> PyResult<WeightsAndOffsets<'py>> {
    let kernel = Kernel::new(kernel, gamma, bias)?;
    let sampling = Sampling::new(sampling)?;
    sampling.check_kernel(&kernel)?;
    let with_offsets = FeatureMap::for_kernel(&kernel, paired)?.uses_offsets();
    let (d, m) = (n_features_in, n_frequencies);
    let shape = sampling.weights_shape(d, m);
    match dtype {
        "float64" => {
            let drawn = run_detached(py, n_jobs, |ctx| {
                ctx.install(|| {
                    features::draw_frequencies::<f64>(&kernel, sampling, seed, d, m, with_offsets)
                })
            });
            weights_and_offsets(py, &shape, drawn)
        }
        "float32" => {
            let drawn = run_detached(py, n_jobs, |ctx| {
                ctx.install(|| {
                    features::draw_frequencies::<f32>(&kernel, sampling, seed, d, m, with_offsets)
                })
            });
            weights_and_offsets(py, &shape, drawn)
        }
        other => Err(PyTypeError::new_err(format!(
            "dtype must be 'float32' or 'float64', got {other:?}"
        ))),
    }
}

fn transform_typed<'py, T: Real + numpy::Element>(
    py: Python<'py>,
    arrays: FeatureArrays<'py, T>,
    map: FeatureMap,
    n_jobs: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let views = arrays.views()?;
    let features = views.features(map)?;
    let out = new_output::<T>(py, views.x.nrows(), features.n_components())?;
    let mut out_rw = out.readwrite();
    let out_slice = out_rw.as_slice_mut().expect("a new array is contiguous");
    run_detached(py, n_jobs, |ctx| {
        features::transform(views.rows(), &features, out_slice, ctx)
    })?;
    drop(out_rw);
    Ok(out.into_any())
}

/// Computes random features `Z` of `X`; see `_core.pyi`.
#[pyfunction(name = "transform")]
#[pyo3(signature = (x, weights, offsets, *, kernel, paired, n_jobs=None))]
pub(super) fn transform_py<'py>(
    py: Python<'py>,
    x: FloatMatrix<'py>,
    weights: FloatWeights<'py>,
    offsets: FloatVector<'py>,
    kernel: &str,
    paired: bool,
    n_jobs: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let map = feature_map(kernel, paired)?;
    dispatch_float!(typed(x, weights, offsets)?, arrays => transform_typed(py, arrays, map, n_jobs))
}

fn predict_typed<'py, T: Real + numpy::Element>(
    py: Python<'py>,
    arrays: FeatureArrays<'py, T>,
    map: FeatureMap,
    coef: MatRef<'_, f64>,
    intercept: &[f64],
    n_jobs: Option<usize>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let views = arrays.views()?;
    let out = new_output::<f64>(py, views.x.nrows(), coef.ncols())?;
    let mut out_rw = out.readwrite();
    let out_slice = out_rw.as_slice_mut().expect("a new array is contiguous");
    let features = views.features(map)?;
    run_detached(py, n_jobs, |ctx| {
        linear::predict(views.rows(), &features, coef, intercept, out_slice, ctx)
    })?;
    drop(out_rw);
    Ok(out)
}

/// Computes `Z(x) @ coef + intercept` without forming `Z`; see `_core.pyi`.
#[pyfunction(name = "predict_linear")]
#[pyo3(signature = (x, weights, offsets, coef, intercept, *, kernel, paired, n_jobs=None))]
#[allow(clippy::too_many_arguments)]
pub(super) fn predict_linear_py<'py>(
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
    let map = feature_map(kernel, paired)?;
    let intercept = view(&intercept);
    let intercept = slice(&intercept, "intercept")?;
    let coef = view(&coef);
    let coef = super::convert::faer_view(&coef);
    dispatch_float!(typed(x, weights, offsets)?, arrays => {
        predict_typed(py, arrays, map, coef, intercept, n_jobs)
    })
}

/// Computes the exact kernel matrix `K[i, j] = k(x_i, y_j)` in float64; see `_core.pyi`.
#[pyfunction(name = "kernel_matrix")]
#[pyo3(signature = (x, y=None, *, kernel, gamma, bias, depth=1, n_jobs=None))]
#[allow(clippy::too_many_arguments)]
pub(super) fn kernel_matrix_py<'py>(
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
        let y = y.as_ref().map(super::convert::faer_view);
        kernels::kernel_matrix(super::convert::faer_view(&x), y, &kernel, out_slice, ctx)
    })?;
    drop(out_rw);
    Ok(out)
}

/// The SIMD instruction set the kernels dispatch to: the widest this CPU
/// supports, or the one `RFKERNELS_ISA` forces.
#[pyfunction(name = "simd_isa")]
pub(super) fn simd_isa_py() -> &'static str {
    Isa::detect().name()
}

/// The SIMD instruction sets this CPU supports, narrowest first.
#[pyfunction(name = "supported_isas")]
pub(super) fn supported_isas_py() -> Vec<&'static str> {
    Isa::supported().into_iter().map(Isa::name).collect()
}
