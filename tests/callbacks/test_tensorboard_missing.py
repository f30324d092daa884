"""TensorBoard without the optional `tensorboard` package: a one-line ImportError."""

from __future__ import annotations

import sys

import pytest

import tinyann as keras


def test_without_the_package_a_one_line_error_says_what_to_install(monkeypatch, tmp_path):
    for name in list(sys.modules):
        if name == "tensorboard" or name.startswith("tensorboard."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # makes `import tensorboard` fail
    with pytest.raises(ImportError) as info:
        keras.callbacks.TensorBoard(tmp_path)
    message = str(info.value)
    assert "\n" not in message and "tinyann[tensorboard]" in message
