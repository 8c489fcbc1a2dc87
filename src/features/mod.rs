//! Random feature maps: `z(x) = sqrt(2/D) * f(W^T x + b)`, fused and in row chunks.
//!
//! | map      | `f`                                | kernels             |
//! |----------|------------------------------------|---------------------|
//! | `Cos`    | `cos(w_j.x + b_j)`, `b_j ~ U[0, 2pi)` | rbf, laplacian, matern, cauchy |
//! | `SinCos` | `(cos(w_j.x), sin(w_j.x))` pairs    | the same            |
//! | `Relu`   | `max(0, w_j.x + b_j)`              | relu                |
//! | `Step`   | `[w_j.x + b_j > 0]`                | step                |
//! | `Linear` | `w_j.x + b_j`                      | linear              |
//! | `Ntk`    | pairs `(relu(p_2k), [p_2k > 0] p_2k+1)`, `p_j = w_j.x + b_j`, scaled by `sqrt(4/D)` | ntk |
//!
//! The frequencies are drawn by [`draw_frequencies`] from the kernel's spectral measure
//! (independent or orthogonal frequencies, one random stream per frequency or
//! block, see [`crate::rng`] and [`Sampling`]); with the `sqrt(2/D)` scale
//! (`sqrt(4/D)` for ntk's pairs, [`FeatureMap::scale`]) `Z Z^T` converges to the
//! exact kernel of [`crate::kernels`] as `D` grows.
//!
//! [`transform`] splits the rows into chunks of [`ROWS_PER_CHUNK`] run in parallel;
//! each chunk is done in column blocks of [`Projection::block_width`] frequencies
//! ([`COLS_PER_BLOCK`], or whole structured blocks): the projections (one GEMM,
//! or fast Walsh-Hadamard transforms) into a cache-resident scratch, then the
//! nonlinearity from scratch to output.
//! No `n x D` temporary exists beyond the output, and chunk and block boundaries
//! do not depend on the thread count, so the output bits do not either.

use crate::error::{Error, Result, check_output_len};
use crate::kernels::{BaseFeature, Kernel, KernelTraits};
use crate::parallel::Context;
use crate::real::Real;
use crate::simd::{self, Affine, Isa};
use faer::{MatMut, MatRef};

mod nystroem;
mod projection;
mod sampling;
pub use nystroem::{NystroemBasis, NystroemFeatures};
pub use projection::{COLS_PER_BLOCK, Projection, Structured, padded_dimension};
pub use sampling::{SAMPLING_NAMES, Sampling, draw_frequencies, draw_structured_frequencies};

/// Rows per parallel task (tuned on benches/: 64 to 512 are within 10%).
pub const ROWS_PER_CHUNK: usize = 128;

/// A feature map `x -> z(x)` that the transforms and the streamed passes (Gram
/// statistics, leave-one-out, predictions) compute block of rows by block:
/// [`RandomFeatures`] or the Nystrom features of [`NystroemFeatures`].
///
/// Each method works sequentially on the rows it is given; callers parallelize
/// over fixed row chunks, so the bits do not depend on the thread count.
pub trait FeatureSource<T: Real>: Sync {
    /// The number of components `D`.
    fn n_components(&self) -> usize;

    /// [`Error::Shape`] unless inputs of `n_features_in` columns fit the map.
    fn check_input(&self, n_features_in: usize) -> Result<()>;

    /// Writes the features of the rows `x` into the row-major `x.nrows() x D`
    /// `out`; `first` is the index of `x`'s first row (for messages) and
    /// `scratch` is reused across calls.
    ///
    /// # Errors
    /// [`Error::NonFinite`] for inputs whose features are not finite.
    fn write_rows(
        &self,
        x: MatRef<'_, T>,
        first: usize,
        out: &mut [T],
        scratch: &mut Vec<T>,
    ) -> Result<()>;

