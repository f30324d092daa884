"""Run folders and models for the app: find, load, feed and split.

A run folder is what ``tinyann train`` writes: ``model.keras``, ``metrics.json``,
``history.json``, ``history.csv`` and ``report.html``. Commands that take
``RUN_OR_MODEL`` accept the folder or a model file.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field

import numpy as np

MODEL_FILE = "model.keras"
MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
SPLITS = ("train", "val", "test")
IMAGES_FILE = "images.npz"
_IMAGE_KEYS = ("test_images", "test_labels", "test_files", "sample_images", "sample_labels")


@dataclass
class Run:
    """A loaded run: ``folder`` is None when a bare model file was given."""

    model: object
    model_path: str
    folder: str | None = None
    metrics: dict = field(default_factory=dict)
    history: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return os.path.basename(os.path.normpath(self.folder or self.model_path))

    @property
    def spec(self):
        """The ``resize.ImageSpec`` of a run trained on image folders; None otherwise."""
        from tinyann.app.resize import ImageSpec

        return ImageSpec.from_metrics(self.metrics)


def model_path(run_or_model) -> str:
    """The model file of a run folder, or the model file itself; checks it exists."""
    path = os.fspath(run_or_model)
    if os.path.isdir(path):
        candidate = os.path.join(path, MODEL_FILE)
        if not os.path.isfile(candidate):
            raise FileNotFoundError(f"no {MODEL_FILE} in {path}; expected a run folder made "
                                    "by `tinyann train` or a model file")
        return candidate
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} does not exist; expected a run folder made by "
                                f"`tinyann train` or a model file ({', '.join(MODEL_SUFFIXES)})")
    return path


def load_model(path):
    """Loads a model file with ``tinyann.saving``; any failure names the file."""
    from tinyann import saving

    try:
        # compile=False: inference needs no optimizer state, and loads faster
        return saving.load_model(path, compile=False)
    except (OSError, ValueError) as error:
        message = str(error)
        if os.fspath(path) not in message:
            message = f"cannot load the model {path}: {message}"
        raise ValueError(message) from None
    except Exception as error:  # a corrupt archive may raise anything (zipfile, KeyError)
        raise ValueError(f"cannot load the model {path}: {type(error).__name__}: {error}") \
            from None


def read_json(path, default=None):
    """A JSON file's content; ``default`` when missing; ValueError naming a corrupt file."""
    if not os.path.exists(path):
        return default
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from None


def load_run(run_or_model, classes=None) -> Run:
    """The model and, for a run folder, its metrics and history.

    ``classes``: the number of class probabilities a Fashion-MNIST model must give
    (None: any, >= 2). A run trained on image folders must take its stored input
    shape and give one probability per stored class name instead.
    """
    path = model_path(run_or_model)
    folder = os.fspath(run_or_model) if os.path.isdir(run_or_model) else None
    run = Run(model=load_model(path), model_path=path, folder=folder)
    if folder:
        run.metrics = read_json(os.path.join(folder, "metrics.json"), {}) or {}
        run.history = read_json(os.path.join(folder, "history.json"), {}) or {}
    spec = run.spec
    if spec is None:
        check_classifier(run.model, path, classes)
    else:
        check_folder_classifier(run, spec)
    return run


def check_folder_classifier(run, spec) -> None:
    """Checks a model trained on image folders takes ``spec.input_shape`` and gives one
    probability per class name of its run."""
    inputs = tuple(run.model.input_shape[1:])
    outputs = tuple(run.model.output_shape[1:])
    if inputs != spec.input_shape:
        raise ValueError(f"{run.model_path} expects inputs of shape {inputs}; its run's "
                         f"metrics.json says {spec.input_shape} ({spec.describe()})")
    names = run.metrics.get("class_names")
    if not (isinstance(names, list) and len(names) >= 2 and outputs == (len(names),)):
        raise ValueError(f"{run.model_path} gives outputs of shape {outputs}; expected one "
                         f"probability per class name in its metrics.json ({names!r})")


