"""The same seed gives bit-identical weights and history, in one process and across them."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np

import tinyann as keras

# one run: initializers, shuffling, dropout and the validation split all draw
# randomness; returns a fingerprint of the weights (exact bytes) and the history
RUN = textwrap.dedent("""
    import hashlib, json
    import numpy as np
    import tinyann as keras
    from tinyann import layers

    def run(seed):
        keras.utils.set_random_seed(seed)
        data = np.random.default_rng(123)
        x = data.random((200, 12))
        y = data.integers(0, 4, 200)
        model = keras.Sequential([keras.Input((12,)), layers.Dense(16, activation="relu"),
                                  layers.Dropout(0.3), layers.Dense(4, activation="softmax")])
        initial = hashlib.sha256(b"".join(w.tobytes() for w in model.get_weights()))
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        history = model.fit(x, y, batch_size=16, epochs=3, validation_split=0.2, verbose=0)
        final = hashlib.sha256(b"".join(w.tobytes() for w in model.get_weights()))
        preds = hashlib.sha256(model.predict(x, verbose=0).tobytes())
        return {"initial": initial.hexdigest(), "final": final.hexdigest(),
                "predict": preds.hexdigest(), "history": history.history}
""")


def _in_process(seed):
    namespace = {}
    exec(RUN, namespace)  # the same code as the child processes run
    return namespace["run"](seed)


def _in_child(seed):
    code = RUN + f"\nprint(json.dumps(run({seed})))\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=True)
    return json.loads(result.stdout)


def test_same_seed_twice_in_one_process():
    first, second = _in_process(42), _in_process(42)
    assert first == second
    assert len(first["history"]["loss"]) == 3


def test_different_seeds_differ():
    first, second = _in_process(1), _in_process(2)
    assert first["initial"] != second["initial"]
    assert first["history"] != second["history"]


def test_same_seed_across_processes():
    here = _in_process(7)
    # json turns the history floats into text and back: exact for Python floats
    assert _in_child(7) == here
    assert _in_child(7) == here


def test_seed_makes_initial_weights_repeatable():
    def kernel(seed):
        keras.utils.set_random_seed(seed)
        return keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)]).get_weights()[0]

    np.testing.assert_array_equal(kernel(0), kernel(0))
    assert not np.array_equal(kernel(0), kernel(1))
