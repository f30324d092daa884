"""``keras.utils.text_dataset_from_directory``: a folder per class of ``.txt`` files as
batches of ``(texts, labels)``; the texts are strings (NumPy object arrays), for
``TextVectorization`` in ``dataset.map``.

Keras's indexing, shuffling and validation split (tinyann/utils/image_dataset.py's);
``max_length`` cuts each text to that many characters.
"""

from __future__ import annotations

import numpy as np

from tinyann.utils.image_dataset import FileDataset, directory_subsets


class TextDataset(FileDataset):
    """Batches of ``(texts, labels)`` (texts alone without labels); texts as an object
    array of str."""

    def __init__(self, paths, labels, class_names, label_mode, batch_size, max_length,
                 shuffle, seed):
        super().__init__(paths, labels, class_names, label_mode, batch_size, shuffle, seed)
        self._max_length = max_length

    def _read(self, path):
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", errors="replace")
        return text[:self._max_length] if self._max_length is not None else text

    def _stack(self, items):
        return np.array(items, dtype=object)


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
