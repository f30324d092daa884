"""Embedding: integer ids -> rows of a trainable table (the textbook's word vectors)."""

from __future__ import annotations

import warnings

import numpy as np

from tinyann import initializers, kernels, regularizers
from tinyann.layers._kernel_layer import is_positive_int
from tinyann.layers.layer import Layer


class Embedding(Layer):
    """Maps each id in ``[0, input_dim)`` to a row of ``embeddings (input_dim, output_dim)``.

    Args:
        input_dim: the vocabulary size (the largest id + 1).
        output_dim: the size of each vector.
        embeddings_initializer: Keras's default draws uniformly from [-0.05, 0.05].
        embeddings_regularizer: optional penalty on the table.
        mask_zero: whether id 0 is padding: the next layers get a mask
            ``(batch, steps)``, false at the zeros, and the recurrent layers keep
            their state over those steps (Keras's masking).
        input_length: Keras 2's argument; Keras 3 warns and ignores it, and so does this.

    Input shape: ``(batch, steps)`` integers. Output shape: ``(batch, steps, output_dim)``.

    Backward: ``dE[v] = sum of dL/doutput over the positions where the id is v``.
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 weights=None, lora_rank=None, quantization_config=None,
                 activity_regularizer=None, **kwargs):
        if "input_length" in kwargs:
            kwargs.pop("input_length")
            warnings.warn("Argument `input_length` is deprecated. Just remove it.",
                          stacklevel=2)
        for name, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not is_positive_int(value):
                raise ValueError(f"Received an invalid value for `{name}`, expected a "
                                 f"positive integer. Received: {name}={value!r}")
        if embeddings_constraint is not None or lora_rank is not None or (
                activity_regularizer is not None or quantization_config is not None):
            raise NotImplementedError(
                "embeddings_constraint, activity_regularizer, lora_rank and "
                "quantization_config are not supported by tinyann yet")
        super().__init__(**kwargs)
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        if embeddings_initializer == "uniform":  # Keras's 'uniform' is +-0.05
            embeddings_initializer = initializers.RandomUniform(-0.05, 0.05)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.mask_zero = bool(mask_zero)
        self._initial_weights = weights
        self.embeddings = None
        self._ids = None

    def build(self, input_shape):
        self.embeddings = self.add_weight((self.input_dim, self.output_dim),
                                          self.embeddings_initializer, name="embeddings",
                                          regularizer=self.embeddings_regularizer)
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def compute_mask(self, inputs, mask=None):
        """Keras's mask: ``inputs != 0`` with ``mask_zero``, else None."""
        return None if not self.mask_zero else np.asarray(inputs) != 0

    def _as_ids(self, inputs):
        ids = np.asarray(inputs)
        if ids.dtype.kind == "f":
            if not np.all(np.isfinite(ids)) or np.any(ids != np.round(ids)):
                raise ValueError(f"Layer '{self.name}' expects integer ids; received "
                                 "values with a fractional part (or NaN/inf)")
        ids = ids.astype(np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= self.input_dim):
            raise ValueError(
                f"Layer '{self.name}': ids must be in [0, {self.input_dim}) (input_dim="
                f"{self.input_dim}). Received ids from {ids.min()} to {ids.max()}")
        return ids

    def call(self, inputs, training=False):
        ids = self._as_ids(inputs)
        out = kernels.embedding_forward(ids, self.embeddings.value)
        if training:
            self._ids = ids
        return out

    def backward(self, grad_output):
        kernels.embedding_backward(grad_output, self._ids, self.embeddings.grad)
        # ids have no gradient; a zero array keeps the graph's bookkeeping simple
        return np.zeros(self._ids.shape, grad_output.dtype) if self._needs_input_grad else None

    def get_config(self):
        config = super().get_config()
        config.update(
            input_dim=self.input_dim, output_dim=self.output_dim,
            embeddings_initializer=initializers.serialize(self.embeddings_initializer),
            embeddings_regularizer=regularizers.serialize(self.embeddings_regularizer),
            activity_regularizer=None, embeddings_constraint=None,
            mask_zero=self.mask_zero)
        return config
