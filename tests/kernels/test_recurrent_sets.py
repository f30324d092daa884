"""Every kernel set's recurrent ops against the reference, on a table of shapes: batch
1, sequence length 1, masks, recurrent dropout masks, the activations the compiled
kernels hand back to the reference (float32, as in training)."""

import numpy as np
import pytest

from tinyann import kernels
from tinyann.kernels import jit

REF = kernels.functions_of("reference")
SETS = ["numpy"] + (["compiled"] if jit.available() else [])
GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3}

# (batch, steps, features, units, masked, recurrent dropout, options)
SHAPES = {
    "textbook": (16, 12, 16, 8, False, False, {}),
    "batch_1": (1, 7, 3, 5, False, False, {}),
    "one_step": (4, 1, 3, 2, False, False, {}),
    "masked": (5, 9, 4, 3, True, False, {}),
    "recurrent_dropout": (6, 8, 4, 3, False, True, {}),
    "masked_and_dropout": (3, 6, 2, 4, True, True, {}),
    "relu_falls_back": (3, 5, 2, 3, False, False, {"activation": "relu"}),
    # 32 samples or more: the compiled set runs two chunks, one in a worker thread
    "two_chunks": (64, 10, 16, 8, False, False, {}),
    "two_uneven_chunks_masked_dropout": (41, 6, 4, 3, True, True, {}),
}


def _case(cell, shape):
    batch, steps, features, units, masked, dropped, options = shape
    rng = np.random.default_rng(steps * 31 + units)
    width = GATES[cell] * units
    f32 = np.float32
    x = rng.normal(size=(batch, steps, features)).astype(f32)
    kernel = rng.normal(scale=0.4, size=(features, width)).astype(f32)
    recurrent = rng.normal(scale=0.4, size=(units, width)).astype(f32)
    bias = rng.normal(scale=0.2, size=(2, width) if cell == "gru" else width).astype(f32)
    mask = rng.random((batch, steps)) > 0.3 if masked else None
    rmask = (rng.random((batch, units)) > 0.4).astype(f32) * f32(1 / 0.6) if dropped else None
    g = rng.normal(size=(batch, steps, units)).astype(f32)
    return x, kernel, recurrent, bias, mask, rmask, g, options


def _run(functions, cell, x, kernel, recurrent, bias, mask, rmask, g, options):
    out, cache = functions[f"{cell}_forward"](x, kernel, recurrent, bias, mask=mask,
                                              recurrent_mask=rmask, **options)
    grads = [np.full_like(a, np.nan) for a in (kernel, recurrent, bias)]
    dx = functions[f"{cell}_backward"](g, cache, *grads)
    return [out, dx] + grads


# GRU's relu row is left out: its candidate activation is tested through the others'
CELL_SHAPES = [(cell, shape) for cell in GATES for shape in SHAPES
               if not (cell == "gru" and shape == "relu_falls_back")]


@pytest.mark.parametrize("kernel_set", SETS)
@pytest.mark.parametrize("cell,shape", CELL_SHAPES)
def test_recurrent_set_matches_reference(kernel_set, cell, shape):
    case = _case(cell, SHAPES[shape])
    expected = _run(REF, cell, *case)
    got = _run(kernels.functions_of(kernel_set), cell, *case)
    for name, e, a in zip(("outputs", "dx", "dkernel", "drecurrent", "dbias"), expected, got):
        np.testing.assert_allclose(a, e, rtol=2e-4, atol=2e-5, err_msg=name)


@pytest.mark.parametrize("kernel_set", SETS)
def test_gru_without_reset_after_matches(kernel_set):
    x, kernel, recurrent, _, mask, rmask, g, _ = _case("gru", SHAPES["masked"])
    bias = np.linspace(-0.2, 0.2, kernel.shape[1]).astype(np.float32)
    options = {"reset_after": False}
    expected = _run(REF, "gru", x, kernel, recurrent, bias, mask, rmask, g, options)
    got = _run(kernels.functions_of(kernel_set), "gru", x, kernel, recurrent, bias, mask,
               rmask, g, options)
    for e, a in zip(expected, got):
        np.testing.assert_allclose(a, e, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("kernel_set", SETS)
@pytest.mark.parametrize("cell", list(GATES))
def test_inference_forward_gives_the_same_outputs(kernel_set, cell):
    """``record=False`` (predict) keeps no cache in the compiled set; the outputs and
    final states are those of a recording call."""
    x, kernel, recurrent, bias, mask, rmask, _, _ = _case(cell, SHAPES[
        "two_uneven_chunks_masked_dropout"])
    functions = kernels.functions_of(kernel_set)
    forward = functions[f"{cell}_forward_with_state"]
    units = recurrent.shape[0]
    states = [np.full((x.shape[0], units), 0.3, np.float32)] * (2 if cell == "lstm" else 1)
    out, final, _ = forward(x, kernel, recurrent, bias, states, mask, rmask)
    out2, final2, cache = forward(x, kernel, recurrent, bias, states, mask, rmask,
                                  record=False)
    np.testing.assert_array_equal(out2, out)
    for a, b in zip(final2, final):
        np.testing.assert_array_equal(a, b)
    if kernel_set == "compiled":
        assert cache["hm"].size == 0 and all(s.size == 0 for s in cache["saved"])


@pytest.mark.skipif(not jit.available(), reason="numba is not installed")
def test_compiled_chunks_and_their_worker():
    from tinyann.kernels.compiled import recurrent

    assert recurrent.chunks(31) == [(0, 31)]
    from tinyann.kernels.cores import usable_cores

    if usable_cores() >= 2:
        assert recurrent.chunks(64) == [(0, 32), (32, 64)]
        assert recurrent.chunks(33) == [(0, 17), (17, 33)]
    first = recurrent._worker()
    assert recurrent._worker() is first
    # in a forked child the parent's worker thread does not run: a new one is made
    recurrent._pool_pid = -1
    assert recurrent._worker() is not first
    assert recurrent._worker().submit(lambda: 7).result(timeout=10) == 7


@pytest.mark.parametrize("kernel_set", ["reference"] + SETS)
@pytest.mark.parametrize("cell", list(GATES))
def test_backward_without_dx_writes_the_same_weight_gradients(kernel_set, cell):
    """``need_dx=False`` (a first layer): dL/dx is None, the weights' gradients unchanged."""
    x, kernel, recurrent, bias, mask, rmask, g, options = _case(cell, SHAPES["masked"])
    functions = kernels.functions_of(kernel_set)
    out, cache = functions[f"{cell}_forward"](x, kernel, recurrent, bias, mask=mask,
                                              recurrent_mask=rmask)
    full = [np.zeros_like(a) for a in (kernel, recurrent, bias)]
    dx = functions[f"{cell}_backward"](g, cache, *full)
    bare = [np.zeros_like(a) for a in (kernel, recurrent, bias)]
    assert functions[f"{cell}_backward"](g, cache, *bare, need_dx=False) is None
    assert dx is not None
    for a, b in zip(bare, full):
        np.testing.assert_array_equal(a, b)
