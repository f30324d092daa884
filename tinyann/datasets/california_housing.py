"""California housing prices (1990 US census, StatLib): 20,640 block groups, 8 features,
targets in dollars.

Usage, as in Keras::

    (x_train, y_train), (x_test, y_test) = tinyann.datasets.california_housing.load_data(
        version="small")

Features: median income, house age, average rooms, average bedrooms, population,
average occupancy, latitude, longitude. ``version="small"`` keeps the file's first 600
samples (before shuffling), as Keras does.

The file is Keras's ``california_housing.npz``; where it comes from, in order (see
``_keras_files``): ``path=`` as a file path, ``$TINYANN_DATA_DIR/california_housing/``,
Keras's cache ``~/.keras/datasets/``, tinyann's cache (both only with Keras's SHA-256),
then a download from Keras's origin (``$TINYANN_CALIFORNIA_HOUSING_ORIGIN`` replaces it).
"""

from __future__ import annotations

from tinyann.datasets import _keras_files, _regression

NAME = "california_housing"
#: Keras's SHA-256 of california_housing.npz.
NPZ_SHA256 = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"
FEATURES = 8
SMALL = 600  # samples in version="small"


def load_data(version="large", path="california_housing.npz", test_split=0.2, seed=113):
    """The data as Keras gives them: ``(x_train, y_train), (x_test, y_test)``.

    ``x_*``: float ``(samples, 8)``; ``y_*``: float ``(samples,)``; 16512 + 4128 for
    ``"large"``, 480 + 120 for ``"small"`` with the default split.

    Args:
        version: ``"large"`` (all samples) or ``"small"`` (the first 600).
        path: the file name in the caches, or the path of a file of your own.
        test_split: the share kept for testing, ``0 <= test_split < 1``.
        seed: the shuffle is ``np.random.RandomState(seed).shuffle`` of the indices.
    """
    _regression.check_test_split(test_split)
    if version not in ("small", "large"):
        raise ValueError("Argument `version` must be one of 'small', 'large'. "
                         f"Received: version={version}")
    found = _keras_files.fetch("California housing", NAME, path, "sha256", NPZ_SHA256,
                               remote="california_housing.npz")
    x, y = _regression.read(found, "california_housing.npz", FEATURES)
    if version == "small":
        x, y = x[:SMALL], y[:SMALL]
    return _regression.shuffle_split(x, y, test_split, seed)
