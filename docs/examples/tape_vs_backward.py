"""tape.gradient against a Dense layer's hand-written backward: the same numbers.

Run: python docs/examples/tape_vs_backward.py
"""

import numpy as np

import tinyann as keras
from tinyann import ops
from tinyann.autodiff import GradientTape

rng = np.random.default_rng(0)
x = rng.standard_normal((4, 3)).astype("float32")
g = rng.standard_normal((4, 2)).astype("float32")       # some dL/dy
layer = keras.layers.Dense(2, activation="tanh")
layer.build((None, 3))
w, b = layer.kernel, layer.bias

# 1. the same math written with ops: every op is recorded on the tape
with GradientTape() as tape:
    y = ops.tanh(ops.matmul(x, w) + b)
dw_tape, db_tape = tape.gradient(y, [w, b], output_gradients=g)

# 2. the layer's own forward and hand-written backward (what fit runs)
layer.call(x, training=True)
layer.backward(g.copy())
dw_layer, db_layer = w.grad.copy(), b.grad.copy()

print("largest difference, kernel:", float(np.max(np.abs(dw_tape.numpy() - dw_layer))))
print("largest difference, bias:  ", float(np.max(np.abs(db_tape.numpy() - db_layer))))
assert np.allclose(dw_tape.numpy(), dw_layer, atol=1e-5)
assert np.allclose(db_tape.numpy(), db_layer, atol=1e-5)