    /// Writes the features of the rows `x` (the first is row `first`) into the
    /// column-major `x.nrows() x D` `out` of the compute type `C`, with the bits of
    /// [`FeatureSource::write_rows`] (rounded when `C` is narrower).
    ///
    /// # Errors
    /// As [`FeatureSource::write_rows`].
    fn write_columns<C: Real>(
        &self,
        x: MatRef<'_, T>,
        first: usize,
        out: MatMut<'_, C>,
    ) -> Result<()>;
}

/// The nonlinearity applied to the random projections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeatureMap {
    /// `cos(w.x + b)`: one component per frequency.
    Cos,
    /// `cos(w.x)` and `sin(w.x)` interleaved: two components per frequency.
    SinCos,
    /// `max(0, w.x + b)`.
    Relu,
    /// `[w.x + b > 0]`.
    Step,
    /// `w.x + b` (Gaussian random projections).
    Linear,
    /// The gradient features of a random one-hidden-layer ReLU network, in pairs
    /// of columns `(relu(p), [p > 0] q)` for projections `p = w.x + b` and an
    /// independent `q = g.x + c`, scaled by `sqrt(4/D)`: the first component's
    /// products tend to the relu kernel, the second's to `(u.v) step(u, v)`, their
    /// sum to the one-hidden-layer NTK. `D` must be even.
    Ntk,
}

impl FeatureMap {
    /// The map that approximates `kernel`; `paired` selects [`FeatureMap::SinCos`]
    /// for the shift-invariant kernels ([`FeatureMap::for_traits`] of its traits).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `paired` is asked for a kernel without
    /// Fourier features.
    pub fn for_kernel(kernel: &Kernel, paired: bool) -> Result<FeatureMap> {
        FeatureMap::for_traits(kernel.traits(), paired)
    }

    /// The map of a kernel's [`BaseFeature`]; `paired` selects
    /// [`FeatureMap::SinCos`] instead of [`FeatureMap::Cos`] for Fourier features.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `paired` is asked for a kernel without
    /// Fourier features.
    pub fn for_traits(traits: &KernelTraits, paired: bool) -> Result<FeatureMap> {
        match (traits.feature, paired) {
            (BaseFeature::Fourier, false) => Ok(FeatureMap::Cos),
            (BaseFeature::Fourier, true) => Ok(FeatureMap::SinCos),
            (_, true) => Err(Error::InvalidParameter(format!(
                "sin/cos pairs exist only for Fourier features ({}), not for {:?}",
                KernelTraits::names_where(|t| t.feature == BaseFeature::Fourier).join(", "),
                traits.name
            ))),
            (BaseFeature::Relu, false) => Ok(FeatureMap::Relu),
            (BaseFeature::Step, false) => Ok(FeatureMap::Step),
            (BaseFeature::Linear, false) => Ok(FeatureMap::Linear),
            (BaseFeature::Ntk, false) => Ok(FeatureMap::Ntk),
        }
    }

    /// Output components per frequency (column of `W`): 2 for `SinCos`, else 1.
    pub fn components_per_frequency(self) -> usize {
        if self == FeatureMap::SinCos { 2 } else { 1 }
    }

    /// Whether the map uses the offsets `b`.
    pub fn uses_offsets(self) -> bool {
        self != FeatureMap::SinCos
    }

    /// The scale of `n_components` features: `sqrt(2 / D)`, and `sqrt(4 / D)` for
    /// [`FeatureMap::Ntk`] (each of its two kinds of component fills half of `D`).
    pub fn scale<T: Real>(self, n_components: usize) -> T {
        let numerator = if self == FeatureMap::Ntk { 4.0 } else { 2.0 };
        T::from_f64((numerator / n_components as f64).sqrt())
    }
}

