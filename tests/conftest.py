"""Shared pytest fixtures (dtype, seeded generator), the hypothesis profiles, SCIPY_ARRAY_API."""

import os

# scikit-learn's check_array_api_input (tests/test_sklearn_compat.py) runs only with
# SCIPY_ARRAY_API=1, which scipy reads once, when it is first imported: set it before
# anything imports scipy (pytest loads this file first). For estimators that do not
# declare array API support the check fits and predicts with array_api_dispatch=True
# on numpy arrays and compares the fitted arrays' namespace, shape and dtype.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np
import pytest
from hypothesis import settings

# "ci" keeps property tests short (the whole suite must run in about a minute on
# two cores); "dev" explores more. Select with HYPOTHESIS_PROFILE=dev.
settings.register_profile("ci", max_examples=30, deadline=None)
settings.register_profile("dev", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

GLOBAL_SEED = 20240611


@pytest.fixture(params=[np.float32, np.float64], ids=["float32", "float64"])
def global_dtype(request):
    """The float dtype a test runs in, as scikit-learn's ``global_dtype``."""
    return request.param


@pytest.fixture
def rng():
    """A freshly seeded numpy generator, so every test sees the same data."""
    return np.random.default_rng(GLOBAL_SEED)
