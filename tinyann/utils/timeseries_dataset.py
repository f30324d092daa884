"""``keras.utils.timeseries_dataset_from_array``: sliding windows over a series, in
batches (*Deep Learning with Python*'s temperature forecasting).

Window ``i`` starts at ``start_index + p_i`` with ``p_i = i * sequence_stride`` (the
``p_i`` shuffled once with ``np.random.RandomState(seed)``, as Keras does) and takes
``sequence_length`` rows ``sampling_rate`` apart; its target is
``targets[start_index + p_i]``.
"""

from __future__ import annotations

import numpy as np

from tinyann.utils.batched_dataset import BatchedDataset


class TimeseriesDataset(BatchedDataset):
    """Batches of windows ``(batch, sequence_length, ...)`` (with their targets)."""

    def __init__(self, data, targets, positions, sequence_length, sampling_rate,
                 batch_size, shuffle, seed):
        super().__init__()
        self._data, self._targets = data, targets
        self._positions = positions
        self._offsets = np.arange(sequence_length) * sampling_rate
        self._batch_size = batch_size
        self._shuffle = shuffle
        self._rng = np.random.default_rng(seed)
        self._order = np.arange(len(positions))

    def __len__(self):
        if self._batch_size is None:
            return len(self._positions)
        return -(-len(self._positions) // self._batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index {index} out of range for {len(self)} batches.")
        size = self._batch_size or 1
        starts = self._positions[self._order[index * size:(index + 1) * size]]
        windows = self._data[starts[:, None] + self._offsets]  # one gather for the batch
        if self._batch_size is None:
            windows, starts = windows[0], starts[0]
        if self._targets is None:
            return windows
        return windows, self._targets[starts]

    def on_epoch_end(self):
        # tf.data shuffles the windows again each pass (its buffer; here all of them)
        if self._shuffle:
            self._order = self._rng.permutation(len(self._positions))


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1,
                                  sampling_rate=1, batch_size=128, shuffle=False, seed=None,
                                  start_index=None, end_index=None, format="tf"):
    """Windows of ``data`` (rows are time steps) with ``targets`` (or None), in batches.

    Returns a dataset ``fit`` takes, of ``(windows, targets)`` batches: windows of
    shape ``(batch_size, sequence_length) + data.shape[1:]``.
    """
    data = np.asarray(data)
    length = len(data)
    if start_index:
        if start_index < 0:
            raise ValueError("`start_index` must be 0 or greater. Received: "
                             f"start_index={start_index}")
        if start_index >= length:
            raise ValueError("`start_index` must be lower than the length of the data. "
                             f"Received: start_index={start_index}, for data of length "
                             f"{length}")
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError("`end_index` must be higher than `start_index`. Received: "
                             f"start_index={start_index}, and end_index={end_index} ")
        if end_index >= length:
            raise ValueError("`end_index` must be lower than the length of the data. "
                             f"Received: end_index={end_index}, for data of length {length}")
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: end_index={end_index}")
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if value <= 0:
            raise ValueError(f"`{name}` must be higher than 0. Received: {name}={value}")
        if value >= length:
            raise ValueError(f"`{name}` must be lower than the length of the data. "
                             f"Received: {name}={value}, for data of length {length}")
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')
    start = start_index or 0
    stop = end_index if end_index is not None else length
    count = stop - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        count = min(count, len(targets))
    positions = np.arange(0, max(count, 0), sequence_stride)
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(positions)
    window_data = data[start:stop]
    window_targets = None if targets is None else np.asarray(targets)[start:stop]
    return TimeseriesDataset(window_data, window_targets, positions, sequence_length,
                             sampling_rate, batch_size, shuffle, seed)
