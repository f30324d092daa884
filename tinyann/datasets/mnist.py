"""MNIST: 70000 28x28 grey images of handwritten digits 0-9 (LeCun, Cortes, Burges).

Usage, as in Keras::

    (x_train, y_train), (x_test, y_test) = tinyann.datasets.mnist.load_data()

Functions are those of ``fashion_mnist``: ``load_data(path=None)``,
``locate(path=None)``, ``describe_sources(path=None)``, ``verify(path=None)``.

Unlike Keras, which downloads one ``mnist.npz``, this reads the four classic
IDX files (gzip or not). Places, in order: ``path=`` alone if given;
``$TINYANN_DATA_DIR/mnist``; the tinyann cache ``<root>/datasets/mnist``; then a
download from :data:`MIRRORS` (or ``$TINYANN_DATASET_MIRRORS``). Debian has no
MNIST package and Keras's cache holds only its ``.npz``, so neither is searched.

Raises:
    DatasetNotFoundError (an ``OSError``): no place had valid files.
"""

from __future__ import annotations

from tinyann.datasets import _sources

#: SHA-256 of each *decompressed* IDX file. Source: lunal-dev/kettle,
#: examples/training/mnist/download.py (MNIST_FILES); the same four values are
#: published in several other projects, and the sizes they imply match
#: (16 + 60000*784 bytes etc.). A module-level dict so tests can patch it.
SHA256 = {
    _sources.TRAIN_IMAGES: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    _sources.TRAIN_LABELS: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    _sources.TEST_IMAGES: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    _sources.TEST_LABELS: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

#: Base URLs serving ``<file>.gz``: PyTorch's mirror, the CVDF mirror, then
#: LeCun's original page (which now often refuses automated downloads).
MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]

# None: no Debian package ships MNIST (checked with apt-cache search mnist).
DEBIAN_PACKAGE = None
DEBIAN_DIR = None


def _spec() -> _sources.DatasetSpec:
    return _sources.spec_from_globals(globals(), name="mnist", title="MNIST")


load_data, locate, describe_sources, verify = _sources.module_functions(
    _spec, labels="labels are the digits 0-9", module=__name__
)
