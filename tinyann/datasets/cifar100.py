"""CIFAR-100: 50,000 + 10,000 colour images 32x32 in 100 classes, grouped into 20
superclasses (Krizhevsky, 2009).

Usage, as in Keras::

    (x_train, y_train), (x_test, y_test) = tinyann.datasets.cifar100.load_data("coarse")

Read from Keras's download, the "python version" archive from the CIFAR home page
(``cifar-100-python.tar.gz``, SHA-256 checked); where it comes from, and how its Python
2 pickles are read without running code, is in ``_cifar``.
"""

from __future__ import annotations

import numpy as np

from tinyann.datasets import _cifar

ARCHIVE = _cifar.Archive(
    title="CIFAR-100", name="cifar100", archive="cifar-100-python.tar.gz",
    folder="cifar-100-python",
    sha256="85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",
    keras_names=("cifar-100-python-target_archive", "cifar-100-python.tar.gz"))


def load_data(label_mode="fine", path=None):
    """The images as Keras gives them: ``(x_train, y_train), (x_test, y_test)``.

    ``x_*``: uint8 ``(50000, 32, 32, 3)`` and ``(10000, 32, 32, 3)``, channels-last;
    ``y_*``: int64 ``(50000, 1)`` and ``(10000, 1)`` (Keras's code gives int64 here,
    though its docstring says uint8): 0-99 (``"fine"``) or 0-19 (``"coarse"``).

    Args:
        label_mode: ``"fine"`` (100 classes) or ``"coarse"`` (20 superclasses).
        path: tinyann only (Keras has no such argument): the archive, or a folder holding
            the extracted ``cifar-100-python`` or its ``train`` and ``test`` files.
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError('`label_mode` must be one of `"fine"`, `"coarse"`. '
                         f"Received: label_mode={label_mode}.")
    batches = _cifar.load_batches(ARCHIVE, path, ("train", "test"), f"{label_mode}_labels")
    (x_train, y_train), (x_test, y_test) = batches["train"], batches["test"]
    return ((x_train, np.asarray(y_train, dtype=np.int64).reshape(-1, 1)),
            (x_test, np.asarray(y_test, dtype=np.int64).reshape(-1, 1)))
