//! numpy arrays in and out: borrowed views (copied only when misaligned), faer
//! views of them, new output arrays, and the one float32/float64 dispatch of the
//! feature-map inputs ([`dispatch_float!`]).

use crate::error::Error;
use crate::features::{FeatureMap, Projection, RandomFeatures, Structured};
use crate::real::Real;
use faer::{Mat, MatRef};
use numpy::ndarray::{Array, ArrayBase, CowArray, Data, Dimension, Ix1, Ix2, Ix3, NdIndex};
use numpy::{
    PY_ARRAY_API, PyArray1, PyArray2, PyArrayDescrMethods, PyArrayMethods, PyReadonlyArray1,
    PyReadonlyArray2, PyReadonlyArray3, PyUntypedArrayMethods, npyffi,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

/// A numpy input as an ndarray: borrowed, or copied when its memory is not aligned
/// for its dtype (buffers unpickled at odd offsets, e.g. by Dask), which the core
/// cannot read in place.
pub(super) fn view<'a, T: numpy::Element + Copy, D: Dimension>(
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
pub(super) fn slice<'a, T>(a: &'a CowArray<'_, T, Ix1>, name: &str) -> PyResult<&'a [T]> {
    a.as_slice()
        .ok_or_else(|| PyValueError::new_err(format!("{name} must be a contiguous 1-d array")))
}

/// The targets `y` (`n x t`) of a fit and its optional per-row weights
/// `sample_weight`, borrowed (see [`view`]), the weights checked to be contiguous.
pub(super) struct Targets<'a> {
    y: CowArray<'a, f64, Ix2>,
    sample_weight: Option<CowArray<'a, f64, Ix1>>,
}

impl<'a> Targets<'a> {
    /// Views of `y` and `sample_weight`.
    pub(super) fn new(
        y: &'a PyReadonlyArray2<'_, f64>,
        sample_weight: &'a Option<PyReadonlyArray1<'_, f64>>,
    ) -> PyResult<Self> {
        let sample_weight = sample_weight.as_ref().map(view);
        if let Some(s) = &sample_weight {
            slice(s, "sample_weight")?;
        }
        Ok(Self {
            y: view(y),
            sample_weight,
        })
    }

    /// The targets as a faer view.
    pub(super) fn y(&self) -> MatRef<'_, f64> {
        faer_view(&self.y)
    }

    /// The weights (checked contiguous by [`Targets::new`]), `None` for unit weights.
    pub(super) fn sample_weight(&self) -> Option<&[f64]> {
        self.sample_weight
            .as_ref()
            .map(|s| s.as_slice().unwrap_or_default())
    }
}

/// A faer view of an ndarray view (strides in elements, any sign).
pub(super) fn faer_view<'a, T: Real, S: Data<Elem = T>>(a: &'a ArrayBase<S, Ix2>) -> MatRef<'a, T> {
    let strides = a.strides();
    // SAFETY: pointer, shape and element strides come from a live ndarray view
    // that outlives the returned reference.
    unsafe { MatRef::from_raw_parts(a.as_ptr(), a.nrows(), a.ncols(), strides[0], strides[1]) }
}

/// A numpy matrix copied into a faer matrix.
pub(super) fn to_faer(a: &PyReadonlyArray2<'_, f64>) -> Mat<f64> {
    let a = view(a);
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[(i, j)])
}

/// A faer matrix as a new C-ordered numpy array.
pub(super) fn to_numpy<'py>(py: Python<'py>, m: &Mat<f64>) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let values: Vec<f64> = (0..m.nrows())
        .flat_map(|i| (0..m.ncols()).map(move |j| m[(i, j)]))
        .collect();
    PyArray1::from_vec(py, values).reshape([m.nrows(), m.ncols()])
}

/// An uninitialized `rows x cols` array: `MemoryError` (never a panic) when the
/// size is not addressable or numpy cannot allocate it.
pub(super) fn new_output<'py, T: Real + numpy::Element>(
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

