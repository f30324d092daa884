"""Shared test helpers: a float64 switch, a central-difference gradient, a browser.

Gradient checks run the whole library in float64 (``float64`` fixture), so a
central difference with a step of 1e-6 agrees with an exact gradient to about
1e-8; a wrong formula is off by far more. The helpers are handed out as
fixtures (``gradcheck.numerical_grad``...), since test directories are not packages.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from tinyann import backend


@pytest.fixture
def float64():
    """Builds weights and activations in float64 for the test, then restores float32."""
    previous = backend.floatx()
    backend.set_floatx("float64")
    try:
        yield
    finally:
        backend.set_floatx(previous)


def numerical_grad(f, x, eps=1e-6):
    """d f() / d x by central differences, perturbing ``x`` in place element by element.

    Args:
        f: function of no arguments returning a scalar; it must read ``x``
            (or a view of it, such as a packed ``Variable.value``).
        x: float64 array, restored to its values on return.
        eps: the step.

    Returns:
        an array shaped like ``x``.
    """
    assert x.dtype == np.float64, "numerical gradients need float64 arrays"
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        saved = x[idx]
        x[idx] = saved + eps
        plus = float(f())
        x[idx] = saved - eps
        minus = float(f())
        x[idx] = saved
        grad[idx] = (plus - minus) / (2.0 * eps)
    return grad


def away_from_zero(rng, shape, low=0.1, high=2.0):
    """Random values with ``low <= |v| <= high``: no kink of ReLU within reach."""
    magnitude = rng.uniform(low, high, size=shape)
    return np.where(rng.random(shape) < 0.5, -magnitude, magnitude)


def assert_grad_close(analytic, numeric, rtol=1e-6, atol=1e-8):
    """Compares gradients relative to the largest entry, so tiny entries don't dominate."""
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    assert analytic.shape == numeric.shape
    scale = max(float(np.max(np.abs(numeric), initial=0.0)), 1.0)
    np.testing.assert_allclose(analytic, numeric, rtol=rtol, atol=atol * scale)


class _GradCheck:
    """The helpers above, as one fixture object."""

    numerical_grad = staticmethod(numerical_grad)
    away_from_zero = staticmethod(away_from_zero)
    assert_close = staticmethod(assert_grad_close)


@pytest.fixture
def gradcheck(float64):
    """float64 on, plus ``numerical_grad``, ``away_from_zero`` and ``assert_close``."""
    return _GradCheck()


# ---------------------------------------------------------------- browser tests
# one Chromium for the whole session: Playwright's sync API runs one instance per thread,
# so the web page's tests (tests/app) and JupyterLab's (tests/notebooks) share it
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright; skips where it is not installed
    (``make test`` installs it), except under CI where that is an error."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; `make browser` installs it")
        pytest.skip(f"{CHROMIUM} is missing; `make browser` installs it")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
