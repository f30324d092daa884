"""utils.plot_model: draws the layer graph with matplotlib into an image file."""

import os

import pytest

import tinyann as keras
from tinyann import layers
from tinyann.utils import plot_model
from tinyann.utils.plot_model import _graph_of, _label, _ranks

pytest.importorskip("matplotlib")


def _cnn():
    return keras.Sequential([keras.Input((28, 28, 1)),
                             layers.Conv2D(8, 3, activation="relu", padding="same"),
                             layers.MaxPooling2D(2), layers.Flatten(),
                             layers.Dense(10, activation="softmax")])


def _branches():
    inp = keras.Input((8, 8, 3), name="pixels")
    a = layers.Conv2D(4, 3, padding="same", name="wide")(inp)
    b = layers.Conv2D(4, 1, name="narrow")(inp)
    s = layers.Add(name="sum")([a, b])
    c = layers.Concatenate(name="skip")([s, inp])
    out = layers.Dense(2, name="out")(layers.GlobalMaxPooling2D(name="pool")(c))
    return keras.Model(inp, out)


def _png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def test_writes_a_png_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "model.png"
    plot_model(_cnn(), to_file=str(path), show_shapes=True, dpi=50)
    width, height = _png_size(path)
    assert height > width > 50  # four boxes stacked top to bottom
    assert os.listdir(tmp_path) == ["model.png"]


def test_left_to_right_is_wider_than_tall(tmp_path):
    path = tmp_path / "model.png"
    plot_model(_cnn(), to_file=path, rankdir="LR", dpi=50)
    width, height = _png_size(path)
    assert width > height


def test_shapes_make_the_boxes_wider(tmp_path):
    plain, shapes = tmp_path / "plain.png", tmp_path / "shapes.png"
    plot_model(_cnn(), to_file=plain, dpi=50)
    plot_model(_cnn(), to_file=shapes, show_shapes=True, dpi=50)
    assert _png_size(shapes)[0] > _png_size(plain)[0]


def test_other_formats_by_extension(tmp_path):
    plot_model(_branches(), to_file=tmp_path / "m.svg")
    assert (tmp_path / "m.svg").read_text().lstrip().startswith("<?xml")
    plot_model(_branches(), to_file=tmp_path / "m.pdf")
    assert (tmp_path / "m.pdf").read_bytes()[:4] == b"%PDF"


def test_graph_of_a_functional_model():
    model = _branches()
    nodes, edges = _graph_of(model)
    names = [n.name for n in nodes]
    assert names == ["pixels", "wide", "narrow", "sum", "skip", "pool", "out"]
    index = {n: i for i, n in enumerate(names)}
    expected = {("pixels", "wide"), ("pixels", "narrow"), ("wide", "sum"), ("narrow", "sum"),
                ("sum", "skip"), ("pixels", "skip"), ("skip", "pool"), ("pool", "out")}
    assert {(names[a], names[b]) for a, b in edges} == expected
    # depth: the skip connection lands below the sum, not beside the input
    assert _ranks(len(nodes), edges)[index["skip"]] == 3


def test_labels_show_what_is_asked():
    model = _cnn()
    conv = model.layers[0]
    assert _label(conv, False, False, False, False, False) == ["Conv2D"]
    full = _label(conv, True, True, True, True, True)
    assert full[0] == f"{conv.name} (Conv2D)"
    assert "Activation: relu" in full
    assert "Input shape: (None, 28, 28, 1)" in full
    assert "Output shape: (None, 28, 28, 8)" in full
    assert "Output dtype: float32" in full and "Trainable: T" in full


def test_errors(tmp_path):
    with pytest.raises(ValueError, match="has not yet been built"):
        plot_model(keras.Sequential([layers.Dense(2)]), to_file=tmp_path / "m.png")
    with pytest.raises(ValueError, match=r"Cannot write a plot as '\.txt'"):
        plot_model(_cnn(), to_file=tmp_path / "m.txt")
    with pytest.raises(ValueError, match="rankdir"):
        plot_model(_cnn(), to_file=tmp_path / "m.png", rankdir="BT")
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        plot_model(_cnn(), to_file=tmp_path / "m.png", colour=True)
    assert not list(tmp_path.iterdir())


def test_available_as_keras_utils():
    assert keras.utils.plot_model is plot_model
