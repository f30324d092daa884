"""`tinyann run` serves Keras's built-in datasets under ``keras.datasets.*`` and
``tensorflow.keras.datasets.*`` (the shims' module table names them)."""

import importlib

import pytest

from tinyann.runner.shims import modules

NAMES = ("boston_housing", "california_housing", "cifar10", "cifar100", "reuters", "imdb",
         "mnist", "fashion_mnist")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("root", ["keras", "tensorflow.keras"])
def test_each_dataset_module_is_served(root, name):
    served = modules.module(f"{root}.datasets.{name}")
    target = importlib.import_module(f"tinyann.datasets.{name}")
    assert served.load_data is target.load_data
