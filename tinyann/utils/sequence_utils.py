"""``pad_sequences``: lists of varying length -> one rectangular array (Keras's rules)."""

from __future__ import annotations

import numpy as np


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0) -> np.ndarray:
    """Pads (or cuts) each sequence to ``maxlen``: ``(num_samples, maxlen, *sample_shape)``.

    Args:
        sequences: a list of sequences (lists or arrays; each element a number or an
            array of ``sample_shape``).
        maxlen: the length of every row; default the longest sequence's.
        dtype: the result's dtype (``object`` for strings).
        padding: ``'pre'`` (default, as Keras) puts the padding before each sequence,
            ``'post'`` after.
        truncating: ``'pre'`` keeps the last ``maxlen`` elements, ``'post'`` the first.
        value: what pads.

    Example (the textbook's chapter 9):
        >>> pad_sequences([[1, 2, 3], [4]], maxlen=2)
        array([[2, 3],
               [0, 4]], dtype=int32)
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    lengths, sample_shape, first = [], (), True
    for x in sequences:
        try:
            lengths.append(len(x))
            if first and len(x):
                sample_shape = np.asarray(x).shape[1:]
                first = False
        except TypeError as error:
            raise ValueError("`sequences` must be a list of iterables. Found non-iterable: "
                             f"{x}") from error
    if maxlen is None:
        maxlen = max(lengths, default=0)
    is_text = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.object_)
    if isinstance(value, str) and dtype is not object and not is_text:
        raise ValueError(f"`dtype` {dtype} is not compatible with `value`'s type: "
                         f"{type(value)}\nYou should set `dtype=object` for variable length "
                         "strings.")
    x = np.full((len(lengths), maxlen) + sample_shape, value, dtype=dtype)
    for idx, s in enumerate(sequences):
        if not len(s):
            continue
        if truncating == "pre":
            trunc = s[-maxlen:]
        elif truncating == "post":
            trunc = s[:maxlen]
        else:
            raise ValueError(f'Truncating type "{truncating}" not understood')
        trunc = np.asarray(trunc, dtype=dtype)
        if trunc.shape[1:] != sample_shape:
            raise ValueError(f"Shape of sample {trunc.shape[1:]} of sequence at position {idx}"
                             f" is different from expected shape {sample_shape}")
        if padding == "post":
            x[idx, :len(trunc)] = trunc
        elif padding == "pre":
            x[idx, -len(trunc):] = trunc
        else:
            raise ValueError(f'Padding type "{padding}" not understood')
    return x
