"""clipnorm, global_clipnorm and clipvalue as Keras applies them, through SGD with
learning_rate=1 (so the weight change is minus the clipped gradient), on both paths."""

import numpy as np
import pytest

from tinyann import optimizers
from tinyann.variables import Variable, pack_variables


def _grads():
    # norms 5 and 13, global norm sqrt(194)
    return [np.array([[3.0, 0.0], [0.0, -4.0]]), np.array([5.0, 12.0, 0.0])]


def _applied(opt, grads, packed):
    """The update ``-(w_new - w_old)`` each variable received."""
    variables = [Variable(np.zeros_like(g)) for g in grads]
    if packed:
        values, buffer = pack_variables(variables)
        opt.build(variables)
        for v, g in zip(variables, grads):
            v.grad[...] = g
        opt.apply_packed(values, buffer)
    else:
        opt.apply_gradients(zip(grads, variables))
    return [-v.numpy() for v in variables]


PATHS = pytest.mark.parametrize("packed", [False, True], ids=["apply_gradients", "packed"])


@PATHS
def test_clipnorm_clips_each_gradient_to_its_norm(float64, packed):
    grads = _grads()
    got = _applied(optimizers.SGD(learning_rate=1.0, clipnorm=6.0), grads, packed)
    # the first (norm 5) is untouched; the second (norm 13) is scaled to norm 6
    np.testing.assert_allclose(got[0], grads[0], rtol=1e-12)
    np.testing.assert_allclose(got[1], grads[1] * 6.0 / 13.0, rtol=1e-12)


@PATHS
def test_global_clipnorm_scales_all_gradients_together(float64, packed):
    grads = _grads()
    got = _applied(optimizers.SGD(learning_rate=1.0, global_clipnorm=7.0), grads, packed)
    scale = 7.0 / np.sqrt(194.0)
    for g, e in zip(got, grads):
        np.testing.assert_allclose(g, e * scale, rtol=1e-12)
    assert np.sqrt(sum(np.sum(g * g) for g in got)) == pytest.approx(7.0, rel=1e-12)


@PATHS
def test_global_clipnorm_leaves_small_gradients(float64, packed):
    grads = _grads()
    got = _applied(optimizers.SGD(learning_rate=1.0, global_clipnorm=20.0), grads, packed)
    for g, e in zip(got, grads):
        np.testing.assert_allclose(g, e, rtol=1e-12)


@PATHS
def test_clipvalue_clips_elementwise(float64, packed):
    grads = _grads()
    got = _applied(optimizers.SGD(learning_rate=1.0, clipvalue=4.5), grads, packed)
    for g, e in zip(got, grads):
        np.testing.assert_allclose(g, np.clip(e, -4.5, 4.5), rtol=1e-12)


@PATHS
def test_clipping_in_float32(packed):
    grads = [g.astype("float32") for g in _grads()]
    got = _applied(optimizers.SGD(learning_rate=1.0, clipnorm=6.0), grads, packed)
    assert got[1].dtype == np.float32
    np.testing.assert_allclose(got[1], grads[1] * 6.0 / 13.0, rtol=1e-6)


def test_clipping_happens_before_the_optimizer_update(float64):
    """Adam sees the clipped gradient: compare with Adam on pre-clipped gradients."""
    grads = _grads()
    clipped = [g * 7.0 / np.sqrt(194.0) for g in grads]
    a = _applied(optimizers.Adam(learning_rate=0.1, epsilon=0.5, global_clipnorm=7.0),
                 grads, packed=False)
    b = _applied(optimizers.Adam(learning_rate=0.1, epsilon=0.5), clipped, packed=False)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=1e-12)


def test_apply_gradients_does_not_change_the_callers_gradients():
    grads = [g.astype("float32") for g in _grads()]
    kept = [g.copy() for g in grads]
    _applied(optimizers.SGD(clipvalue=1.0), grads, packed=False)
    for g, k in zip(grads, kept):
        np.testing.assert_array_equal(g, k)


@pytest.mark.parametrize("kwargs", [
    {"clipnorm": 1.0, "global_clipnorm": 1.0},
    {"clipnorm": 1.0, "clipvalue": 1.0},
    {"clipvalue": 1.0, "global_clipnorm": 1.0},
])
def test_only_one_clipping_argument(kwargs):
    with pytest.raises(ValueError, match="Only one of `clipnorm`, `clipvalue` and "
                                         "`global_clipnorm` can be set"):
        optimizers.SGD(**kwargs)


def test_weight_decay_is_decoupled_and_uses_the_learning_rate(float64):
    """w <- w - w * weight_decay * lr, then the optimizer's own step."""
    v = Variable(np.array([2.0, -4.0]))
    optimizers.SGD(learning_rate=0.5, weight_decay=0.1).apply_gradients([(np.zeros(2), v)])
    np.testing.assert_allclose(v.numpy(), [2.0 * 0.95, -4.0 * 0.95], rtol=1e-12)
    v = Variable(np.array([2.0, -4.0]))
    optimizers.SGD(learning_rate=0.5, weight_decay=0.1).apply_gradients([(np.ones(2), v)])
    np.testing.assert_allclose(v.numpy(), [2.0 * 0.95 - 0.5, -4.0 * 0.95 - 0.5], rtol=1e-12)
