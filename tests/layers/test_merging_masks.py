"""Keras 3's masks of the merge layers (``compute_mask``), compared with Keras on
tests/fixtures/masks/mask_facts.npz (tools/keras_reference/make_mask_facts.py), and
Multiply's masked values and their gradients."""

from pathlib import Path

import numpy as np
import pytest

from tinyann import layers

FACTS = np.load(Path(__file__).parents[1] / "fixtures" / "masks" / "mask_facts.npz")
MERGES = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"]


@pytest.mark.parametrize("name", MERGES)
def test_merge_mask_is_keras_or_of_the_inputs_masks(name):
    layer = getattr(layers, name)()
    x = np.zeros((2, 4, 3), "float32")
    a, b = FACTS["merge_a"], FACTS["merge_b"]
    np.testing.assert_array_equal(layer.compute_mask([x, x], [a, b]), FACTS[f"merge_{name}_both"])


@pytest.mark.parametrize("name", MERGES)
def test_merge_mask_is_none_when_an_input_has_none(name):
    layer = getattr(layers, name)()
    x = np.zeros((2, 4, 3), "float32")
    assert layer.compute_mask([x, x], [FACTS["merge_a"], None]) is None
    assert layer.compute_mask([x, x], None) is None


def test_merge_mask_must_be_a_list():
    with pytest.raises(ValueError, match="should be a list"):
        layers.Add().compute_mask([np.zeros((1, 2, 3))] * 2, np.ones((1, 2), bool))


def test_concatenate_mask_as_keras_along_features_and_steps():
    a = FACTS["concat_a"]
    x, y = np.zeros((2, 4, 3)), np.zeros((2, 5, 3))
    np.testing.assert_array_equal(layers.Concatenate().compute_mask([x, x], [a, None]),
                                  FACTS["concat_features"])
    np.testing.assert_array_equal(layers.Concatenate(axis=1).compute_mask([x, y], [a, None]),
                                  FACTS["concat_steps"])
    assert layers.Concatenate().compute_mask([x, x], [None, None]) is None
    with pytest.raises(ValueError, match="same length"):
        layers.Concatenate().compute_mask([x, x], [a])


def test_multiply_masked_values_and_gradients(gradcheck):
    rng = np.random.default_rng(0)
    xs = [gradcheck.away_from_zero(rng, (3, 4, 2)) for _ in range(2)]
    masks = [rng.random((3, 4)) > 0.4, rng.random((3, 4)) > 0.4]
    layer = layers.Multiply()
    out = layer.call(xs, training=True, mask=masks)
    m0, m1 = (m[..., None] for m in masks)
    expected = np.where(m0, xs[0], 1) * np.where(m1, xs[1], 1) * (m0 | m1)
    np.testing.assert_allclose(out, expected)
    # with a mask on one input only, its masked steps count as 1 and nothing is zeroed
    one = layers.Multiply().call(xs, mask=[masks[0], None])
    np.testing.assert_allclose(one, np.where(m0, xs[0], 1) * xs[1])
    upstream = rng.normal(size=out.shape)
    grads = layer.backward(upstream)
    for x, g in zip(xs, grads):
        def loss(x=x):
            return float(np.sum(layer.call(xs, mask=masks) * upstream))
        gradcheck.assert_close(g, gradcheck.numerical_grad(loss, x))
