"""The fast kernels: the reference ops' signatures, with buffers, layouts and in-place
updates. Each speed choice is explained (with its measurement) where it is made.

Ops without a faster form here (Adamax, Adadelta, weight decay, the cross-entropy
value, global pooling) come from the reference set (its base set in ``tinyann.kernels._SETS``).
"""

# the modules holding this set's ops (tinyann.kernels collects them from these)
MODULES = ("activations", "conv", "conv_pool", "dense", "image", "losses", "optimizers",
           "pooling")
MODULES = MODULES + ("depthwise",)
