"""``tinyann report RUN``: one self-contained HTML page about a run.

Every figure is a PNG embedded as base64, the style sheet is inline and there is no
script, so the file opens from disk, offline, in any browser. Sections: the data
(sample grid, class counts), training (learning curves, epoch table), the test set
(confusion matrix, per-class accuracy, precision and recall, most confused pairs,
worst mistakes), what the network learned (first Dense layer's weights, or the
CNN's filters and feature maps) and the run's settings, timings and baseline.

A run trained on image folders (``tinyann train --data DIR``) is reported with its
own class names, its held-out test images and training samples (``images.npz``),
its pictures in their own colours; the Fashion-MNIST baseline is left out.
"""

from __future__ import annotations

import base64
import html
import json
import os
import time

import numpy as np

from tinyann.app import plots, runs
from tinyann.app.labels import CLASS_NAMES_EN, CLASS_NAMES_KO

REPORT_FILE = "report.html"
#: What the seeds print for their logistic-regression baseline (5-fold CV accuracy).
SEEDS_BASELINE = 0.8194

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;
background:#fafafa;line-height:1.45}
header{background:#203040;color:#fff;padding:1.2em 2em}
header h1{margin:0 0 .2em;font-size:1.6em}
nav{background:#e8edf2;padding:.5em 2em;position:sticky;top:0}
nav a{margin-right:1.2em;color:#203040;text-decoration:none;font-weight:600}
main{padding:0 2em 2em;max-width:1100px}
section{background:#fff;border:1px solid #dde;border-radius:6px;margin:1.2em 0;
padding:.4em 1.4em 1em}
h2{border-bottom:2px solid #e8edf2;padding-bottom:.2em}
img{max-width:100%;height:auto}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border:1px solid #ccd;padding:.25em .6em;text-align:right}
th{background:#f0f3f6}
td.l,th.l{text-align:left}
.kpi{display:inline-block;margin:0 2em .5em 0}
.kpi b{display:block;font-size:1.6em}
.note{color:#555;font-size:.9em}
"""


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def _table(header, rows, left=1) -> str:
    """An HTML table; the first ``left`` columns are text, aligned left."""
    head = "".join(f'<th class="{"l" if i < left else ""}">{html.escape(str(h))}</th>'
                   for i, h in enumerate(header))
    body = "".join(
        "<tr>" + "".join(f'<td class="{"l" if i < left else ""}">{html.escape(str(c))}</td>'
                         for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section(anchor, title, body) -> str:
    return f'<section id="{anchor}"><h2>{html.escape(title)}</h2>{body}</section>'


def _fmt(value) -> str:
    if isinstance(value, (dict, list)):  # an image-folder run's classes, input and counts
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1000 else f"{value:.1f}"
    return str(value)


def data_section(x_train, y_train, names=CLASS_NAMES_EN, names_ko=CLASS_NAMES_KO,
                 counts=None, intro=None, cmap="gray_r") -> str:
    """``x_train`` (N, H, W[, 3]) uint8 and labels; ``counts`` (k,) training images per
    class when ``x_train`` is only a sample of them."""
    k = len(names)
    first = _img(plots.image_grid(x_train[:10], [names[int(c)] for c in y_train[:10]],
                                  cmap=cmap), "the first ten training images")
    picks = [int(np.flatnonzero(y_train == c)[0]) for c in range(k) if np.any(y_train == c)]
    per_class = _img(plots.image_grid(x_train[picks], [names[int(y_train[i])] for i in picks],
                                      cmap=cmap), "one training image of each class")
    if counts is None:
        labels, found = np.unique(y_train, return_counts=True)
        full = np.zeros(k, dtype=np.int64)
        full[labels.astype(int)] = found
    else:
        full = np.asarray(counts, dtype=np.int64)
    table = _table(["label", "class", "클래스", "images"],
                   [(i, names[i], names_ko[i], int(full[i])) for i in range(k)], left=3)
    intro = intro or (f"{len(x_train)} training images of 28x28 grey pixels, shown as the "
                      "seeds do (<code>cmap='gray_r'</code>).")
    return _section("data", "The data", (
        f"<p>{intro}</p><h3>The first ten training images</h3>" + first +
        "<h3>One image of each class</h3>" + per_class +
        "<h3>Images per class</h3>" + _img(plots.class_counts(full, names),
                                           "bar chart of images per class") + table))


def training_section(history: dict) -> str:
    if not history:
        return _section("training", "Training", "<p class=note>No history.json in this run: "
                        "a bare model file has no learning curves.</p>")
    keys = [k for k in ("loss", "accuracy", "val_loss", "val_accuracy") if k in history]
    keys += [k for k in history if k not in keys]
    n = len(history[keys[0]])
    rows = [[i + 1] + [_fmt(float(history[k][i])) for k in keys] for i in range(n)]
    return _section("training", "Training", (
        "<p>Loss (left axis) and accuracy (right axis) by epoch, on the training and the "
        "validation set.</p>" + _img(plots.learning_curves(history), "learning curves") +
        _table(["epoch"] + keys, rows, left=0)))


def test_section(y_test, probs, x_test, loss, names=CLASS_NAMES_EN, cmap="gray_r") -> str:
    k = len(names)
    pred = probs.argmax(axis=1)
    matrix = runs.confusion(y_test, pred, k)
    support = matrix.sum(axis=1)
    predicted = matrix.sum(axis=0)
    recall = np.divide(np.diag(matrix), support, out=np.zeros(k), where=support > 0)
    precision = np.divide(np.diag(matrix), predicted, out=np.zeros(k), where=predicted > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(k),
                   where=(precision + recall) > 0)
    accuracy = float(np.mean(pred == y_test))
    rows = [(names[i], f"{precision[i]:.3f}", f"{recall[i]:.3f}", f"{f1[i]:.3f}",
             int(support[i])) for i in range(k)]
    pairs = runs.most_confused(matrix, names, top=8)
    pair_rows = [(t, p, c) for c, t, p, _, _ in pairs]
    wrong = np.flatnonzero(pred != y_test)
    worst = wrong[np.argsort(-probs[wrong, pred[wrong]], kind="stable")][:20]
    mistakes = (_img(plots.image_grid(
        x_test[worst], [f"true: {names[y_test[i]]}\npred: {names[pred[i]]} "
                        f"{probs[i, pred[i]]:.0%}" for i in worst], cols=10, cell=1.2,
        title_size=6, cmap=cmap), "the most confident mistakes") if len(worst)
                else "<p>No mistakes on the test set.</p>")
    return _section("test", "On the test set", (
        f'<div class=kpi>accuracy<b>{accuracy:.4f}</b></div>'
        f'<div class=kpi>loss<b>{loss:.4f}</b></div>'
        f'<div class=kpi>images<b>{len(y_test)}</b></div>'
        f'<div class=kpi>mistakes<b>{len(wrong)}</b></div>'
        "<h3>Confusion matrix</h3>" + _img(plots.confusion_matrix(matrix, names),
                                           "confusion matrix") +
        "<h3>Accuracy of each class</h3>" + _img(plots.per_class_accuracy(recall, names),
                                                 "per-class accuracy") +
        _table(["class", "precision", "recall", "f1", "images"], rows) +
        "<h3>Most confused pairs</h3>" + _table(["true", "predicted as", "images"], pair_rows,
                                                left=2) +
        "<h3>The worst mistakes</h3><p>The wrong predictions the model was surest of.</p>" +
        mistakes))


def _layer_outputs(model, image):
    """[(layer, output)] for one image through a Sequential model, in predict mode."""
    x = runs.as_model_input(model, image[None])
    outputs = []
    for layer in model.layers:
        x = np.asarray(layer(x, training=False))
        outputs.append((layer, x[0]))
    return outputs


def learned_section(model, x_test, cmap="gray_r") -> str:
    parts = []
    kernels = [(layer, layer.get_weights()[0]) for layer in model.layers
               if layer.get_weights() and np.ndim(layer.get_weights()[0]) in (2, 4)]
    conv = [(layer, k) for layer, k in kernels if np.ndim(k) == 4]
    dense = [(layer, k) for layer, k in kernels if np.ndim(k) == 2 and k.shape[0] == 784]
    if dense and not conv:
        layer, kernel = dense[0]
        units = kernel.shape[1]
        titles = list(CLASS_NAMES_EN) if units == 10 else None
        what = ("one template per class: red pixels speak for the class, blue ones against it"
                if units == 10 else f"each of its {units} units' weights as a 28x28 image "
                "(red positive, blue negative)")
        parts.append(f"<p>The first Dense layer, <code>{html.escape(layer.name)}</code>: "
                     f"{what}.</p>" + _img(plots.weight_images(kernel[:, :100], titles),
                                           "first Dense layer's weights"))
    if conv:
        layer, kernel = conv[0]
        parts.append(f"<h3>Filters of <code>{html.escape(layer.name)}</code></h3>" +
                     _img(plots.conv_filters(kernel), "convolution filters"))
        try:
            outputs = _layer_outputs(model, x_test[0])
        except Exception as error:  # a model this code cannot step through
            parts.append(f"<p class=note>No feature maps: {html.escape(str(error))}</p>")
        else:
            parts.append("<h3>Feature maps of the first test image</h3>" +
                         _img(plots.image_grid(x_test[:1], cols=1, cell=1.4, cmap=cmap),
                              "input image"))
            for layer, out in outputs:
                if out.ndim == 3:
                    parts.append(f"<p><code>{html.escape(layer.name)}</code> "
                                 f"({type(layer).__name__}), output {out.shape}</p>" +
                                 _img(plots.feature_maps(out[..., :32]), f"{layer.name} maps"))
    if not parts:
        what = "the 784 pixels" if x_test[0].size == 784 else \
            f"28x28 pixels (its input is {x_test[0].shape})"
        parts.append(f"<p class=note>This model has no Dense layer on {what} and no "
                     "convolution to show.</p>")
    return _section("learned", "What the network learned", "".join(parts))


def settings_section(run, timings, baseline) -> str:
    rows = [(k, _fmt(v)) for k, v in run.metrics.items()]
    rows.append(("model file", run.model_path))
    rows.append(("parameters", model_params(run.model)))
    timing_rows = [(k, f"{v:.2f} s") for k, v in timings.items()]
    if run.spec is not None:  # the seeds' baseline is Fashion-MNIST's
        return _section("settings", "Settings and timings", (
            _table(["setting", "value"], rows) + "<h3>Timings</h3>" +
            _table(["step", "time"], timing_rows)))
    if baseline is not None and "mean_accuracy" in baseline:
        base = (f"<p>Logistic-regression baseline (scikit-learn SGDClassifier, 5-fold "
                f"cross-validation), measured by <code>tinyann baseline</code>: "
                f"<b>{baseline['mean_accuracy']:.4f}</b> (the seeds print {SEEDS_BASELINE}).</p>")
    else:
        base = (f"<p>Logistic-regression baseline (scikit-learn SGDClassifier, 5-fold "
                f"cross-validation) as the seeds print it: <b>{SEEDS_BASELINE}</b>. "
                "<span class=note>Not measured for this run; "
                "<code>tinyann baseline --out RUN</code> measures it.</span></p>")
    test_acc = run.metrics.get("test_accuracy")
    if isinstance(test_acc, (int, float)):
        reference = baseline["mean_accuracy"] if baseline and "mean_accuracy" in baseline \
            else SEEDS_BASELINE
        base += (f"<p>This model's test accuracy: <b>{test_acc:.4f}</b> "
                 f"({test_acc - reference:+.4f} against the baseline).</p>")
    return _section("settings", "Settings, timings and the baseline", (
        _table(["setting", "value"], rows) + "<h3>Timings</h3>" +
        _table(["step", "time"], timing_rows) + "<h3>Baseline</h3>" + base))


def model_params(model) -> int:
    return int(sum(int(np.prod(w.shape)) for w in model.get_weights()))


def build_report(run, x_train, y_train, x_test, y_test, baseline=None) -> str:
    """The report's HTML for a loaded :class:`runs.Run` and the data (uint8 images:
    Fashion-MNIST's, or for image folders the training samples and test images)."""
    timings = {}
    if isinstance(run.metrics.get("fit_seconds"), (int, float)):
        timings["training (fit)"] = float(run.metrics["fit_seconds"])
    start = time.perf_counter()
    probs = runs.predict_proba(run.model, x_test)
    timings[f"predicting {len(x_test)} test images"] = time.perf_counter() - start
    loss = runs.cross_entropy(probs, y_test)
    start = time.perf_counter()
    spec = run.spec
    if spec is None:
        body = (data_section(x_train, y_train) + training_section(run.history) +
                test_section(np.asarray(y_test), probs, x_test, loss) +
                learned_section(run.model, x_test))
    else:
        body = _folder_sections(run, spec, x_train, y_train, x_test, y_test, probs, loss)
    timings["drawing this report"] = time.perf_counter() - start
    body += settings_section(run, timings, baseline)
    title = f"tinyann run {run.name}"
    kind = run.metrics.get("model", type(run.model).__name__)
    nav = "".join(f'<a href="#{a}">{t}</a>' for a, t in (
        ("data", "Data"), ("training", "Training"), ("test", "Test set"),
        ("learned", "What it learned"), ("settings", "Settings")))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{html.escape(title)}</title><link rel=\"icon\" href=\"data:,\">"
        f"<style>{CSS}</style></head><body><header><h1>{html.escape(title)}</h1>"
        f"<div>model <b>{html.escape(str(kind))}</b> &middot; written "
        f"{time.strftime('%Y-%m-%d %H:%M')}</div></header><nav>{nav}</nav><main>{body}"
        "</main></body></html>\n")


def _folder_sections(run, spec, x_train, y_train, x_test, y_test, probs, loss) -> str:
    """The data, training, test and learned sections of a run trained on image folders."""
    names, names_ko = runs.class_names(run)
    cmap = "gray" if spec.color_mode == "grayscale" else None
    images = run.metrics.get("images", {}) if isinstance(run.metrics.get("images"), dict) \
        else {}
    counts = images.get("train")
    if not (isinstance(counts, list) and len(counts) == len(names)):
        counts = None
    total = int(np.sum(counts)) if counts is not None else len(x_train)
    source = html.escape(str(run.metrics.get("data", "image folders")))
    intro = (f"{total} training pictures from <code>{source}</code>, a folder per class, "
             f"resized to {spec.describe()}; shown here: up to "
             f"{len(x_train) // max(1, len(names))} of each class.")
    return (data_section(x_train, y_train, names, names_ko, counts, intro, cmap) +
            training_section(run.history) +
            test_section(np.asarray(y_test), probs, x_test, loss, names, cmap) +
            learned_section(run.model, x_test, cmap))


def report_data(run, data_dir=None) -> tuple:
    """((x_train, y_train), (x_test, y_test)) for the report: Fashion-MNIST's, or the
    samples and test images of a run trained on image folders (its images.npz)."""
    if run.spec is None:
        from tinyann.datasets import fashion_mnist

        return fashion_mnist.load_data(path=data_dir)
    stored = runs.load_images(run.folder)
    if stored is None or not len(stored["test_labels"]):
        raise ValueError(f"{run.folder or run.model_path} has no held-out test images "
                         f"({runs.IMAGES_FILE}); expected the run folder that `tinyann train "
                         "--data DIR` wrote")
    return ((stored["sample_images"], stored["sample_labels"]),
            (stored["test_images"], stored["test_labels"]))


def write_run_report(run, data_dir=None, out=None) -> str:
    """Writes the report of a loaded run atomically (default: RUN/report.html)."""
    from tinyann.utils.files import atomic_write_text

    (x_train, y_train), (x_test, y_test) = report_data(run, data_dir)
    baseline = None
    if run.folder:
        baseline = runs.read_json(os.path.join(run.folder, "baseline.json"))
    if out is None:
        out = os.path.join(run.folder or os.path.dirname(os.path.abspath(run.model_path)),
                           REPORT_FILE)
    atomic_write_text(out, build_report(run, x_train, y_train, x_test, y_test, baseline))
    return out


def write_report(run_or_model, data_dir=None, out=None) -> str:
    """Loads the run (folder or model file) and writes its report; returns the path."""
    return write_run_report(runs.load_run(run_or_model, classes=10), data_dir, out)
