"""``keras.mixed_precision``: the global dtype policy under its Keras 2 names.

    keras.mixed_precision.set_global_policy("mixed_float16")

is accepted: layers keep float32 weights, as in Keras, and tinyann computes in float32
too (see :mod:`tinyann.dtype_policies`; the policies report ``compute_dtype`` float32).
A model built after it, with ``dtype="float32"`` on its last layer as the guides do,
trains and saves as a float32 model.
"""

from tinyann.dtype_policies import (
    DTypePolicy,
    Policy,
    dtype_policy,
    global_policy,
    set_dtype_policy,
    set_global_policy,
)

__all__ = ["DTypePolicy", "Policy", "dtype_policy", "global_policy", "set_dtype_policy",
           "set_global_policy"]