def check_classifier(model, path="the model", classes=None) -> None:
    """Checks the model takes 784 pixels and gives class probabilities: (k,) outputs,
    k >= 2 (exactly ``classes`` when given)."""
    inputs = tuple(model.input_shape[1:])
    outputs = tuple(model.output_shape[1:])
    if int(np.prod(inputs)) != 784 or None in inputs:
        raise ValueError(f"{path} expects inputs of shape {inputs}; expected a Fashion-MNIST "
                         "model taking 28x28 images: (784,), (28, 28) or (28, 28, 1), or the "
                         "run folder of a model trained with `tinyann train --data DIR`")
    wanted = "at least 2" if classes is None else str(classes)
    if len(outputs) != 1 or outputs[0] is None or outputs[0] < 2 or (
            classes is not None and outputs[0] != classes):
        raise ValueError(f"{path} gives outputs of shape {outputs}; expected {wanted} class "
                         "probabilities")


def num_classes(model) -> int:
    """How many classes the model's output layer gives probabilities for."""
    return int(model.output_shape[-1])


def class_names(run) -> tuple[list[str], list[str]]:
    """(English, Korean) names of the run's k classes, k from the model's output.

    A run folder's ``metrics.json`` may list them (``class_names``, ``class_names_ko``);
    a 10-class model without them is taken as Fashion-MNIST's; otherwise ``class i``.
    """
    from tinyann.app.labels import CLASS_NAMES_EN, CLASS_NAMES_KO

    k = num_classes(run.model)
    given = run.metrics.get("class_names") if isinstance(run.metrics, dict) else None
    if isinstance(given, list) and len(given) == k and all(isinstance(n, str) for n in given):
        korean = run.metrics.get("class_names_ko")
        if not (isinstance(korean, list) and len(korean) == k):
            korean = given
        return list(given), [str(n) for n in korean]
    if k == len(CLASS_NAMES_EN):
        return list(CLASS_NAMES_EN), list(CLASS_NAMES_KO)
    generic = [f"class {i}" for i in range(k)]
    return generic, [f"클래스 {i}" for i in range(k)]


def as_model_input(model, images) -> np.ndarray:
    """(N, 28, 28) images (or (N, H, W[, 3]) for image folders), uint8 0-255 or float
    0-1 -> float32 in the model's input shape."""
    images = np.asarray(images)
    scaled = images.astype(np.float32) / 255.0 if images.dtype == np.uint8 else \
        images.astype(np.float32, copy=False)
    return scaled.reshape((len(scaled),) + tuple(model.input_shape[1:]))


def predict_proba(model, images, batch_size=1024) -> np.ndarray:
    """Class probabilities (N, 10) for (N, 28, 28) images."""
    x = as_model_input(model, images)
    if len(x) <= batch_size:
        return np.asarray(model.predict_on_batch(x), dtype=np.float32)
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float32)


def load_split(split="test", data_dir=None):
    """(images uint8 (N, 28, 28), labels) of Fashion-MNIST's ``split``.

    'train' and 'val' are the seeds' split of the 60000 training images
    (``train_test_split(test_size=0.2, random_state=42)``), as ``tinyann train`` uses.
    """
    from tinyann.datasets import fashion_mnist

    if split not in SPLITS:
        raise ValueError(f"Unknown split {split!r}; expected one of {list(SPLITS)}")
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(path=data_dir)
    if split == "test":
        return x_test, y_test
    from sklearn.model_selection import train_test_split

    x_tr, x_val, y_tr, y_val = train_test_split(x_train, y_train, test_size=0.2,
                                                random_state=42)
    return (x_tr, y_tr) if split == "train" else (x_val, y_val)


def save_images(folder, test_images, test_labels, test_files, sample_images,
                sample_labels) -> str:
    """Writes ``folder/images.npz`` atomically: the held-out test images (uint8
    (N, H, W[, 3])), their labels (N,) and files (N,), and training samples (M, ...)."""
    import io

    from tinyann.utils.files import atomic_write_bytes

    arrays = dict(zip(_IMAGE_KEYS, (
        np.asarray(test_images, dtype=np.uint8), np.asarray(test_labels, dtype=np.int64),
        np.asarray(test_files, dtype=str), np.asarray(sample_images, dtype=np.uint8),
        np.asarray(sample_labels, dtype=np.int64))))
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    path = os.path.join(folder, IMAGES_FILE)
    atomic_write_bytes(path, buffer.getvalue())
    return path


