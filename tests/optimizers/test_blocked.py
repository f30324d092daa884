"""Updates of many weights run a block at a time (the NumPy set's passes; the
compiled set's fallbacks to them); the result is the same as whole."""

import numpy as np
import pytest

from tinyann import kernels, optimizers
from tinyann.kernels import jit
from tinyann.kernels.fast import optimizers as numpy_updates
from tinyann.variables import Variable, pack_variables

CASES = [
    lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    lambda: optimizers.Adam(0.01, amsgrad=True),
    lambda: optimizers.AdamW(0.01, weight_decay=0.1),
    lambda: optimizers.Adamax(0.01),
    lambda: optimizers.Adagrad(0.1),
    lambda: optimizers.Adadelta(1.0),
]


def _run(make, block, monkeypatch, steps=3):
    monkeypatch.setattr(numpy_updates, "BLOCK", block)
    rng = np.random.default_rng(0)
    # two variables whose sizes do not divide the block: blocks cross their border
    variables = [Variable(rng.standard_normal((300, 7)).astype("float32")),
                 Variable(rng.standard_normal(1001).astype("float32"))]
    values, grads = pack_variables(variables)
    opt = make()
    opt.build(variables)
    for _ in range(steps):
        grads[...] = rng.standard_normal(grads.shape).astype("float32")
        opt.apply_packed(values, grads)
    return values.copy(), {k: v.copy() for k, v in opt._slots.items()}


@pytest.mark.parametrize("make", CASES)
@pytest.mark.parametrize("kernel_set", ["numpy", "compiled", "compiled_whole"])
def test_blocked_update_equals_the_whole_array_update(make, kernel_set, monkeypatch,
                                                      use_kernels):
    if kernel_set != "numpy":
        if not jit.available():
            pytest.skip("numba is not installed")
        if kernel_set == "compiled_whole":
            # the compiled set given all the weights at once: its NumPy fallbacks
            # (every case here but AdamW's) then cut the blocks themselves
            from tinyann.kernels.compiled import optimizers as compiled_updates

            monkeypatch.setattr(compiled_updates, "MIN_SIZE", 1000)
    use_kernels(kernel_set.split("_")[0])
    assert kernels.update_block(3101) == (3101 if kernel_set == "compiled_whole" else
                                      numpy_updates.BLOCK)
    whole_values, whole_slots = _run(make, 1 << 30, monkeypatch)
    blocked_values, blocked_slots = _run(make, 256, monkeypatch)
    np.testing.assert_array_equal(blocked_values, whole_values)
    for name in whole_slots:
        np.testing.assert_array_equal(blocked_slots[name], whole_slots[name])
