"""TextVectorization: strings to token ids (or multi-hot, counts, TF-IDF), as Keras 3.

    vectorize = layers.TextVectorization(max_tokens=20000, output_sequence_length=600)
    vectorize.adapt(texts)                  # the vocabulary, most frequent first
    ids = vectorize(["the cat sat"])        # (1, 600) int64
    train_ds = train_ds.map(lambda x, y: (vectorize(x), y))

Each string is standardised (lower case, punctuation stripped), split on whitespace,
optionally joined into n-grams, and looked up: in ``'int'`` mode id 0 is padding (the
mask token ``''``) and 1 the out-of-vocabulary token ``'[UNK]'``; the other modes have
no padding id, so ``'[UNK]'`` is 0. ``adapt`` sorts the tokens by count, ties by the
token itself, both descending (Keras's order), and keeps ``max_tokens`` in all.

tinyann runs it on data (eagerly, or in ``dataset.map``): strings are not inputs of
tinyann's models, so it cannot be a layer inside one.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from tinyann.layers.keras_tensor import is_symbolic
from tinyann.layers.layer import Layer

# Keras's punctuation (tf.strings.regex_replace with this class)
_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
_MODES = ("int", "multi_hot", "count", "tf_idf")
MASK, OOV = "", "[UNK]"


def _strings(inputs) -> list:
    """The input strings as a flat list (a batch ``(n,)`` or ``(n, 1)``, or one)."""
    array = np.asarray(inputs.numpy() if hasattr(inputs, "numpy") else inputs, dtype=object)
    if array.ndim == 2:
        if array.shape[-1] != 1:
            raise ValueError(
                "When using `TextVectorization` to tokenize strings, the input rank must be "
                "1 or the last shape dimension must be 1. Received: "
                f"inputs.shape={array.shape} with rank={array.ndim}")
        array = array[:, 0]
    if array.ndim > 2:
        raise ValueError(f"TextVectorization expects strings of shape (batch,) or (batch, 1)."
                         f" Received: inputs.shape={array.shape}")
    flat = array.reshape(-1)
    return [s.decode("utf-8") if isinstance(s, bytes) else str(s) for s in flat]


class TextVectorization(Layer):
    """Strings to token ids or token vectors (see the module docstring).

    Args:
        max_tokens: the vocabulary's size, special tokens included (None: all).
        standardize: ``'lower_and_strip_punctuation'``, ``'lower'``,
            ``'strip_punctuation'``, None, or a function of a list of strings.
        split: ``'whitespace'``, ``'character'``, None, or a function string -> tokens.
        ngrams: None, n, or a tuple of sizes: the n-grams (joined by spaces) as tokens.
        output_mode: ``'int'`` (ids), ``'multi_hot'``, ``'count'`` or ``'tf_idf'``.
        output_sequence_length: ``'int'`` ids padded with 0 or cut to this length
            (None: to the batch's longest).
        pad_to_max_tokens: vectors of ``max_tokens`` columns in the other modes.
        vocabulary: a list of tokens (or a file of one per line) instead of ``adapt``.
        idf_weights: with ``'tf_idf'`` and a given vocabulary, one weight per token.
    """

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation",
                 split="whitespace", ngrams=None, output_mode="int",
                 output_sequence_length=None, pad_to_max_tokens=False, vocabulary=None,
                 idf_weights=None, sparse=False, ragged=False, encoding="utf-8", name=None,
                 **kwargs):
        kwargs.pop("dtype", None)
        super().__init__(name=name, **kwargs)
        if output_mode not in _MODES:
            raise ValueError(f"Invalid value for argument `output_mode`. Expected one of "
                             f"{list(_MODES)}. Received: output_mode={output_mode}")
        if max_tokens is not None and max_tokens < 1:
            raise ValueError(f"`max_tokens` must be greater than or equal to 1. Received: "
                             f"max_tokens={max_tokens}")
        if output_sequence_length is not None and output_mode != "int":
            raise ValueError("`output_sequence_length` must not be set if `output_mode` is "
                             f"not 'int'. Received output_sequence_length="
                             f"{output_sequence_length}.")
        if sparse or ragged:
            raise NotImplementedError("tinyann's TextVectorization gives dense arrays "
                                      "(sparse=False, ragged=False).")
        self.max_tokens = max_tokens
        self.standardize = standardize
        self.split = split
        self.ngrams = (tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else
                       None if ngrams is None else tuple(ngrams))
        self._ngrams_arg = ngrams
        self.output_mode = output_mode
        self.output_sequence_length = output_sequence_length
        self.pad_to_max_tokens = pad_to_max_tokens
        self.encoding = encoding
        self._vocabulary = None  # learned tokens, without the special ones
        self._idf = None
        self._given_vocabulary = vocabulary is not None
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # ------------------------------------------------------------ tokens
    def _special(self) -> list:
        return [MASK, OOV] if self.output_mode == "int" else [OOV]

    def _texts(self, inputs) -> list:
        """The inputs as standardised strings. A function given as ``standardize`` gets
        the whole batch (an object array of strings, as Keras gives it a string tensor:
        ``tf.strings.lower`` and ``regex_replace`` take it)."""
        texts = _strings(inputs)
        if callable(self.standardize):
            return _strings(self.standardize(np.array(texts, dtype=object)))
        if self.standardize in ("lower", "lower_and_strip_punctuation"):
            texts = [t.lower() for t in texts]
        if self.standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
            texts = [_PUNCTUATION.sub("", t) for t in texts]
        return texts

    def _tokens(self, text: str) -> list:
        if self.split is None:
            tokens = [text]
        elif self.split == "whitespace":
            tokens = text.split()
        elif self.split == "character":
            tokens = list(text)
        else:
            tokens = list(self.split(text))
        if self.ngrams is None:
            return tokens
        return [" ".join(tokens[i:i + n]) for n in self.ngrams
                for i in range(len(tokens) - n + 1)]

    # ------------------------------------------------------------ vocabulary
    def adapt(self, data, batch_size=None, steps=None):
        """Learns the vocabulary (and the IDF weights) from strings: an array or list, or
        a dataset of batches of strings."""
        if self._given_vocabulary:
            raise ValueError("Cannot adapt a TextVectorization layer whose vocabulary was "
                             "given.")
        counts, documents, seen = Counter(), Counter(), 0
        batches = data if hasattr(data, "__iter__") and not isinstance(
            data, (str, bytes, np.ndarray, list, tuple)) else [data]
        for step, batch in enumerate(batches):
            if steps is not None and step >= steps:
                break
            for text in self._texts(batch):
                tokens = self._tokens(text)
                counts.update(tokens)
                documents.update(set(tokens))
                seen += 1
        for special in self._special():
            counts.pop(special, None)
        # counts descending, ties by the token descending: Keras's np.lexsort order
        ordered = sorted(counts, key=lambda t: (counts[t], t.encode("utf-8")), reverse=True)
        if self.max_tokens:
            ordered = ordered[:max(self.max_tokens - len(self._special()), 0)]
        self._vocabulary = ordered
        if self.output_mode == "tf_idf":
            idf = np.log(1 + seen / (1 + np.array([documents[t] for t in ordered], "float64")))
            self._idf = self._idf_with_specials(idf.astype("float32"))
        self.built = True

    def _idf_with_specials(self, idf):
        """Keras pads the special tokens' weights with the mean weight (and, with
        pad_to_max_tokens, the columns past the vocabulary with 0)."""
        mean = idf.mean() if len(idf) else 0.0
        idf = np.concatenate([np.full(len(self._special()), mean, "float32"), idf])
        if self.pad_to_max_tokens and self.max_tokens:
            idf = np.pad(idf, (0, max(self.max_tokens - len(idf), 0)))
        return idf

    def set_vocabulary(self, vocabulary, idf_weights=None):
        if isinstance(vocabulary, str):  # a file, one token per line
            with open(vocabulary, encoding=self.encoding) as f:
                vocabulary = [line.rstrip("\n") for line in f]
        tokens = [t.decode(self.encoding) if isinstance(t, bytes) else str(t)
                  for t in vocabulary]
        special = self._special()
        if tokens[:len(special)] == special:
            tokens = tokens[len(special):]
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError("`idf_weights` must be set if output_mode is 'tf_idf'.")
            weights = np.asarray(idf_weights, "float32")
            if len(weights) == len(tokens):
                weights = self._idf_with_specials(weights)[:len(special) + len(tokens)]
            self._idf = weights
        self._vocabulary = tokens
        self.built = True

    def get_vocabulary(self, include_special_tokens=True) -> list:
        tokens = list(self._vocabulary or [])
        return (self._special() + tokens) if include_special_tokens else tokens

    def vocabulary_size(self) -> int:
        return len(self.get_vocabulary())

    # ------------------------------------------------------------ calling
    def __call__(self, inputs, training=None, **kwargs):
        if is_symbolic(inputs):
            raise NotImplementedError(
                "tinyann runs TextVectorization on data (eagerly, or in `dataset.map`), not "
                "inside a model: strings are not inputs of tinyann's models. Vectorize the "
                "texts first and give the model the ids.")
        return self.call(inputs)

    def call(self, inputs):
        if self._vocabulary is None:
            raise ValueError("TextVectorization has no vocabulary: call `adapt(data)` or give "
                             "`vocabulary=` first.")
        single = isinstance(inputs, (str, bytes))
        texts = self._texts([inputs] if single else inputs)
        index = {t: i for i, t in enumerate(self.get_vocabulary())}
        oov = index[OOV]
        ids = [[index.get(t, oov) for t in self._tokens(text)] for text in texts]
        if self.output_mode == "int":
            length = self.output_sequence_length or max((len(row) for row in ids), default=0)
            out = np.zeros((len(ids), length), dtype="int64")
            for r, row in enumerate(ids):
                row = row[:length]
                out[r, :len(row)] = row
            return out[0] if single and self.output_sequence_length is None else out
        depth = self.max_tokens if self.pad_to_max_tokens and self.max_tokens else len(index)
        # int64 counts, as Keras on TensorFlow gives them; float32 TF-IDF weights
        out = np.zeros((len(ids), depth), dtype="float32" if self.output_mode == "tf_idf"
                       else "int64")
        for r, row in enumerate(ids):
            if self.output_mode == "multi_hot":
                out[r, row] = 1
            else:
                np.add.at(out[r], row, 1)
        if self.output_mode == "tf_idf":
            out *= self._idf[:depth]
        return out[0] if single else out

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return (input_shape[0], self.output_sequence_length)
        depth = self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()
        return (input_shape[0], depth)

    def get_config(self):
        config = super().get_config()
        config.update(max_tokens=self.max_tokens,
                      standardize=None if callable(self.standardize) else self.standardize,
                      split=None if callable(self.split) else self.split,
                      ngrams=self._ngrams_arg, output_mode=self.output_mode,
                      output_sequence_length=self.output_sequence_length,
                      pad_to_max_tokens=self.pad_to_max_tokens, sparse=False, ragged=False,
                      vocabulary=self.get_vocabulary() if self._vocabulary is not None
                      else None,
                      idf_weights=None if self._idf is None else self._idf.tolist(),
                      encoding=self.encoding,
                      vocabulary_size=self.vocabulary_size() if self._vocabulary is not None
                      else None)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("vocabulary_size", None)
        config.pop("dtype", None)
        return cls(**config)
