"""``image_dataset_from_directory``: a folder of images, a subfolder per class, as
batches ``fit`` takes. File order, shuffle and train/validation split follow Keras,
so a seed gives the same split as in Keras."""

from __future__ import annotations

import os

import numpy as np

from tinyann.utils.batched_dataset import BatchedDataset

ALLOWED_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}
_PIL_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}


def _valid_files(directory, follow_links, formats=ALLOWED_FORMATS):
    """``(root, filename)`` of the files of ``formats`` under ``directory``, in Keras's
    order (directories sorted by path, files sorted by name)."""
    for root, _, files in sorted(os.walk(directory, followlinks=follow_links),
                                 key=lambda entry: entry[0]):
        for name in sorted(files):
            if name.lower().endswith(formats):
                yield root, name


def index_directory(directory, labels="inferred", class_names=None, shuffle=True, seed=None,
                    follow_links=False, formats=ALLOWED_FORMATS):
    """``(file_paths, labels, class_names)`` as Keras indexes a directory.

    Classes are the sorted subfolders (or ``class_names``, in that order); files
    come class by class; ``shuffle`` permutes paths and labels with
    ``np.random.RandomState(seed)``, as Keras does.
    """
    if labels == "inferred":
        subdirs = [d for d in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
        if class_names is not None:
            if not set(class_names).issubset(set(subdirs)):
                raise ValueError(
                    "The `class_names` passed did not match the names of the subdirectories "
                    f"of the target directory. Expected: {subdirs} (or a subset of it), but "
                    f"received: class_names={class_names}")
            subdirs = list(class_names)
    else:
        if class_names is not None:
            raise ValueError("When `labels=None` (no labels), argument `class_names` cannot "
                             "be specified." if labels is None else
                             "When argument `labels` is specified, argument `class_names` "
                             "cannot be specified (the `class_names` will be the sorted list "
                             "of labels).")
        subdirs = [""]
    filenames, found = [], []
    for index, subdir in enumerate(subdirs):
        top = os.path.join(directory, subdir)
        for root, name in _valid_files(top, follow_links, formats):
            filenames.append(os.path.join(subdir, os.path.relpath(os.path.join(root, name), top))
                             if subdir else os.path.relpath(os.path.join(root, name), top))
            found.append(index)
    if labels == "inferred":
        labels, names = np.asarray(found, dtype="int32"), list(subdirs)
    elif labels is None:
        names = None
    else:
        if len(labels) != len(filenames):
            raise ValueError(
                "Expected the lengths of `labels` to match the number of files in the target "
                f"directory. len(labels) is {len(labels)} while we found {len(filenames)} "
                f"files in directory {directory}.")
        names = [str(label) for label in sorted(set(labels))]
        labels = np.asarray(labels)
    paths = [os.path.join(directory, name) for name in filenames]
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(paths)
        if labels is not None:
            np.random.RandomState(seed).shuffle(labels)
    return paths, labels, names


def _split(samples, labels, validation_split, subset):
    """Keras's split: the last ``int(validation_split * n)`` samples are validation."""
    if not validation_split:
        return samples, labels
    count = int(validation_split * len(samples))
    if subset == "training":
        return samples[:-count], None if labels is None else labels[:-count]
    return samples[-count:], None if labels is None else labels[-count:]


def load_image(path, image_size, color_mode="rgb", interpolation="bilinear",
               crop_to_aspect_ratio=False):
    """One image file as a float32 array ``image_size + (channels,)``, values 0-255.

    Raises:
        ValueError: the file is not an image Pillow can read (its path is named).
    """
    from PIL import Image, UnidentifiedImageError

    from tinyann.layers.preprocessing import Resizing
    try:
        with Image.open(path) as image:
            image.seek(0)  # a GIF's first frame
            pixels = np.asarray(image.convert(_PIL_MODES[color_mode]), dtype="float32")
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ValueError(f"Could not read the image file {path!r}: {error}") from None
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    resize = Resizing(image_size[0], image_size[1], interpolation=interpolation,
                      crop_to_aspect_ratio=crop_to_aspect_ratio)
    return resize(pixels)


class FileDataset(BatchedDataset):
    """Batches read from files, a batch at a time: ``(inputs, labels)``, or the inputs
    alone without labels; a new order each pass with ``shuffle`` (as tf.data's
    reshuffle_each_iteration). Subclasses read one file (``_read(path)``) and stack."""

    def __init__(self, paths, labels, class_names, label_mode, batch_size, shuffle, seed):
        super().__init__()
        self.file_paths = list(paths)
        self.class_names = class_names
        self._labels = None if labels is None else np.asarray(labels)
        self._label_mode = label_mode
        self._batch_size = batch_size
        self._shuffle = shuffle
        self._rng = np.random.default_rng(seed)
        self._order = np.arange(len(self.file_paths))

    def __len__(self):
        return -(-len(self.file_paths) // self._batch_size) if self._batch_size else len(
            self.file_paths)

    def _targets(self, rows):
        labels = self._labels[rows]
        if self._label_mode == "int":
            return labels.astype("int32")
        if self._label_mode == "binary":
            return labels.astype("float32").reshape(-1, 1)
        return np.eye(len(self.class_names), dtype="float32")[labels]

    def _stack(self, items):
        return np.stack(items)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index {index} out of range for {len(self)} batches.")
        size = self._batch_size or 1
        rows = self._order[index * size:(index + 1) * size]
        inputs = self._stack([self._read(self.file_paths[i]) for i in rows])
        if self._batch_size is None:
            inputs = inputs[0]
        if self._labels is None or self._label_mode is None:
            return inputs
        targets = self._targets(rows)
        return inputs, (targets if self._batch_size else targets[0])

    def on_epoch_end(self):
        if self._shuffle:
            self._order = self._rng.permutation(len(self.file_paths))


class ImageDataset(FileDataset):
    """Batches of ``(images, labels)`` read from files on demand; ``len()`` batches.

    Attributes:
        class_names: the class of each label index (None without labels).
        file_paths: the files, in the dataset's order.
    """

    def __init__(self, paths, labels, class_names, label_mode, batch_size, image_size,
                 color_mode, interpolation, crop_to_aspect_ratio, shuffle, seed):
        super().__init__(paths, labels, class_names, label_mode, batch_size, shuffle, seed)
        self._options = (tuple(image_size), color_mode, interpolation, crop_to_aspect_ratio)

    def _read(self, path):
        return load_image(path, *self._options)


def image_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                 class_names=None, color_mode="rgb", batch_size=32,
                                 image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear",
                                 follow_links=False, crop_to_aspect_ratio=False,
                                 pad_to_aspect_ratio=False, data_format=None, verbose=True):
    """A dataset of ``(images, labels)`` batches from a folder with a subfolder per class.

    Images: float32 ``(batch, height, width, channels)``, values 0-255. Labels:
    ``'int'`` int32 ``(batch,)``, ``'categorical'`` float32 one-hot, ``'binary'``
    float32 ``(batch, 1)``, None for images only. ``subset='both'`` returns
    ``[training, validation]``.
    """
    if labels not in ("inferred", None) and not isinstance(labels, (list, tuple)):
        raise ValueError("`labels` argument should be a list/tuple of integer labels, of "
                         "the same size as the number of image files in the target "
                         "directory. If you wish to infer the labels from the subdirectory "
                         'names in the target directory, pass `labels="inferred"`. If you '
                         "wish to get a dataset that only contains images (no labels), pass "
                         f"`labels=None`. Received: labels={labels}")
    if color_mode not in _CHANNELS:
        raise ValueError('`color_mode` must be one of {"rgb", "rgba", "grayscale"}. '
                         f"Received: color_mode={color_mode}")
    if pad_to_aspect_ratio or data_format not in (None, "channels_last"):
        raise ValueError("tinyann reads channels_last images without padding. Received: "
                         f"pad_to_aspect_ratio={pad_to_aspect_ratio}, "
                         f"data_format={data_format!r}")

    def build(paths, found, names, mode, seed):
        return ImageDataset(paths, found, names, mode, batch_size, image_size, color_mode,
                            interpolation, crop_to_aspect_ratio, shuffle, seed)

    return directory_subsets(
        directory, labels, label_mode, class_names, shuffle, seed, validation_split, subset,
        follow_links, verbose, ALLOWED_FORMATS,
        f"No images found in directory {directory}. Allowed formats: {ALLOWED_FORMATS}",
        build)


def directory_subsets(directory, labels, label_mode, class_names, shuffle, seed,
                      validation_split, subset, follow_links, verbose, formats, empty, build):
    """What the folder loaders share (Keras's checks, messages and split): the files of
    ``formats`` indexed, then ``build(paths, labels, class_names, label_mode, seed)`` for
    the subset asked for (a list of two for ``'both'``); ``empty``: the error when a
    subset has no file."""
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
                                          follow_links, formats)
    if label_mode == "binary" and len(names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={names}")
    if verbose:
        print(f"Found {len(paths)} files belonging to {len(names)} classes."
              if names is not None else f"Found {len(paths)} files.")

    def make(which):
        subset_paths, subset_labels = _split(paths, found, validation_split, which)
        if not subset_paths:
            raise ValueError(empty)
        if verbose and which is not None:
            print(f"Using {len(subset_paths)} files for {which}.")
        return build(subset_paths, subset_labels, names, label_mode, seed)

    if subset == "both":
        return [make("training"), make("validation")]
    return make(subset)
