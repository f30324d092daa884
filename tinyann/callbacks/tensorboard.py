"""TensorBoard: event files of scalars, histograms and the model config, as Keras 3 writes them.

The files are written with the ``tensorboard`` package's own event writer and summary
protos (no TensorFlow), an optional extra: ``pip install 'tinyann[tensorboard]'``.

Keras 3's layout and tags (recorded from Keras 3.15 in
``tests/fixtures/keras/tensorboard_facts.json``):

- ``log_dir/train``: ``keras`` (the model's JSON config, step 0) when ``write_graph``;
  ``epoch_<metric>`` and ``epoch_learning_rate`` at step ``epoch``; ``batch_<metric>`` at the
  global batch number (from 1, not reset per epoch) when ``update_freq`` is ``'batch'`` or an
  integer; ``<weight path>/histogram`` at step ``epoch`` every ``histogram_freq`` epochs.
- ``log_dir/validation``: ``epoch_<metric>`` (the ``val_`` prefix removed) at step ``epoch``
  and ``evaluation_<metric>_vs_iterations`` at the optimizer's iteration count.

With an integer ``update_freq=N``, Keras records a summary only while the step of the writer
most recently made current (the global train batch in training, the global test batch in
validation) is a multiple of N; epoch summaries are then kept or dropped with it. This
callback follows that rule so its files match Keras's.
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np

from tinyann.callbacks.callback import Callback

_INSTALL_HINT = ("The TensorBoard callback needs the `tensorboard` package: "
                 "pip install 'tinyann[tensorboard]' (or pip install tensorboard)")


def _tensorboard_modules():
    """The tensorboard pieces used here, or ImportError saying what to install."""
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.plugins.histogram import summary_v2 as histogram_summary
        from tensorboard.plugins.scalar import summary_v2 as scalar_summary
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
        from tensorboard.util import tensor_util
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    return {"event_pb2": event_pb2, "summary_pb2": summary_pb2,
            "histogram": histogram_summary, "scalar": scalar_summary,
            "EventFileWriter": EventFileWriter, "tensor_util": tensor_util}


class TensorBoard(Callback):
    """Writes logs TensorBoard shows: metrics per epoch (and per batch), weight histograms.

    Args:
        log_dir: directory of the runs; ``train`` and ``validation`` are made inside.
        histogram_freq: every how many epochs to write the weights' histograms (0: never).
        write_graph: write the model's config (TensorBoard's "Graphs" tab, conceptual view).
        write_images: accepted for Keras's signature; weight images are not written (a warning).
        write_steps_per_second: also write ``epoch_steps_per_second`` and
            ``batch_steps_per_second``.
        update_freq: ``'epoch'``, ``'batch'`` (= 1) or an integer N: batch scalars every N
            batches.
        profile_batch: must be 0; profiling is not available (as Keras's NumPy backend).
        embeddings_freq: every how many epochs to save the weights to
            ``train/keras_embedding.ckpt-<epoch>.weights.h5`` (as Keras 3).
        embeddings_metadata: accepted for Keras's signature; unused (as Keras 3).

    Raises:
        ImportError: when the ``tensorboard`` package is not installed.
        ValueError: for a bad ``update_freq``, ``histogram_freq`` or a non-zero
            ``profile_batch``.

    Example:
        >>> tb = keras.callbacks.TensorBoard(log_dir="logs", histogram_freq=1)
        >>> model.fit(x, y, epochs=5, validation_split=0.2, callbacks=[tb])
        >>> # then: tensorboard --logdir logs
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        self._tb = _tensorboard_modules()
        if profile_batch:
            raise ValueError(
                "Profiling is not yet available with the numpy backend. Received: "
                f"profile_batch={profile_batch} (must be 0)")
        if update_freq != "epoch" and update_freq != "batch" and not (
                isinstance(update_freq, (int, np.integer)) and not isinstance(update_freq, bool)
                and update_freq > 0):
            raise ValueError(
                "Expected `update_freq` to be 'epoch', 'batch' or a positive integer. "
                f"Received: update_freq={update_freq!r}")
        for name, value in (("histogram_freq", histogram_freq),
                            ("embeddings_freq", embeddings_freq)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"Expected `{name}` to be a non-negative integer. "
                                 f"Received: {name}={value!r}")
        self.log_dir = str(os.fspath(log_dir))
        self.histogram_freq = int(histogram_freq)
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.embeddings_freq = int(embeddings_freq)
        self.embeddings_metadata = embeddings_metadata
        if write_images:
            warnings.warn("TensorBoard(write_images=True): weight images are not written by "
                          "tinyann; histograms and scalars are.", UserWarning, stacklevel=2)
        self._writers = {}
        # Keras's summary context: a stack of (run, step); the top is the default writer
        # and, for an integer update_freq, decides whether anything is recorded.
        self._stack = []
        self._global_train_batch = 0
        self._global_test_batch = 0
        self._batch_start_time = 0.0
        self._epoch_start_time = 0.0
        self._epoch_start_iterations = 0

    # ------------------------------------------------------------------ writers
    def set_model(self, model):
        super().set_model(model)
        self._train_dir = os.path.join(self.log_dir, "train")
        self._val_dir = os.path.join(self.log_dir, "validation")
        if self.write_graph:
            self._write_model_config()

    def _writer(self, run):
        if run not in self._writers:
            directory = self._train_dir if run == "train" else self._val_dir
            os.makedirs(directory, exist_ok=True)
            self._writers[run] = self._tb["EventFileWriter"](directory)
        return self._writers[run]

    def _recording(self):
        if self.update_freq == "epoch" or not self._stack:
            return True
        return self._stack[-1][1] % self.update_freq == 0

    def _push(self, run, step):
        if self.update_freq != "epoch":
            self._stack.append((run, step))

    def _pop(self):
        if self.update_freq != "epoch" and self._stack:
            self._stack.pop()

    def _add(self, run, summary, step):
        if not self._recording():
            return
        event = self._tb["event_pb2"].Event(wall_time=time.time(), step=int(step),
                                            summary=summary)
        self._writer(run).add_event(event)

    def _scalar(self, run, tag, value, step):
        self._add(run, self._tb["scalar"].scalar_pb(tag, float(np.asarray(value))), step)

    def _close_writers(self):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def _write_model_config(self):
        """The model's JSON config under the tag ``keras`` (TensorBoard's graph_keras_model)."""
        try:
            config = self.model.to_json()
        except Exception as exc:  # a model that cannot be serialized still trains, as Keras
            warnings.warn(f"Model failed to serialize as JSON. Ignoring... {exc}", stacklevel=3)
            return
        summary_pb2 = self._tb["summary_pb2"]
        metadata = summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(
                plugin_name="graph_keras_model", content=b"1"))
        tensor = self._tb["tensor_util"].make_tensor_proto(np.array(config, dtype=object))
        summary = summary_pb2.Summary(
            value=[summary_pb2.Summary.Value(tag="keras", tensor=tensor, metadata=metadata)])
        self._add("train", summary, 0)
        self._writer("train").flush()

    # -------------------------------------------------------------------- hooks
    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        self._push("train", 0)

    def on_train_end(self, logs=None):
        self._pop()
        self._close_writers()

    def on_test_begin(self, logs=None):
        self._push("validation", self._global_test_batch)

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "iterations"):
            for name, value in (logs or {}).items():
                self._scalar("validation", f"evaluation_{name}_vs_iterations", value,
                             int(optimizer.iterations))
        self._pop()
        if "validation" in self._writers:
            self._writers["validation"].flush()

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.update_freq != "epoch":
            self._pop()
            self._push("train", self._global_train_batch)
        if self.write_steps_per_second:
            self._batch_start_time = time.time()

    def on_train_batch_end(self, batch, logs=None):
        # Keras writes batch scalars to the default writer, which exists only when
        # update_freq is not 'epoch'
        if self.update_freq == "epoch" or not self._stack:
            return
        run = self._stack[-1][0]
        if self.write_steps_per_second:
            elapsed = max(time.time() - self._batch_start_time, 1e-9)
            self._scalar(run, "batch_steps_per_second", 1.0 / elapsed, self._global_train_batch)
        if logs is not None and hasattr(logs, "items") and self._recording():
            for name, value in logs.items():
                self._scalar(run, f"batch_{name}", value, self._global_train_batch)

    def on_test_batch_begin(self, batch, logs=None):
        self._global_test_batch += 1
        if self.update_freq != "epoch":
            self._pop()
            self._push("validation", self._global_test_batch)

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._epoch_start_iterations = int(getattr(self.model.optimizer, "iterations", 0))
            self._epoch_start_time = time.time()

    def on_epoch_end(self, epoch, logs=None):
        self._log_epoch_metrics(epoch, logs)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            os.makedirs(self._train_dir, exist_ok=True)
            self.model.save_weights(os.path.join(
                self._train_dir, f"keras_embedding.ckpt-{epoch}.weights.h5"))
        for writer in self._writers.values():
            writer.flush()

    # ------------------------------------------------------------------ summaries
    def _log_epoch_metrics(self, epoch, logs):
        if not logs:
            return
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "learning_rate"):
            train_logs["learning_rate"] = float(np.asarray(optimizer.learning_rate))
        if self.write_steps_per_second:
            elapsed = max(time.time() - self._epoch_start_time, 1e-9)
            steps = int(getattr(optimizer, "iterations", 0)) - self._epoch_start_iterations
            train_logs["steps_per_second"] = steps / elapsed
        for name, value in train_logs.items():
            self._scalar("train", f"epoch_{name}", value, epoch)
        for name, value in val_logs.items():
            self._scalar("validation", f"epoch_{name}", value, epoch)

    def _log_weights(self, epoch):
        histogram = self._tb["histogram"]
        for layer in self.model.layers:
            for weight in layer.weights:
                tag = f"{weight.path.replace(':', '_')}/histogram"
                data = np.asarray(weight.numpy() if hasattr(weight, "numpy") else weight,
                                  dtype=np.float64)
                self._add("train", histogram.histogram_pb(tag, data), epoch)
