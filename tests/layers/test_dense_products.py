"""Dense with a transposed (few-unit) kernel computes its product two ways: W^T x^T
below 128 rows, x @ W copied to column-major from 128 rows (faster for predict's
chunks). Both must give the same numbers, forward and backward."""

import numpy as np
import pytest

from tinyann import kernels
from tinyann.kernels.fast.dense import ROW_MAJOR_PRODUCT_ROWS
from tinyann.layers import Dense

# the transposed storage is the fast set's layout choice
pytestmark = pytest.mark.skipif(kernels.kernel_set() == "reference",
                                reason="the fast kernels' layouts")


@pytest.mark.parametrize("rows", [ROW_MAJOR_PRODUCT_ROWS - 1,
                                  ROW_MAJOR_PRODUCT_ROWS, 1000])
@pytest.mark.parametrize("training", [False, True])
def test_both_products_give_the_reference(rows, training):
    rng = np.random.default_rng(rows)
    layer = Dense(10, activation="softmax")
    layer.build((None, 784))
    assert layer.kernel.value.flags.f_contiguous  # the transposed storage
    x = rng.random((rows, 784), dtype=np.float32)
    out = layer(x, training=training)
    z = x.astype(np.float64) @ layer.kernel.numpy() + layer.bias.numpy()
    expected = np.exp(z - z.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(out, expected, rtol=2e-5, atol=1e-7)


def test_row_major_product_backward(gradcheck):
    rows = ROW_MAJOR_PRODUCT_ROWS + 2
    rng = np.random.default_rng(1)
    layer = Dense(3, activation="tanh")
    layer.build((None, 4))
    assert layer.kernel.value.flags.f_contiguous
    layer.set_weights([rng.normal(0, 0.6, (4, 3)), rng.normal(0, 0.3, (3,))])
    x = rng.normal(size=(rows, 4))
    g = rng.normal(size=(rows, 3))
    layer(x, training=True)
    dx = layer.backward(g.copy())

    def loss():
        return np.sum(g * layer(x))

    gradcheck.assert_close(dx, gradcheck.numerical_grad(loss, x))
    gradcheck.assert_close(layer.kernel.grad, gradcheck.numerical_grad(loss, layer.kernel.value))
    gradcheck.assert_close(layer.bias.grad, gradcheck.numerical_grad(loss, layer.bias.value))
