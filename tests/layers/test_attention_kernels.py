"""The reference attention kernels (tinyann/kernels/reference/attention.py) on their
own: einsum gradients (summed-away letters, ellipses), the masked softmaxes."""

from __future__ import annotations

import numpy as np
import pytest

from tinyann.kernels.reference import attention as k


@pytest.mark.parametrize("equation,x_shape,k_shape", [
    ("abc,cde->abde", (2, 3, 4), (4, 2, 3)),
    ("abc,d->abd", (2, 3, 4), (5,)),             # c summed away, not in the kernel
    ("...b,bc->...c", (2, 3, 4), (4, 5)),
    ("ab...,bc->ac...", (2, 4, 3), (4, 5)),
    ("abcd,cde->abe", (2, 3, 2, 4), (2, 4, 5)),
])
def test_einsum_backward_is_the_chain_rule(gradcheck, equation, x_shape, k_shape):
    rng = np.random.default_rng(0)
    x, kernel = rng.normal(size=x_shape), rng.normal(size=k_shape)
    g = rng.normal(size=np.einsum(equation, x, kernel).shape)
    dx, dk = k.einsum_backward(equation, x, kernel, g)

    def loss():
        return float(np.sum(g * k.einsum_forward(equation, x, kernel)))

    gradcheck.assert_close(dx, gradcheck.numerical_grad(loss, x))
    gradcheck.assert_close(dk, gradcheck.numerical_grad(loss, kernel))
    assert k.einsum_backward(equation, x, kernel, g, need_x=False)[0] is None


def test_masked_softmax_zeroes_masked_entries_and_fully_masked_rows():
    x = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    mask = np.array([[True, False, True], [False, False, False]])
    p = k.masked_softmax_forward(x, mask)
    np.testing.assert_allclose(p[0], np.exp([1, 3]) @ np.array([[1, 0, 0], [0, 0, 1]])
                               / np.exp([1, 3]).sum())
    assert np.all(p[1] == 0)
    dx = k.masked_softmax_backward(p, np.ones_like(p) * [1.0, 5.0, -2.0], mask)
    assert np.all(dx[~mask] == 0)


def test_padded_softmax_keeps_a_fully_masked_row_a_softmax():
    """Attention's masking (Keras's scores - 1e9): a row masked throughout is the
    softmax of its own scores, not zeros."""
    x = np.array([[0.5, 1.5]])
    p = k.padded_softmax_forward(x, np.array([[False, False]]))
    np.testing.assert_allclose(p, np.exp(x) / np.exp(x).sum())


def test_tanh_scores_backward(gradcheck):
    rng = np.random.default_rng(1)
    q, key = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4))
    inner, features, outer = np.array(0.7), rng.normal(size=4), np.array(1.3)
    _, t = k.tanh_scores(q, key, inner, features, outer)
    g = rng.normal(size=(2, 3, 5))
    dq, dkey, dinner, dfeatures, douter = k.tanh_scores_backward(q, key, t, g, inner,
                                                                  features, outer)

    def loss():
        return float(np.sum(g * k.tanh_scores(q, key, inner, features, outer)[0]))

    for got, value in ((dq, q), (dkey, key), (dinner, inner), (dfeatures, features),
                       (douter, outer)):
        gradcheck.assert_close(np.asarray(got), gradcheck.numerical_grad(loss, value))
