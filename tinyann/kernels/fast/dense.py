"""Dense, fast: the few-unit kernel stored transposed, and products in the layout the
next step reads fastest. The math is the reference's: ``z = x @ W + b``,
``dW = x^T dz``, ``db = sum(dz)``, ``dx = dz W^T``.
"""

from __future__ import annotations

import numpy as np

# rows from which a transposed (few-unit) kernel's product is computed as x @ W: the
# two forms cost the same at 32 rows; at 128, x @ W plus the copy is 1.4x faster
ROW_MAJOR_PRODUCT_ROWS = 128

# rows up to which dx is computed transposed (see dense_backward)
FEW_ROWS_DX = 32


def dense_kernel_order(units) -> str:
    """Few units: the kernel transposed in memory (Fortran order), where OpenBLAS runs
    the skinny products about twice as fast (measured in benchmarks/); many: as is."""
    return "F" if units <= 32 else "C"


def dense_forward(x, kernel, bias):
    if kernel.flags.f_contiguous:
        # z in column-major order, in which the softmax's per-row max and sum run
        # over contiguous memory (2-3x faster)
        dtype = x.dtype if x.dtype == kernel.dtype else np.result_type(x, kernel)
        z = np.empty((kernel.shape[1], x.shape[0]), dtype).T
        if x.shape[0] < ROW_MAJOR_PRODUCT_ROWS:
            np.matmul(kernel.T, x.T, out=z.T)  # z^T = W^T x^T
        else:
            # BLAS computes x W itself 1.3-2x faster for many rows (predict's
            # chunks); the copy into column-major costs a few percent of that
            np.copyto(z, x @ kernel)
    else:
        z = x @ kernel
    if bias is not None:
        np.add(z, bias, out=z)
    return z


def dense_backward(dz, x, kernel, dkernel, dbias, need_dx=True):
    # dW = x^T dz, as (dz^T x)^T into a transposed kernel's gradient
    if dkernel.flags.c_contiguous:
        np.dot(x.T, dz, out=dkernel)
    else:
        np.dot(dz.T, x, out=dkernel.T)
    if dbias is not None:
        # the ufunc's reduce: ndarray.sum adds microseconds that matter at batch 32
        np.add.reduce(dz, axis=0, out=dbias)
    if not need_dx:
        return None
    if dz.shape[0] <= FEW_ROWS_DX and kernel.flags.c_contiguous and dz.dtype == kernel.dtype:
        # dx^T = W dz^T, then transposed: for a few rows OpenBLAS runs this form
        # faster than dz W^T (16 x 100 by the textbook CNN's 3136 x 100 kernel, one
        # thread: 0.16 against 0.25 ms with the copy; 64 rows: slower)
        return np.ascontiguousarray(np.matmul(kernel, dz.T).T)
    return dz @ kernel.T
