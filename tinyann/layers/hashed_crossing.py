"""HashedCrossing: the cross of categorical features, hashed into ``num_bins`` bins,
as Keras 3 (``tf.sparse.cross_hashed``).

Row ``i``'s bin is ``FingerprintCat64`` folded over its feature values (a string by
its FarmHash fingerprint, an int by its own value) from TensorFlow's hash key, modulo
``num_bins`` (``layers/_farmhash.py``).
"""

from __future__ import annotations

import numpy as np

from tinyann import backend
from tinyann.layers import _farmhash
from tinyann.layers.category_encoding import DataLayer, encode


class HashedCrossing(DataLayer):
    """Crosses two or more int or string features into ``num_bins`` bins.

    Args:
        num_bins: the number of bins.
        output_mode: ``'int'`` (int64 bins) or ``'one_hot'`` (float32).

    Input: a list of at least two arrays of equal shape ``()``, ``(batch,)`` or
    ``(batch, 1)``. Output shape: that shape in ``'int'`` mode; ``(batch, num_bins)``
    in ``'one_hot'`` mode.

    Example:
        >>> HashedCrossing(num_bins=5)([np.array([1, 2]), np.array(["a", "b"])]).numpy()
        array([0, 4])
    """

    def __init__(self, num_bins, output_mode="int", sparse=False, name=None, dtype=None,
                 **kwargs):
        if output_mode == "int" and dtype is None:
            dtype = "int64"
        super().__init__(name=name, dtype=dtype, **kwargs)
        if output_mode not in ("int", "one_hot"):
            raise ValueError("Unknown value for `output_mode` argument of HashedCrossing. "
                             "Allowed values are: ('int', 'one_hot'). Received: "
                             f"output_mode={output_mode}")
        if sparse:
            raise NotImplementedError("tinyann's HashedCrossing gives dense arrays "
                                      "(sparse=False).")
        if not isinstance(num_bins, (int, np.integer)) or num_bins <= 0:
            raise ValueError(f"`num_bins` must be a positive integer. Received: "
                             f"num_bins={num_bins}")
        self.num_bins = int(num_bins)
        self.output_mode = output_mode
        self.sparse = False

    def _takes_list(self) -> bool:
        return True

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) < 2 or not all(
                isinstance(s, (list, tuple)) for s in input_shape):
            raise ValueError("Expected as input a list/tuple of 2 tensors. Received "
                             f"input_shape={input_shape}")
        first = tuple(input_shape[0])
        if any(tuple(s)[-1:] != first[-1:] for s in input_shape[1:]):
            raise ValueError("Expected the two input tensors to have identical shapes. "
                             f"Received input_shape={input_shape}")
        if self.output_mode == "int":
            return first
        if first and first[-1] != 1:
            return first + (self.num_bins,)
        return first[:-1] + (self.num_bins,)

    def call(self, inputs, training=False):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError("`HashedCrossing` should be called on a list or tuple of "
                             f"inputs. Received: inputs={inputs}")
        if len(inputs) < 2:
            raise ValueError("`HashedCrossing` should be called on at least two inputs. "
                             f"Received: inputs={inputs}")
        arrays = [np.asarray(x) for x in inputs]
        self._remember_shape(arrays)
        shape = arrays[0].shape
        if len(shape) > 2 or (len(shape) == 2 and shape[-1] != 1):
            raise ValueError("All `HashedCrossing` inputs should have shape `()`, "
                             f"`(batch_size)` or `(batch_size, 1)`. Received shapes: "
                             f"{[a.shape for a in arrays]}")
        if any(a.shape != shape for a in arrays[1:]):
            raise ValueError("All `HashedCrossing` inputs should have equal shape. Received "
                             f"shapes: {[a.shape for a in arrays]}")
        columns = []
        for a in arrays:
            if a.dtype.kind == "f" and np.all(a == np.round(a)):
                a = a.astype("int64")  # a graph's float32 copy of int features
            if a.dtype.kind not in "iuUSO":
                raise ValueError("All `HashedCrossing` inputs should have an integer or "
                                 f"string dtype. Received dtypes: "
                                 f"{[str(x.dtype) for x in arrays]}")
            columns.append(a.reshape(-1).tolist())
        rows = list(zip(*columns))
        # each distinct combination hashed once
        buckets = {row: _farmhash.cross_bucket(row, self.num_bins) for row in set(rows)}
        ids = np.array([buckets[row] for row in rows], "int64").reshape(shape)
        dtype = self.dtype if self.dtype.startswith(("int", "float")) else backend.floatx()
        return encode(ids, self.output_mode, self.num_bins, dtype)

    def get_config(self):
        return {"num_bins": self.num_bins, "output_mode": self.output_mode, "sparse": False,
                "name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("trainable", None)
        dtype = config.get("dtype")
        if isinstance(dtype, dict):
            config["dtype"] = (dtype.get("config") or {}).get("name")
        return cls(**config)
