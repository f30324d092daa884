"""CIFAR-10: 50,000 + 10,000 colour images 32x32 in 10 classes (Krizhevsky, 2009).

Usage, as in Keras::

    (x_train, y_train), (x_test, y_test) = tinyann.datasets.cifar10.load_data()

Read from Keras's download, the "python version" archive from the CIFAR home page
(``cifar-10-python.tar.gz``, SHA-256 checked); where it comes from, and how its Python 2
pickles are read without running code, is in ``_cifar``.
"""

from __future__ import annotations

import numpy as np

from tinyann.datasets import _cifar

ARCHIVE = _cifar.Archive(
    title="CIFAR-10", name="cifar10", archive="cifar-10-python.tar.gz",
    folder="cifar-10-batches-py",
    sha256="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
    keras_names=("cifar-10-batches-py-target_archive", "cifar-10-batches-py.tar.gz"))
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"

CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
               "ship", "truck")


def load_data(path=None):
    """The images as Keras gives them: ``(x_train, y_train), (x_test, y_test)``.

    ``x_*``: uint8 ``(50000, 32, 32, 3)`` and ``(10000, 32, 32, 3)``, channels-last,
    values 0-255; ``y_*``: uint8 ``(50000, 1)`` and ``(10000, 1)``, labels 0-9
    (:data:`CLASS_NAMES`).

    Args:
        path: tinyann only (Keras takes no argument): the archive, or a folder holding the
            extracted ``cifar-10-batches-py`` or its batch files. None: the caches, then
            a download.
    """
    batches = _cifar.load_batches(ARCHIVE, path, TRAIN_BATCHES + (TEST_BATCH,), "labels")
    train = [batches[name] for name in TRAIN_BATCHES]
    x_train = np.concatenate([images for images, _ in train])
    y_train = _labels([label for _, labels in train for label in labels])
    x_test, test_labels = batches[TEST_BATCH]
    return (x_train, y_train), (x_test, _labels(test_labels))


def _labels(values) -> np.ndarray:
    """Labels as Keras's uint8 column ``(n, 1)``; values outside 0-255 are an error
    (Keras would wrap them silently)."""
    values = np.asarray(values, dtype=np.int64)
    if values.size and (values.min() < 0 or values.max() > 255):
        raise ValueError(f"CIFAR-10 labels must lie in 0-255 (uint8), found "
                         f"{values.min()}..{values.max()}")
    return values.astype(np.uint8).reshape(-1, 1)
