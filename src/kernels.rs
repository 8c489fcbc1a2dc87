//! Exact kernels: the infinite-width limits of the feature maps in [`crate::features`].
//!
//! | kernel      | `k(x, y)`                                                        |
//! |-------------|------------------------------------------------------------------|
//! | `rbf`       | `exp(-gamma ||x - y||_2^2)`                                      |
//! | `laplacian` | `exp(-gamma ||x - y||_1)`                                        |
//! | `relu`      | `(1/pi) |u| |v| (sin t + (pi - t) cos t)` (arc-cosine, order 1)   |
//! | `step`      | `1 - t/pi` (arc-cosine, order 0), 0 if `u` or `v` is 0           |
//! | `linear`    | `gamma x.y + bias^2`                                             |
//! | `matern12`  | `exp(-z)`, `z = sqrt(2 gamma) ||x - y||_2` (Matern, nu = 1/2)     |
//! | `matern32`  | `(1 + z) exp(-z)`, `z = sqrt(6 gamma) ||x - y||_2` (nu = 3/2)     |
//! | `matern52`  | `(1 + z + z^2/3) exp(-z)`, `z = sqrt(10 gamma) ||x - y||_2`       |
//! | `cauchy`    | `prod_i 1 / (1 + gamma (x_i - y_i)^2)`                           |
//! | `nngp`      | `S_L`: arc-cosine order 1 composed `L` times (deep ReLU NNGP)     |
//! | `ntk`       | `T_L`: the neural tangent kernel of `L` hidden ReLU layers        |
//!
//! The deep kernels start from `S_0 = T_0 = u.v` and recurse over `l = 1..L`
//! (`L = depth`): `S_l = k1(S_{l-1})`, `dS_l = k0(S_{l-1})`, `T_l = S_l + T_{l-1}
//! dS_l`, where `k1` and `k0` are the arc-cosine kernels of order 1 and 0 (Cho & Saul
//! 2009) of the previous layer's kernel: `k1 = (1/pi) n (sin t + (pi - t) cos t)`,
//! `k0 = 1 - t/pi`, `cos t = S(x, y) / n`, `n = sqrt(S(x, x) S(y, y))`. They are the
//! infinite-width limits of `f(x) = v . h_L`, `h_l = sqrt(2/m) relu(W_l h_{l-1})`,
//! `h_0 = u` with standard normal weights (He initialization, NTK
//! parametrization): `S_L` of the last hidden layer's `h_L . h_L'`, `T_L` of the
//! gradients' inner product. `S_l(x, x) = S_0(x, x)` at every depth; `nngp` of
//! depth 1 is `relu`, and `ntk` of depth 1 is `relu + (u.v) step`.
//!
//! The Matern kernels have length scale `l = 1 / sqrt(2 gamma)` (`z = sqrt(2 nu) r /
//! l`), so that as `nu` grows they tend to the rbf kernel with the same `gamma`. Their
//! distances are summed coordinate by coordinate (not expanded as `|x|^2 + |y|^2 -
//! 2 x.y`): `matern12` is not differentiable at 0 and the expansion would lose half
//! the digits for nearby points.
//!
//! For the arc-cosine kernels `u = (sqrt(gamma) x, bias)`, `v = (sqrt(gamma) y, bias)`
//! and `t` is the angle between them: the kernel of ReLU / step features with
//! weights `w ~ N(0, gamma I)` and offsets `b ~ N(0, bias^2)`.
//!
//! Kernel matrices are computed in float64 (near-ridgeless solves need it).

use crate::error::{Error, Result};
use crate::linalg::row_norms_squared;
use crate::parallel::Context;
use crate::simd::{ArcCosineOrder, Isa, arc_cosine_in_place, exp_nonpositive_in_place};
use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

/// A kernel and its hyperparameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kernel {
    /// Gaussian kernel `exp(-gamma ||x - y||^2)`.
    Rbf {
        /// Inverse squared length scale, > 0.
        gamma: f64,
    },
    /// Laplacian kernel `exp(-gamma ||x - y||_1)`.
    Laplacian {
        /// Inverse length scale, > 0.
        gamma: f64,
    },
    /// Arc-cosine kernel of order 1: random ReLU features.
    Relu {
        /// Variance of the weights, > 0.
        gamma: f64,
        /// Standard deviation of the offsets, >= 0 (0: no offset).
        bias: f64,
    },
    /// Arc-cosine kernel of order 0: random step (Heaviside) features.
    Step {
        /// Variance of the weights, > 0.
        gamma: f64,
        /// Standard deviation of the offsets, >= 0 (0: no offset).
        bias: f64,
    },
    /// Linear kernel `gamma x.y + bias^2`: Gaussian random projections.
    Linear {
        /// Scale of the inner product, > 0.
        gamma: f64,
        /// Square root of the constant term, >= 0.
        bias: f64,
    },
    /// Matern kernel of smoothness `nu` and length scale `1 / sqrt(2 gamma)`.
    Matern {
        /// `1 / (2 l^2)` for the length scale `l`, > 0.
        gamma: f64,
        /// The smoothness.
        nu: MaternNu,
    },
    /// Cauchy kernel `prod_i 1 / (1 + gamma (x_i - y_i)^2)`.
    Cauchy {
        /// Inverse squared length scale, > 0.
        gamma: f64,
    },
    /// The NNGP kernel of a deep ReLU network (arc-cosine order 1, composed).
    Nngp {
        /// Variance of the first layer's weights, > 0.
        gamma: f64,
        /// Standard deviation of the first layer's offsets, >= 0.
        bias: f64,
        /// Number of hidden layers, >= 1.
        depth: usize,
    },
    /// The neural tangent kernel of a deep ReLU network.
    Ntk {
        /// Variance of the first layer's weights, > 0.
        gamma: f64,
        /// Standard deviation of the first layer's offsets, >= 0.
        bias: f64,
        /// Number of hidden layers, >= 1.
        depth: usize,
    },
}

