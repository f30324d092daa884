"""Keras's control-flow ops (``keras.ops.cond``, ``while_loop``, ``scan``, ...) and
``custom_gradient``, ``saturate_cast``.

Eager, as Keras's NumPy backend: the branches and loops are Python branches and loops
over ops, so every op they run is recorded on the open tapes and gradients flow
through them by the chain rule; no op here records a node of its own except
``custom_gradient``, whose node's gradient is the user's function.
"""

from __future__ import annotations

import numpy as np

from tinyann.autodiff import Tensor, paused, record
from tinyann.ops import numpy as knp
from tinyann.ops.core import value_of as _v

__all__ = ["cond", "switch", "while_loop", "fori_loop", "scan", "associative_scan", "map",
           "vectorized_map", "vectorize", "custom_gradient", "saturate_cast"]


def _truth(pred) -> bool:
    a = np.asarray(_v(pred))
    if a.size != 1:
        raise ValueError(f"The predicate must be a scalar. Received: pred of shape {a.shape}")
    return bool(a.reshape(()))


def cond(pred, true_fn, false_fn):
    """``true_fn()`` if ``pred`` else ``false_fn()``."""
    return true_fn() if _truth(pred) else false_fn()


def switch(index, branches, *operands):
    """``branches[index](*operands)``, the index clamped into range (as Keras)."""
    if not branches:
        raise ValueError("Argument `branches` must be a non-empty list of callables. "
                         "Received: branches=[]")
    i = int(np.clip(int(np.asarray(_v(index))), 0, len(branches) - 1))
    return branches[i](*operands)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Applies ``body`` to ``loop_vars`` while ``cond(*loop_vars)`` holds, at most
    ``maximum_iterations`` times. A tuple/list of loop variables is unpacked into
    ``cond`` and ``body``; a single one is passed as is. Returns the same structure."""
    is_seq = isinstance(loop_vars, (list, tuple))
    state = tuple(loop_vars) if is_seq else (loop_vars,)
    count = 0
    while (maximum_iterations is None or count < maximum_iterations) and _truth(cond(*state)):
        new = body(*state)
        if is_seq:
            new = tuple(new) if isinstance(new, (list, tuple)) else (new,)
            if len(new) != len(state):
                raise ValueError(f"body must return as many loop variables as it received. "
                                 f"Expected {len(state)}, received {len(new)}")
        else:
            new = (new,)
        state = new
        count += 1
    if not is_seq:
        return state[0]
    return list(state) if isinstance(loop_vars, list) else state


def fori_loop(lower, upper, body_fun, init_val):
    """``init_val`` through ``body_fun(i, val)`` for i in [lower, upper)."""
    val = init_val
    for i in range(int(np.asarray(_v(lower))), int(np.asarray(_v(upper)))):
        val = body_fun(i, val)
    return val


def _leaves(tree):
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in _leaves(item)]
    if isinstance(tree, dict):
        return [leaf for k in sorted(tree) for leaf in _leaves(tree[k])]
    return [tree]


def _index_tree(tree, i):
    """Element ``i`` along axis 0 of every leaf of ``tree``."""
    if isinstance(tree, (list, tuple)):
        return type(tree)(_index_tree(t, i) for t in tree)
    if isinstance(tree, dict):
        return {k: _index_tree(v, i) for k, v in tree.items()}
    return knp.take(tree, i, axis=0) if isinstance(tree, Tensor) or hasattr(tree, "value") \
        else np.asarray(tree)[i]


def _stack_tree(items):
    """The per-step outputs ``items`` stacked along a new axis 0, leaf by leaf."""
    first = items[0]
    if isinstance(first, (list, tuple)):
        return type(first)(_stack_tree([it[j] for it in items]) for j in range(len(first)))
    if isinstance(first, dict):
        return {k: _stack_tree([it[k] for it in items]) for k in first}
    if first is None:
        return None
    return knp.stack(items, axis=0)


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """``carry, y = f(carry, x)`` over the leading axis of ``xs`` (or ``length`` times
    with x = None); returns (the last carry, the ys stacked)."""
    if xs is None:
        if length is None:
            raise ValueError("scan needs `xs` or `length`. Received: xs=None, length=None")
        n = int(length)
    else:
        n = int(np.shape(_v(_leaves(xs)[0]))[0])
        if length is not None and int(length) != n:
            raise ValueError(f"`length` ({length}) does not match the leading axis of xs ({n})")
    carry, ys = init, []
    order = range(n - 1, -1, -1) if reverse else range(n)
    for i in order:
        carry, y = f(carry, None if xs is None else _index_tree(xs, i))
        ys.append(y)
    if reverse:
        ys.reverse()
    return carry, (_stack_tree(ys) if ys else None)


def map(f, xs):
    """``f`` applied to each slice of ``xs`` along axis 0, the results stacked."""
    n = int(np.shape(_v(_leaves(xs)[0]))[0])
    return _stack_tree([f(_index_tree(xs, i)) for i in range(n)])


def vectorized_map(function, elements):
    """As ``map`` (a Python loop here: the same values as a vectorized map)."""
    return map(function, elements)


def associative_scan(f, elems, reverse=False, axis=0):
    """The inclusive scan of the associative ``f`` along ``axis``: out[0] = x[0],
    out[i] = f(out[i-1], x[i]) (sequential here; the same values as a tree scan)."""
    leaves = _leaves(elems)
    n = int(np.shape(_v(leaves[0]))[axis])

    def at(tree, i):
        if isinstance(tree, (list, tuple)):
            return type(tree)(at(t, i) for t in tree)
        if isinstance(tree, dict):
            return {k: at(v, i) for k, v in tree.items()}
        return knp.expand_dims(knp.take(tree, i, axis=axis), axis)

    def cat(items):
        first = items[0]
        if isinstance(first, (list, tuple)):
            return type(first)(cat([it[j] for it in items]) for j in range(len(first)))
        if isinstance(first, dict):
            return {k: cat([it[k] for it in items]) for k in first}
        return knp.concatenate(items, axis=axis)

    order = list(range(n - 1, -1, -1)) if reverse else list(range(n))
    outs = [at(elems, order[0])]
    for i in order[1:]:
        outs.append(f(outs[-1], at(elems, i)) if not reverse else f(at(elems, i), outs[-1]))
    if reverse:
        outs.reverse()
    return cat(outs)


def custom_gradient(f):
    """Decorator: ``f(*args)`` returns ``(output, grad_fn)`` and the decorated
    function returns ``output``, whose gradient is ``grad_fn(upstream)`` (Keras's
    JAX/TensorFlow convention; a ``grad_fn(*args, upstream=None)`` works too).

    ``grad_fn`` returns one gradient per argument (a single value for one argument).
    ``f``'s own ops are not recorded: its node's gradient is ``grad_fn`` alone. Written
    with ops, ``grad_fn`` is differentiable again.
    """
    import functools

    @functools.wraps(f)
    def wrapper(*args):
        with paused():
            result = f(*args)
        if not (isinstance(result, tuple) and len(result) == 2 and callable(result[1])):
            raise ValueError("A function decorated with custom_gradient must return "
                             "(output, grad_fn). Received: " + type(result).__name__)
        output, grad_fn = result
        if isinstance(output, (list, tuple, dict)):
            raise NotImplementedError("custom_gradient supports one tensor output in "
                                      "tinyann. Received: " + type(output).__name__)
        value = np.asarray(_v(output))

        def vjp(g):
            grads = grad_fn(g)
            if not isinstance(grads, (list, tuple)):
                grads = (grads,)
            if len(grads) != len(args):
                raise ValueError(f"custom_gradient's grad_fn must return one gradient per "
                                 f"argument: expected {len(args)}, received {len(grads)}")
            return tuple(grads)
        return record(value, args, vjp, differentiable=True)
    return wrapper


def saturate_cast(x, dtype):
    """``x`` clipped into ``dtype``'s range, then cast (no wrap-around)."""
    from tinyann.ops.core import cast
    dt = np.dtype(dtype)
    a = np.asarray(_v(x))
    if np.issubdtype(dt, np.integer) or dt == np.bool_:
        info = np.iinfo(dt) if dt != np.bool_ else None
        lo, hi = (0, 1) if info is None else (info.min, info.max)
        if np.issubdtype(a.dtype, np.integer):
            # integer bounds compared exactly (no float rounding)
            src = np.iinfo(a.dtype)
            lo, hi = max(lo, src.min), min(hi, src.max)
            return cast(knp.clip(x, lo, hi), dt)
        # float to int: the bound as the largest float not above it
        hi_f = np.nextafter(np.asarray(hi, a.dtype), np.asarray(-np.inf, a.dtype)) \
            if float(np.asarray(hi, a.dtype)) > hi else np.asarray(hi, a.dtype)
        return cast(knp.clip(x, float(lo), float(hi_f)), dt)
    if np.issubdtype(dt, np.floating) and np.issubdtype(a.dtype, np.floating) and \
            np.finfo(dt).max < np.finfo(a.dtype).max:
        info = np.finfo(dt)
        return cast(knp.clip(x, float(info.min), float(info.max)), dt)
    return cast(x, dt)


