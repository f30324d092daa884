"""Hashing: values to ``num_bins`` buckets by FarmHash, as Keras 3 (TensorFlow).

A value's bucket is ``Fingerprint64(text) % num_bins`` (``tf.strings.to_hash_bucket_fast``),
(SipHash-2-4 keyed by ``salt`` when one is given: ``to_hash_bucket_strong``),
where the text is the string itself, or the decimal text of an int (a float is first
truncated to an int, as Keras casts it). With ``mask_value``, that value is bucket 0
and the others hash into ``1 .. num_bins - 1``. The hash is ``layers/_farmhash.py``.
"""

from __future__ import annotations

import numpy as np

from tinyann import backend
from tinyann.layers import _farmhash
from tinyann.layers.category_encoding import DataLayer, encode

_MODES = ("int", "one_hot", "multi_hot", "count")


def as_hash_text(array) -> list:
    """The values of ``array`` as the strings TensorFlow hashes (flat list)."""
    if array.dtype.kind in "USO":
        return [v if isinstance(v, (str, bytes)) else str(v) for v in array.reshape(-1).tolist()]
    if array.dtype.kind == "f":
        array = array.astype("int64")  # tf.cast truncates toward zero
    if array.dtype.kind == "b":
        return ["true" if v else "false" for v in array.reshape(-1).tolist()]
    if array.dtype.kind not in "iu":
        raise ValueError(f"Hashing expects strings or numbers. Received an array of dtype "
                         f"{array.dtype}")
    return [str(v) for v in array.reshape(-1).tolist()]


class Hashing(DataLayer):
    """Hashes strings or numbers into ``num_bins`` bins (see the module docstring).

    Args:
        num_bins: the number of bins (mask bin included).
        mask_value: a value sent to bin 0 (None: no mask bin).
        salt: an int or two: SipHash-2-4 keyed by it instead of FarmHash.
        output_mode: ``'int'`` (bins, int64), ``'one_hot'``, ``'multi_hot'`` or
            ``'count'`` (float32).

    Input shape: any. Output shape: the input's in ``'int'`` mode; else the last axis
    replaced by ``num_bins`` (see ``category_encoding.encode``).

    Example:
        >>> Hashing(num_bins=3)([["A"], ["B"], ["C"]]).numpy().ravel()
        array([1, 0, 1])
    """

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False,
                 **kwargs):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else backend.floatx()
        super().__init__(**kwargs)
        if num_bins is None or num_bins <= 0:
            raise ValueError("The `num_bins` for `Hashing` cannot be `None` or non-positive "
                             f"values. Received: num_bins={num_bins}.")
        if output_mode not in _MODES:
            raise ValueError("Invalid value for argument `output_mode`. Expected one of "
                             f"{_MODES}. Received: output_mode={output_mode}")
        if output_mode == "int" and self.dtype not in ("int32", "int64"):
            raise ValueError('When `output_mode="int"`, `dtype` should be an integer type, '
                             f"'int32' or 'int64'. Received: dtype={self.dtype}")
        if sparse:
            raise NotImplementedError("tinyann's Hashing gives dense arrays (sparse=False).")
        self.num_bins = int(num_bins)
        self.mask_value = mask_value
        # with a salt: SipHash-2-4 keyed by it (tf.strings.to_hash_bucket_strong)
        self.salt = None if salt is None else _farmhash.salt_key(salt, "Hashing")
        self.output_mode = output_mode
        self.sparse = False

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        if len(input_shape) == 0:
            return (self.num_bins,)
        return tuple(input_shape[:-1]) + (self.num_bins,)

    def call(self, inputs, training=False):
        array = np.asarray(inputs)
        self._remember_shape(array)
        bins = self.num_bins
        mask = None
        if self.mask_value is not None and bins > 1:
            bins -= 1
            mask = np.asarray(array == self.mask_value, bool)
        texts = as_hash_text(array)
        # each distinct value hashed once (categorical data repeats few values)
        if self.salt is None:
            buckets = {t: _farmhash.hash_bucket(t, bins) for t in set(texts)}
        else:
            buckets = {t: _farmhash.strong_hash_bucket(t, bins, self.salt) for t in set(texts)}
        ids = np.array([buckets[t] for t in texts], "int64").reshape(array.shape)
        if mask is not None:
            ids = np.where(mask, 0, ids + 1)
        if self.output_mode == "one_hot" and ids.ndim and ids.shape[-1] == 1:
            ids = ids[..., 0]
        return encode(ids, self.output_mode, self.num_bins, self.dtype)

    def get_config(self):
        config = super().get_config()
        config.update(num_bins=self.num_bins, salt=self.salt, mask_value=self.mask_value,
                      output_mode=self.output_mode, sparse=False)
        return config
