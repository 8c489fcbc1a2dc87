//! Fixtures the modules' tests share (compiled for tests only): drawn feature
//! maps, owned, with the features of given rows.

use crate::features::{
    self, FeatureMap, Projection, RandomFeatures, Sampling, Structured, padded_dimension,
};
use crate::kernels::Kernel;
use crate::linalg::row_major;
use crate::parallel::Context;
use crate::real::Real;

/// The frequencies and offsets of a kernel's feature map, drawn and held; the
/// map itself is [`Drawn::features`].
pub(crate) struct Drawn<T> {
    /// The nonlinearity.
    pub(crate) map: FeatureMap,
    /// The weights (row-major `m x d`) or structured diagonals.
    pub(crate) weights: Vec<T>,
    /// One offset per frequency (zeros when the map uses none).
    pub(crate) offsets: Vec<T>,
    sampling: Sampling,
    d: usize,
    m: usize,
}

impl<T: Real> Drawn<T> {
    /// The `m` frequencies of `kernel`'s map (`paired`: sin/cos pairs) for `d`
    /// inputs, drawn from `seed` by `sampling`.
    pub(crate) fn new(
        kernel: &Kernel,
        paired: bool,
        sampling: Sampling,
        seed: u64,
        d: usize,
        m: usize,
    ) -> Self {
        let map = FeatureMap::for_kernel(kernel, paired).unwrap();
        let (weights, offsets) =
            features::draw_frequencies(kernel, sampling, seed, d, m, map.uses_offsets()).unwrap();
        Self {
            map,
            weights,
            offsets,
            sampling,
            d,
            m,
        }
    }

    /// The feature map of the drawn frequencies.
    pub(crate) fn features(&self) -> RandomFeatures<'_, T> {
        let (d, m) = (self.d, self.m);
        let projection = match self.sampling {
            Sampling::Structured => Projection::Structured(
                Structured::new(&self.weights, d, padded_dimension(d), m).unwrap(),
            ),
            Sampling::Iid | Sampling::Orthogonal => {
                Projection::Dense(row_major(&self.weights, m, d).transpose())
            }
        };
        RandomFeatures::new(projection, &self.offsets, self.map)
    }

    /// The row-major features ([`features::transform`]) of the row-major rows `x`.
    pub(crate) fn transform(&self, x: &[T]) -> Vec<T> {
        let n = x.len() / self.d;
        let mut out = vec![T::nan(); n * self.features().n_components()];
        let x = row_major(x, n, self.d);
        features::transform(x, &self.features(), &mut out, &Context::global()).unwrap();
        out
    }
}
