"""keras.random: seeds, SeedGenerator, shapes and dtypes, dropout's gradient."""

from __future__ import annotations

import numpy as np
import pytest

import tinyann as keras
from tinyann import ops
from tinyann.autodiff import GradientTape, Tensor


def test_int_seed_repeats_and_seed_generator_advances():
    a = keras.random.normal((3, 2), seed=4)
    b = keras.random.normal((3, 2), seed=4)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    gen = keras.random.SeedGenerator(7)
    first, second = keras.random.uniform((5,), seed=gen), keras.random.uniform((5,), seed=gen)
    assert not np.array_equal(first.numpy(), second.numpy())
    again = keras.random.SeedGenerator(7)
    np.testing.assert_array_equal(keras.random.uniform((5,), seed=again).numpy(), first.numpy())


def test_global_seed_makes_unseeded_draws_repeatable():
    keras.utils.set_random_seed(9)
    a = keras.random.uniform((4,))
    keras.utils.set_random_seed(9)
    np.testing.assert_array_equal(keras.random.uniform((4,)).numpy(), a.numpy())


def test_shapes_ranges_and_dtypes():
    r = keras.random.randint((100,), 2, 5, seed=1)
    assert r.dtype == np.int32 and r.numpy().min() >= 2 and r.numpy().max() < 5
    u = keras.random.uniform((100,), minval=-1, maxval=1, seed=1)
    assert u.dtype == np.float32 and -1 <= u.numpy().min() and u.numpy().max() < 1
    t = keras.random.truncated_normal((1000,), seed=2)
    assert np.abs(t.numpy()).max() <= 2
    x = np.arange(10)
    assert sorted(keras.random.shuffle(x, seed=3).numpy().tolist()) == list(range(10))
    with pytest.raises(ValueError, match="Argument `seed` must be"):
        keras.random.normal((2,), seed="a")


def test_dropout_scales_kept_values_and_its_gradient_uses_the_same_mask():
    x = Tensor(np.ones((200, 10), dtype=np.float32))
    with GradientTape() as tape:
        tape.watch(x)
        y = keras.random.dropout(x, 0.25, seed=0)
        loss = ops.sum(y * 3.0)
    g = tape.gradient(loss, x).numpy()
    kept = y.numpy() != 0
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.75, rtol=1e-6)
    np.testing.assert_allclose(g, np.where(kept, 3.0 / 0.75, 0.0), rtol=1e-6)
    assert 0.65 < kept.mean() < 0.85


def test_categorical_follows_the_softmax_of_the_logits():
    logits = np.log(np.array([[0.7, 0.2, 0.1], [0.0, 0.0, 1.0]]) + 1e-30)
    draws = keras.random.categorical(logits, 20000, seed=3).numpy()
    assert draws.shape == (2, 20000) and draws.dtype == np.int32
    np.testing.assert_allclose(np.bincount(draws[0], minlength=3) / 20000, [0.7, 0.2, 0.1],
                               atol=0.015)
    assert (draws[1] == 2).all()
    np.testing.assert_array_equal(draws, keras.random.categorical(logits, 20000, seed=3).numpy())
    with pytest.raises(ValueError, match="2-D"):
        keras.random.categorical(np.zeros(3), 2)


@pytest.mark.parametrize("name, args, mean", [
    ("gamma", (3.0,), 3.0), ("beta", (2.0, 6.0), 0.25), ("binomial", (10, 0.3), 3.0)])
def test_gamma_beta_binomial_have_their_means_in_floatx(name, args, mean):
    values = getattr(keras.random, name)((20000,), *args, seed=1).numpy()
    assert values.dtype == np.float32 and values.shape == (20000,)
    assert abs(values.mean() - mean) < 0.05 * mean
    again = getattr(keras.random, name)((20000,), *args, seed=1).numpy()
    np.testing.assert_array_equal(values, again)
