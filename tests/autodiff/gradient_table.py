"""The checks every op-gradient table runs (tests/autodiff/test_op*.py): the tape's
gradient against central differences in float64 for a random output gradient, a
Hessian-vector product against finite differences of the gradient, and float32 in ->
float32 out. ``specs``: ``[(shape, sampler), ...]``, one per input."""

from __future__ import annotations

import numpy as np

from tinyann.autodiff import GradientTape, Tensor


def sample(name, specs):
    """A generator seeded by the case's name, and float64 inputs drawn from it."""
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    return rng, [sampler(rng, shape).astype(np.float64) for shape, sampler in specs]


def check_central_differences(gradcheck, name, fn, specs, nan_as_zero=False):
    """``nan_as_zero``: a numerical gradient of NaN (an input the output ignores where
    it is NaN) is expected as zero."""
    rng, arrays = sample(name, specs)
    inputs = [Tensor(a) for a in arrays]
    with GradientTape() as tape:
        tape.watch(inputs)
        out = fn(*inputs)
    upstream = rng.standard_normal(out.shape)
    grads = tape.gradient(out, inputs, output_gradients=Tensor(upstream))
    for i, (array, grad) in enumerate(zip(arrays, grads)):
        def scalar():
            return float(np.sum(np.asarray(fn(*[Tensor(a) for a in arrays])) * upstream))

        numeric = gradcheck.numerical_grad(scalar, array)
        assert grad is not None, f"no gradient for input {i}"
        assert grad.shape == array.shape and grad.dtype == np.float64
        if nan_as_zero:
            numeric = np.nan_to_num(numeric)
        gradcheck.assert_close(grad.numpy(), numeric, rtol=1e-5, atol=1e-7)


def check_hessian_vector_product(name, fn, specs):
    # (imported here: test_higher_order imports test_op_gradients, which imports this)
    from tests.autodiff.test_higher_order import hvp, numeric_hvp

    rng, arrays = sample(name, specs)
    upstream = rng.standard_normal(np.shape(fn(*[Tensor(a) for a in arrays])))
    vectors = [rng.standard_normal(a.shape) * 0.01 for a in arrays]
    got = hvp(fn, arrays, upstream, vectors)
    want = numeric_hvp(fn, arrays, upstream, vectors)
    for i, (g, w) in enumerate(zip(got, want)):
        if g is None:
            np.testing.assert_allclose(w, 0, atol=1e-6, err_msg=f"input {i}")
        else:
            np.testing.assert_allclose(g.numpy(), w, rtol=1e-4, atol=1e-6,
                                       err_msg=f"input {i}")


def check_float32(fn, specs):
    rng = np.random.default_rng(1)
    inputs = [Tensor(sampler(rng, shape).astype(np.float32)) for shape, sampler in specs]
    with GradientTape() as tape:
        tape.watch(inputs)
        out = fn(*inputs)
    assert out.dtype == np.float32
    for x, g in zip(inputs, tape.gradient(out, inputs)):
        assert g.dtype == np.float32 and g.shape == x.shape