/// The smoothness `nu` of a Matern kernel: the half-integers with closed forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaternNu {
    /// `nu = 1/2`: the exponential kernel `exp(-z)`.
    Half,
    /// `nu = 3/2`: `(1 + z) exp(-z)`.
    ThreeHalves,
    /// `nu = 5/2`: `(1 + z + z^2 / 3) exp(-z)`.
    FiveHalves,
}

impl MaternNu {
    /// `2 nu`: the degrees of freedom of the Student-t spectral measure.
    pub fn dof(self) -> usize {
        match self {
            MaternNu::Half => 1,
            MaternNu::ThreeHalves => 3,
            MaternNu::FiveHalves => 5,
        }
    }

    /// The kernel as a function of `z = sqrt(2 nu) r / l`, given `exp(-z)`.
    fn profile(self, z: f64, exp_minus_z: f64) -> f64 {
        match self {
            MaternNu::Half => exp_minus_z,
            MaternNu::ThreeHalves => (1.0 + z) * exp_minus_z,
            MaternNu::FiveHalves => (1.0 + z + z * z / 3.0) * exp_minus_z,
        }
    }
}

/// Which random feature approximates a kernel: the nonlinearity applied to the
/// projections `w.x + b` ([`FeatureMap`](crate::features::FeatureMap) adds the
/// choice between `cos` and sin/cos pairs for [`BaseFeature::Fourier`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaseFeature {
    /// `cos(w.x + b)` (or sin/cos pairs) with frequencies from the spectral measure.
    Fourier,
    /// `max(0, w.x + b)`.
    Relu,
    /// `[w.x + b > 0]`.
    Step,
    /// `w.x + b`.
    Linear,
    /// Pairs `(relu(p), [p > 0] q)` of two independent projections.
    Ntk,
}

/// What the rest of the library needs to know about one kernel: the one registry
/// ([`KERNEL_TRAITS`]) that feature maps, sampling checks, error messages and the
/// Python bindings read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelTraits {
    /// The kernel's name, as [`Kernel::new`] takes it.
    pub name: &'static str,
    /// Shift-invariant with Fourier features, so that sin/cos pairs are available.
    pub fourier: bool,
    /// Isotropic Gaussian weights, so that structured (and orthogonal) sampling
    /// applies.
    pub gaussian: bool,
    /// Isotropic weights (a uniform direction times an independent radius: Gaussian,
    /// or the Matern kernels' Student-t) drawn independently of each other, so that
    /// orthogonal sampling applies.
    pub isotropic: bool,
    /// The features come in pairs of columns (ntk), so `n_components` must be even.
    pub paired_columns: bool,
    /// The kernel takes a `depth` (number of hidden layers: nngp, ntk).
    pub layered: bool,
    /// The `bias` hyperparameter (offset scale) applies.
    pub uses_bias: bool,
    /// The random feature that approximates the kernel.
    pub feature: BaseFeature,
}

/// A Fourier kernel's traits: shift-invariant, no bias, no layers.
const fn fourier(name: &'static str, gaussian: bool, isotropic: bool) -> KernelTraits {
    KernelTraits {
        name,
        fourier: true,
        gaussian,
        isotropic,
        paired_columns: false,
        layered: false,
        uses_bias: false,
        feature: BaseFeature::Fourier,
    }
}

/// The traits of a kernel of Gaussian projections `w.x + b` through `feature`.
const fn projected(name: &'static str, feature: BaseFeature, layered: bool) -> KernelTraits {
    KernelTraits {
        name,
        fourier: false,
        gaussian: true,
        isotropic: true,
        paired_columns: false,
        layered,
        uses_bias: true,
        feature,
    }
}

