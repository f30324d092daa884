"""StringLookup and IntegerLookup: vocabulary terms to integer ids (or back), as Keras 3.

    lookup = layers.StringLookup()
    lookup.adapt(np.array([["a", "b"], ["b", "c"]]))   # vocabulary by frequency
    lookup.get_vocabulary()                           # ['[UNK]', 'b', 'c', 'a']
    lookup(np.array([["a", "z"]]))                    # [[3, 0]] (int64)

The ids, as Keras numbers them: the mask token first (id 0, only with ``mask_token``
and ``output_mode='int'``), then ``num_oov_indices`` out-of-vocabulary ids, then the
terms. ``adapt`` counts the terms and orders them by count, ties by the term itself,
both descending (Keras's ``np.lexsort`` order), keeping ``max_tokens`` ids in all.
A term out of the vocabulary goes to its OOV id: the only one, or with several the
FarmHash bucket of the string (of the decimal text of an int with
``oov_method='farmhash'``; ``'floormod'``: the int modulo ``num_oov_indices``), or its
SipHash bucket keyed by ``salt``.
``'one_hot'``, ``'multi_hot'``, ``'count'`` and ``'tf_idf'`` encode the ids (see
``category_encoding.encode``); the mask token is dropped there.

Saving: the vocabulary (with its special tokens) and the IDF weights of an adapted
layer are in its config, where Keras keeps them in the file's assets and variables;
Keras loads such a config as a given vocabulary (docs/keras_differences.md).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from tinyann import backend
from tinyann.layers import _farmhash
from tinyann.layers.category_encoding import (
    DataLayer,
    as_array,
    encode,
    encoded_shape,
)

_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


def _first_of(batch):
    """``x`` of a batch that may be ``(x, y)`` or ``(x, y, sample_weight)``."""
    return batch[0] if isinstance(batch, tuple) else batch


class IndexLookup(DataLayer):
    """What StringLookup and IntegerLookup share (Keras's ``IndexLookup``): the
    vocabulary, ``adapt``, the lookup and its inverse, the encodings and the config.
    Subclasses say how inputs become terms (``_terms``) and how terms print."""

    _vocabulary_dtype = "string"

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=None,
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 pad_to_max_tokens=False, sparse=False, oov_method="floormod", salt=None,
                 name=None, **kwargs):
        frozen_size = kwargs.pop("vocabulary_size", None)
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("dtype", None)
        kwargs.pop("vocabulary_dtype", None)
        super().__init__(name=name, **kwargs)
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError("If set, `max_tokens` must be greater than 1. Received: "
                             f"max_tokens={max_tokens}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError("If pad_to_max_tokens is True, must set `max_tokens`. "
                             f"Received: max_tokens={max_tokens}")
        if num_oov_indices < 0:
            raise ValueError("`num_oov_indices` must be greater than or equal to 0. "
                             f"Received: num_oov_indices={num_oov_indices}")
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError(f"Unknown value for `oov_method` argument of "
                             f"{type(self).__name__}. Allowed values are: "
                             f"('floormod', 'farmhash'). Received: oov_method={oov_method}")
        if salt is not None:
            if self._vocabulary_dtype == "int64" and oov_method != "farmhash":
                raise ValueError("`salt` can only be used when `oov_method='farmhash'`. "
                                 f"Received: oov_method={oov_method}")
            salt = _farmhash.salt_key(salt, "IndexLookup")
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        if output_mode not in _MODES:
            raise ValueError(f"Unknown value for `output_mode` argument of "
                             f"{type(self).__name__}. Allowed values are: {_MODES}. "
                             f"Received: output_mode={output_mode}")
        if invert and output_mode != "int":
            raise ValueError("`output_mode` must be `'int'` when `invert` is true. "
                             f"Received: output_mode={output_mode}")
        if sparse:
            raise NotImplementedError(f"tinyann's {type(self).__name__} gives dense arrays "
                                      "(sparse=False).")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError("`idf_weights` should only be set if `output_mode` is "
                             f"`'tf_idf'`. Received: idf_weights={idf_weights} and "
                             f"output_mode={output_mode}")
        if output_mode == "tf_idf" and has_input_vocabulary and idf_weights is None:
            raise ValueError("When specifying the `vocabulary` argument, in TF-IDF output "
                             "mode, the `idf_weights` argument must also be provided.")
        self.invert = bool(invert)
        self.max_tokens = max_tokens
        self.num_oov_indices = int(num_oov_indices)
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.output_mode = output_mode
        self.sparse = False
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.oov_method = oov_method
        self.salt = salt  # OOV buckets by SipHash keyed by it, when several
        self._has_input_vocabulary = has_input_vocabulary
        # the arguments as given, for the config (a file's name is not kept, as Keras)
        self.input_vocabulary = None if isinstance(vocabulary, str) else vocabulary
        self.input_idf_weights = idf_weights
        self._tokens = None           # the terms, without the special tokens
        self._index = {}              # term -> id
        self.idf_weights = None       # float32 (vocabulary_size or max_tokens,)
        self._frozen_vocab_size = frozen_size
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # ------------------------------------------------------------ terms
    def _terms(self, array) -> np.ndarray:
        """The input as an array of the vocabulary's terms (subclasses)."""
        raise NotImplementedError

    def _term(self, value):
        """One vocabulary entry as given (a str, or an int)."""
        raise NotImplementedError

    def _oov_start_index(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self) -> int:
        return self._oov_start_index() + self.num_oov_indices

    def _special_tokens(self) -> list:
        return ([self.mask_token] * self._oov_start_index()
                + [self.oov_token] * self.num_oov_indices)

    # ------------------------------------------------------------ vocabulary
    def get_vocabulary(self, include_special_tokens=True) -> list:
        """The terms in id order; with ``include_special_tokens``, the mask and OOV
        tokens first, so that a term's position is its id."""
        tokens = list(self._tokens or [])
        if not include_special_tokens:
            return tokens
        return self._special_tokens() + tokens

    def vocabulary_size(self) -> int:
        """The number of ids: the terms plus the mask and OOV ids."""
        return len(self._tokens or []) + self._token_start_index()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Sets the terms (a list or array, or the name of a file of one term per
        line), with the special tokens at their start or not, and with
        ``'tf_idf'`` one IDF weight per entry."""
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError("`idf_weights` must be set if output_mode is 'tf_idf'.")
        elif idf_weights is not None:
            raise ValueError("`idf_weights` should only be set if output_mode is "
                             f"`'tf_idf'`. Received: output_mode={self.output_mode} and "
                             f"idf_weights={idf_weights}")
        if isinstance(vocabulary, str):
            if self.output_mode == "tf_idf":
                raise ValueError("output_mode `'tf_idf'` does not support loading a "
                                 "vocabulary from file.")
            try:
                with open(vocabulary, encoding=getattr(self, "encoding", "utf-8")) as f:
                    vocabulary = f.read().splitlines()
            except FileNotFoundError:
                raise ValueError(f"Vocabulary file {vocabulary} does not exist.") from None
            while vocabulary and vocabulary[-1] == "":
                vocabulary.pop()
        vocabulary = [self._term(v) for v in as_array(vocabulary).reshape(-1).tolist()]
        if not vocabulary:
            raise ValueError(f"Cannot set an empty vocabulary. Received: vocabulary="
                             f"{vocabulary}")
        special = self._special_tokens()
        found_special = vocabulary[:len(special)] == special
        tokens = vocabulary[len(special):] if found_special else vocabulary
        repeated = [t for t, c in Counter(tokens).items() if c > 1]
        if repeated:
            raise ValueError("The passed vocabulary has at least one repeated term. Please "
                             f"uniquify your dataset. The repeated terms are: {repeated}")
        for token, what in ((self.mask_token, "mask_token"),
                            (self.oov_token if self.invert else None, "oov_token")):
            if token is not None and token in tokens:
                raise ValueError(
                    "Found reserved token at unexpected location in `vocabulary`. Note "
                    "that passed `vocabulary` does not need to include the OOV and mask "
                    "tokens. Either remove all mask and OOV tokens, or include them only "
                    f"at the start of the vocabulary in precisely this order: {special}. "
                    f"Received: {what}={token} at vocabulary index "
                    f"{len(vocabulary) - 1 - vocabulary[::-1].index(token)}")
        size = self._token_start_index() + len(tokens)
        if self.max_tokens is not None and size > self.max_tokens:
            raise ValueError("Attempted to set a vocabulary larger than the maximum vocab "
                             f"size. Received vocabulary size is {size}; `max_tokens` is "
                             f"{self.max_tokens}.")
        if self.output_mode == "tf_idf":
            weights = np.asarray(idf_weights, "float64")
            if weights.ndim != 1:
                raise ValueError("TF-IDF data must be a 1-index array. Received: "
                                 f"idf_weights of shape {weights.shape}")
            if len(weights) != len(vocabulary):
                raise ValueError(
                    "`idf_weights` must be the same length as vocabulary. len(idf_weights) "
                    f"is {len(weights)}; len(vocabulary) is {len(vocabulary)}")
            # special tokens not given: their weights are the mean weight, as Keras
            front = 0 if found_special else self._token_start_index()
            self._set_idf(weights, front, np.mean(weights))
        self._set_tokens(tokens)
        self._has_input_vocabulary = True

    def _set_idf(self, weights, front, front_value) -> None:
        back = (self.max_tokens - front - len(weights)
                if self.pad_to_max_tokens and self.max_tokens is not None else 0)
        weights = np.pad(weights, (front, max(back, 0)),
                         constant_values=(front_value, 0))
        self.idf_weights = weights.astype(backend.floatx())

    def _set_tokens(self, tokens) -> None:
        self._tokens = list(tokens)
        start = self._token_start_index()
        self._index = {t: start + i for i, t in enumerate(self._tokens)}
        self._frozen_vocab_size = self.vocabulary_size()

    def adapt(self, data, steps=None):
        """Learns the vocabulary (and the IDF weights) from ``data``: an array or list
        (each row a document), or a dataset or iterable of batches."""
        if self._has_input_vocabulary:
            raise ValueError(f"Cannot adapt layer '{self.name}' after setting a static "
                             "vocabulary via `vocabulary` argument or `set_vocabulary()` "
                             "method.")
        counts, documents, num_documents = Counter(), Counter(), 0
        if isinstance(data, (list, tuple, np.ndarray, str, bytes)) or not hasattr(
                data, "__iter__"):
            data = as_array(data)
            batches = [data[:, None] if data.ndim == 1 else data]
        else:
            batches = data
        for step, batch in enumerate(batches):
            if steps is not None and step >= steps:
                break
            terms = self._terms(as_array(_first_of(batch)))
            if terms.ndim < 2:
                terms = terms.reshape(1, -1)  # a vector is one document, as in Keras
            counts.update(terms.reshape(-1).tolist())
            if self.output_mode == "tf_idf":
                for row in terms:
                    documents.update(set(row.reshape(-1).tolist()))
                num_documents += len(terms)
        if not counts:
            # no data: only the special tokens, as Keras's empty table gives
            if self._tokens is None and self.output_mode != "tf_idf":
                self._set_tokens([])
            return
        for special in (self.mask_token, self.oov_token):
            counts.pop(special, None)
        # count descending, ties by the term descending (Keras: np.lexsort(...)[::-1])
        ordered = sorted(counts, key=lambda t: (counts[t], self._sort_key(t)), reverse=True)
        if self.max_tokens:
            ordered = ordered[:self.max_tokens - self._token_start_index()]
        self._set_tokens(ordered)
        if self.output_mode == "tf_idf":
            df = np.array([documents[t] for t in ordered], "float64")
            idf = np.log(1 + num_documents / (1 + df)).astype(backend.floatx())
            self._set_idf(idf, self._token_start_index(), np.mean(idf, dtype=idf.dtype))

    def _sort_key(self, term):
        return term

    # ------------------------------------------------------------ calling
    @property
    def output_dtype(self) -> str:
        """The symbolic output's dtype: ids are int64, encodings float32 (Keras's
        output spec; eager calls give int64 counts, as Keras on TensorFlow)."""
        if self.output_mode == "int":
            return self._vocabulary_dtype if self.invert else "int64"
        return backend.floatx()

    def compute_output_shape(self, input_shape):
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        return encoded_shape(input_shape, self.output_mode, depth)

    def _call_eagerly(self, inputs, **kwargs):
        # eager calls give Keras's eager dtypes (int64 counts); graph steps (call) give
        # floats to the layers after them
        return self._compute(inputs, eager=True)

    def call(self, inputs, training=False):
        return self._compute(inputs, eager=False)

    def _compute(self, inputs, eager):
        array = as_array(inputs)
        self._remember_shape(array)
        if self._tokens is None and self._frozen_vocab_size is not None:
            raise ValueError(
                f"Layer '{self.name}' was made from a config without its vocabulary "
                f"(vocabulary_size={self._frozen_vocab_size}): Keras keeps an adapted "
                "layer's vocabulary in the .keras file's assets, which tinyann does not read "
                "yet. Call `set_vocabulary` (or `adapt`) before calling it.")
        if self._tokens is None:
            raise ValueError(
                f"Layer '{self.name}' has no vocabulary: pass a `vocabulary` argument to "
                "the layer, or call `adapt` with some sample data, before calling it.")
        if self.invert:
            return self._invert(array)
        terms = self._terms(array)
        ids = self._lookup(terms)
        if self.output_mode == "int":
            return ids
        depth = self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()
        # the mask token's -1 is dropped: encoded as an extra id, then cut off
        dropped = ids < 0
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        dtype = "int64" if eager and self.output_mode != "tf_idf" else backend.floatx()
        if dropped.any():
            out = encode(np.where(dropped, depth, ids), mode, depth + 1, dtype)[..., :depth]
        else:
            out = encode(ids, mode, depth, dtype)
        if self.output_mode == "tf_idf":
            out = out * self.idf_weights[:depth]
        return np.ascontiguousarray(out)

    def _lookup(self, terms) -> np.ndarray:
        flat = terms.reshape(-1).tolist()
        index, missing = self._index, -1
        ids = np.fromiter((index.get(t, missing) for t in flat), "int64", len(flat))
        if self.mask_token is not None:
            is_mask = np.fromiter((t == self.mask_token for t in flat), bool, len(flat))
            ids[is_mask] = 0 if self.output_mode == "int" else -1
        else:
            is_mask = np.zeros(len(flat), bool)
        oov = (ids == missing) & ~is_mask
        if oov.any():
            if self.num_oov_indices == 0:
                values = [flat[i] for i in np.flatnonzero(oov)]
                raise ValueError(
                    "When `num_oov_indices=0` all inputs should be in vocabulary, found "
                    f"OOV values {values}, consider setting `num_oov_indices=1`.")
            start = self._oov_start_index()
            if self.num_oov_indices == 1:
                ids[oov] = start
            else:
                ids[oov] = [start + self._oov_bucket(flat[i]) for i in np.flatnonzero(oov)]
        return ids.reshape(terms.shape)

    def _oov_bucket(self, term) -> int:
        return self._hash(term)

    def _hash(self, text) -> int:
        if self.salt is not None:
            return _farmhash.strong_hash_bucket(text, self.num_oov_indices, self.salt)
        return _farmhash.hash_bucket(text, self.num_oov_indices)

    def _invert(self, array) -> np.ndarray:
        if array.dtype.kind not in "iu":
            if array.dtype.kind == "f" and np.all(array == np.round(array)):
                array = array.astype("int64")
            else:
                raise ValueError(f"Layer '{self.name}' with invert=True expected integer "
                                 f"ids, but received an array of dtype {array.dtype}.")
        vocabulary = self.get_vocabulary()
        start = self._token_start_index()
        flat = array.reshape(-1).tolist()
        out = [vocabulary[i] if start <= i < len(vocabulary) else self.oov_token
               for i in flat]
        if self.mask_token is not None:
            out = [self.mask_token if i == 0 else t for i, t in zip(flat, out)]
        return self._invert_output(out, array.shape)

    def _invert_output(self, terms, shape) -> np.ndarray:
        return np.array(terms, dtype=object).reshape(shape)

    # ------------------------------------------------------------ config
    def get_config(self):
        config = super().get_config()
        adapted = self._tokens is not None and self.input_vocabulary is None
        vocabulary = (self.get_vocabulary() if adapted else
                      _listify(self.input_vocabulary))
        idf = _listify(self.input_idf_weights)
        if adapted and self.idf_weights is not None:
            idf = self.idf_weights[:self.vocabulary_size()].tolist()
        config.update(invert=self.invert, max_tokens=self.max_tokens,
                      num_oov_indices=self.num_oov_indices, oov_token=self.oov_token,
                      mask_token=self.mask_token, output_mode=self.output_mode,
                      sparse=False, pad_to_max_tokens=self.pad_to_max_tokens)
        config.update(self._dtype_config())
        config.update(idf_weights=idf, vocabulary=vocabulary,
                      vocabulary_size=self._frozen_vocab_size, oov_method=self.oov_method,
                      salt=self.salt)
        return config

    def _dtype_config(self) -> dict:
        return {}


def _listify(value):
    if value is None:
        return None
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    return np.asarray(value).tolist() if isinstance(value, np.ndarray) else list(value)


class StringLookup(IndexLookup):
    """Strings to integer ids from a vocabulary (see the module docstring).

    Args:
        max_tokens: the vocabulary's size, mask and OOV ids included (None: all).
        num_oov_indices: ids for terms not in the vocabulary (0: such a term is an
            error); several: a term's bucket is its FarmHash fingerprint.
        mask_token: a string read as padding: id 0 in ``'int'`` mode, dropped in
            the others.
        oov_token: the term ``invert=True`` gives for an OOV id.
        vocabulary: a list or array of strings, or a file of one per line.
        idf_weights: with ``'tf_idf'`` and a ``vocabulary``, one weight per term.
        invert: ids to strings instead.
        output_mode: ``'int'``, ``'one_hot'``, ``'multi_hot'``, ``'count'`` or
            ``'tf_idf'``.
        pad_to_max_tokens: encodings of ``max_tokens`` columns.
        encoding: how bytes inputs are decoded.

    Input shape: any (strings; ``invert``: ints). Output shape: the input's in
    ``'int'`` mode (int64; strings for ``invert``); else see
    ``category_encoding.encode``, depth ``vocabulary_size()``.
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]",
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 pad_to_max_tokens=False, sparse=False, encoding="utf-8", name=None,
                 salt=None, **kwargs):
        self.encoding = encoding
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         pad_to_max_tokens=pad_to_max_tokens, sparse=sparse, name=name,
                         salt=salt, **kwargs)

    def _term(self, value):
        return value.decode(self.encoding) if isinstance(value, bytes) else str(value)

    def _terms(self, array) -> np.ndarray:
        if array.dtype.kind not in "USO":
            raise ValueError(f"Layer '{self.name}' expected string input, but received an "
                             f"array of dtype {array.dtype}.")
        if array.dtype.kind == "O":
            bad = next((v for v in array.reshape(-1).tolist()
                        if not isinstance(v, (str, bytes))), None)
            if bad is not None:
                raise ValueError(f"Layer '{self.name}' expected string input, but "
                                 f"received {type(bad).__name__} {bad!r}.")
        flat = [self._term(v) for v in array.reshape(-1).tolist()]
        return np.array(flat, dtype=object).reshape(array.shape)

    def _sort_key(self, term):
        return term.encode(self.encoding)  # TensorFlow compares the bytes

    def get_config(self):
        config = super().get_config()
        config["encoding"] = self.encoding
        return config


