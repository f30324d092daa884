"""Activation ops, reference set against the NumPy fast set: microseconds per call.

    python benchmarks/activations.py [--names gelu silu ...]

For a Dense layer's batch (32 x 128) and a Conv2D's output (32 x 26 x 26 x 32), float32,
forward ``f(x, out)`` and backward (``b(y, g, out)``, or ``b(x, y, g, out)`` for the ops
whose derivative needs the input), best of 3 rounds. The numbers in
tinyann/kernels/fast/activations.py's docstring come from this script. Never part of the
test suite.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import timeit

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tinyann import kernels  # noqa: E402
from tinyann.kernels.reference.activations import FROM_INPUT  # noqa: E402

SHAPES = {"dense 32x128": (32, 128), "conv 32x26x26x32": (32, 26, 26, 32)}
DEFAULT = ["relu", "softmax", "leaky_relu", "elu", "selu", "silu", "gelu", "softplus", "mish",
           "hard_silu"]


def per_call(fn, n):
    return min(timeit.repeat(fn, number=n, repeat=3)) / n * 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", nargs="*", default=DEFAULT)
    args = parser.parse_args()
    sets = {"reference": kernels.functions_of("reference"),
            "numpy": kernels.functions_of("numpy")}
    rng = np.random.default_rng(0)
    for label, shape in SHAPES.items():
        x = rng.normal(size=shape).astype("float32")
        g = rng.normal(size=shape).astype("float32")
        n = 200 if x.size < 10_000 else 10
        print(f"{label}: forward / backward, us")
        for name in args.names:
            row = []
            for functions in sets.values():
                forward, backward = functions[f"{name}_forward"], functions[f"{name}_backward"]
                out = np.empty_like(x)
                y = forward(x)
                first = (x, y) if name in FROM_INPUT else (y,)
                calls = (functools.partial(forward, x, out),
                         functools.partial(backward, *first, g, out))
                for call in calls:  # a first call: the allocator settles its arenas
                    call()
                row.append(tuple(per_call(call, n) for call in calls))
            (rf, rb), (ff, fb) = row
            print(f"  {name:12s} reference {rf:9.1f} {rb:9.1f}   numpy {ff:9.1f} {fb:9.1f}")


if __name__ == "__main__":
    main()
