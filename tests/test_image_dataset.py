"""image_dataset_from_directory against Keras's order, split and pixels
(tests/fixtures/keras/image_folder*), and on tinyann's own: formats, errors, fit."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import tinyann as keras
from tinyann.utils import image_dataset_from_directory

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "keras"
FOLDER = FIXTURES / "image_folder"
with open(FIXTURES / "image_folder.json", encoding="utf-8") as _f:
    FACTS = json.load(_f)


def _relative(paths):
    return [str(Path(p).relative_to(FOLDER)) for p in paths]


@pytest.mark.parametrize("seed", sorted(FACTS["splits"]))
def test_split_matches_keras_for_a_seed(seed):
    fact = FACTS["splits"][seed]
    train, val = image_dataset_from_directory(FOLDER, seed=int(seed), validation_split=0.3,
                                              subset="both", image_size=(6, 8), batch_size=4,
                                              verbose=False)
    assert _relative(train.file_paths) == fact["training"]
    assert _relative(val.file_paths) == fact["validation"]
    assert train.class_names == val.class_names == fact["class_names"]
    assert len(train) == 3 and len(val) == 1


@pytest.mark.parametrize("mode", ["rgb", "grayscale", "nearest_crop", "categorical"])
def test_pixels_and_labels_match_keras(mode):
    kwargs = {"grayscale": {"color_mode": "grayscale"},
              "nearest_crop": {"interpolation": "nearest", "crop_to_aspect_ratio": True},
              "categorical": {"label_mode": "categorical"}}.get(mode, {})
    ds = image_dataset_from_directory(FOLDER, shuffle=False, image_size=(6, 8), batch_size=20,
                                      verbose=False, **kwargs)
    with np.load(FIXTURES / "image_folder.npz", allow_pickle=False) as data:
        expected_images, expected_labels = data[f"{mode}_images"], data[f"{mode}_labels"]
    assert _relative(ds.file_paths) == FACTS[f"{mode}_files"]
    images, labels = ds[0]
    assert images.dtype == np.float32 and images.shape == expected_images.shape
    # grayscale: Pillow's RGB-to-grey weights (ITU-R 601) and libpng's (TensorFlow's)
    # differ, so a grey level may be one apart before resizing, and so after it
    atol = 1.0 + 1e-3 if mode == "grayscale" else 1e-3
    np.testing.assert_allclose(images, expected_images, atol=atol)
    assert labels.dtype == expected_labels.dtype
    np.testing.assert_array_equal(labels, expected_labels)


def _folder(tmp_path, counts=(5, 4), size=(9, 7)):
    rng = np.random.default_rng(0)
    for c, n in enumerate(counts):
        (tmp_path / f"class_{c}").mkdir()
        for i in range(n):
            pixels = rng.integers(0, 256, size=size + (3,), dtype=np.uint8)
            fmt = ("png", "bmp", "gif", "jpg")[i % 4]
            Image.fromarray(pixels).save(tmp_path / f"class_{c}" / f"{i}.{fmt}")
    return tmp_path


def test_reads_every_format_and_fit_trains_on_it(tmp_path, capsys):
    folder = _folder(tmp_path)
    ds = image_dataset_from_directory(folder, image_size=(8, 8), batch_size=4, seed=1)
    assert "Found 9 files belonging to 2 classes." in capsys.readouterr().out
    assert ds.class_names == ["class_0", "class_1"]
    batches = [ds[i] for i in range(len(ds))]
    assert [b[0].shape for b in batches] == [(4, 8, 8, 3), (4, 8, 8, 3), (1, 8, 8, 3)]
    assert all(0 <= b[0].min() and b[0].max() <= 255 for b in batches)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Rescaling(1 / 255),
                              keras.layers.Flatten(), keras.layers.Dense(2)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_binary_labels_images_only_and_epoch_reshuffle(tmp_path):
    folder = _folder(tmp_path)
    ds = image_dataset_from_directory(folder, label_mode="binary", image_size=(4, 4),
                                      batch_size=9, verbose=False, seed=3)
    images, labels = ds[0]
    assert labels.shape == (9, 1) and labels.dtype == np.float32
    assert sorted(labels.ravel().tolist()) == [0.0] * 5 + [1.0] * 4
    only = image_dataset_from_directory(folder, labels=None, image_size=(4, 4), batch_size=9,
                                        verbose=False, seed=3)
    assert only.class_names is None and only[0].shape == (9, 4, 4, 3)
    first = list(ds.file_paths[i] for i in ds._order)
    ds.on_epoch_end()
    # the same files each epoch, in a new order
    assert sorted(ds.file_paths[i] for i in ds._order) == sorted(first)
    np.testing.assert_array_equal(np.sort(ds[0][1].ravel()), np.sort(labels.ravel()))


def test_corrupt_file_is_named(tmp_path):
    folder = _folder(tmp_path, counts=(2, 2))
    bad = folder / "class_1" / "broken.png"
    bad.write_bytes(b"this is not a png")
    ds = image_dataset_from_directory(folder, image_size=(4, 4), batch_size=8, shuffle=False,
                                      verbose=False)
    with pytest.raises(ValueError, match="broken.png"):
        ds[0]


@pytest.mark.parametrize("kwargs, match", [
    ({"label_mode": "sparse"}, "label_mode"),
    ({"color_mode": "cmyk"}, "color_mode"),
    ({"subset": "training"}, "validation_split"),
    ({"validation_split": 0.2, "subset": "training", "seed": None}, "seed"),
    ({"validation_split": 1.5, "subset": "training", "seed": 1}, "between 0 and 1"),
    ({"subset": "test", "validation_split": 0.2, "seed": 1}, "subset"),
    ({"class_names": ["nope"]}, "class_names"),
    ({"label_mode": "binary", "class_names": None}, "exactly 2"),
])
def test_bad_arguments(tmp_path, kwargs, match):
    folder = _folder(tmp_path, counts=(1, 1, 1))
    with pytest.raises(ValueError, match=match):
        image_dataset_from_directory(folder, verbose=False, **kwargs)
