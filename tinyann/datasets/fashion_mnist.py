"""Fashion-MNIST: 70000 28x28 grey images of clothes in 10 classes (Zalando).

Usage, as in Keras::

    (x_train, y_train), (x_test, y_test) = tinyann.datasets.fashion_mnist.load_data()

Functions:
    load_data(path=None): the arrays, uint8; x_train (60000, 28, 28),
        y_train (60000,), x_test (10000, 28, 28), y_test (10000,).
    locate(path=None): list of ``PlaceReport`` (place, ok, detail), one per
        place looked at, in order; downloads nothing.
    describe_sources(path=None): the same as printable text.
    verify(path=None): list of ``FileCheck`` (name, path, expected, actual, ok),
        freshly hashing the files of the first place that has all four.

Places, in order: ``path=`` alone if given; ``$TINYANN_DATA_DIR/fashion-mnist``;
the tinyann cache (``$TINYANN_CACHE_DIR``, ``$XDG_CACHE_HOME/tinyann`` or
``~/.cache/tinyann``, then ``/datasets/fashion-mnist``); Keras's cache
``~/.keras/datasets/fashion-mnist``; Debian's package ``dataset-fashion-mnist``
in :data:`DEBIAN_DIR`; then a download from :data:`MIRRORS` (or
``$TINYANN_DATASET_MIRRORS``) into the tinyann cache. Details in ``_sources``.

Raises:
    DatasetNotFoundError (an ``OSError``): no place had valid files; the message
    lists each place with why it failed, and how to fix it.
"""

from __future__ import annotations

from tinyann.datasets import _sources

#: SHA-256 of each *decompressed* file, so any gzip recompression passes.
#: Measured from Debian's dataset-fashion-mnist; a module-level dict so tests can patch it.
SHA256 = {
    _sources.TRAIN_IMAGES: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    _sources.TRAIN_LABELS: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    _sources.TEST_IMAGES: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    _sources.TEST_LABELS: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}

#: Base URLs serving ``<file>.gz``: Keras's mirror first, then Zalando's original host.
MIRRORS = [
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
]

DEBIAN_PACKAGE = "dataset-fashion-mnist"
DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
KERAS_SUBDIR = "fashion-mnist"

CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def _spec() -> _sources.DatasetSpec:
    return _sources.spec_from_globals(globals(), name="fashion-mnist", title="Fashion-MNIST")


load_data, locate, describe_sources, verify = _sources.module_functions(
    _spec, labels="labels 0-9 index :data:`CLASS_NAMES`", module=__name__
)
