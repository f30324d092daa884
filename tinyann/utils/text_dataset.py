"""``keras.utils.text_dataset_from_directory``: a folder per class of ``.txt`` files as
batches of ``(texts, labels)``; the texts are strings (NumPy object arrays), for
``TextVectorization`` in ``dataset.map``.

Keras's indexing, shuffling and validation split (tinyann/utils/image_dataset.py's);
``max_length`` cuts each text to that many characters.
"""

from __future__ import annotations

import numpy as np

from tinyann.utils.batched_dataset import BatchedDataset
from tinyann.utils.image_dataset import directory_subsets


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
    def build(paths, found, names, mode, seed):
        return TextDataset(paths, found, names, mode, batch_size, max_length, shuffle, seed)

    return directory_subsets(
        directory, labels, label_mode, class_names, shuffle, seed, validation_split, subset,
        follow_links, verbose, (".txt",),
        f"No text files found in directory {directory}. Allowed format: .txt", build)
