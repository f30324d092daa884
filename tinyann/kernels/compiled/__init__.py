"""The compiled kernels (numba): the NumPy set's signatures, fused into single passes.

Loaded as the ``fast`` set when numba is installed (``pip install 'tinyann[fast]'``);
``TINYANN_KERNELS=numpy`` (or ``reference``) turns it off. numba itself is imported
on the first call of a kernel, never at ``import tinyann`` (see ``jit.py``). Ops
not defined here, and shapes a kernel does not take, run the NumPy set's code.
"""

from tinyann.kernels import jit

if not jit.available():
    raise ImportError("numba is not installed: pip install 'tinyann[fast]'")

# the modules holding this set's ops (tinyann.kernels collects them from these)
MODULES = ("conv", "conv_pool", "image", "losses", "optimizers", "pooling", "recurrent")
MODULES = MODULES + ("depthwise",)
