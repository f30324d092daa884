"""Bad input: each mistake in the issue's list gets its own clear error.

Messages say what is wrong, what was expected and what was received; where Keras
has a message (tests/fixtures/keras/errors.json) its wording is kept.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinyann as keras
from tinyann import activations, initializers, layers, losses, metrics, optimizers

X = np.random.default_rng(0).random((32, 784))
Y = np.random.default_rng(1).integers(0, 10, 32)


def seed_model(loss="sparse_categorical_crossentropy", activation="softmax", compile=True):
    model = keras.Sequential([keras.Input((784,)), layers.Dense(10, activation=activation)])
    if compile:
        model.compile(loss=loss, metrics=["accuracy"])
    return model


def keras_message(keras_fact, case):
    return next(e for e in keras_fact("errors.json") if e["case"] == case)


RUNS = {
    "fit": lambda m, x, y: m.fit(x, y, verbose=0),
    "evaluate": lambda m, x, y: m.evaluate(x, y, verbose=0),
    "predict": lambda m, x, y: m.predict(x, verbose=0),
}
WITH_TARGETS = {k: v for k, v in RUNS.items() if k != "predict"}


# ---------------------------------------------------------------- input shape
@pytest.mark.parametrize("run", RUNS)
def test_wrong_input_shape(run):
    with pytest.raises(ValueError, match=(
            r"Input 0 of layer 'dense' is incompatible with the layer: expected axis -1 of "
            r"input shape to have value 784, but received input with shape \(32, 28, 28\)")):
        RUNS[run](seed_model(), np.zeros((32, 28, 28)), Y)


@pytest.mark.parametrize("run", RUNS)
def test_wrong_number_of_features(run):
    with pytest.raises(ValueError, match=r"value 784, but received input with shape \(32, 783\)"):
        RUNS[run](seed_model(), np.zeros((32, 783)), Y)


def test_single_sample_without_batch_axis():
    with pytest.raises(ValueError, match=r"expected min_ndim=2, found ndim=1.*\(784,\)"):
        seed_model().predict(np.zeros(784), verbose=0)


def test_scalar_input():
    with pytest.raises(ValueError, match="batch axis"):
        seed_model().predict(np.float64(3.0), verbose=0)


# ---------------------------------------------------------------- lengths
@pytest.mark.parametrize("run", WITH_TARGETS)
def test_x_and_y_of_different_lengths(run, keras_fact):
    assert keras_message(keras_fact, "fit with len(x)=32, len(y)=31")["message"].startswith(
        "Data cardinality is ambiguous. Make sure all arrays contain the same number of samples.")
    with pytest.raises(ValueError, match=(
            r"Data cardinality is ambiguous\. Make sure all arrays contain the same number of "
            r"samples\..*x sizes: 32.*y sizes: 31")):
        RUNS[run](seed_model(), X, Y[:31])


def test_validation_data_of_different_lengths():
    with pytest.raises(ValueError, match="x sizes: 32.*y sizes: 30"):
        seed_model().fit(X, Y, validation_data=(X, Y[:30]), verbose=0)


# ---------------------------------------------------------------- sparse labels
@pytest.mark.parametrize("run", WITH_TARGETS)
@pytest.mark.parametrize("bad, received", [(10, "max label 10"), (-1, "min label -1")])
def test_labels_out_of_range(run, bad, received):
    y = Y.copy()
    y[17] = bad
    with pytest.raises(ValueError, match=(
            r"Labels for sparse_categorical_crossentropy must be integers in \[0, 10\)\. "
            f"Received: {received}")):
        RUNS[run](seed_model(), X, y)


@pytest.mark.parametrize("run", WITH_TARGETS)
def test_labels_not_integers(run):
    y = Y.astype("float64")
    y[3] = 2.5
    with pytest.raises(ValueError, match=r"must be integers in \[0, 10\).*non-integer.*2\.5"):
        RUNS[run](seed_model(), X, y)


def test_integer_valued_float_labels_are_accepted():
    history = seed_model().fit(X, Y.astype("float64"), verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_labels_of_wrong_shape():
    with pytest.raises(ValueError, match=r"shape of the predictions without.*\(32, 2\)"):
        seed_model().fit(X, np.stack([Y, Y], axis=1), verbose=0)


# ---------------------------------------------------------------- one-hot
@pytest.mark.parametrize("run", WITH_TARGETS)
def test_one_hot_width_mismatch(run):
    model = seed_model(loss="categorical_crossentropy")
    with pytest.raises(ValueError, match=(
            r"categorical_crossentropy must be one-hot of width 10 .*Received: targets of "
            r"shape \(32, 9\)")):
        RUNS[run](model, X, np.eye(9)[Y % 9])


def test_integer_labels_with_categorical_crossentropy_suggest_the_fix():
    model = seed_model(loss="categorical_crossentropy")
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy.*to_categorical"):
        model.fit(X, Y, verbose=0)


# ---------------------------------------------------------------- NaN / inf
# NumPy warns about the NaN it meets on the way to the error
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("run", RUNS)
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_in_x(run, value):
    x = X.copy()
    x[21, 5] = value
    with pytest.raises(ValueError, match=(
            rf"`x` contains NaN or infinite values: sample 21 has {value} at position \(5,\)")):
        RUNS[run](seed_model(), x, Y)


# NumPy warns about the NaN it meets on the way to the error
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("run", RUNS)
def test_inf_hidden_by_a_saturating_activation_is_still_found(run):
    # tanh(+-inf) is finite: the outputs alone would not show the bad sample
    model = keras.Sequential([keras.Input((784,)), layers.Dense(8, activation="tanh"),
                              layers.Dense(10, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x = np.tile(X, (4, 1))
    x[100, 0] = np.inf
    with pytest.raises(ValueError, match="sample 100 has inf"):
        RUNS[run](model, x, np.tile(Y, 4))


def test_nan_in_targets():
    model = seed_model(loss="mse", activation="linear")
    y = np.zeros((32, 10))
    y[4, 4] = np.nan
    with pytest.raises(ValueError, match="`y` contains NaN"):
        model.fit(X, y, verbose=0)


# ---------------------------------------------------------------- empty arrays
@pytest.mark.parametrize("run", RUNS)
def test_empty_x(run):
    with pytest.raises(ValueError, match=r"at least one sample.*\(0, 784\)"):
        RUNS[run](seed_model(), np.zeros((0, 784)), np.zeros(0))


def test_empty_y():
    with pytest.raises(ValueError, match=r"`y` to hold at least one sample.*\(0,\)"):
        seed_model().fit(X, np.zeros(0), verbose=0)


# ---------------------------------------------------------------- dtypes
@pytest.mark.parametrize("run", RUNS)
@pytest.mark.parametrize("bad", [np.full((32, 784), "a"), np.full((32, 784), None)],
                         ids=["strings", "objects"])
def test_non_numeric_x(run, bad):
    with pytest.raises(ValueError, match=f"numeric array.*dtype {bad.dtype}"):
        RUNS[run](seed_model(), bad, Y)


def test_non_numeric_y():
    with pytest.raises(ValueError, match=r"`y` to be a numeric array.*dtype <U"):
        seed_model().fit(X, np.array(["shirt"] * 32), verbose=0)


# ---------------------------------------------------------------- compile first
@pytest.mark.parametrize("run", ["fit", "evaluate", "train_on_batch", "test_on_batch"])
def test_training_or_evaluating_before_compile(run, keras_fact):
    keras_text = keras_message(keras_fact, "fit before compile")["message"]
    model = seed_model(compile=False)
    call = {"fit": lambda: model.fit(X, Y, verbose=0),
            "evaluate": lambda: model.evaluate(X, Y, verbose=0),
            "train_on_batch": lambda: model.train_on_batch(X, Y),
            "test_on_batch": lambda: model.test_on_batch(X, Y)}[run]
    with pytest.raises(ValueError, match=keras_text.rstrip(".").replace("(", r"\(")
                       .replace(")", r"\)")):
        call()


def test_fit_before_compile_on_an_unbuilt_model():
    model = keras.Sequential([layers.Dense(10)])
    with pytest.raises(ValueError, match=r"You must call `compile\(\)`"):
        model.fit(X, Y, verbose=0)


# ---------------------------------------------------------------- unknown strings
@pytest.mark.parametrize("make, kind, bad, valid", [
    (lambda s: seed_model(compile=False).compile(optimizer=s, loss="mse"), "optimizer",
     "sgdd", "sgd"),
    (lambda s: optimizers.get(s), "optimizer", "adamm", "adam"),
    (lambda s: seed_model(compile=False).compile(loss=s), "loss", "foo",
     "sparse_categorical_crossentropy"),
    (lambda s: losses.get(s), "loss", "crossentropy", "binary_crossentropy"),
    (lambda s: seed_model(compile=False).compile(loss="mse", metrics=[s]), "metric",
     "acuracy", "accuracy"),
    (lambda s: metrics.get(s), "metric", "f1", "mae"),
    (lambda s: layers.Dense(10, activation=s), "activation function", "relux", "relu"),
    (lambda s: activations.get(s), "activation function", "Softmax2", "softmax"),
    (lambda s: layers.Dense(10, kernel_initializer=s), "initializer", "glorot",
     "glorot_uniform"),
    (lambda s: initializers.get(s), "initializer", "he", "he_uniform"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_unknown_strings_list_the_valid_ones(make, kind, bad, valid):
    # Keras: "Could not interpret optimizer identifier: sgdd"; we add the valid names
    with pytest.raises(ValueError, match=(
            rf"Could not interpret {kind} identifier: '{bad}'\. Expected one of \[.*'{valid}'")):
        make(bad)


# ---------------------------------------------------------------- hyperparameters
@pytest.mark.parametrize("units", [0, -1, 2.5, "10", None, True])
def test_units_must_be_a_positive_integer(units, keras_fact):
    assert keras_message(keras_fact, "Dense(0)")["message"] == (
        "Received an invalid value for `units`, expected a positive integer. Received: units=0")
    with pytest.raises(ValueError, match=(
            r"Received an invalid value for `units`, expected a positive integer\. "
            rf"Received: units={repr(units)}")):
        layers.Dense(units)


@pytest.mark.parametrize("cls", [optimizers.SGD, optimizers.Adam, optimizers.RMSprop,
                                 optimizers.Adagrad])
@pytest.mark.parametrize("rate", [-1.0, -1, -1e-3])
def test_negative_learning_rate(cls, rate):
    with pytest.raises(ValueError, match="learning_rate.*non-negative.*Received: learning_rate=-"):
        cls(learning_rate=rate)


@pytest.mark.parametrize("run", RUNS)
@pytest.mark.parametrize("batch_size", [0, -4, 2.5])
def test_batch_size_must_be_positive(run, batch_size):
    model = seed_model()
    call = {"fit": lambda: model.fit(X, Y, batch_size=batch_size, verbose=0),
            "evaluate": lambda: model.evaluate(X, Y, batch_size=batch_size, verbose=0),
            "predict": lambda: model.predict(X, batch_size=batch_size, verbose=0)}[run]
    with pytest.raises(ValueError, match=(
            rf"`batch_size` to be a positive integer\. Received: batch_size={batch_size}")):
        call()


@pytest.mark.parametrize("epochs", [-1, 1.5, "5"])
def test_epochs_must_be_a_non_negative_integer(epochs):
    with pytest.raises(ValueError, match=rf"`epochs` must be a non-negative integer\. "
                                         rf"Received: epochs={epochs!r}"):
        seed_model().fit(X, Y, epochs=epochs, verbose=0)


@pytest.mark.parametrize("split", [1.0, 1.5, -0.1, "0.2"])
def test_validation_split_must_be_in_zero_one(split):
    with pytest.raises(ValueError, match=r"`validation_split` must be a float in \[0, 1\)\. "
                                         rf"Received: validation_split={split!r}"):
        seed_model().fit(X, Y, validation_split=split, verbose=0)


def test_validation_split_leaving_no_samples():
    # Keras keeps floor(n * (1 - split)) samples for training: none here
    with pytest.raises(ValueError, match="1 samples, which is not sufficient to split"):
        seed_model().fit(X[:1], Y[:1], validation_split=0.2, verbose=0)


@pytest.mark.parametrize("verbose", [3, -1, "loud"])
def test_verbose_must_be_0_1_2_or_auto(verbose):
    with pytest.raises(ValueError, match="`verbose` must be 0, 1, 2 or 'auto'"):
        seed_model().fit(X, Y, verbose=verbose)
