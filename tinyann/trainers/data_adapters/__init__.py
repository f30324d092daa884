"""Data adapters: what ``fit`` / ``evaluate`` / ``predict`` read their batches from.

``ArrayData`` (in-memory arrays, checked once per call, shuffled batches gathered by
a helper thread) and ``IterableData`` (generators, ``PyDataset``-style sequences,
``tf.data``-like objects, each batch checked as it comes) give the epoch loop the
same interface: ``batches(...)`` yielding ``(xs, y, sample_weight)``,
``num_steps(batch_size)``, ``in_memory`` and ``scan_inputs(xs)``.
"""

from tinyann.trainers.data_adapters.arrays import ArrayData, as_float_chunk, scratch
from tinyann.trainers.data_adapters.finite import probe_finite, raise_if_nonfinite
from tinyann.trainers.data_adapters.inputs import (
    as_input_arrays,
    as_target_array,
    cast_inputs,
    check_batch_size,
    check_lengths,
    class_weight_to_sample_weights,
    flatten_inputs,
    is_iterable_data,
)
from tinyann.trainers.data_adapters.iterables import IterableData, unpack_batch

__all__ = ["ArrayData", "IterableData", "as_float_chunk", "as_input_arrays",
           "as_target_array", "cast_inputs", "check_batch_size", "check_lengths",
           "class_weight_to_sample_weights", "flatten_inputs", "is_iterable_data", "probe_finite",
           "raise_if_nonfinite", "scratch", "unpack_batch"]
