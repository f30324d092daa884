"""LambdaCallback: a callback made of plain functions."""

from __future__ import annotations

from tinyann.callbacks.callback import Callback


class LambdaCallback(Callback):
    """Calls the functions given for the hooks named, with Keras's arguments:
    ``on_epoch_begin(epoch, logs)``, ``on_epoch_end(epoch, logs)``,
    ``on_train_begin(logs)``, ``on_train_end(logs)``,
    ``on_train_batch_begin(batch, logs)``, ``on_train_batch_end(batch, logs)``;
    any other hook by keyword (``on_test_end=...``).

    Example:
        >>> log = keras.callbacks.LambdaCallback(
        ...     on_epoch_end=lambda epoch, logs: print(epoch, logs["loss"]))
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        hooks = dict(kwargs, on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end,
                     on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end)
        for name, fn in hooks.items():
            if fn is None:
                continue
            if name.startswith("on_") and not callable(fn):
                raise ValueError(
                    f"LambdaCallback expects a function for `{name}`. Received: {fn!r}"
                )
            # instance attributes, as Keras: CallbackList sees them as overridden hooks
            setattr(self, name, fn)
