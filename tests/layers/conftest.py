"""Helpers for the convolutional, pooling, normalization and merge layer tests.

``cnn_facts`` is the reference file made by real Keras
(tools/keras_reference/make_cnn_facts.py). ``check_layer`` runs the numerical
gradient check of one layer in training mode: the scalar is ``sum(G * layer(x))``
for a random ``G``, and ``backward(G)`` must give dL/dx (a list for merge layers)
and write dL/dweight into every trainable ``Variable.grad``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

FACTS = Path(__file__).resolve().parents[1] / "fixtures" / "keras" / "cnn_facts.json"


@pytest.fixture(scope="session")
def cnn_facts():
    with open(FACTS, encoding="utf-8") as f:
        return json.load(f)


def distinct_values(rng, shape, step=0.05):
    """Values ``step`` apart in a random order: no ties, no near ties in max pooling."""
    size = int(np.prod(shape))
    values = (np.arange(size) - size / 2) * step
    return rng.permutation(values).reshape(shape)


def check_layer(gradcheck, layer, inputs, rng, rtol=1e-6):
    """Numerical gradient check of ``layer`` (built, float64) at ``inputs``.

    Returns:
        the analytic input gradient(s), for further checks.
    """
    merged = isinstance(inputs, list)
    out = layer(inputs, training=True)
    g = rng.normal(size=out.shape)
    grads = layer.backward(g.copy())

    def loss():
        return float(np.sum(g * layer(inputs, training=True)))

    xs = inputs if merged else [inputs]
    dxs = grads if merged else [grads]
    assert len(dxs) == len(xs)
    for x, dx in zip(xs, dxs):
        assert dx.shape == x.shape
        gradcheck.assert_close(dx, gradcheck.numerical_grad(loss, x), rtol=rtol)
    # the analytic weight gradients of this very batch (the numerical loop above
    # ran more forward passes, which do not touch Variable.grad)
    analytic = [v.grad.copy() for v in layer.trainable_weights]
    for v, grad in zip(layer.trainable_weights, analytic):
        gradcheck.assert_close(grad, gradcheck.numerical_grad(loss, v.value), rtol=rtol)
    return grads


class _Helpers:
    check_layer = staticmethod(check_layer)
    distinct_values = staticmethod(distinct_values)


@pytest.fixture
def helpers():
    """``check_layer`` and ``distinct_values`` for the tests of this folder."""
    return _Helpers()


def assert_trains_as_keras(model, ref, count):
    """From Keras's initial weights in ``ref`` (a fixture .npz), 10 steps of batch 16 give
    Keras's weights and predictions within 1e-5 (recurrent and wrapper fixtures)."""
    model.set_weights([ref[f"initial_{k}"] for k in range(count)])
    model.fit(ref["x"], ref["y"], batch_size=16, epochs=1, shuffle=False, verbose=0)
    for k, (got, variable) in enumerate(zip(model.get_weights(), model.weights)):
        np.testing.assert_allclose(got, ref[f"trained_{k}"], atol=1e-5, rtol=0,
                                   err_msg=variable.path)
    np.testing.assert_allclose(model.predict(ref["x"][:20], verbose=0), ref["pred"],
                               atol=1e-5)
