"""Built-in datasets, as ``keras.datasets``.

    from tinyann.datasets import fashion_mnist
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()

Each dataset module has ``load_data(path=None)``, ``locate(path=None)`` (the
places looked at, in order, and what each holds), ``describe_sources()`` (the
same as text) and ``verify()`` (SHA-256 of the four files).

Environment variables:
    TINYANN_DATA_DIR: a directory with one subdirectory per dataset
        (``fashion-mnist``, ``mnist``), searched before the cache.
    TINYANN_CACHE_DIR: the tinyann cache root; datasets live in
        ``<root>/datasets/<name>``. Default ``$XDG_CACHE_HOME/tinyann`` or
        ``~/.cache/tinyann``.
    TINYANN_DATASET_MIRRORS: space-separated base URLs replacing the built-in
        mirrors (``{name}`` expands to the dataset name); empty forbids downloads.

A dataset that cannot be found raises :class:`DatasetNotFoundError`, an
``OSError`` whose message lists every place tried and how to fix it.
"""

from tinyann.datasets import fashion_mnist, imdb, mnist
from tinyann.datasets._sources import ChecksumMismatchError, DatasetNotFoundError

__all__ = ["ChecksumMismatchError", "DatasetNotFoundError", "fashion_mnist", "imdb",
           "mnist"]
from tinyann.datasets import (  # noqa: E402  Keras's other built-in datasets
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    reuters,
)

__all__ += ["boston_housing", "california_housing", "cifar10", "cifar100", "reuters"]
