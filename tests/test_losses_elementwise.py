"""LogCosh, MSLE, MAPE, Hinge, SquaredHinge, Poisson, KLDivergence, CosineSimilarity:
values and gradients against Keras 3 on JAX (tests/fixtures/keras/extra_losses.json,
made by tools/keras_reference/make_extra_loss_facts.py), numerical gradient checks,
names, configs, and training with each."""

import json
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras
from tinyann import losses

FACTS = json.loads((Path(__file__).parent / "fixtures" / "keras" / "extra_losses.json"
                    ).read_text(encoding="utf-8"))
Y_TRUE = np.array(FACTS["y_true"], dtype="float32")
Y_PRED = np.array(FACTS["y_pred"], dtype="float32")
WEIGHTS = np.array(FACTS["sample_weight"], dtype="float32")
NAMES = sorted({c["name"] for c in FACTS["cases"]})


@pytest.mark.parametrize("case", FACTS["cases"],
                         ids=lambda c: f"{c['name']}-{c['binary']}-{c['weighted']}")
def test_value_gradient_and_config_are_keras(case):
    loss = getattr(losses, case["name"])()
    y = (Y_TRUE > 0.5).astype("float32") if case["binary"] else Y_TRUE
    w = WEIGHTS if case["weighted"] else None
    value, grad = loss.value_and_grad(y, Y_PRED, w)
    np.testing.assert_allclose(value, case["value"], rtol=1e-5)
    np.testing.assert_allclose(float(loss(y, Y_PRED, sample_weight=w)), case["value"],
                               rtol=1e-5)
    expected = np.array(case["grad"])
    # |y - p| where p == y exactly: a kink, where JAX's and NumPy's choices differ
    kinks = (Y_PRED == y) if case["name"] == "MeanAbsolutePercentageError" else False
    np.testing.assert_allclose(np.where(kinks, 0, grad), np.where(kinks, 0, expected),
                               rtol=2e-4, atol=1e-6)
    assert loss.get_config() == case["config"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("weighted", [False, True])
def test_numerical_gradient(gradcheck, name, weighted):
    rng = np.random.default_rng(1)
    loss = getattr(losses, name)()
    y_true = rng.uniform(0.1, 0.9, (5, 3))
    if name in ("Hinge", "SquaredHinge"):
        y_true = np.where(y_true > 0.5, 1.0, -1.0)
    y_pred = rng.uniform(0.15, 0.85, (5, 3))
    if name in ("Hinge", "SquaredHinge"):  # away from the kink at y p = 1
        y_pred = np.where(np.abs(1 - y_true * y_pred) < 0.05, y_pred + 0.2, y_pred)
    w = rng.uniform(0.2, 2.0, 5) if weighted else None
    value, grad = loss.value_and_grad(y_true, y_pred.copy(), w)

    def f():
        return loss(y_true, y_pred, sample_weight=w)

    np.testing.assert_allclose(value, f(), rtol=1e-10)
    gradcheck.assert_close(grad, gradcheck.numerical_grad(f, y_pred))


@pytest.mark.parametrize("name,keras_name", [
    ("log_cosh", "log_cosh"), ("logcosh", "log_cosh"),
    ("msle", "mean_squared_logarithmic_error"), ("mape", "mean_absolute_percentage_error"),
    ("hinge", "hinge"), ("squared_hinge", "squared_hinge"), ("poisson", "poisson"),
    ("kld", "kl_divergence"), ("kl_divergence", "kl_divergence"),
    ("cosine_similarity", "cosine_similarity")])
def test_strings_and_functions(name, keras_name):
    loss = losses.get(name)
    assert loss.name == keras_name
    per_sample = getattr(losses, keras_name)(Y_TRUE, Y_PRED)
    assert per_sample.shape == (len(Y_TRUE),)
    np.testing.assert_allclose(float(np.mean(per_sample)), float(loss(Y_TRUE, Y_PRED)),
                               rtol=1e-6)
    assert isinstance(losses.get(getattr(losses, keras_name)), type(loss))


@pytest.mark.parametrize("name", NAMES)
def test_fit_with_each_loss_lowers_it(name):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype("float32")
    y = (1 / (1 + np.exp(-x[:, :3]))).astype("float32")
    last = "linear" if name in ("Hinge", "SquaredHinge", "CosineSimilarity") else "sigmoid"
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation=last)])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=getattr(losses, name)())
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0).history["loss"]
    assert history[-1] < history[0]
    again = losses.deserialize(losses.serialize(model.loss))
    assert type(again) is type(model.loss) and again.get_config() == model.loss.get_config()