const TRAITS: [KernelTraits; 11] = [
    fourier("rbf", true, true),
    // Coordinate-wise Cauchy frequencies: not isotropic.
    fourier("laplacian", false, false),
    projected("relu", BaseFeature::Relu, false),
    projected("step", BaseFeature::Step, false),
    projected("linear", BaseFeature::Linear, false),
    // Student-t frequencies: isotropic, not Gaussian.
    fourier("matern12", false, true),
    fourier("matern32", false, true),
    fourier("matern52", false, true),
    // Coordinate-wise Laplace frequencies: not isotropic.
    fourier("cauchy", false, false),
    projected("nngp", BaseFeature::Relu, true),
    // Gaussian projections, but the two of a pair must stay independent
    // (orthogonal blocks would couple them): not isotropic as a whole.
    KernelTraits {
        gaussian: false,
        isotropic: false,
        paired_columns: true,
        ..projected("ntk", BaseFeature::Ntk, true)
    },
];

/// Every kernel the core knows, in the order the docs list them: the one registry.
pub static KERNEL_TRAITS: [KernelTraits; 11] = TRAITS;

/// The kernel names, in the order of [`KERNEL_TRAITS`].
pub const KERNEL_NAMES: [&str; 11] = {
    let mut names = [""; 11];
    let mut i = 0;
    while i < names.len() {
        names[i] = TRAITS[i].name;
        i += 1;
    }
    names
};

impl KernelTraits {
    /// The traits of the kernel called `name`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for an unknown name, listing the known ones.
    pub fn named(name: &str) -> Result<&'static KernelTraits> {
        KERNEL_TRAITS
            .iter()
            .find(|traits| traits.name == name)
            .ok_or_else(|| unknown_kernel(name))
    }

    /// The names of the kernels whose traits satisfy `keep`, in registry order (for
    /// error messages).
    pub fn names_where(keep: impl Fn(&KernelTraits) -> bool) -> Vec<&'static str> {
        KERNEL_TRAITS
            .iter()
            .filter(|traits| keep(traits))
            .map(|traits| traits.name)
            .collect()
    }
}

fn unknown_kernel(name: &str) -> Error {
    Error::InvalidParameter(format!(
        "unknown kernel {name:?}; expected one of {KERNEL_NAMES:?}"
    ))
}

impl Kernel {
    /// The kernel called `name` with hyperparameters `gamma` and `bias` (the latter
    /// is used by `relu`, `step`, `linear`, `nngp` and `ntk` only); the deep kernels
    /// get depth 1 ([`Kernel::with_depth`] changes it).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for an unknown name, `gamma` not positive and
    /// finite, or `bias` negative or not finite.
    pub fn new(name: &str, gamma: f64, bias: f64) -> Result<Kernel> {
        if !(gamma > 0.0 && gamma.is_finite()) {
            return Err(Error::InvalidParameter(format!(
                "gamma must be a positive finite number, got {gamma}"
            )));
        }
        if !(bias >= 0.0 && bias.is_finite()) {
            return Err(Error::InvalidParameter(format!(
                "bias must be a non-negative finite number, got {bias}"
            )));
        }
        match name {
            "rbf" => Ok(Kernel::Rbf { gamma }),
            "laplacian" => Ok(Kernel::Laplacian { gamma }),
            "relu" => Ok(Kernel::Relu { gamma, bias }),
            "step" => Ok(Kernel::Step { gamma, bias }),
            "linear" => Ok(Kernel::Linear { gamma, bias }),
            "matern12" => Ok(Kernel::Matern {
                gamma,
                nu: MaternNu::Half,
            }),
            "matern32" => Ok(Kernel::Matern {
                gamma,
                nu: MaternNu::ThreeHalves,
            }),
            "matern52" => Ok(Kernel::Matern {
                gamma,
                nu: MaternNu::FiveHalves,
            }),
            "cauchy" => Ok(Kernel::Cauchy { gamma }),
            "nngp" => Ok(Kernel::Nngp {
                gamma,
                bias,
                depth: 1,
            }),
            "ntk" => Ok(Kernel::Ntk {
                gamma,
                bias,
                depth: 1,
            }),
            _ => Err(unknown_kernel(name)),
        }
    }

