"""Fixtures for the model API tests: fresh auto names, Keras's reference facts, tiny data.

Every test starts with ``backend.clear_session()`` so that auto names
(``dense``, ``sequential``...) do not depend on which tests ran before.
The reference files in ``tests/fixtures/keras/`` were produced by real Keras 3
(see ``tools/keras_reference/README.md``); the tests only read them.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tinyann import backend

KERAS_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras"


@pytest.fixture(autouse=True)
def fresh_session():
    backend.clear_session()
    yield
    backend.clear_session()


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
