"""Shared test helpers: a float64 switch, a central-difference gradient, a browser.

Gradient checks run the whole library in float64 (``float64`` fixture), so a
central difference with a step of 1e-6 agrees with an exact gradient to about
1e-8; a wrong formula is off by far more. The helpers are handed out as
fixtures (``gradcheck.numerical_grad``...), since test directories are not packages.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tinyann import backend, kernels

# folders whose tests each start from fresh auto names (``dense``, ``sequential``...), so
# that the names Keras's facts record do not depend on which tests ran before
FRESH_SESSION_FOLDERS = ("models", "trainers")


@pytest.fixture(autouse=True)
def fresh_session(request):
    fresh = Path(str(request.fspath)).parent.name in FRESH_SESSION_FOLDERS
    if fresh:
        backend.clear_session()
    yield
    if fresh:
        backend.clear_session()


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


# ---------------------------------------------------------------------- models, trainers
# Keras's reference facts (tests/fixtures/keras/, produced by real Keras 3: see
# tools/keras_reference/README.md; the tests only read them), tiny data, and
# hand-written float64 versions of what the models compute
KERAS_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "keras"


@pytest.fixture
def keras_fact():
    """``keras_fact('auto_names.json')`` -> the parsed JSON (or text for .txt files)."""

    def load(name):
        path = KERAS_FIXTURES / name
        if path.suffix == ".json":
            return json.loads(path.read_text(encoding="utf-8"))
        # bytes as written: read_text would turn the progress bars' '\r' into '\n'
        return path.read_bytes().decode("utf-8")

    return load


@pytest.fixture
def tiny_data():
    """The data of Keras's reference runs (make_format_facts.py ``_tiny_data``):
    x (64, 4), y in [0, 3) (64,), xv (16, 4), yv (16,)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype("float32")
    y = rng.integers(0, 3, 64)
    xv = rng.standard_normal((16, 4)).astype("float32")
    yv = rng.integers(0, 3, 16)
    return SimpleNamespace(x=x, y=y, xv=xv, yv=yv)


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _sparse_ce(p, y, eps=1e-7):
    """Per-sample -log p[y], with Keras's clipping of probabilities to [eps, 1 - eps]."""
    return -np.log(np.clip(p[np.arange(len(y)), y], eps, 1 - eps))


def _sgd_softmax_fit(kernel, bias, x, y, learning_rate, batch_size, epochs):
    """Plain float64 SGD on ``softmax(x @ kernel + bias)`` with sparse cross-entropy,
    batches in order. Returns the final weights and, per epoch, the true means
    over samples of the loss and accuracy measured before each update (as Keras)."""
    w = np.array(kernel, dtype=np.float64)
    b = np.array(bias, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    losses, accuracies, batch_losses = [], [], []
    for _ in range(epochs):
        total = correct = 0.0
        for start in range(0, n, batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            p = _softmax(xb @ w + b)
            per = _sparse_ce(p, yb)
            batch_losses.append(per.mean())
            total += per.sum()
            correct += np.sum(p.argmax(axis=1) == yb)
            dz = p.copy()
            dz[np.arange(len(yb)), yb] -= 1.0
            dz /= len(yb)
            w -= learning_rate * (xb.T @ dz)
            b -= learning_rate * dz.sum(axis=0)
        losses.append(total / n)
        accuracies.append(correct / n)
    return SimpleNamespace(kernel=w, bias=b, loss=losses, accuracy=accuracies,
                           batch_losses=batch_losses)


@pytest.fixture
def reference():
    """Hand-written float64 versions of what the models compute, to check against."""
    return SimpleNamespace(softmax=_softmax, sparse_ce=_sparse_ce,
                           sgd_softmax_fit=_sgd_softmax_fit)


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


@pytest.fixture
def use_kernels():
    """``use_kernels('numpy')`` selects a kernel set for the test; the set selected
    before comes back after it."""
    previous = kernels.kernels()
    yield kernels.set_kernels
    kernels.set_kernels(previous)


@pytest.fixture
def keras_maker(monkeypatch):
    """``keras_maker('make_x_facts.py')``: a fixture maker of tools/keras_reference/ loaded
    with tinyann standing in for the ``keras`` it imports, so a test recomputes the maker's
    answers with tinyann and compares them with the committed Keras ones."""
    import importlib.util

    import tinyann

    def load(filename):
        path = Path(__file__).resolve().parents[1] / "tools" / "keras_reference" / filename
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        with monkeypatch.context() as patch:
            patch.setitem(__import__("sys").modules, "keras", tinyann)
            spec.loader.exec_module(module)
        return module

    return load