def load_images(folder) -> dict | None:
    """``images.npz`` of a run folder as a dict of arrays (see :func:`save_images`);
    None when the run has none. ValueError naming the file when it is unreadable."""
    if not folder:
        return None
    path = os.path.join(folder, IMAGES_FILE)
    if not os.path.exists(path):
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in _IMAGE_KEYS}
    except (OSError, ValueError, KeyError) as error:
        raise ValueError(f"{path} is not a readable images file ({error}); expected the "
                         f"arrays {list(_IMAGE_KEYS)} as `tinyann train --data` writes "
                         "them") from None
    if len(arrays["test_images"]) != len(arrays["test_labels"]):
        raise ValueError(f"{path} holds {len(arrays['test_images'])} test images but "
                         f"{len(arrays['test_labels'])} labels; expected as many of each")
    return arrays


def cross_entropy(probs, labels, epsilon=1e-7) -> float:
    """Mean sparse categorical cross-entropy of probabilities, clipped as Keras does."""
    picked = probs[np.arange(len(labels)), np.asarray(labels, dtype=np.int64)]
    return float(np.mean(-np.log(np.clip(picked, epsilon, 1.0 - epsilon))))


def confusion(labels, predictions, n_classes=10) -> np.ndarray:
    """Counts (n_classes, n_classes): row = true class, column = predicted class."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels, dtype=np.int64),
                       np.asarray(predictions, dtype=np.int64)), 1)
    return matrix


def most_confused(matrix, names, top=5) -> list[tuple]:
    """The ``top`` off-diagonal cells: (count, true name, predicted name, true, pred)."""
    pairs = [(int(matrix[i, j]), names[i], names[j], i, j)
             for i in range(len(matrix)) for j in range(len(matrix)) if i != j and matrix[i, j]]
    pairs.sort(key=lambda p: (-p[0], p[3], p[4]))
    return pairs[:top]


# ---------------------------------------------------------------- saving a run
def fit_and_save(args, model, name, train, val, test, kind, out, extra=None):
    """Fits a compiled model on ``train`` = (x, y) watching ``val``, scores ``val`` and
    ``test``, prints them and saves the run folder ``out``; ``extra`` joins the metrics.
    Returns (model, out, metrics, history dict)."""
    import numpy as np

    import tinyann as keras

    (x_tr, y_tr), (x_val, y_val), (x_test, y_test) = train, val, test
    optimizer = model.optimizer
    model.summary()
    verbose = "auto" if args.verbose is None else args.verbose
    start = time.perf_counter()
    history = model.fit(x_tr, y_tr, epochs=args.epochs, batch_size=args.batch_size,
                        validation_data=(x_val, y_val), verbose=verbose)
    fit_seconds = time.perf_counter() - start
    val_loss, val_acc = model.evaluate(x_val, y_val, verbose=0)
    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
    print(f"validation accuracy: {val_acc:.4f} (loss {val_loss:.4f})")
    print(f"test accuracy:       {test_acc:.4f} (loss {test_loss:.4f})")
    print(f"training time:       {fit_seconds:.2f} s")

    os.makedirs(out, exist_ok=True)
    model.save(os.path.join(out, "model.keras"))
    metrics = {
        "model": kind, "optimizer": name, "epochs": args.epochs,
        "batch_size": args.batch_size, "seed": args.seed,
        "learning_rate": float(np.asarray(optimizer.learning_rate)),
        "val_loss": val_loss, "val_accuracy": val_acc,
        "test_loss": test_loss, "test_accuracy": test_acc, "fit_seconds": fit_seconds,
        "tinyann_version": keras.__version__, **(extra or {}),
    }
    write_json(os.path.join(out, "metrics.json"), metrics)
    write_json(os.path.join(out, "history.json"), history.history)
    write_history_csv(os.path.join(out, "history.csv"), history.history)
    print(f"saved the model, history and metrics in {out}/")
    return model, out, metrics, history.history


def write_json(path, obj):
    from tinyann.utils.files import atomic_write_text

    atomic_write_text(path, json.dumps(obj, indent=2) + "\n")


def write_history_csv(path, history):
    from tinyann.utils.files import atomic_write_text

    keys = list(history)
    rows = ["epoch," + ",".join(keys)]
    for i in range(len(history[keys[0]]) if keys else 0):
        rows.append(f"{i}," + ",".join(repr(float(history[k][i])) for k in keys))
    atomic_write_text(path, "\n".join(rows) + "\n")