/// A random feature map `z(x) = scale f(W^T x + b)`: the projection onto the `m`
/// frequencies `W`, their offsets `b` and the nonlinearity `f`, with
/// `D = m * map.components_per_frequency()` components.
///
/// The parts are checked against each other and the inputs `x` where the map is
/// used ([`transform`] and the functions beside it).
#[derive(Clone, Copy, Debug)]
pub struct RandomFeatures<'a, T> {
    /// The projection onto the frequencies (dense weights or structured blocks).
    pub projection: Projection<'a, T>,
    /// One offset per frequency (unused by [`FeatureMap::SinCos`]).
    pub offsets: &'a [T],
    /// The nonlinearity.
    pub map: FeatureMap,
}

impl<'a, T: Real> RandomFeatures<'a, T> {
    /// The feature map of `projection`, `offsets` and `map`.
    pub fn new(projection: Projection<'a, T>, offsets: &'a [T], map: FeatureMap) -> Self {
        Self {
            projection,
            offsets,
            map,
        }
    }

    /// The number of components `D`.
    pub fn n_components(&self) -> usize {
        self.projection.n_frequencies() * self.map.components_per_frequency()
    }

    fn check_shapes(&self, n_features_in: usize) -> Result<()> {
        let (projection, map) = (self.projection, self.map);
        if map == FeatureMap::Ntk && projection.n_frequencies() % 2 != 0 {
            return Err(Error::Shape(format!(
                "ntk features come in pairs of columns: they need an even number of weight \
                 vectors, got {}",
                projection.n_frequencies()
            )));
        }
        if projection.n_features_in() != n_features_in {
            return Err(Error::Shape(format!(
                "X has {n_features_in} features but the weights were drawn for {}",
                projection.n_features_in()
            )));
        }
        if self.offsets.len() != projection.n_frequencies() {
            return Err(Error::Shape(format!(
                "{} offsets given for {} weight vectors",
                self.offsets.len(),
                projection.n_frequencies()
            )));
        }
        Ok(())
    }
}

impl<T: Real> FeatureSource<T> for RandomFeatures<'_, T> {
    fn n_components(&self) -> usize {
        RandomFeatures::n_components(self)
    }

    fn check_input(&self, n_features_in: usize) -> Result<()> {
        self.check_shapes(n_features_in)
    }

    /// Block of frequencies by block ([`Projection::block_width`]): the projections
    /// into `scratch`, then the nonlinearity into `out`.
    ///
    /// # Panics
    /// If `out.len()` is not `x.nrows()` times the number of components.
    fn write_rows(
        &self,
        x: MatRef<'_, T>,
        first_row: usize,
        out: &mut [T],
        scratch: &mut Vec<T>,
    ) -> Result<()> {
        self.check_shapes(x.ncols())?;
        let per = self.map.components_per_frequency();
        let m = self.projection.n_frequencies();
        let n_components = m * per;
        assert_eq!(out.len(), x.nrows() * n_components);
        let scale = self.map.scale::<T>(n_components);
        let block_width = self.projection.block_width();
        for block_start in (0..m).step_by(block_width) {
            let width = block_width.min(m - block_start);
            let dst = &mut out[block_start * per..];
            map_block(
                x,
                first_row,
                *self,
                block_start,
                width,
                scale,
                scratch,
                dst,
                n_components,
            )?;
        }
        Ok(())
    }

    /// One block of frequencies at a time: each block's features are made in a
    /// small row-major buffer (as [`FeatureSource::write_rows`] makes them, same
    /// bits) and copied transposed while they are in cache.
    ///
    /// # Panics
    /// If `out` is not column-major with `x.nrows()` rows and `D` columns.
    fn write_columns<C: Real>(
        &self,
        x: MatRef<'_, T>,
        first: usize,
        out: MatMut<'_, C>,
    ) -> Result<()> {
        let per = self.map.components_per_frequency();
        let m = self.projection.n_frequencies();
        let block_width = self.projection.block_width();
        let scale = self.map.scale::<T>(m * per);
        let mut columns: Vec<&mut [C]> = out
            .col_iter_mut()
            .map(|c| {
                c.try_as_col_major_mut()
                    .expect("column-major")
                    .as_slice_mut()
            })
            .collect();
        let (mut values, mut scratch) = (Vec::new(), Vec::new());
        for block_start in (0..m).step_by(block_width) {
            let width = block_width.min(m - block_start);
            let len = width * per;
            values.resize(x.nrows() * len, T::zero());
            let (start, dst) = (block_start, &mut values[..]);
            map_block(x, first, *self, start, width, scale, &mut scratch, dst, len)?;
            let block_columns = &mut columns[block_start * per..block_start * per + len];
            // Down each column: strided reads hit the cache lines the previous
            // columns loaded; the writes are contiguous.
            for (c, column) in block_columns.iter_mut().enumerate() {
                for (v, &f) in column.iter_mut().zip(values[c..].iter().step_by(len)) {
                    *v = C::from_f64(f.to_f64());
                }
            }
        }
        Ok(())
    }
}

