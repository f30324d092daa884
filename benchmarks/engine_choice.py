"""The measurements behind the choice of the autodiff engine (docs/ARCHITECTURE.md).

Compares tinyann's own tape with HIPS autograd and mygrad on (1) the overhead per
recorded op (a chain of 200 multiplications of a 4-vector, forward and gradient) and
(2) one step of a 784-128-10 MLP (batch 32, ReLU, softmax cross-entropy: the loss and
the gradients of its four weights). autograd and mygrad are never dependencies: install
them in a scratch environment and run

    PYTHONPATH=. /path/to/scratch/bin/python benchmarks/engine_choice.py

Engines that are not installed are skipped.
"""

from __future__ import annotations

import time

import numpy as np


def best_of(fn, repeat=7, number=20):
    """The best time per call, in microseconds."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return min(times) * 1e6


CHAIN = 200
rng = np.random.default_rng(0)
X = rng.standard_normal((32, 784))
LABELS = rng.integers(0, 10, 32)
ONEHOT = np.eye(10)[LABELS]
PARAMS = [rng.standard_normal((784, 128)) * 0.05, np.zeros(128),
          rng.standard_normal((128, 10)) * 0.05, np.zeros(10)]


def tinyann_cases():
    from tinyann import ops
    from tinyann.autodiff import GradientTape, Tensor

    x = Tensor(np.ones(4))

    def chain():
        with GradientTape() as tape:
            tape.watch(x)
            y = x
            for _ in range(CHAIN):
                y = y * 1.0001
            s = ops.sum(y)
        tape.gradient(s, x)

    params = [Tensor(p) for p in PARAMS]

    def mlp():
        w1, b1, w2, b2 = params
        with GradientTape() as tape:
            tape.watch(params)
            h = ops.relu(ops.matmul(X, w1) + b1)
            logits = ops.matmul(h, w2) + b2
            loss = ops.mean(ops.categorical_crossentropy(ONEHOT, logits, from_logits=True))
        tape.gradient(loss, params)
    return chain, mlp


def autograd_cases():
    import autograd.numpy as anp
    from autograd import grad

    def chain_fn(x):
        y = x
        for _ in range(CHAIN):
            y = y * 1.0001
        return anp.sum(y)
    chain_grad = grad(chain_fn)

    def loss_fn(params):
        w1, b1, w2, b2 = params
        h = anp.maximum(anp.dot(X, w1) + b1, 0)
        z = anp.dot(h, w2) + b2
        z = z - anp.max(z, axis=1, keepdims=True)
        logp = z - anp.log(anp.sum(anp.exp(z), axis=1, keepdims=True))
        return -anp.mean(anp.sum(ONEHOT * logp, axis=1))
    mlp_grad = grad(loss_fn)
    x = np.ones(4)
    return (lambda: chain_grad(x)), (lambda: mlp_grad(PARAMS))


def mygrad_cases():
    import mygrad as mg

    def chain():
        x = mg.tensor(np.ones(4))
        y = x
        for _ in range(CHAIN):
            y = y * 1.0001
        mg.sum(y).backward()

    def mlp():
        w1, b1, w2, b2 = (mg.tensor(p) for p in PARAMS)
        h = mg.maximum(mg.matmul(X, w1) + b1, 0)
        z = mg.matmul(h, w2) + b2
        z = z - mg.max(z, axis=1, keepdims=True)
        logp = z - mg.log(mg.sum(mg.exp(z), axis=1, keepdims=True))
        (-mg.mean(mg.sum(ONEHOT * logp, axis=1))).backward()
    return chain, mlp


def main():
    print(f"{'engine':10s} {'per op (us)':>12s} {'MLP step (us)':>14s}")
    for name, cases in (("tinyann", tinyann_cases), ("autograd", autograd_cases),
                        ("mygrad", mygrad_cases)):
        try:
            chain, mlp = cases()
        except ImportError:
            print(f"{name:10s} not installed")
            continue
        per_op = best_of(chain) / (CHAIN + 1)
        print(f"{name:10s} {per_op:12.2f} {best_of(mlp):14.0f}")


if __name__ == "__main__":
    main()