class IntegerLookup(IndexLookup):
    """Integers to ids from a vocabulary of integers (see the module docstring).

    Arguments as StringLookup's, with int tokens: ``oov_token`` (default -1, what
    ``invert=True`` gives for an OOV id) and ``mask_token``. With several OOV ids an
    int's bucket is ``value mod num_oov_indices`` (``oov_method='floormod'``) or the
    FarmHash bucket of its decimal text (``'farmhash'``). Floats with integer values
    are read as ints.
    """

    _vocabulary_dtype = "int64"

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1,
                 vocabulary=None, vocabulary_dtype="int64", idf_weights=None, invert=False,
                 output_mode="int", sparse=False, pad_to_max_tokens=False,
                 oov_method="floormod", salt=None, name=None, **kwargs):
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError("If `max_tokens` is set for `IntegerLookup`, it must be "
                             f"greater than 1. Received: max_tokens={max_tokens}")
        if num_oov_indices < 0:
            raise ValueError("The value of `num_oov_indices` argument for `IntegerLookup` "
                             f"must >= 0. Received: num_oov_indices={num_oov_indices}")
        if vocabulary_dtype != "int64":
            raise ValueError("Only `vocabulary_dtype='int64'` is supported at this time. "
                             f"Received: vocabulary_dtype={vocabulary_dtype}")
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=None if mask_token is None else int(mask_token),
                         oov_token=None if oov_token is None else int(oov_token),
                         vocabulary=vocabulary, idf_weights=idf_weights, invert=invert,
                         output_mode=output_mode, pad_to_max_tokens=pad_to_max_tokens,
                         sparse=sparse, oov_method=oov_method, salt=salt, name=name,
                         **kwargs)

    def _term(self, value):
        if isinstance(value, str):
            return int(value)  # a vocabulary file's line
        if isinstance(value, float) and value != int(value):
            raise ValueError(f"IntegerLookup's vocabulary takes integers. Received: {value}")
        return int(value)

    def _terms(self, array) -> np.ndarray:
        if array.dtype.kind == "f":
            if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
                raise ValueError(f"Layer '{self.name}' expected integer input, but received "
                                 "non-integer floats.")
            array = array.astype("int64")
        elif array.dtype.kind not in "biu":
            raise ValueError(f"Layer '{self.name}' expected integer input, but received an "
                             f"array of dtype {array.dtype}.")
        return array.astype("int64")

    def _oov_bucket(self, term) -> int:
        if self.oov_method == "floormod":
            return term % self.num_oov_indices  # Python's % is a floor mod
        return self._hash(str(term))

    def _invert_output(self, terms, shape) -> np.ndarray:
        return np.array(terms, dtype="int64").reshape(shape)

    def _dtype_config(self) -> dict:
        return {"vocabulary_dtype": "int64"}

    def get_config(self):
        config = super().get_config()
        if config["vocabulary"] is not None:
            config["vocabulary"] = [int(v) for v in config["vocabulary"]]
        return config
