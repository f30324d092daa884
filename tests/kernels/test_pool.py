"""tinyann.kernels.pool: a block is handed out again only when no array refers to it."""

import gc

import numpy as np
import pytest

import tinyann as keras
from tinyann.kernels import jit, pool


@pytest.fixture(autouse=True)
def empty_pool():
    pool.clear()
    yield
    pool.clear()


def _shares(a, b) -> bool:
    return np.shares_memory(a, b)


def test_take_gives_the_shape_and_dtype_asked_for():
    a = pool.take((3, 4, 5), np.float32)
    assert a.shape == (3, 4, 5) and a.dtype == np.float32 and a.flags.c_contiguous
    a[...] = 1.0
    assert a.sum() == 60


def test_a_block_comes_back_once_its_array_is_gone():
    a = pool.take((1000,), np.float32)
    address = a.__array_interface__["data"][0]
    del a
    gc.collect()
    b = pool.take((1000,), np.float32)
    assert b.__array_interface__["data"][0] == address


def test_a_block_in_use_is_never_handed_out_twice():
    a = pool.take((1000,), np.float32)
    b = pool.take((1000,), np.float32)
    assert not _shares(a, b)


@pytest.mark.parametrize("keep", ["view", "slice", "reshape", "list", "dict"])
def test_any_reference_to_a_view_keeps_the_block(keep):
    """A cache keeps views (a slice, a reshape) inside lists and dicts: each holds the block."""
    a = pool.take((10, 100), np.float64)
    a[...] = 7.0
    if keep == "view":
        held = values = a[:, 3]
    elif keep == "slice":
        held = values = a[2:5]
    elif keep == "reshape":
        held = values = a.reshape(-1)
    elif keep == "list":
        held = [a[1:]]
        values = held[0]
    else:
        held = {"saved": a.T}
        values = held["saved"]
    del a, values
    gc.collect()
    b = pool.take((10, 100), np.float64)
    b[...] = -1.0
    kept = held if isinstance(held, np.ndarray) else (
        held[0] if isinstance(held, list) else held["saved"])
    assert np.all(kept == 7.0)


def test_a_small_request_does_not_take_a_much_larger_block():
    big = pool.take((100_000,), np.uint8)
    del big
    small = pool.take((1000,), np.uint8)
    again = pool.take((100_000,), np.uint8)
    assert not _shares(small, again)
    assert pool.held_bytes() == 101_000


def test_large_arrays_bypass_the_pool():
    a = pool.take((pool.MAX_BLOCK + 8,), np.uint8)
    assert a.size == pool.MAX_BLOCK + 8
    assert pool.held_bytes() == 0


def test_the_pool_lets_go_of_free_blocks_beyond_its_budget(monkeypatch):
    monkeypatch.setattr(pool, "MAX_BYTES", 3000)
    kept = [pool.take((1000,), np.uint8) for _ in range(3)]
    del kept
    fresh = [pool.take((2000,), np.uint8) for _ in range(2)]  # each drops free blocks
    assert pool.held_bytes() <= 3000 + 2000
    assert all(f.size == 2000 for f in fresh)


def test_zero_size_arrays():
    a = pool.take((0, 5), np.float32)
    assert a.shape == (0, 5)


@pytest.mark.skipif(not jit.available(), reason="the compiled set needs numba")
def test_recurrent_training_reuses_its_blocks(use_kernels):
    """After the first steps the compiled LSTM's caches and products come from the same
    blocks: the pool stops growing (each block is free again a step later)."""
    use_kernels("compiled")
    x = np.random.default_rng(0).integers(1, 50, size=(256, 20))
    y = np.arange(256) % 2
    model = keras.Sequential([keras.Input((20,)), keras.layers.Embedding(50, 8),
                              keras.layers.LSTM(8), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(x, y, batch_size=64, epochs=1, verbose=0)
    grown = pool.held_bytes()
    model.fit(x, y, batch_size=64, epochs=3, verbose=0)
    assert grown > 0
    assert pool.held_bytes() == grown
