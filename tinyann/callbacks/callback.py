"""Callback base class and CallbackList, with every Keras hook."""

from __future__ import annotations

_BATCH_HOOKS = (
    "on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end",
    "on_predict_batch_begin", "on_predict_batch_end",
)


class Callback:
    """Base class: override the hooks you need. ``self.model`` and ``self.params``
    (``epochs``, ``steps``, ``verbose``) are set before training starts."""

    def __init__(self):
        self.model = None
        self.params = {}
        self.validation_data = None

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_batch_begin(self, batch, logs=None):
        """Keras 2's name for ``on_train_batch_begin``."""

    def on_batch_end(self, batch, logs=None):
        """Keras 2's name for ``on_train_batch_end``."""

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass


def overrides(callback, hook: str) -> bool:
    """Whether ``callback`` does something in ``hook`` (so per-batch calls can be skipped)."""
    # hooks set on the instance count too (LambdaCallback, ModelCheckpoint(save_freq=N))
    own = getattr(callback, "__dict__", {})
    if hook in own or (hook in ("on_train_batch_begin", "on_train_batch_end")
                       and hook.replace("_train", "") in own):
        return True
    method = getattr(type(callback), hook, None)
    if method is None:
        return False
    if method is not getattr(Callback, hook):
        return True
    # the train hooks forward to Keras 2's on_batch_* names
    legacy = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}
    if hook in legacy:
        return getattr(type(callback), legacy[hook]) is not getattr(Callback, legacy[hook])
    return False


class CallbackList:
    """Calls every callback's hook in order; a failing callback is named in the error.

    Batch hooks go only to callbacks that override them, so callbacks that do
    nothing per batch cost nothing per batch.
    """

    def __init__(self, callbacks=None, model=None, **params):
        self.callbacks = list(callbacks or [])
        self.model = model
        self.params = params
        for cb in self.callbacks:
            if model is not None:
                cb.set_model(model)
            cb.set_params(params)
        self._batch = {hook: [cb for cb in self.callbacks if overrides(cb, hook)]
                       for hook in _BATCH_HOOKS}

    def wants(self, hook: str) -> bool:
        return bool(self._batch[hook])

    def _call(self, hook, *args):
        targets = self._batch[hook] if hook in self._batch else self.callbacks
        if args and args[-1] is None:
            # Keras 3 gives every hook a dict, empty where there is nothing to say
            args = args[:-1] + ({},)
        for cb in targets:
            try:
                getattr(cb, hook)(*args)
            except Exception as error:
                if getattr(error, "_tinyann_named", False):
                    raise
                error._tinyann_named = True
                note = f"raised in callback {type(cb).__name__}.{hook}"
                if hasattr(error, "add_note"):
                    error.add_note(note)
                if error.args and isinstance(error.args[0], str):
                    error.args = (f"{error.args[0]} ({note})",) + error.args[1:]
                raise

    def __getattr__(self, hook):
        if hook.startswith("on_"):
            return lambda *args: self._call(hook, *args)
        raise AttributeError(hook)