def _core_dims(signature):
    """``"(n),(n,m)->(m)"`` -> ([("n",), ("n", "m")], [("m",)])."""
    import re
    try:
        left, right = signature.replace(" ", "").split("->")
    except ValueError:
        raise ValueError(f"Invalid `signature`: expected '(dims),...->(dims),...'. "
                         f"Received: signature={signature!r}") from None

    def groups(side):
        found = re.findall(r"\(([^()]*)\)", side)
        return [tuple(d for d in g.split(",") if d) for g in found]
    return groups(left), groups(right)


def vectorize(pyfunc, *, excluded=None, signature=None):
    """``pyfunc`` mapped over the broadcast leading (loop) axes of its arguments, as
    ``numpy.vectorize``: without ``signature`` every element is a call; with one
    (``"(n),(n)->()"``) the named trailing axes are given whole to each call.
    Arguments whose position is in ``excluded`` are passed as they are. A Python
    loop over ops: gradients flow through each call."""
    import functools
    excluded = set(excluded or ())
    ins = _core_dims(signature)[0] if signature else None

    @functools.wraps(pyfunc)
    def wrapper(*args):
        pos = [i for i in range(len(args)) if i not in excluded]
        core = ins if ins is not None else [()] * len(pos)
        if len(core) != len(pos):
            raise ValueError(f"The signature {signature!r} has {len(core)} inputs; the call "
                             f"passed {len(pos)} (besides the excluded ones)")
        shapes = [np.shape(_v(args[i])) for i in pos]
        loops = [s[:len(s) - len(c)] for s, c in zip(shapes, core)]
        batch = np.broadcast_shapes(*loops)
        if batch == ():
            return pyfunc(*args)
        full = list(args)
        for i, s, c in zip(pos, shapes, core):
            full[i] = knp.broadcast_to(args[i], batch + s[len(s) - len(c):])
        results = []
        for idx in np.ndindex(*batch):
            call = [knp.getitem(full[i], idx) if i in pos else a for i, a in enumerate(full)]
            results.append(pyfunc(*call))

        def shaped(tree):
            if isinstance(tree, (list, tuple)):
                return type(tree)(shaped(t) for t in tree)
            return knp.reshape(tree, batch + tuple(np.shape(_v(tree))[1:]))
        return shaped(_stack_tree(results))
    return wrapper
