"""``keras.utils.text_dataset_from_directory``: a folder per class of ``.txt`` files as
batches of ``(texts, labels)``; the texts are strings (NumPy object arrays), for
``TextVectorization`` in ``dataset.map``.

Keras's indexing, shuffling and validation split (tinyann/utils/image_dataset.py's);
``max_length`` cuts each text to that many characters.
"""

from __future__ import annotations

import numpy as np

from tinyann.utils.batched_dataset import BatchedDataset
from tinyann.utils.image_dataset import _split, index_directory


class TextDataset(BatchedDataset):
    """Batches of ``(texts, labels)`` (texts alone without labels)."""

    def __init__(self, paths, labels, class_names, label_mode, batch_size, max_length,
                 shuffle, seed):
        super().__init__()
        self.file_paths = list(paths)
        self.class_names = class_names
        self._labels = None if labels is None else np.asarray(labels)
        self._label_mode = label_mode
        self._batch_size = batch_size
        self._max_length = max_length
        self._shuffle = shuffle
        self._rng = np.random.default_rng(seed)
        self._order = np.arange(len(self.file_paths))

    def __len__(self):
        return -(-len(self.file_paths) // self._batch_size) if self._batch_size else len(
            self.file_paths)

    def _read(self, path):
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", errors="replace")
        return text[:self._max_length] if self._max_length is not None else text

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index {index} out of range for {len(self)} batches.")
        size = self._batch_size or 1
        rows = self._order[index * size:(index + 1) * size]
        texts = np.array([self._read(self.file_paths[i]) for i in rows], dtype=object)
        if self._batch_size is None:
            texts = texts[0]
        if self._labels is None:
            return texts
        labels = self._labels[rows]
        if self._label_mode == "binary":
            labels = labels.astype("float32").reshape(-1, 1)
        elif self._label_mode == "categorical":
            labels = np.eye(len(self.class_names), dtype="float32")[labels]
        else:
            labels = labels.astype("int32")
        return texts, (labels if self._batch_size else labels[0])

    def on_epoch_end(self):
        if self._shuffle:
            self._order = self._rng.permutation(len(self.file_paths))


def text_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                class_names=None, batch_size=32, max_length=None,
                                shuffle=True, seed=None, validation_split=None, subset=None,
                                follow_links=False, verbose=True):
    """Texts from ``directory/<class>/*.txt`` (see the module docstring); with
    ``subset='both'`` the pair ``[training, validation]``."""
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError('`label_mode` argument must be one of "int", "categorical", '
                         f'"binary", or None. Received: label_mode={label_mode}')
    if labels is None or label_mode is None:
        labels = label_mode = None
    if validation_split is not None and not 0 < validation_split < 1:
        raise ValueError("`validation_split` must be between 0 and 1, received: "
                         f"{validation_split}")
    if subset not in (None, "training", "validation", "both"):
        raise ValueError('`subset` must be either "training", "validation" or "both", '
                         f"received: {subset}")
    if (validation_split is None) != (subset is None):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely."
                         f" Received: subset={subset}, validation_split={validation_split}")
    if subset is not None and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must "
                         "provide a `seed` argument, to make sure that there is no overlap "
                         "between the training and validation subset.")
    if seed is None:
        seed = np.random.randint(1e6)
    paths, found, names = index_directory(directory, labels, class_names, shuffle, seed,
                                          follow_links, formats=(".txt",))
    if label_mode == "binary" and len(names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={names}")
    if verbose:
        print(f"Found {len(paths)} files belonging to {len(names)} classes."
              if names is not None else f"Found {len(paths)} files.")

    def make(which):
        subset_paths, subset_labels = _split(paths, found, validation_split, which)
        if not subset_paths:
            raise ValueError(f"No text files found in directory {directory}. Allowed format: "
                             ".txt")
        if verbose and which is not None:
            print(f"Using {len(subset_paths)} files for {which}.")
        return TextDataset(subset_paths, subset_labels, names, label_mode, batch_size,
                           max_length, shuffle, seed)

    if subset == "both":
        return [make("training"), make("validation")]
    return make(subset)
