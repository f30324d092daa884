"""Discretization: floats to the index of their bin, as Keras 3.

``x`` goes to bin ``i`` where ``bin_boundaries[i-1] <= x < bin_boundaries[i]``
(``np.digitize``; values and boundaries compared in float32, as TensorFlow's
Bucketize). ``adapt`` estimates ``num_bins - 1`` boundaries at equal quantiles with
Keras's mergeable summary, reproduced step for step (``_QuantileSummary``) so the
boundaries are Keras's own, not NumPy's exact quantiles.
"""

from __future__ import annotations

import numpy as np

from tinyann.layers.category_encoding import DataLayer, as_array, encode, encoded_shape

_MODES = ("int", "one_hot", "multi_hot", "count")


class _QuantileSummary:
    """Keras's quantile sketch: a sorted row of values and a row of weights (counts),
    kept to about ``1 / epsilon`` columns.

    - a batch: its sorted values taken every ``step = max(n * epsilon, 1)`` positions
      (from position ``step - 1``), each weighing ``step``;
    - merging: the columns of both summaries sorted by value, then compressed;
    - compressing to ``epsilon``: the values (and the cumulative weights) interpolated at
      the cumulative fractions ``epsilon, 2 epsilon, ... , 1``, when the summary has at
      least ``1 / epsilon`` columns;
    - the boundaries for ``num_bins``: the summary compressed to ``1 / num_bins``, its
      values but the last.
    """

    def __init__(self, epsilon):
        self.epsilon = epsilon
        self.table = np.zeros((2, 0), "float32")

    def add(self, values) -> None:
        values = np.sort(np.asarray(values, "float32").reshape(-1))
        step = max(values.size / (1.0 / self.epsilon), 1)
        picked = values[int(step - 1)::int(step)]
        batch = np.stack([picked, np.ones_like(picked) * step])
        both = np.concatenate((batch, self.table), axis=1)
        self.table = _compress(both[:, np.argsort(both[0])], self.epsilon)

    def boundaries(self, num_bins) -> list:
        return _compress(self.table, 1.0 / num_bins)[0, :-1].tolist()


def _compress(table, epsilon):
    if table.shape[1] * epsilon < 1:
        return table
    fractions = epsilon + np.arange(0.0, 1.0, epsilon)
    cumulative = table[1].cumsum()
    at = cumulative / cumulative[-1]
    values = np.interp(fractions, at, table[0])
    cumulative = np.interp(fractions, at, cumulative)
    weights = np.diff(cumulative, prepend=0.0)
    return np.stack((values, weights)).astype("float32")


class Discretization(DataLayer):
    """Buckets floats by boundaries, given or adapted (see the module docstring).

    Args:
        bin_boundaries: sorted boundaries (``len + 1`` bins), or None with ``num_bins``.
        num_bins: the number of bins ``adapt`` makes.
        epsilon: the summary's error tolerance (about ``1 / epsilon`` values kept).
        output_mode: ``'int'`` (int32 indices), ``'one_hot'``, ``'multi_hot'`` or
            ``'count'`` (float32).

    Input shape: any. Output shape: the input's in ``'int'`` mode; else see
    ``category_encoding.encode``.

    Example:
        >>> Discretization(bin_boundaries=[0., 1.])([[-1., 0.5, 2.]]).numpy()
        array([[0, 1, 2]], dtype=int32)
    """

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int",
                 sparse=False, dtype=None, name=None, **kwargs):
        kwargs.pop("trainable", None)
        super().__init__(name=name, dtype=dtype, **kwargs)
        if sparse:
            raise NotImplementedError("tinyann's Discretization gives dense arrays "
                                      "(sparse=False).")
        if output_mode not in _MODES:
            raise ValueError("Unknown value for `output_mode` argument of Discretization. "
                             f"Allowed values are: {_MODES}. Received: "
                             f"output_mode={output_mode}")
        if num_bins is not None and num_bins < 0:
            raise ValueError("`num_bins` must be greater than or equal to 0. Received: "
                             f"`num_bins={num_bins}`")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError("Both `num_bins` and `bin_boundaries` should not be set. "
                             f"Received: `num_bins={num_bins}` and "
                             f"`bin_boundaries={bin_boundaries}`")
        if num_bins is None and bin_boundaries is None:
            raise ValueError("You need to set either `num_bins` or `bin_boundaries`.")
        if bin_boundaries is not None:
            bin_boundaries = [float(b) for b in np.asarray(bin_boundaries).reshape(-1)]
            if any(b > a for b, a in zip(bin_boundaries, bin_boundaries[1:])):
                raise ValueError("`bin_boundaries` must be sorted in increasing order. "
                                 f"Received: bin_boundaries={bin_boundaries}")
        self.bin_boundaries = bin_boundaries
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = False
        self._summary = None

    @property
    def output_dtype(self) -> str:
        return "int32" if self.output_mode == "int" else self.dtype

    def adapt(self, data, steps=None):
        """Estimates ``num_bins - 1`` boundaries from ``data``: an array, or a dataset or
        iterable of batches (each summarized, then merged)."""
        if self.num_bins is None:
            raise ValueError("Cannot adapt a Discretization layer that has been initialized "
                             "with `bin_boundaries`, use `num_bins` instead.")
        summary = _QuantileSummary(self.epsilon)
        if isinstance(data, np.ndarray) or hasattr(data, "numpy") or not hasattr(
                data, "__iter__"):
            batches = [as_array(data)]
        else:
            batches = data
        for step, batch in enumerate(batches):
            if steps is not None and step >= steps:
                break
            batch = batch[0] if isinstance(batch, tuple) else batch
            values = np.asarray(as_array(batch), "float32")
            if not np.all(np.isfinite(values)):
                raise ValueError(f"Layer '{self.name}' cannot adapt to NaN or infinite "
                                 "values.")
            summary.add(values)
        if summary.table.shape[1] == 0:
            raise ValueError(f"Layer '{self.name}' received no data to adapt to.")
        self._summary = summary
        self.bin_boundaries = summary.boundaries(self.num_bins)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = (len(self.bin_boundaries) + 1 if self.bin_boundaries is not None
                 else self.num_bins)
        return encoded_shape(input_shape, self.output_mode, depth)

    def call(self, inputs, training=False):
        if self.bin_boundaries is None:
            raise ValueError(
                "You need to either pass the `bin_boundaries` argument at construction time "
                "or call `adapt(dataset)` before you can start using the `Discretization` "
                "layer.")
        array = as_array(inputs)
        self._remember_shape(array)
        if array.dtype.kind not in "biuf":
            raise ValueError(f"Layer '{self.name}' expected numeric input, but received an "
                             f"array of dtype {array.dtype}.")
        ids = np.digitize(array.astype("float32"),
                          np.asarray(self.bin_boundaries, "float32")).astype("int64")
        return encode(ids, self.output_mode, len(self.bin_boundaries) + 1, self.output_dtype)

    def get_config(self):
        return {"bin_boundaries": self.bin_boundaries, "num_bins": self.num_bins,
                "epsilon": self.epsilon, "output_mode": self.output_mode, "sparse": False,
                "name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        dtype = config.get("dtype")
        if isinstance(dtype, dict):
            config["dtype"] = (dtype.get("config") or {}).get("name")
        if config.get("bin_boundaries") is not None and config.get("num_bins") is not None:
            boundaries = config.pop("bin_boundaries")
            layer = cls(**config)
            layer.bin_boundaries = boundaries
            return layer
        return cls(**config)
