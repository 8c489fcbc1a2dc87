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
//! Kernel matrices are computed in float64 (near-ridgeless solves need it), in
//! `matrix.rs` ([`kernel_matrix`]).

use crate::error::{Error, Result};

mod matrix;
pub mod products;
pub use matrix::{KernelColumns, kernel_matrix};

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
    pub(crate) fn profile(self, z: f64, exp_minus_z: f64) -> f64 {
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

    /// `(gamma, bias)` of the arc-cosine kernels (relu, step, nngp, ntk); `None`
    /// for the others.
    pub fn arc_cosine_parameters(&self) -> Option<(f64, f64)> {
        match *self {
            Kernel::Relu { gamma, bias }
            | Kernel::Step { gamma, bias }
            | Kernel::Nngp { gamma, bias, .. }
            | Kernel::Ntk { gamma, bias, .. } => Some((gamma, bias)),
            _ => None,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn bad_parameters_are_errors() {
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
    }
}