    /// The kernel's name, as [`Kernel::new`] takes it.
    pub fn name(&self) -> &'static str {
        self.traits().name
    }

    /// The kernel's entry in [`KERNEL_TRAITS`].
    pub fn traits(&self) -> &'static KernelTraits {
        let index = match self {
            Kernel::Rbf { .. } => 0,
            Kernel::Laplacian { .. } => 1,
            Kernel::Relu { .. } => 2,
            Kernel::Step { .. } => 3,
            Kernel::Linear { .. } => 4,
            Kernel::Matern { nu, .. } => match nu {
                MaternNu::Half => 5,
                MaternNu::ThreeHalves => 6,
                MaternNu::FiveHalves => 7,
            },
            Kernel::Cauchy { .. } => 8,
            Kernel::Nngp { .. } => 9,
            Kernel::Ntk { .. } => 10,
        };
        &KERNEL_TRAITS[index]
    }

    /// The same kernel with `depth` hidden layers (nngp and ntk).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if `depth` is 0, or not 1 for a kernel without
    /// layers.
    pub fn with_depth(self, depth: usize) -> Result<Kernel> {
        match self {
            Kernel::Nngp { gamma, bias, .. } | Kernel::Ntk { gamma, bias, .. } if depth >= 1 => {
                Ok(match self {
                    Kernel::Nngp { .. } => Kernel::Nngp { gamma, bias, depth },
                    _ => Kernel::Ntk { gamma, bias, depth },
                })
            }
            Kernel::Nngp { .. } | Kernel::Ntk { .. } => Err(Error::InvalidParameter(format!(
                "depth must be at least 1 (hidden layers), got {depth}"
            ))),
            _ if depth == 1 => Ok(self),
            _ => Err(Error::InvalidParameter(format!(
                "depth={depth} applies to the layered kernels only (depth applies to the {} \
                 kernels only); the '{}' kernel takes depth=1",
                english_list(&KernelTraits::names_where(|traits| traits.layered)),
                self.name()
            ))),
        }
    }
}

/// `"a"`, `"a and b"`, `"a, b and c"`.
fn english_list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [only] => (*only).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Rows of `x` per parallel task.
const ROWS_PER_CHUNK: usize = 32;

/// Writes the exact kernel matrix `K[i, j] = k(x_i, y_j)` into the row-major
/// `n x m` buffer `out`; `y = None` means `y = x` (the diagonal of the
/// shift-invariant kernels is then exactly 1).
///
/// # Errors
/// [`Error::Shape`] if `x` and `y` differ in columns or `out` has the wrong
/// length; [`Error::Interrupted`] if `ctx`'s interrupt fires.
pub fn kernel_matrix(
    x: MatRef<'_, f64>,
    y: Option<MatRef<'_, f64>>,
    kernel: &Kernel,
    out: &mut [f64],
    ctx: &Context,
) -> Result<()> {
    let same = y.is_none();
    let y = y.unwrap_or(x);
    if x.ncols() != y.ncols() {
        return Err(Error::Shape(format!(
            "X has {} columns but Y has {}; they must have the same number of features",
            x.ncols(),
            y.ncols()
        )));
    }
    let m = y.nrows();
    if out.len() != x.nrows() * m {
        return Err(Error::Shape(format!(
            "the output buffer has {} elements, expected {} x {m}",
            out.len(),
            x.nrows()
        )));
    }
    let isa = Isa::detect();
    let (x_norms, y_norms) = (checked_norms(x, "X")?, checked_norms(y, "Y")?);
    let filled = match *kernel {
        Kernel::Rbf { gamma } => for_each_row_of_dots(x, y, out, ctx, same, |i, row| {
            for (v, &y_norm) in row.iter_mut().zip(&y_norms) {
                *v = -gamma * (x_norms[i] + y_norm - 2.0 * *v).max(0.0);
            }
            if same {
                row[i] = 0.0;
            }
            exp_nonpositive_in_place(isa, row);
        }),
        Kernel::Laplacian { gamma } => {
            let fold = |acc: f64, diff: f64| acc + diff.abs();
            for_each_row_of_folds(x, y, out, ctx, same, 0.0, fold, |i, row| {
                row.iter_mut().for_each(|v| *v *= -gamma);
                if same {
                    row[i] = 0.0;
                }
                exp_nonpositive_in_place(isa, row);
            })
        }
        Kernel::Matern { gamma, nu } => {
            let c = (2.0 * nu.dof() as f64 * gamma).sqrt();
            let fold = |acc: f64, diff: f64| acc + diff * diff;
            for_each_row_of_folds(x, y, out, ctx, same, 0.0, fold, |i, row| {
                if same {
                    row[i] = 0.0;
                }
                let z: Vec<f64> = row.iter().map(|&s| c * s.sqrt()).collect();
                row.iter_mut().zip(&z).for_each(|(v, &z)| *v = -z);
                exp_nonpositive_in_place(isa, row);
                row.iter_mut()
                    .zip(&z)
                    .for_each(|(v, &z)| *v = nu.profile(z, *v));
            })
        }
        Kernel::Cauchy { gamma } => {
            let fold = |acc: f64, diff: f64| acc / (1.0 + gamma * diff * diff);
            for_each_row_of_folds(x, y, out, ctx, same, 1.0, fold, |i, row| {
                if same {
                    row[i] = 1.0;
                }
            })
        }
        Kernel::Relu { gamma, bias }
        | Kernel::Step { gamma, bias }
        | Kernel::Nngp { gamma, bias, .. }
        | Kernel::Ntk { gamma, bias, .. } => {
            let augmented_norm = |sq: f64| (gamma * sq + bias * bias).sqrt();
            let x_norms: Vec<f64> = x_norms.into_iter().map(augmented_norm).collect();
            let y_norms: Vec<f64> = y_norms.into_iter().map(augmented_norm).collect();
            for_each_row_of_dots(x, y, out, ctx, same, |i, row| {
                let norms: Vec<f64> = y_norms[..row.len()]
                    .iter()
                    .map(|&y_norm| x_norms[i] * y_norm)
                    .collect();
                row.iter_mut().for_each(|v| *v = gamma * *v + bias * bias);
                if same {
                    // The angle of u with itself is exactly 0; acos(dot / norms)
                    // would only give ~1e-8 (acos is ill-conditioned near 1).
                    row[i] = norms[i];
                }
                layered_kernel(isa, kernel, row, &norms);
            })
        }
        Kernel::Linear { gamma, bias } => for_each_row_of_dots(x, y, out, ctx, same, |_, row| {
            row.iter_mut().for_each(|v| *v = gamma * *v + bias * bias);
        }),
    };
    filled?;
    if same {
        mirror_lower_triangle(out, m);
    }
    Ok(())
}

