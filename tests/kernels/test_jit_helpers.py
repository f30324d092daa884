"""``jit.helper``: small functions the compiled kernels call (the recurrent kernels'
rational tanh and sigmoid), plain Python until a kernel of their module compiles."""

import numpy as np
import pytest

from tinyann.kernels import jit

pytestmark = pytest.mark.skipif(not jit.available(), reason="numba is not installed")


def test_rational_tanh_and_sigmoid_are_accurate_in_python_and_compiled():
    from tinyann.kernels.compiled import recurrent

    x = np.linspace(-12, 12, 4001).astype(np.float32)
    exact = np.tanh(x.astype(np.float64))
    python = np.array([recurrent._tanh(v) for v in x[::40]])
    np.testing.assert_allclose(python, exact[::40], atol=4e-7)
    # a kernel of the module compiles the helpers with it; they stay callable
    steps = len(x)
    out = np.empty((1, steps, 1), np.float32)
    keep, scale = np.ones((1, steps), bool), np.ones((1, 1), np.float32)
    hm, saved = np.empty_like(out), np.empty((steps, 1, 1), np.float32)
    none = np.zeros((1, 0), np.float32)
    recurrent._simple_forward(x.reshape(1, -1, 1), np.zeros((1, 1), np.float32),
                              np.zeros(0, np.float32), keep, scale,
                              np.zeros((1, 1), np.float32), none, False, True, out, hm,
                              saved, none)
    np.testing.assert_allclose(saved.ravel(), exact, atol=4e-7)
    assert recurrent._tanh(np.float32(3.0)) == pytest.approx(np.tanh(3.0), abs=4e-7)
    sig = np.array([recurrent._sigmoid(v) for v in x[::40]])
    np.testing.assert_allclose(sig, 1 / (1 + np.exp(-x[::40].astype(np.float64))), atol=4e-7)


def test_helper_is_a_plain_function_before_compiling():
    calls = []

    @jit.helper
    def double(v):
        calls.append(v)
        return 2 * v

    assert double(3) == 6 and calls == [3]
    assert double.__name__ == "double"


@jit.kernel(parallel=False)
def _divide(a, b, out):
    for i in range(a.shape[0]):
        out[i] = a[i] / b[i]


def test_kernels_divide_as_numpy_does():
    """error_model='numpy': no Python zero check (it stops vectorization), inf and nan
    as the reference's NumPy gives them."""
    a, b = np.array([1.0, 0.0, 2.0], np.float32), np.array([0.0, 0.0, 4.0], np.float32)
    out = np.empty_like(a)
    _divide(a, b, out)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_array_equal(out, a / b)