/// Writes the `D`-component features of every row of `x` into the row-major
/// `n x D` buffer `out`.
///
/// # Errors
/// [`Error::Shape`] if the shapes disagree; [`Error::NonFinite`] if a projection
/// `w_j.x + b_j` is NaN or infinite (NaN in `x`, or values that overflow);
/// [`Error::Interrupted`] if `ctx`'s interrupt fires.
pub fn transform<T: Real>(
    x: MatRef<'_, T>,
    features: &impl FeatureSource<T>,
    out: &mut [T],
    ctx: &Context,
) -> Result<()> {
    features.check_input(x.ncols())?;
    let n_components = features.n_components();
    check_output_len(out.len(), x.nrows(), n_components)?;
    if n_components == 0 {
        return Ok(());
    }
    ctx.for_each_row_chunk(out, n_components, ROWS_PER_CHUNK, |first, rows| {
        let x = x.subrows(first, rows.len() / n_components);
        features.write_rows(x, first, rows, &mut Vec::new())
    })
}

/// Streams the features of `x`, `chunk_rows` rows at a time, as column-major
/// buffers of the compute type `C`: calls `consume(first_row, z)` with each chunk's
/// `rows x D` features, column `j` at `z[j * rows..(j + 1) * rows]` (the buffer is
/// reused).
///
/// Column-major chunks are what the Gram and projection products run fastest
/// on. Each parallel task computes its rows with
/// [`FeatureSource::write_columns`] (same bits as [`transform`], rounded to `C`).
///
/// # Errors
/// As [`transform`], and whatever `consume` returns.
pub fn for_each_chunk<T: Real, C: Real>(
    x: MatRef<'_, T>,
    features: &impl FeatureSource<T>,
    chunk_rows: usize,
    ctx: &Context,
    mut consume: impl FnMut(usize, &mut [C]) -> Result<()>,
) -> Result<()> {
    features.check_input(x.ncols())?;
    let n = x.nrows();
    let n_components = features.n_components();
    let chunk_rows = chunk_rows.max(1);
    let mut z = vec![C::zero(); chunk_rows.min(n) * n_components];
    for start in (0..n).step_by(chunk_rows) {
        let rows = chunk_rows.min(n - start);
        let z = &mut z[..rows * n_components];
        let chunk = MatMut::from_column_major_slice_mut(z, rows, n_components);
        ctx.for_each_row_block(chunk, ROWS_PER_CHUNK, |first, block| {
            let first = start + first;
            features.write_columns(x.subrows(first, block.nrows()), first, block)
        })?;
        consume(start, z)?;
    }
    Ok(())
}

/// The error of a non-finite projection in row `row`.
fn non_finite_error(row: usize) -> Error {
    Error::NonFinite(format!(
        "the random projection W^T x + b of row {row} is not finite: the input holds NaN or \
         infinity, or values so large that the projection overflows (rescale X or lower gamma)"
    ))
}

