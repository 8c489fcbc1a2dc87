"""Closed-form predictions of the test and train risk of kernel and random-feature ridge.

These are the omniscient deterministic equivalents ("eigenlearning") used by Simon,
Karkada, Ghosh and Belkin [1]_, in plain numpy. From the eigenstructure of a task (the
eigenvalues ``lambda_i`` of the kernel's integral operator under the data distribution,
and the coefficients ``v_i`` of the target in its orthonormal eigenbasis) they predict
the risk of ridge regression from ``n`` samples with the kernel (:func:`krr_risk`) or
with ``k`` random features (:func:`rf_risk`). :func:`estimate_eigenstructure` measures
an eigenstructure on data, :func:`powerlaw_task` makes a synthetic one (and samples
data with it), and the ``powerlaw_*`` functions give the closed forms of power-law
tasks: the optimal ridge and when zero ridge is optimal ("overfitting is obligatory").

Conventions: labels are ``y = f*(x) + eps`` with ``f*(x) = sum_i v_i phi_i(x)``,
``E[phi_i phi_j] = delta_ij`` and ``Var(eps) = noise = sigma^2``. The estimator is
``f(x) = K(x, X) (K(X, X) + delta I)^{-1} y`` with the kernel ``K``, or the
random-feature kernel ``Z Z^T`` with features normalized so that ``Z Z^T -> K``. The
ridge ``delta`` is not divided by ``n``: it is scikit-learn's ``alpha`` for
``KernelRidge``, and for ``Ridge(fit_intercept=False)`` on such features (a loss
``(1/n) sum (.)^2 + lam ||a||^2`` has ``delta = n lam``). The test risk is measured
against noisy labels, so it includes ``sigma^2``; the train risk is the mean squared
training residual.

Notes
-----
Kernel ridge regression: ``kappa > 0`` solves
``sum_i lambda_i / (lambda_i + kappa) + delta / kappa = n``, and::

    L_i  = lambda_i / (lambda_i + kappa)             learnability of mode i
    E_0  = n / (n - sum_i L_i^2)                     overfitting coefficient
    E_te = E_0 (sum_i (1 - L_i)^2 v_i^2 + sigma^2)
    E_tr = (delta / (n kappa))^2 E_te = (1 - sum_i L_i / n)^2 E_te

Random-feature ridge regression with ``k`` features: ``gamma, kappa >= 0`` solve
``n = z + delta / kappa`` and ``kappa = gamma (1 - z / k)``, with
``L_i = lambda_i / (lambda_i + gamma)``, ``z = sum_i L_i`` and ``q = sum_i L_i^2``::

    E_0  = 1 / (1 - (q (k - 2 z) + z^2) / (n (k - q)))
    b_i  = (1 - L_i) - (kappa k / (k - q)) L_i / (lambda_i + gamma)
    E_te = E_0 (sum_i b_i v_i^2 + sigma^2)
    E_tr = (1 - z / n)^2 E_te

As ``k -> infinity`` this is kernel ridge regression. At ``delta = 0`` and ``k = n``
the risk is infinite (the double-descent peak). At the optimal ridge the test risk
does not increase with ``k`` or ``n`` (the paper's first theorem: more is better).

Power laws ``lambda_i = i^-alpha``, ``v_i^2 = i^-beta`` (``alpha > 1``,
``1 < beta < 2 alpha + 1``), in the continuum limit of large ``n``, with
``s = sqrt(E_tr / E_te) = 1 - z / n`` and ``sigma^2 = noise_rel E^(0)``::

    kappa(s) = [pi / (alpha sin(pi / alpha) n (1 - s))]^alpha,   delta = n kappa(s) s
    E^(0)    = (alpha - beta + 1) pi / (alpha sin(pi (beta - 1) / alpha))
               [pi / (alpha sin(pi / alpha))]^(beta - 1) n^-(beta - 1)
    E_te(s)  = E^(0) [(1 - s)^(1 - beta) + alpha noise_rel] / (1 + (alpha - 1) s)

and zero ridge is optimal iff ``noise_rel <= (beta - alpha) / (alpha (alpha - 1))``.

References
----------
.. [1] J. B. Simon, D. Karkada, N. Ghosh, M. Belkin, "More is Better in Modern
   Machine Learning: when Infinite Overparameterization is Optimal and Overfitting
   is Obligatory", ICLR 2024, arXiv:2311.14646.

Examples
--------
>>> from rfkernels.theory import powerlaw_task
>>> task = powerlaw_task(alpha=1.5, beta=1.5, n_modes=1000, noise=0.5)
>>> risk = task.risk(n=256, ridge=[0.0, 1.0], k=256)  # at the peak, and regularized
>>> risk.test.round(3), risk.train.round(3)
(array([  inf, 0.856]), array([0.   , 0.508]))
"""

from __future__ import annotations

from .eigenstructure import MIN_EIGEN_ROWS as MIN_EIGEN_ROWS
from .eigenstructure import Eigenstructure, estimate_eigenstructure, fit_powerlaw
from .powerlaw import (
    PowerLawTask,
    powerlaw_fitting_ratio,
    powerlaw_optimal_ridge,
    powerlaw_task,
    powerlaw_test_risk,
    powerlaw_zero_ridge_optimal,
)
from .risk import KRRRisk, RFRisk, krr_risk, rf_risk

__all__ = [
    "Eigenstructure",
    "KRRRisk",
    "PowerLawTask",
    "RFRisk",
    "estimate_eigenstructure",
    "fit_powerlaw",
    "krr_risk",
    "powerlaw_fitting_ratio",
    "powerlaw_optimal_ridge",
    "powerlaw_task",
    "powerlaw_test_risk",
    "powerlaw_zero_ridge_optimal",
    "rf_risk",
]
