"""optimizers.get / serialize / deserialize, Keras's configs and auto names."""

import json
from pathlib import Path

import numpy as np
import pytest

from tinyann import backend, optimizers
from tinyann.optimizers import schedules
from tinyann.variables import Variable

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras"
CLASSES = [optimizers.SGD, optimizers.RMSprop, optimizers.Adam, optimizers.AdamW,
           optimizers.Adamax, optimizers.Adagrad, optimizers.Adadelta]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_get_from_strings(cls):
    for name in (cls.__name__, cls.__name__.lower(), cls.__name__.upper()):
        assert type(optimizers.get(name)) is cls


def test_get_instance_is_returned_as_is():
    opt = optimizers.Adam()
    assert optimizers.get(opt) is opt


def test_unknown_string_lists_valid_names():
    with pytest.raises(ValueError, match=r"Could not interpret optimizer identifier: 'adamm'.*"
                                         r"'adam'.*'rmsprop'.*'sgd'"):
        optimizers.get("adamm")


def test_unknown_class_in_config():
    with pytest.raises(ValueError, match=r"Unknown optimizer 'Muon'.*'Adam'"):
        optimizers.deserialize({"class_name": "Muon", "config": {}})


def test_other_types_raise():
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier: 3"):
        optimizers.get(3)


INSTANCES = [
    optimizers.SGD(learning_rate=0.05, momentum=0.7, nesterov=True, clipnorm=2.0),
    optimizers.RMSprop(learning_rate=0.002, rho=0.8, momentum=0.3, centered=True,
                       global_clipnorm=1.5),
    optimizers.Adam(learning_rate=0.003, beta_1=0.8, beta_2=0.99, epsilon=1e-6, amsgrad=True,
                    clipvalue=0.5),
    optimizers.AdamW(learning_rate=0.001, weight_decay=0.01),
    optimizers.Adamax(learning_rate=0.004, beta_1=0.85),
    optimizers.Adagrad(learning_rate=0.02, initial_accumulator_value=0.2, weight_decay=0.1),
    optimizers.Adadelta(learning_rate=0.5, rho=0.9, epsilon=1e-5),
    optimizers.SGD(learning_rate=schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True)),
    optimizers.Adam(learning_rate=schedules.CosineDecay(0.001, 100, alpha=0.1,
                                                        warmup_target=0.01, warmup_steps=5)),
    optimizers.RMSprop(learning_rate=schedules.PiecewiseConstantDecay([5], [0.01, 0.001])),
    optimizers.Adagrad(learning_rate=schedules.InverseTimeDecay(0.1, 4, 0.5)),
]


@pytest.mark.parametrize("opt", INSTANCES, ids=lambda o: type(o).__name__)
def test_serialize_deserialize_round_trip(opt):
    config = optimizers.serialize(opt)
    assert config["class_name"] == type(opt).__name__
    json.dumps(config)  # plain JSON, schedules included
    for restored in (optimizers.deserialize(config), optimizers.get(config)):
        assert type(restored) is type(opt)
        assert restored.get_config() == opt.get_config()
        assert restored.name == opt.name
        lr = opt.get_config()["learning_rate"]
        if isinstance(lr, dict):
            assert type(restored._learning_rate).__name__ == lr["class_name"]
            assert [restored._learning_rate(t) for t in range(12)] == [
                opt._learning_rate(t) for t in range(12)]


def test_restored_optimizer_updates_like_the_original():
    a = INSTANCES[2]
    b = optimizers.deserialize(optimizers.serialize(a))
    a = optimizers.deserialize(optimizers.serialize(a))  # a fresh one, not built yet
    va, vb = Variable(np.ones(3)), Variable(np.ones(3))
    for g in (np.array([0.3, -2.0, 1.0]), np.array([1.0, 0.1, -0.4])):
        a.apply_gradients([(g, va)])
        b.apply_gradients([(g, vb)])
    np.testing.assert_array_equal(va.numpy(), vb.numpy())


def _keras_cases():
    meta = json.loads((FIXTURES / "optimizer_parity.json").read_text(encoding="utf-8"))
    return [(c["name"], c["optimizer_class"], c["optimizer_config"]) for c in meta["cases"]]


@pytest.mark.parametrize("name, class_name, config", _keras_cases(),
                         ids=[c[0] for c in _keras_cases()])
def test_keras_configs_deserialize_and_round_trip(name, class_name, config):
    """Configs written by real Keras 3 load, and give back the same config."""
    opt = optimizers.deserialize({"class_name": class_name, "config": config})
    assert type(opt).__name__ == class_name
    assert opt.get_config() == config


def test_default_configs_equal_keras():
    defaults = json.loads((FIXTURES / "defaults.json").read_text(encoding="utf-8"))["optimizers"]
    backend.clear_session()
    try:
        for class_name, expected in defaults.items():
            assert getattr(optimizers, class_name)().get_config() == expected, class_name
    finally:
        backend.clear_session()


def test_auto_names_follow_keras():
    names = json.loads((FIXTURES / "auto_names.json").read_text(encoding="utf-8"))
    backend.clear_session()
    try:
        first = {n: getattr(optimizers, n)().name for n in names["optimizer names"]}
        second = {n: getattr(optimizers, n)().name
                  for n in names["optimizer names, second instance"]}
        assert first == names["optimizer names"]
        assert second == names["optimizer names, second instance"]
        assert optimizers.SGD(name="mine").name == "mine"
    finally:
        backend.clear_session()