/// The features of the rows `x` for the frequencies `start..start + width`,
/// scaled by `scale`: row `i` is written to `dst[i * dst_stride..]`. The
/// projections go through `scratch`.
#[allow(clippy::too_many_arguments)]
fn map_block<T: Real>(
    x: MatRef<'_, T>,
    first_row: usize,
    features: RandomFeatures<'_, T>,
    start: usize,
    width: usize,
    scale: T,
    scratch: &mut Vec<T>,
    dst: &mut [T],
    dst_stride: usize,
) -> Result<()> {
    let n_rows = x.nrows();
    let b = &features.offsets[start..start + width];
    let len = width * features.map.components_per_frequency();
    let isa = Isa::detect();
    scratch.resize(n_rows * width, T::zero());
    let projections = &mut scratch[..n_rows * width];
    features
        .projection
        .project_into(x, start, width, projections);
    for (i, p) in projections.chunks_exact(width.max(1)).enumerate() {
        let dst = &mut dst[i * dst_stride..i * dst_stride + len];
        let applied = match features.map {
            FeatureMap::Cos => simd::affine(isa, Affine::Cos, p, b, scale, dst),
            FeatureMap::SinCos => simd::sincos_interleaved(isa, p, scale, dst),
            FeatureMap::Relu => simd::affine(isa, Affine::Relu, p, b, scale, dst),
            FeatureMap::Step => simd::affine(isa, Affine::Step, p, b, scale, dst),
            FeatureMap::Linear => simd::affine(isa, Affine::Identity, p, b, scale, dst),
            FeatureMap::Ntk => ntk_pairs(p, b, scale, dst),
        };
        applied.map_err(|_| non_finite_error(first_row + i))?;
    }
    Ok(())
}

