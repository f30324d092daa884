"""Keras 3's masked loss and metrics (issue 22): when an Embedding(mask_zero=True) mask
reaches a model output (through LSTM(return_sequences=True), Dense, TimeDistributed),
``fit`` and ``evaluate`` weigh masked steps 0: a batch's loss is ``sum(loss *
sample_weight over unmasked steps) / number of unmasked steps`` (Keras's
``apply_mask``), the compiled metrics are means over unmasked steps. Parity with
real Keras: tests/layers/test_recurrent_states.py (masked_* fixtures)."""

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers

VOCAB, STEPS = 9, 6


def _model(sequences=True, head=None, seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((STEPS,)), layers.Embedding(VOCAB, 4, mask_zero=True),
        layers.LSTM(5, return_sequences=sequences),
        head or layers.Dense(3, activation="softmax")])
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _data(rng, n=8):
    x = rng.integers(1, VOCAB, (n, STEPS))
    for row, length in zip(x, [6, 3, 1, 4, 5, 2, 6, 3][:n]):
        row[length:] = 0  # padded at the end
    return x, rng.integers(0, 3, (n, STEPS))


def _per_step_loss(probs, y):
    picked = np.take_along_axis(probs, y[..., None], axis=-1)[..., 0]
    return -np.log(np.clip(picked, 1e-7, 1 - 1e-7))


@pytest.mark.parametrize("head", ["dense", "time_distributed"])
def test_evaluate_is_the_mean_over_unmasked_steps(head):
    rng = np.random.default_rng(0)
    x, y = _data(rng)
    model = _model(head=layers.TimeDistributed(layers.Dense(3, activation="softmax"))
                   if head == "time_distributed" else None)
    probs = model.predict(x, verbose=0)
    per, mask = _per_step_loss(probs, y), x != 0
    loss, acc = model.evaluate(x, y, batch_size=8, verbose=0)
    assert loss == pytest.approx(per[mask].mean(), rel=1e-5)
    hits = probs.argmax(-1) == y
    assert acc == pytest.approx(hits[mask].mean(), rel=1e-6)
    # batches of 3: Keras's loss tracker averages the batches' masked means, weighted
    # by the batches' sizes; the accuracy stays the mean over all unmasked steps
    batches = [slice(0, 3), slice(3, 6), slice(6, 8)]
    want = sum(per[b][mask[b]].mean() * len(range(8)[b]) for b in batches) / 8
    loss3, acc3 = model.evaluate(x, y, batch_size=3, verbose=0)
    assert loss3 == pytest.approx(want, rel=1e-5)
    assert acc3 == pytest.approx(acc, rel=1e-6)


def test_sample_weights_combine_with_the_mask():
    rng = np.random.default_rng(1)
    x, y = _data(rng)
    model = _model()
    sw = rng.uniform(0.5, 2.0, 8)
    per, mask = _per_step_loss(model.predict(x, verbose=0), y), x != 0
    want = (per * mask * sw[:, None]).sum() / mask.sum()
    assert model.evaluate(x, y, sample_weight=sw, batch_size=8, verbose=0)[0] == \
        pytest.approx(want, rel=1e-5)
    temporal = rng.uniform(0.5, 2.0, (8, STEPS))  # per-step weights, as Keras takes them
    want = (per * mask * temporal).sum() / mask.sum()
    assert model.evaluate(x, y, sample_weight=temporal, batch_size=8, verbose=0)[0] == \
        pytest.approx(want, rel=1e-5)


def test_masked_targets_do_not_train():
    """Targets at masked steps change neither the loss nor the weights."""
    rng = np.random.default_rng(2)
    x, y = _data(rng)
    other = np.where(x != 0, y, (y + 1) % 3)
    results = []
    for targets in (y, other):
        model = _model(seed=3)
        history = model.fit(x, targets, batch_size=4, epochs=2, shuffle=False, verbose=0)
        results.append((history.history, model.get_weights()))
    assert results[0][0] == results[1][0]
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(a, b)


def test_training_loss_is_the_masked_loss():
    """The first step's logged loss is the masked mean at the initial weights, and one
    SGD step moves the weights by -lr * the masked loss's gradient (numerically)."""
    rng = np.random.default_rng(4)
    x, y = _data(rng, 4)
    model = _model(seed=5)
    mask = x != 0
    before = [w.copy() for w in model.get_weights()]
    per = _per_step_loss(model.predict(x, verbose=0), y)
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert history.history["loss"][0] == pytest.approx(per[mask].mean(), rel=1e-5)
    # the Dense bias gradient by central differences of the masked loss
    probe = _model(seed=5)
    bias = probe.layers[-1].bias
    eps = 1e-3
    numeric = []
    for j in range(3):
        values = []
        for sign in (1, -1):
            shifted = before[-1].copy()
            shifted[j] += sign * eps
            bias.assign(shifted)
            p = _per_step_loss(probe.predict(x, verbose=0), y)
            values.append(p[mask].mean())
        numeric.append((values[0] - values[1]) / (2 * eps))
    step = (before[-1] - model.get_weights()[-1]) / 0.1
    np.testing.assert_allclose(step, numeric, atol=2e-4)


def test_all_masked_batch_weighs_nothing():
    x = np.zeros((2, STEPS), dtype=int)
    y = np.ones((2, STEPS), dtype=int)
    model = _model()
    loss, _ = model.evaluate(x, y, verbose=0)
    assert loss == 0.0
    weights = [w.copy() for w in model.get_weights()]
    model.fit(x, y, verbose=0)
    for a, b in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_mask_that_stops_before_the_output_changes_nothing():
    """LSTM without return_sequences drops the mask: the usual per-sample loss."""
    rng = np.random.default_rng(6)
    x, _ = _data(rng)
    y = rng.integers(0, 3, 8)
    model = _model(sequences=False)
    assert model._graph.masked_outputs == [False]
    probs = model.predict(x, verbose=0)
    want = -np.log(np.clip(probs[np.arange(8), y], 1e-7, 1)).mean()
    assert model.evaluate(x, y, verbose=0)[0] == pytest.approx(want, rel=1e-5)


def test_several_outputs_each_with_its_own_mask():
    rng = np.random.default_rng(7)
    x, y = _data(rng)
    tokens = keras.Input((STEPS,))
    seq = layers.LSTM(4, return_sequences=True)(layers.Embedding(VOCAB, 3, mask_zero=True)(
        tokens))
    tags = layers.Dense(3, activation="softmax", name="tags")(seq)
    total = layers.Dense(1, name="total")(layers.LSTM(2)(seq))
    model = keras.Model(tokens, [tags, total])
    model.compile("sgd", ["sparse_categorical_crossentropy", "mse"],
                  metrics=[["accuracy"], []])
    assert model._graph.masked_outputs == [True, False]
    z = rng.normal(size=(8, 1))
    probs, value = model.predict(x, verbose=0)
    per, mask = _per_step_loss(probs, y), x != 0
    logs = model.evaluate(x, [y, z], batch_size=8, verbose=0, return_dict=True)
    assert logs["tags_loss"] == pytest.approx(per[mask].mean(), rel=1e-5)
    assert logs["total_loss"] == pytest.approx(((value - z) ** 2).mean(), rel=1e-5)
    assert logs["tags_accuracy"] == pytest.approx((probs.argmax(-1) == y)[mask].mean())