/// The squared norms of the rows of `x` (`name` in messages), which must be
/// finite: then every inner product and squared distance is finite too, so no
/// kernel value can silently become NaN.
fn checked_norms(x: MatRef<'_, f64>, name: &str) -> Result<Vec<f64>> {
    let norms = row_norms_squared(x);
    match norms.iter().position(|v| !v.is_finite()) {
        Some(row) => Err(Error::NonFinite(format!(
            "the squared norm of row {row} of {name} is not finite: it overflows, or the row holds NaN or \
             infinity (rescale the data)"
        ))),
        None => Ok(norms),
    }
}

/// Copies the strict lower triangle of the row-major `m x m` matrix onto the
/// upper one, so that `k(x_i, x_j)` and `k(x_j, x_i)` are the same bits (row
/// chunks of different sizes may round the two products differently). Tile by
/// tile, so that the strided writes of a tile stay in cache.
fn mirror_lower_triangle(out: &mut [f64], m: usize) {
    const TILE: usize = 64;
    for rows in (0..m).step_by(TILE) {
        for cols in (0..=rows).step_by(TILE) {
            for i in rows..(rows + TILE).min(m) {
                for j in cols..(cols + TILE).min(i) {
                    out[j * m + i] = out[i * m + j];
                }
            }
        }
    }
}

/// Fills `out` with the inner products `x_i . y_j` in parallel row chunks, then
/// calls `finish(i, row)` on each row `i` while it is in cache. With `lower` (`y`
/// is `x`), a chunk stops at the column of its last row: the entries above the
/// diagonal are left to [`mirror_lower_triangle`], which halves the work, and
/// `row` is that shorter prefix.
fn for_each_row_of_dots(
    x: MatRef<'_, f64>,
    y: MatRef<'_, f64>,
    out: &mut [f64],
    ctx: &Context,
    lower: bool,
    finish: impl Fn(usize, &mut [f64]) + Sync,
) -> Result<()> {
    let m = y.nrows();
    ctx.for_each_row_chunk(out, m, ROWS_PER_CHUNK, |first, rows| {
        let n_rows = rows.len() / m.max(1);
        let cols = if lower { first + n_rows } else { m };
        // The rows as the transpose of a column-major view: faer 0.24.4's
        // `from_row_major_slice_with_stride_mut` swaps its two strides.
        let dst = MatMut::from_column_major_slice_with_stride_mut(rows, cols, n_rows, m.max(1))
            .transpose_mut();
        let (x, y) = (x.subrows(first, n_rows), y.subrows(0, cols));
        matmul(dst, Accum::Replace, x, y.transpose(), 1.0, Par::Seq);
        for (i, row) in rows.chunks_exact_mut(m.max(1)).enumerate() {
            finish(first + i, &mut row[..cols]);
        }
        Ok(())
    })
}

/// Fills `out` (row-major `x.nrows() x y.nrows()`) with the coordinate-wise folds
/// `fold(... fold(init, x_i1 - y_j1) ..., x_id - y_jd)` in parallel row chunks,
/// then calls `finish(i, row)` on each row `i` while it is in cache (with `lower`,
/// only the prefix a chunk needs, as in [`for_each_row_of_dots`]). The inner loop
/// runs over `y`'s rows (`y` copied column by column), so it vectorizes.
#[allow(clippy::too_many_arguments)]
fn for_each_row_of_folds(
    x: MatRef<'_, f64>,
    y: MatRef<'_, f64>,
    out: &mut [f64],
    ctx: &Context,
    lower: bool,
    init: f64,
    fold: impl Fn(f64, f64) -> f64 + Sync,
    finish: impl Fn(usize, &mut [f64]) + Sync,
) -> Result<()> {
    let m = y.nrows();
    let y_cols: Vec<f64> = (0..y.ncols())
        .flat_map(|k| (0..m).map(move |j| y[(j, k)]))
        .collect();
    ctx.for_each_row_chunk(out, m, ROWS_PER_CHUNK, |first, rows| {
        let n_rows = rows.len() / m.max(1);
        let cols = if lower { first + n_rows } else { m };
        for (i, row) in rows.chunks_exact_mut(m.max(1)).enumerate() {
            let row = &mut row[..cols];
            row.fill(init);
            for k in 0..x.ncols() {
                let x_ik = x[(first + i, k)];
                for (v, &y_jk) in row.iter_mut().zip(&y_cols[k * m..k * m + cols]) {
                    *v = fold(*v, x_ik - y_jk);
                }
            }
            finish(first + i, row);
        }
        Ok(())
    })
}

