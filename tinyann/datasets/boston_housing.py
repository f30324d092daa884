"""Boston housing prices (StatLib, 1970s): 506 samples of 13 features, targets in k$.

Usage, as in Keras::

    (x_train, y_train), (x_test, y_test) = tinyann.datasets.boston_housing.load_data()

Keras warns against this dataset: one feature ("B") encodes an assumption about race.
``california_housing.load_data(version="small")`` is its suggested replacement.

The file is Keras's ``boston_housing.npz``; where it comes from, in order (see
``_keras_files``): ``path=`` as a file path, ``$TINYANN_DATA_DIR/boston_housing/``,
Keras's cache ``~/.keras/datasets/``, tinyann's cache (both only with Keras's SHA-256),
then a download from Keras's origin (``$TINYANN_BOSTON_HOUSING_ORIGIN`` replaces it).
"""

from __future__ import annotations

from tinyann.datasets import _keras_files, _regression

NAME = "boston_housing"
#: Keras's SHA-256 of boston_housing.npz.
NPZ_SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"
FEATURES = 13


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """The data as Keras gives them: ``(x_train, y_train), (x_test, y_test)``.

    ``x_*``: float64 ``(samples, 13)``; ``y_*``: float64 ``(samples,)``; 404 + 102 with
    the defaults.

    Args:
        path: the file name in the caches, or the path of a file of your own.
        test_split: the share kept for testing, ``0 <= test_split < 1``.
        seed: the shuffle is ``np.random.RandomState(seed).shuffle`` of the indices.
    """
    _regression.check_test_split(test_split)
    found = _keras_files.fetch("Boston housing", NAME, path, "sha256", NPZ_SHA256,
                               remote="boston_housing.npz")
    x, y = _regression.read(found, "boston_housing.npz", FEATURES)
    return _regression.shuffle_split(x, y, test_split, seed)