/// The input rows of a feature map, in either float type.
#[derive(FromPyObject)]
pub(super) enum FloatMatrix<'py> {
    F64(PyReadonlyArray2<'py, f64>),
    F32(PyReadonlyArray2<'py, f32>),
}

/// The offsets of a feature map, in either float type.
#[derive(FromPyObject)]
pub(super) enum FloatVector<'py> {
    F64(PyReadonlyArray1<'py, f64>),
    F32(PyReadonlyArray1<'py, f32>),
}

/// The weights of a feature map as Python passes them: dense `(d, m)` (column `j`
/// is `w_j`) or the structured diagonals `(n_blocks, 3, P)`, in either float type.
#[derive(FromPyObject)]
pub(super) enum FloatWeights<'py> {
    F64(PyReadonlyArray2<'py, f64>),
    F32(PyReadonlyArray2<'py, f32>),
    StructuredF64(PyReadonlyArray3<'py, f64>),
    StructuredF32(PyReadonlyArray3<'py, f32>),
}

/// Weights in one float type `T`.
pub(super) enum Weights<'py, T: numpy::Element> {
    Dense(PyReadonlyArray2<'py, T>),
    Structured(PyReadonlyArray3<'py, T>),
}

/// A feature map's input rows, weights and offsets in one float type `T`.
pub(super) struct FeatureArrays<'py, T: numpy::Element> {
    x: PyReadonlyArray2<'py, T>,
    weights: Weights<'py, T>,
    offsets: PyReadonlyArray1<'py, T>,
}

/// [`FeatureArrays`] of either float type: match it with [`dispatch_float!`].
pub(super) enum TypedFeatures<'py> {
    F64(FeatureArrays<'py, f64>),
    F32(FeatureArrays<'py, f32>),
}

/// Runs `$body` with `$arrays` bound to the [`FeatureArrays`] of either float type:
/// the one place the float32/float64 dispatch is written.
macro_rules! dispatch_float {
    ($typed:expr, $arrays:ident => $body:expr) => {
        match $typed {
            $crate::python::convert::TypedFeatures::F64($arrays) => $body,
            $crate::python::convert::TypedFeatures::F32($arrays) => $body,
        }
    };
}
pub(super) use dispatch_float;

/// The rows, weights and offsets of a feature map, checked to share one float type.
pub(super) fn typed<'py>(
    x: FloatMatrix<'py>,
    weights: FloatWeights<'py>,
    offsets: FloatVector<'py>,
) -> PyResult<TypedFeatures<'py>> {
    use FloatWeights as W;
    match (x, weights, offsets) {
        (FloatMatrix::F64(x), W::F64(w), FloatVector::F64(b)) => Ok(TypedFeatures::F64(
            FeatureArrays::new(x, Weights::Dense(w), b),
        )),
        (FloatMatrix::F64(x), W::StructuredF64(w), FloatVector::F64(b)) => Ok(TypedFeatures::F64(
            FeatureArrays::new(x, Weights::Structured(w), b),
        )),
        (FloatMatrix::F32(x), W::F32(w), FloatVector::F32(b)) => Ok(TypedFeatures::F32(
            FeatureArrays::new(x, Weights::Dense(w), b),
        )),
        (FloatMatrix::F32(x), W::StructuredF32(w), FloatVector::F32(b)) => Ok(TypedFeatures::F32(
            FeatureArrays::new(x, Weights::Structured(w), b),
        )),
        _ => Err(PyTypeError::new_err(
            "x, weights and offsets must share one float dtype",
        )),
    }
}

/// Borrowed (or, if unaligned, copied) feature-map inputs, movable into a
/// detached closure.
pub(super) struct FeatureViews<'a, T> {
    /// The input rows.
    pub x: CowArray<'a, T, Ix2>,
    weights: WeightsView<'a, T>,
    offsets: CowArray<'a, T, Ix1>,
}

enum WeightsView<'a, T> {
    Dense(CowArray<'a, T, Ix2>),
    Structured(CowArray<'a, T, Ix3>),
}

impl<'py, T: Real + numpy::Element> FeatureArrays<'py, T> {
    fn new(
        x: PyReadonlyArray2<'py, T>,
        weights: Weights<'py, T>,
        offsets: PyReadonlyArray1<'py, T>,
    ) -> Self {
        Self {
            x,
            weights,
            offsets,
        }
    }

    /// Views of the arrays, the offsets checked to be contiguous.
    pub(super) fn views(&self) -> PyResult<FeatureViews<'_, T>> {
        let weights = match &self.weights {
            Weights::Dense(w) => WeightsView::Dense(view(w)),
            Weights::Structured(w) => {
                if w.shape()[1] != 3 {
                    return Err(PyValueError::new_err(format!(
                        "structured weights must have shape (n_blocks, 3, P), got {:?}",
                        w.shape()
                    )));
                }
                WeightsView::Structured(view(w))
            }
        };
        let views = FeatureViews {
            x: view(&self.x),
            weights,
            offsets: view(&self.offsets),
        };
        slice(&views.offsets, "offsets")?;
        Ok(views)
    }
}

impl<T: Real> FeatureViews<'_, T> {
    /// The rows as a faer view.
    pub(super) fn rows(&self) -> MatRef<'_, T> {
        faer_view(&self.x)
    }

    /// The random feature map of the weights and offsets with the nonlinearity `map`.
    ///
    /// # Errors
    /// [`Error::Shape`] for structured weights that do not fit.
    pub(super) fn features(&self, map: FeatureMap) -> crate::Result<RandomFeatures<'_, T>> {
        Ok(RandomFeatures::new(self.projection()?, self.offsets(), map))
    }

    /// The offsets (checked contiguous by [`FeatureArrays::views`]).
    fn offsets(&self) -> &[T] {
        self.offsets.as_slice().unwrap_or_default()
    }

    /// The projection of the frequencies (one per offset) of the rows' inputs.
    fn projection(&self) -> crate::Result<Projection<'_, T>> {
        match &self.weights {
            WeightsView::Dense(w) => Ok(Projection::Dense(faer_view(w))),
            WeightsView::Structured(w) => {
                let diagonals = w.as_slice().ok_or_else(|| {
                    Error::Shape("structured weights must be a C-contiguous array".into())
                })?;
                Ok(Projection::Structured(Structured::new(
                    diagonals,
                    self.x.ncols(),
                    w.shape()[2],
                    self.offsets().len(),
                )?))
            }
        }
    }
}
