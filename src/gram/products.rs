//! The tile products that add row chunks to the Gram statistics: `G += Z^T S Z` in
//! the compute type, tile by tile into the float64 Gram, and `B`, `z_sum` as float64
//! sums of the widened features.

use crate::real::Real;
use crate::simd::{self, Isa};
use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::{Accum, Mat, MatMut, MatRef, Par};
use rayon::prelude::*;

/// Adds `G += Z^T S Z` (lower triangle), `B += Z^T S Y` and `z_sum += Z^T s` for
/// the column-major rows `z` (`rows x D` of the compute type `C`, consumed: scaled
/// by `sqrt(s_i)` in place for `G`), targets `y` and weights `sample_weight`
/// (`S = diag(s)`, all ones when `None`), parallel inside the products with `par`.
///
/// The Gram runs in `C` tile by tile, each tile's product added to `G` in float64
/// ([`add_lower_gram`]); `B` and `z_sum` are float64 sums (the features widened as
/// they are read, [`simd::dot_widened`]), so that targets keep their precision.
///
/// # Panics
/// If the shapes disagree.
pub fn add_products<C: Real>(
    gram: MatMut<'_, f64>,
    mut cross: MatMut<'_, f64>,
    feature_sums: &mut [f64],
    z: &mut [C],
    y: MatRef<'_, f64>,
    sample_weight: Option<&[f64]>,
    par: Par,
) {
    let (rows, d, t) = (y.nrows(), gram.nrows(), y.ncols());
    assert!(gram.ncols() == d && cross.nrows() == d && cross.ncols() == t);
    assert!(z.len() == rows * d && feature_sums.len() == d);
    // B and z_sum first, from the features as computed: `Z^T [S Y | s]` in float64,
    // feature column by column (each read once, widened on the fly).
    let weight = |i: usize| sample_weight.map_or(1.0, |s| s[i]);
    let yw: Vec<Vec<f64>> = (0..=t)
        .map(|k| {
            (0..rows)
                .map(|i| weight(i) * if k < t { y[(i, k)] } else { 1.0 })
                .collect()
        })
        .collect();
    let isa = Isa::detect();
    let column_products = |column: &[C]| -> Vec<f64> {
        yw.iter()
            .map(|yw_k| simd::dot_widened(isa, column, yw_k))
            .collect()
    };
    let products: Vec<Vec<f64>> = match par {
        Par::Seq => z.chunks_exact(rows.max(1)).map(column_products).collect(),
        Par::Rayon(_) => z
            .par_chunks_exact(rows.max(1))
            .map(column_products)
            .collect(),
    };
    if rows > 0 {
        for (j, column) in products.iter().enumerate() {
            for (k, &c) in column[..t].iter().enumerate() {
                cross[(j, k)] += c;
            }
            feature_sums[j] += column[t];
        }
    }
    // Then G from the rows scaled by sqrt(s_i) in place.
    if let Some(s) = sample_weight {
        let sqrt_weights: Vec<C> = s.iter().map(|v| C::from_f64(v.sqrt())).collect();
        for column in z.chunks_exact_mut(rows.max(1)) {
            column
                .iter_mut()
                .zip(&sqrt_weights)
                .for_each(|(v, &w)| *v *= w);
        }
    }
    add_lower_gram(gram, MatRef::from_column_major_slice(z, rows, d), par);
}

/// Width of the column panels (and height of the tiles) of [`add_lower_gram`].
const GRAM_TILE: usize = 256;
/// Rows whose products a tile sums in its compute type before adding them to the
/// float64 Gram: float32 rounding then grows with 512 terms, not with the chunk.
const SUM_ROWS: usize = 512;

/// `G += Z^T Z` on the lower triangle of `G`, a symmetric rank-`rows` update: each
/// tile's product in `Z`'s type, added to `G` in float64.
///
/// The lower triangle is cut into `GRAM_TILE`-wide column panels, each into a
/// triangular diagonal tile and rectangular tiles below it; every tile is one
/// sequential product and the tiles run in parallel. Each entry of `G` is thus
/// computed by one fixed sequence of operations whatever the thread count, so
/// the bits of `G` do not depend on it.
fn add_lower_gram<C: Real>(gram: MatMut<'_, f64>, z: MatRef<'_, C>, par: Par) {
    let d = gram.nrows();
    let mut tiles = Vec::new();
    let mut right = gram;
    let mut start = 0;
    while start < d {
        let width = GRAM_TILE.min(d - start);
        let (panel, rest) = right.split_at_col_mut(width);
        right = rest;
        let (_, mut below) = panel.split_at_row_mut(start);
        let mut row = start;
        while row < d {
            let height = GRAM_TILE.min(d - row);
            let (tile, rest) = below.split_at_row_mut(height);
            below = rest;
            tiles.push((tile, row, start));
            row += height;
        }
        start += width;
    }
    let add_tile = |(mut tile, row, col): (MatMut<'_, f64>, usize, usize)| {
        let mut product = Mat::<C>::zeros(tile.nrows(), tile.ncols());
        for first in (0..z.nrows()).step_by(SUM_ROWS) {
            let rows = SUM_ROWS.min(z.nrows() - first);
            let block = z.subrows(first, rows);
            let lhs = block.subcols(row, tile.nrows()).transpose();
            let rhs = block.subcols(col, tile.ncols());
            if row == col {
                triangular::matmul(
                    product.as_mut(),
                    BlockStructure::TriangularLower,
                    Accum::Replace,
                    lhs,
                    BlockStructure::Rectangular,
                    rhs,
                    BlockStructure::Rectangular,
                    C::one(),
                    Par::Seq,
                );
            } else {
                matmul(
                    product.as_mut(),
                    Accum::Replace,
                    lhs,
                    rhs,
                    C::one(),
                    Par::Seq,
                );
            }
            // The upper triangle of a diagonal tile's product stays 0.
            for (dst, src) in tile.as_mut().col_iter_mut().zip(product.col_iter()) {
                dst.iter_mut()
                    .zip(src.iter())
                    .for_each(|(g, &p)| *g += Real::to_f64(p));
            }
        }
    };
    match par {
        Par::Seq => tiles.into_iter().for_each(add_tile),
        Par::Rayon(_) => tiles.into_par_iter().for_each(add_tile),
    }
}
