"""``tinyann train --data DIR``: a small model trained on a user's folder per class.

The pictures are resized to ``--image-size`` (default 64x64) in ``--color-mode``
(default rgb) by ``resize.to_pixels``, scaled to [0, 1], and split per class into
training, validation (``--validation-split``) and test (``--test-split``) images.
The run folder is a normal run (model.keras, metrics.json, history.json/.csv,
report.html) whose metrics also hold the class names, the input (``"input"``) and
the image counts; ``images.npz`` keeps the test images and a few training images.
"""

from __future__ import annotations

import os
import time

import numpy as np

from tinyann.app import UsageError, folders
from tinyann.app.resize import ImageSpec

DEFAULT_SIZE = (64, 64)
MODELS = ("cnn", "mlp", "linear")
SAMPLES_PER_CLASS = 5


def build_model(kind, spec: ImageSpec, classes: int, keras):
    """A small classifier of ``spec.input_shape`` images in [0, 1] into ``classes``.

    cnn: Conv2D(16)-pool-Conv2D(32)-pool-Dense(64)-Dropout(0.3)-Dense(classes);
    mlp: Flatten-Dense(100)-Dense(classes); linear: Flatten-Dense(classes).
    """
    layers = keras.layers
    head = [layers.Flatten()]
    if kind == "cnn":
        head = [layers.Conv2D(16, 3, activation="relu", padding="same"),
                layers.MaxPooling2D(2),
                layers.Conv2D(32, 3, activation="relu", padding="same"),
                layers.MaxPooling2D(2), layers.Flatten(),
                layers.Dense(64, activation="relu"), layers.Dropout(0.3)]
    elif kind == "mlp":
        head.append(layers.Dense(100, activation="relu"))
    return keras.Sequential([keras.Input(spec.input_shape), *head,
                             layers.Dense(classes, activation="softmax")])


def check_options(args) -> None:
    """Options of the Fashion-MNIST training that make no sense with --data, and back."""
    folder_only = [name for name, value in (
        ("--image-size", args.image_size), ("--color-mode", args.color_mode),
        ("--validation-split", args.validation_split), ("--test-split", args.test_split))
        if value is not None]
    if args.data is None and folder_only:
        raise UsageError(f"{', '.join(folder_only)}: only with --data DIR (training on your "
                         "own image folders)")
    if args.data is not None and args.data_dir is not None:
        raise UsageError("--data-dir is where Fashion-MNIST's IDX files are; with "
                         f"--data {args.data} it is not used")


def _samples(labels, per_class) -> np.ndarray:
    """Indices of the first ``per_class`` images of each class, in the given order."""
    keep = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        keep[np.flatnonzero(labels == c)[:per_class]] = True
    return np.flatnonzero(keep)


def train(args) -> int:
    """Reads args.data, trains, prints the accuracies and saves the run folder."""
    import tinyann as keras
    from tinyann.app.runs import fit_and_save

    check_options(args)
    spec = ImageSpec(tuple(args.image_size or DEFAULT_SIZE), args.color_mode or "rgb")
    val_split = 0.2 if args.validation_split is None else args.validation_split
    test_split = 0.2 if args.test_split is None else args.test_split
    start = time.perf_counter()
    data = folders.read_folder(args.data, spec)
    read_seconds = time.perf_counter() - start
    names = data.class_names
    train_i, val_i, test_i = folders.split(data.labels, val_split, test_split, args.seed,
                                           names)
    print(f"{len(data.labels)} images in {len(names)} classes ({', '.join(names)}) read "
          f"from {args.data} as {spec.describe()} in {read_seconds:.1f} s: "
          f"{len(train_i)} for training, {len(val_i)} validation, {len(test_i)} test")

    keras.utils.set_random_seed(args.seed)
    kind = args.model or "cnn"
    model = build_model(kind, spec, len(names), keras)
    name = args.optimizer or "adam"
    optimizer = keras.optimizers.get(name)
    if args.learning_rate is not None:
        optimizer.learning_rate = args.learning_rate
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    x = data.images.astype(np.float32) / 255.0
    x = x.reshape((len(x),) + spec.input_shape)
    y = data.labels

    def counts(index):
        return np.bincount(y[index], minlength=len(names)).tolist()

    extra = {"data": os.path.abspath(args.data), "class_names": names,
             "input": spec.to_json(), "read_seconds": read_seconds,
             "images": {"train": counts(train_i), "validation": counts(val_i),
                        "test": counts(test_i)}}
    out = args.out or os.path.join(
        "runs", f"{os.path.basename(os.path.normpath(args.data))}-{kind}-"
        f"{time.strftime('%Y%m%d-%H%M%S')}")
    model, out, metrics, history = fit_and_save(
        args, model, name, (x[train_i], y[train_i]), (x[val_i], y[val_i]),
        (x[test_i], y[test_i]), kind, out, extra)
    samples = train_i[_samples(y[train_i], SAMPLES_PER_CLASS)]
    from tinyann.app import runs

    runs.save_images(out, data.images[test_i], y[test_i], [data.files[i] for i in test_i],
                     data.images[samples], y[samples])
    print(f"saved the {len(test_i)} test images in {os.path.join(out, runs.IMAGES_FILE)}")
    if not args.no_report:
        from tinyann.app.commands import report_after_training

        report_after_training(model, out, metrics, history)
    return 0
