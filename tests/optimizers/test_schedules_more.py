"""PolynomialDecay and CosineDecayRestarts: Keras 3.15's values step by step
(tests/fixtures/keras/api_facts.json, tools/keras_reference/make_api_facts.py), configs,
errors, and use in an optimizer and in saved configs."""

import json
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras
from tinyann.optimizers import schedules

FACTS = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "keras" /
                    "api_facts.json").read_text(encoding="utf-8"))["schedules"]
S = keras.optimizers.schedules
CASES = {
    "poly": lambda: S.PolynomialDecay(0.1, 100, 0.001, power=0.5),
    "poly_cycle": lambda: S.PolynomialDecay(0.1, 30, 0.01, power=2.0, cycle=True),
    "poly_default": lambda: S.PolynomialDecay(1.0, 7),
    "sgdr": lambda: S.CosineDecayRestarts(0.1, 10),
    "sgdr_t1": lambda: S.CosineDecayRestarts(0.05, 7, t_mul=1.0, m_mul=0.8, alpha=0.1),
    "sgdr_t3": lambda: S.CosineDecayRestarts(0.2, 5, t_mul=3.0, m_mul=0.5, alpha=0.01),
    "sgdr_t15": lambda: S.CosineDecayRestarts(0.2, 13, t_mul=1.5, m_mul=0.9),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_keras(name):
    schedule = CASES[name]()
    got = np.array([schedule(step) for step in FACTS["steps"]], dtype=np.float32)
    expected = np.array(FACTS["cases"][name]["values"], dtype=np.float32)
    if name.startswith("poly"):
        np.testing.assert_array_equal(got, expected)  # the same float32 operations
    else:
        # float32 too; NumPy's cos and TensorFlow's differ in the last bit at some steps
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", sorted(CASES))
def test_configs_match_keras_and_round_trip(name):
    schedule = CASES[name]()
    assert schedule.get_config() == FACTS["cases"][name]["config"]
    entry = schedules.serialize(schedule)
    assert entry["module"] == "keras.optimizers.schedules"
    assert entry["class_name"] == type(schedule).__name__
    back = schedules.deserialize(entry)
    assert type(back) is type(schedule) and back.get_config() == schedule.get_config()
    assert back(17) == schedule(17)


def test_errors():
    with pytest.raises(ValueError, match="decay_steps"):
        S.PolynomialDecay(0.1, 0)
    with pytest.raises(ValueError, match="first_decay_steps"):
        S.CosineDecayRestarts(0.1, 0)


def test_optimizer_follows_the_schedule_and_saves_it():
    schedule = S.PolynomialDecay(0.1, 4, end_learning_rate=0.0)
    opt = keras.optimizers.SGD(learning_rate=schedule)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(opt, "mse")
    model.fit(np.ones((8, 2), "float32"), np.ones((8, 1), "float32"), batch_size=4,
              epochs=1, verbose=0)
    assert opt.iterations == 2
    assert float(opt.learning_rate) == pytest.approx(0.05)
    config = opt.get_config()
    assert config["learning_rate"]["class_name"] == "PolynomialDecay"
    again = keras.optimizers.SGD.from_config(config)
    assert isinstance(again._learning_rate, S.PolynomialDecay)
    assert again._learning_rate.get_config() == schedule.get_config()