/// The [`FeatureMap::Ntk`] pairs of the projections `p` with offsets `b`:
/// `(scale relu(a), scale [a > 0] c)` for each `(a, c) = (p_2k + b_2k, p_2k+1 +
/// b_2k+1)`. `Err(k)` for the first pair `k` with a non-finite projection.
fn ntk_pairs<T: Real>(p: &[T], b: &[T], scale: T, dst: &mut [T]) -> std::result::Result<(), usize> {
    let pairs = p.chunks_exact(2).zip(b.chunks_exact(2));
    for (k, ((p, b), out)) in pairs.zip(dst.chunks_exact_mut(2)).enumerate() {
        let (a, c) = (p[0] + b[0], p[1] + b[1]);
        if !(a.is_finite() && c.is_finite()) {
            return Err(k);
        }
        let on = a > T::zero();
        out[0] = if on { scale * a } else { T::zero() };
        out[1] = if on { scale * c } else { T::zero() };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::{KERNEL_NAMES, kernel_matrix};
    use crate::linalg::row_major;
    use crate::testing::Drawn;

    fn data<T: Real>(n: usize, d: usize) -> Vec<T> {
        (0..n * d)
            .map(|i| T::from_f64(((i * 7919) % 101) as f64 / 100.0 - 0.5))
            .collect()
    }

    fn sampled_features<T: Real>(
        kernel: &Kernel,
        paired: bool,
        sampling: Sampling,
        x: &[T],
        d: usize,
        m: usize,
    ) -> Vec<T> {
        Drawn::new(kernel, paired, sampling, 42, d, m).transform(x)
    }

    fn features<T: Real>(kernel: &Kernel, paired: bool, x: &[T], d: usize, m: usize) -> Vec<T> {
        sampled_features(kernel, paired, Sampling::Iid, x, d, m)
    }

    /// The maps that take every sampling: rbf (cos and sin/cos pairs) and relu.
    fn sampled_maps() -> Vec<(Kernel, bool, Sampling)> {
        let rbf = Kernel::Rbf { gamma: 0.7 };
        let relu = Kernel::new("relu", 0.7, 0.5).unwrap();
        [Sampling::Orthogonal, Sampling::Structured]
            .into_iter()
            .flat_map(|s| [(rbf, false, s), (rbf, true, s), (relu, false, s)])
            .collect()
    }

    fn all_maps() -> Vec<(Kernel, bool)> {
        let mut maps: Vec<(Kernel, bool)> = KERNEL_NAMES
            .iter()
            .map(|n| (Kernel::new(n, 0.7, 0.5).unwrap(), false))
            .collect();
        maps.push((Kernel::Rbf { gamma: 0.7 }, true));
        maps
    }

    #[test]
    fn fused_chunks_match_a_direct_evaluation() {
        // Sizes off the chunk and block multiples: 1, 7, 65 rows; 1, 3, 300 frequencies.
        for (kernel, paired) in all_maps() {
            for (n, d, m) in [(1, 1, 1), (7, 3, 300), (65, 2, 3)] {
                // ntk features come in pairs of columns.
                let m = if kernel.name() == "ntk" { m + m % 2 } else { m };
                let x = data::<f64>(n, d);
                let z = features(&kernel, paired, &x, d, m);
                let Drawn {
                    map,
                    weights: w,
                    offsets: b,
                    ..
                } = Drawn::<f64>::new(&kernel, paired, Sampling::Iid, 42, d, m);
                let per = map.components_per_frequency();
                let scale = (2.0 / (m * per) as f64).sqrt();
                for i in 0..n {
                    for j in 0..m {
                        let p: f64 = (0..d).map(|k| x[i * d + k] * w[j * d + k]).sum();
                        let got = &z[i * m * per + j * per..][..per];
                        let want = match map {
                            FeatureMap::Cos => vec![scale * (p + b[j]).cos()],
                            FeatureMap::SinCos => vec![scale * p.cos(), scale * p.sin()],
                            FeatureMap::Relu => vec![scale * (p + b[j]).max(0.0)],
                            FeatureMap::Step => vec![if p + b[j] > 0.0 { scale } else { 0.0 }],
                            FeatureMap::Linear => vec![scale * (p + b[j])],
                            FeatureMap::Ntk => {
                                // Column j pairs with its neighbour in the pair.
                                let first = j - j % 2;
                                let a: f64 =
                                    (0..d).map(|k| x[i * d + k] * w[first * d + k]).sum::<f64>()
                                        + b[first];
                                let ntk_scale = (4.0 / m as f64).sqrt();
                                let value = if j % 2 == 0 {
                                    a.max(0.0)
                                } else if a > 0.0 {
                                    p + b[j]
                                } else {
                                    0.0
                                };
                                vec![ntk_scale * value]
                            }
                        };
                        for (g, w) in got.iter().zip(&want) {
                            assert!((g - w).abs() < 1e-13, "{kernel:?} {i} {j}: {g} vs {w}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn features_are_nested_in_the_width() {
        let x = data::<f64>(9, 4);
        for (kernel, paired) in all_maps() {
            let map = FeatureMap::for_kernel(&kernel, paired).unwrap();
            let (wide_w, wide_b) =
                draw_frequencies::<f64>(&kernel, Sampling::Iid, 5, 4, 300, map.uses_offsets())
                    .unwrap();
            let (w, b) =
                draw_frequencies::<f64>(&kernel, Sampling::Iid, 5, 4, 20, map.uses_offsets())
                    .unwrap();
            assert_eq!(w[..], wide_w[..w.len()]);
            assert_eq!(b[..], wide_b[..20]);
            let (wide, narrow) = (
                features(&kernel, paired, &x, 4, 300),
                features(&kernel, paired, &x, 4, 20),
            );
            let per = map.components_per_frequency();
            let ratio = (300.0f64 / 20.0).sqrt();
            for i in 0..9 {
                for j in 0..20 * per {
                    let rescaled = wide[i * 300 * per + j] * ratio;
                    assert!(
                        (rescaled - narrow[i * 20 * per + j]).abs() < 1e-14,
                        "{kernel:?}"
                    );
                }
            }
        }
    }

    /// The features of the `d`-column rows `x` by [`for_each_chunk`] in the
    /// compute type `C`, row-major.
    fn streamed<T: Real, C: Real>(drawn: &Drawn<T>, x: &[T], d: usize) -> Vec<C> {
        let (n, n_components) = (x.len() / d, drawn.features().n_components());
        let mut out = vec![C::nan(); n * n_components];
        let ctx = Context::global();
        let x = row_major(x, n, d);
        for_each_chunk(x, &drawn.features(), 150, &ctx, |start, z: &mut [C]| {
            let rows = z.len() / n_components;
            for (j, column) in z.chunks_exact(rows).enumerate() {
                for (i, &v) in column.iter().enumerate() {
                    out[(start + i) * n_components + j] = v;
                }
            }
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn streamed_column_major_chunks_hold_the_transform_bits() {
        // 333 rows: chunks of 150 (two full, one partial), blocks of 128 inside.
        let iid = all_maps().into_iter().map(|(k, p)| (k, p, Sampling::Iid));
        for (kernel, paired, sampling) in iid.chain(sampled_maps()) {
            // 300 frequencies: more than one block of either projection.
            let x = data::<f64>(333, 3);
            let drawn = Drawn::new(&kernel, paired, sampling, 42, 3, 300);
            assert_eq!(streamed::<f64, f64>(&drawn, &x, 3), drawn.transform(&x));
            let x = data::<f32>(333, 3);
            let drawn = Drawn::new(&kernel, paired, sampling, 42, 3, 300);
            let features = drawn.transform(&x);
            assert_eq!(streamed::<f32, f32>(&drawn, &x, 3), features);
            let widened: Vec<f64> = features.iter().map(|v| v.to_f64()).collect();
            assert_eq!(streamed::<f32, f64>(&drawn, &x, 3), widened);
        }
    }

    #[test]
    fn sampled_features_are_nested_and_thread_independent() {
        let x = data::<f32>(300, 5);
        for (kernel, paired, sampling) in sampled_maps() {
            let run = |threads: usize, m: usize| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap()
                    .install(|| sampled_features(&kernel, paired, sampling, &x, 5, m))
            };
            let wide = run(1, 600);
            assert_eq!(wide, run(3, 600), "{kernel:?} {sampling:?}");
            let per = FeatureMap::for_kernel(&kernel, paired)
                .unwrap()
                .components_per_frequency();
            for m in [1, 7, 8, 9, 300] {
                let narrow = run(2, m);
                let ratio = (600.0f64 / m as f64).sqrt();
                for i in 0..300 {
                    for j in 0..m * per {
                        let rescaled = f64::from(wide[i * 600 * per + j]) * ratio;
                        let want = f64::from(narrow[i * m * per + j]);
                        assert!((rescaled - want).abs() < 1e-5, "{sampling:?} {m} {i} {j}");
                    }
                }
            }
        }
    }

    #[test]
    fn thread_count_does_not_change_a_bit() {
        let x = data::<f32>(300, 5);
        for (kernel, paired) in all_maps() {
            let one = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .unwrap();
            let three = rayon::ThreadPoolBuilder::new()
                .num_threads(3)
                .build()
                .unwrap();
            let run =
                |pool: &rayon::ThreadPool| pool.install(|| features(&kernel, paired, &x, 5, 70));
            assert_eq!(run(&one), run(&three));
        }
    }

    #[test]
    fn z_zt_approaches_the_exact_kernel() {
        let (n, d, m) = (20, 3, 20000);
        let x = data::<f64>(n, d);
        for (kernel, paired) in all_maps() {
            let z = features(&kernel, paired, &x, d, m);
            let per = z.len() / n;
            let mut k = vec![0.0; n * n];
            kernel_matrix(
                row_major(&x, n, d),
                None,
                &kernel,
                &mut k,
                &Context::global(),
            )
            .unwrap();
            let max_err = (0..n * n)
                .map(|ij| {
                    let (i, j) = (ij / n, ij % n);
                    let zz: f64 = (0..per).map(|c| z[i * per + c] * z[j * per + c]).sum();
                    (zz - k[ij]).abs()
                })
                .fold(0.0, f64::max);
            assert!(max_err < 0.05, "{kernel:?} paired={paired}: {max_err}");
        }
        // Structured frequencies are close to Gaussian only in high dimension: d = 32
        // (and a small gamma, so that the kernel values are not all near 0).
        let d = 32;
        let x = data::<f64>(n, d);
        for (kernel, paired, sampling) in sampled_maps() {
            let kernel = Kernel::new(kernel.name(), 0.05, 0.5).unwrap();
            let z = sampled_features(&kernel, paired, sampling, &x, d, m);
            let per = z.len() / n;
            let mut k = vec![0.0; n * n];
            let ctx = Context::global();
            kernel_matrix(row_major(&x, n, d), None, &kernel, &mut k, &ctx).unwrap();
            for ij in 0..n * n {
                let (i, j) = (ij / n, ij % n);
                let zz: f64 = (0..per).map(|c| z[i * per + c] * z[j * per + c]).sum();
                let tol = 0.05 * k[i * n + i].max(k[j * n + j]).max(1.0);
                assert!(
                    (zz - k[ij]).abs() < tol,
                    "{kernel:?} {sampling:?}: {zz} vs {}",
                    k[ij]
                );
            }
        }
    }

    #[test]
    fn maps_follow_the_registry() {
        use crate::kernels::KERNEL_TRAITS;
        for traits in &KERNEL_TRAITS {
            let name = traits.name;
            // The string match the registry replaced.
            let want = match name {
                "rbf" | "laplacian" | "matern12" | "matern32" | "matern52" | "cauchy" => {
                    FeatureMap::Cos
                }
                "relu" | "nngp" => FeatureMap::Relu,
                "step" => FeatureMap::Step,
                "linear" => FeatureMap::Linear,
                "ntk" => FeatureMap::Ntk,
                _ => unreachable!("{name}"),
            };
            assert_eq!(FeatureMap::for_traits(traits, false), Ok(want), "{name}");
            let kernel = Kernel::new(name, 0.5, 0.5).unwrap();
            assert_eq!(FeatureMap::for_kernel(&kernel, false), Ok(want), "{name}");
            let paired = FeatureMap::for_traits(traits, true);
            if traits.fourier {
                assert_eq!(paired, Ok(FeatureMap::SinCos), "{name}");
            } else {
                let msg = format!(
                    "sin/cos pairs exist only for Fourier features (rbf, laplacian, matern12, \
                     matern32, matern52, cauchy), not for {name:?}"
                );
                assert_eq!(paired, Err(Error::InvalidParameter(msg)));
            }
        }
    }

    #[test]
    fn bad_shapes_and_overflow_are_errors() {
        let kernel = Kernel::Relu {
            gamma: 1.0,
            bias: 0.0,
        };
        let drawn = Drawn::<f64>::new(&kernel, false, Sampling::Iid, 1, 3, 4);
        let x = [1e308, 1e308, 1e308, 0.0, 0.0, 0.0];
        let mut out = vec![0.0; 8];
        let ctx = Context::global();
        let result = transform(row_major(&x, 2, 3), &drawn.features(), &mut out, &ctx);
        assert!(matches!(result, Err(Error::NonFinite(msg)) if msg.contains("row 0")));
        let result = transform(row_major(&x, 3, 2), &drawn.features(), &mut out, &ctx);
        assert!(matches!(result, Err(Error::Shape(_))));
        assert!(FeatureMap::for_kernel(&kernel, true).is_err());
    }
}