/// The arc-cosine kernels (relu, step) and their compositions (nngp, ntk) of a
/// row, in place: `dots` holds the augmented inner products `u.v` on entry and
/// `norms` the products of norms `|u| |v|`, which every layer keeps
/// (`S_l(x, x) = S_0(x, x)`).
fn layered_kernel(isa: Isa, kernel: &Kernel, dots: &mut [f64], norms: &[f64]) {
    use ArcCosineOrder::{One, Zero};
    match *kernel {
        Kernel::Relu { .. } => arc_cosine_in_place(isa, One, dots, norms),
        Kernel::Step { .. } => arc_cosine_in_place(isa, Zero, dots, norms),
        Kernel::Nngp { depth, .. } => {
            (0..depth).for_each(|_| arc_cosine_in_place(isa, One, dots, norms));
        }
        Kernel::Ntk { depth, .. } => {
            let (mut ntk, mut derivative) = (dots.to_vec(), vec![0.0; dots.len()]);
            for _ in 0..depth {
                derivative.copy_from_slice(dots);
                arc_cosine_in_place(isa, Zero, &mut derivative, norms);
                arc_cosine_in_place(isa, One, dots, norms);
                for ((t, &s), &d) in ntk.iter_mut().zip(dots.iter()).zip(&derivative) {
                    *t = s + *t * d;
                }
            }
            dots.copy_from_slice(&ntk);
        }
        _ => unreachable!("layered_kernel is called for the arc-cosine kernels only"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::row_major;
    use std::f64::consts::PI;

    fn data(n: usize, d: usize) -> Vec<f64> {
        (0..n * d)
            .map(|i| ((i * 7919) % 101) as f64 / 50.0 - 1.0)
            .collect()
    }

    fn matrix(kernel: &Kernel, x: &[f64], y: Option<&[f64]>, d: usize) -> Vec<f64> {
        let n = x.len() / d;
        let m = y.map_or(n, |y| y.len() / d);
        let mut out = vec![f64::NAN; n * m];
        let y = y.map(|y| row_major(y, m, d));
        kernel_matrix(row_major(x, n, d), y, kernel, &mut out, &Context::global()).unwrap();
        out
    }

    #[test]
    fn pointwise_definitions_hold() {
        let d = 3;
        let (x, y) = (data(7, d), data(33, d));
        for name in KERNEL_NAMES {
            let kernel = Kernel::new(name, 0.3, 0.5).unwrap();
            let k = matrix(&kernel, &x, Some(&y), d);
            for i in 0..7 {
                for j in 0..33 {
                    let (xi, yj) = (&x[i * d..(i + 1) * d], &y[j * d..(j + 1) * d]);
                    let l2: f64 = xi.iter().zip(yj).map(|(a, b)| (a - b) * (a - b)).sum();
                    let l1: f64 = xi.iter().zip(yj).map(|(a, b)| (a - b).abs()).sum();
                    let dot = 0.3 * xi.iter().zip(yj).map(|(a, b)| a * b).sum::<f64>() + 0.25;
                    let nx = (0.3 * xi.iter().map(|a| a * a).sum::<f64>() + 0.25).sqrt();
                    let ny = (0.3 * yj.iter().map(|a| a * a).sum::<f64>() + 0.25).sqrt();
                    let t = (dot / (nx * ny)).clamp(-1.0, 1.0).acos();
                    let r = l2.sqrt();
                    let cauchy: f64 = xi
                        .iter()
                        .zip(yj)
                        .map(|(a, b)| 1.0 / (1.0 + 0.3 * (a - b) * (a - b)))
                        .product();
                    let want = match name {
                        "rbf" => (-0.3 * l2).exp(),
                        "laplacian" => (-0.3 * l1).exp(),
                        "relu" => nx * ny * (t.sin() + (PI - t) * t.cos()) / PI,
                        "step" => 1.0 - t / PI,
                        "linear" => dot,
                        // Length scale 1 / sqrt(2 gamma): z = sqrt(2 nu) r / l.
                        "matern12" => (-(0.6f64).sqrt() * r).exp(),
                        "matern32" => {
                            let z = (1.8f64).sqrt() * r;
                            (1.0 + z) * (-z).exp()
                        }
                        "matern52" => {
                            let z = (3.0f64).sqrt() * r;
                            (1.0 + z + z * z / 3.0) * (-z).exp()
                        }
                        "cauchy" => cauchy,
                        "nngp" => nx * ny * (t.sin() + (PI - t) * t.cos()) / PI,
                        "ntk" => {
                            nx * ny * (t.sin() + (PI - t) * t.cos()) / PI + dot * (1.0 - t / PI)
                        }
                        _ => unreachable!("{name}"),
                    };
                    assert!((k[i * 33 + j] - want).abs() < 1e-12, "{name} {i} {j}");
                }
            }
        }
    }

    #[test]
    fn self_kernel_is_exactly_symmetric() {
        // 33 rows: one chunk of 32 and a single-row chunk, whose product rounds
        // differently from the matching column.
        let x = data(33, 4);
        for name in KERNEL_NAMES {
            let k = matrix(&Kernel::new(name, 0.3, 0.2).unwrap(), &x, None, 4);
            assert!(
                (0..33).all(|i| (0..33).all(|j| k[i * 33 + j] == k[j * 33 + i])),
                "{name}"
            );
        }
    }

    #[test]
    fn self_kernel_has_an_exact_diagonal() {
        let x = data(33, 5);
        for name in KERNEL_NAMES {
            let kernel = Kernel::new(name, 2.0, 0.5).unwrap();
            let k = matrix(&kernel, &x, None, 5);
            for i in 0..33 {
                let norm_squared =
                    2.0 * x[i * 5..(i + 1) * 5].iter().map(|v| v * v).sum::<f64>() + 0.25;
                let want = match name {
                    "relu" | "linear" | "nngp" => norm_squared,
                    "ntk" => 2.0 * norm_squared,
                    _ => 1.0,
                };
                assert!(
                    (k[i * 33 + i] - want).abs() <= 4.0 * f64::EPSILON * want,
                    "{name} {i}"
                );
            }
        }
    }

    #[test]
    fn deep_kernels_follow_the_layer_recursion() {
        // S_l = k1(S_{l-1}), T_l = S_l + T_{l-1} k0(S_{l-1}) with the norms kept,
        // written out entry by entry with the angle of each layer.
        // y's rows are not x's: for parallel rows acos is ill-conditioned (the
        // self-kernel's exact diagonal is checked below).
        let d = 3;
        let (x, y) = (data(5, d), data(14, d)[5 * d..].to_vec());
        for depth in [1, 2, 5] {
            let nngp = Kernel::new("nngp", 0.3, 0.5)
                .unwrap()
                .with_depth(depth)
                .unwrap();
            let ntk = Kernel::new("ntk", 0.3, 0.5)
                .unwrap()
                .with_depth(depth)
                .unwrap();
            let (s_matrix, t_matrix) = (
                matrix(&nngp, &x, Some(&y), d),
                matrix(&ntk, &x, Some(&y), d),
            );
            for i in 0..5 {
                for j in 0..9 {
                    let (xi, yj) = (&x[i * d..(i + 1) * d], &y[j * d..(j + 1) * d]);
                    let dot = 0.3 * xi.iter().zip(yj).map(|(a, b)| a * b).sum::<f64>() + 0.25;
                    let nx = (0.3 * xi.iter().map(|a| a * a).sum::<f64>() + 0.25).sqrt();
                    let ny = (0.3 * yj.iter().map(|a| a * a).sum::<f64>() + 0.25).sqrt();
                    let (mut s, mut t) = (dot, dot);
                    for _ in 0..depth {
                        let angle = (s / (nx * ny)).clamp(-1.0, 1.0).acos();
                        let derivative = 1.0 - angle / PI;
                        s = nx * ny * (angle.sin() + (PI - angle) * angle.cos()) / PI;
                        t = s + t * derivative;
                    }
                    assert!(
                        (s_matrix[i * 9 + j] - s).abs() < 1e-12,
                        "nngp {depth} {i} {j}"
                    );
                    assert!(
                        (t_matrix[i * 9 + j] - t).abs() < 1e-12,
                        "ntk {depth} {i} {j}"
                    );
                }
            }
            // The diagonal: S_L(x, x) = |u|^2 and T_L(x, x) = (L + 1) |u|^2.
            let t_self = matrix(&ntk, &x, None, d);
            for i in 0..5 {
                let xi = &x[i * d..(i + 1) * d];
                let norm_squared = 0.3 * xi.iter().map(|a| a * a).sum::<f64>() + 0.25;
                let want = (depth + 1) as f64 * norm_squared;
                assert!((t_self[i * 5 + i] - want).abs() <= 8.0 * f64::EPSILON * want);
            }
        }
        assert!(Kernel::new("ntk", 1.0, 0.0).unwrap().with_depth(0).is_err());
        assert!(Kernel::new("rbf", 1.0, 0.0).unwrap().with_depth(2).is_err());
        assert_eq!(
            Kernel::new("rbf", 1.0, 0.0).unwrap().with_depth(1),
            Ok(Kernel::Rbf { gamma: 1.0 })
        );
    }

    #[test]
    fn bad_parameters_and_shapes_are_errors() {
        assert!(matches!(
            Kernel::new("poly", 1.0, 0.0),
            Err(Error::InvalidParameter(_))
        ));
        assert!(matches!(
            Kernel::new("rbf", -1.0, 0.0),
            Err(Error::InvalidParameter(_))
        ));
        assert!(matches!(
            Kernel::new("relu", 1.0, f64::NAN),
            Err(Error::InvalidParameter(_))
        ));
        let (x, y) = (data(2, 3), data(2, 2));
        let mut out = vec![0.0; 4];
        let result = kernel_matrix(
            row_major(&x, 2, 3),
            Some(row_major(&y, 2, 2)),
            &Kernel::Rbf { gamma: 1.0 },
            &mut out,
            &Context::global(),
        );
        assert!(matches!(result, Err(Error::Shape(_))));
    }

    #[test]
    fn overflowing_inputs_are_errors_not_nan() {
        let x = [1e300, 1e300, 0.0, 1.0];
        for name in KERNEL_NAMES.iter().filter(|n| **n != "laplacian") {
            let mut out = vec![0.0; 4];
            let kernel = Kernel::new(name, 1.0, 0.0).unwrap();
            let result = kernel_matrix(
                row_major(&x, 2, 2),
                None,
                &kernel,
                &mut out,
                &Context::global(),
            );
            assert!(
                matches!(result, Err(Error::NonFinite(msg)) if msg.contains("row 0")),
                "{name}"
            );
        }
    }

    #[test]
    fn the_registry_names_every_kernel_once() {
        for (i, traits) in KERNEL_TRAITS.iter().enumerate() {
            assert_eq!(KERNEL_NAMES[i], traits.name);
            assert!(std::ptr::eq(
                KernelTraits::named(traits.name).unwrap(),
                traits
            ));
            let kernel = Kernel::new(traits.name, 0.5, 0.5).unwrap();
            assert!(std::ptr::eq(kernel.traits(), traits), "{}", traits.name);
            assert_eq!(kernel.name(), traits.name);
        }
        let names: std::collections::HashSet<&str> = KERNEL_NAMES.into_iter().collect();
        assert_eq!(names.len(), KERNEL_TRAITS.len());
        let Err(Error::InvalidParameter(msg)) = KernelTraits::named("foo") else {
            panic!("foo is not a kernel");
        };
        assert_eq!(
            msg,
            "unknown kernel \"foo\"; expected one of [\"rbf\", \"laplacian\", \"relu\", \
             \"step\", \"linear\", \"matern12\", \"matern32\", \"matern52\", \"cauchy\", \
             \"nngp\", \"ntk\"]"
        );
        assert_eq!(
            Kernel::new("foo", 1.0, 0.0),
            Err(Error::InvalidParameter(msg))
        );
    }

    #[test]
    fn traits_agree_with_each_other() {
        for traits in &KERNEL_TRAITS {
            let name = traits.name;
            // Fourier features are exactly the shift-invariant kernels, which have
            // no bias; Gaussian weights are isotropic; only ntk comes in pairs.
            assert_eq!(
                traits.fourier,
                traits.feature == BaseFeature::Fourier,
                "{name}"
            );
            assert_eq!(traits.uses_bias, !traits.fourier, "{name}");
            assert!(!traits.gaussian || traits.isotropic, "{name}");
            assert_eq!(
                traits.paired_columns,
                traits.feature == BaseFeature::Ntk,
                "{name}"
            );
            let layered = Kernel::new(name, 1.0, 0.0).unwrap().with_depth(2).is_ok();
            assert_eq!(traits.layered, layered, "{name}");
        }
        // The flags of python/rfkernels/_kernels.py's KernelInfo entries.
        let flags = |keep: fn(&KernelTraits) -> bool| KernelTraits::names_where(keep).join(" ");
        assert_eq!(
            flags(|t| t.fourier),
            "rbf laplacian matern12 matern32 matern52 cauchy"
        );
        assert_eq!(flags(|t| t.gaussian), "rbf relu step linear nngp");
        assert_eq!(
            flags(|t| t.isotropic),
            "rbf relu step linear matern12 matern32 matern52 nngp"
        );
        assert_eq!(flags(|t| t.paired_columns), "ntk");
        assert_eq!(flags(|t| t.layered), "nngp ntk");
        assert_eq!(flags(|t| t.uses_bias), "relu step linear nngp ntk");
        let relu = Kernel::new("relu", 1.0, 0.0).unwrap();
        assert_eq!(
            relu.with_depth(2),
            Err(Error::InvalidParameter(
                "depth=2 applies to the layered kernels only (depth applies to the nngp and ntk \
                 kernels only); the 'relu' kernel takes depth=1"
                    .into()
            ))
        );
    }

    #[test]
    fn zero_rows_give_an_empty_matrix() {
        let x: Vec<f64> = vec![];
        assert!(matrix(&Kernel::Rbf { gamma: 1.0 }, &x, Some(&data(3, 2)), 2).is_empty());
    }
}
