"""The reference kernels: the textbook math in plain NumPy, no buffers, no layout tricks.

This set is the specification: the fast set is tested against it on tables of
shapes (tests/kernels/), and the numerical gradient checks run on it. Conventions:
arrays are float32 in training (float64 in gradient checks); ``out=`` arguments
receive the result when given (the fast set may compute in them directly);
backward functions write (not add) the weights' gradients into the arrays given.
"""

# the modules holding this set's ops (tinyann.kernels collects them from these)
MODULES = ("activations", "conv", "conv_pool", "conv_transpose", "dense", "image", "losses",
           "optimizers", "pooling", "recurrent")
MODULES = MODULES + ("depthwise",)
MODULES = MODULES + ("volume",)
