"""Keras's rule for a layer called with positional arguments after its inputs: they
go to ``call`` by the names of its parameters (``sampler(z_mean, z_log_var)`` for
``call(self, z_mean, z_log_var)``; ``layer(x, True)`` for ``call(self, x, training)``)."""

from __future__ import annotations

import inspect

_CALL_PARAMETERS: dict = {}   # class -> the names of its call's positional parameters


def positional_arguments(layer, args, training, kwargs):
    """Puts ``args`` (given after the inputs) into ``kwargs`` under the names of the
    layer's ``call`` parameters; returns ``training`` (set if one of them is it)."""
    cls = type(layer)
    names = _CALL_PARAMETERS.get(cls)
    if names is None:
        names = []
        try:
            params = list(inspect.signature(cls.call).parameters.values())[2:]
        except (TypeError, ValueError):
            params = []
        for p in params:
            if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                break
            names.append(p.name)
        _CALL_PARAMETERS[cls] = names
    if len(args) > len(names):
        raise TypeError(
            f"Layer '{layer.name}' ({cls.__name__}): `call` takes {len(names) + 1} positional "
            f"argument(s) (the inputs and {names}); received {len(args) + 1}.")
    for name, value in zip(names, args):
        if name == "training":
            training = value
        elif name in kwargs:
            raise TypeError(f"Layer '{layer.name}': got multiple values for argument {name!r}")
        else:
            kwargs[name] = value
    return training
