"""The HTML report, its figures and the run helpers it uses."""

from __future__ import annotations

import base64
import io
import json
import os
import re

import numpy as np
import pytest
from PIL import Image

from tinyann.app import labels, plots, report, runs


def decode_png(data: bytes) -> Image.Image:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def embedded_images(html: str) -> list[Image.Image]:
    return [decode_png(base64.b64decode(b64))
            for b64 in re.findall(r'<img src="data:image/png;base64,([^"]+)"', html)]


@pytest.fixture(scope="module")
def html(tiny_run, shapes):
    run = runs.load_run(tiny_run)
    return report.build_report(run, shapes.x_train, shapes.y_train, shapes.x_test,
                               shapes.y_test)


# ------------------------------------------------------------------ the report
def test_report_has_every_section(html):
    for anchor in ("data", "training", "test", "learned", "settings"):
        assert f'<section id="{anchor}">' in html
    for heading in ("The first ten training images", "Images per class", "Confusion matrix",
                    "Accuracy of each class", "Most confused pairs", "The worst mistakes",
                    "Timings", "Baseline"):
        assert heading in html


def test_report_images_are_embedded_and_not_empty(html):
    pictures = embedded_images(html)
    # samples, one per class, counts, curves, confusion, per-class, mistakes, weights
    assert len(pictures) == 8
    for picture in pictures:
        assert picture.width > 50 and picture.height > 50
        pixels = np.asarray(picture.convert("L"))
        assert pixels.std() > 5  # something is drawn, not a blank canvas


def test_report_is_self_contained(html):
    assert "<script" not in html
    external = re.findall(r'(?:src|href)="((?!data:|#)[^"]*)"', html)
    assert external == []
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")


def test_report_numbers_match_the_model(html, tiny_run, shapes):
    run = runs.load_run(tiny_run)
    probs = runs.predict_proba(run.model, shapes.x_test)
    accuracy = float(np.mean(probs.argmax(1) == shapes.y_test))
    assert f"accuracy<b>{accuracy:.4f}</b>" in html
    for name in labels.CLASS_NAMES_KO:
        assert name in html  # the class table has the Korean names
    assert "4 epochs" not in html  # settings come from metrics.json, as numbers
    assert "<td class=\"l\">epochs</td><td class=\"\">4</td>" in html


def test_report_baseline_measured_or_the_seeds(tiny_run):
    run = runs.load_run(tiny_run)
    seeds = report.settings_section(run, {}, None)
    assert "as the seeds print it: <b>0.8194</b>" in seeds
    assert "+0.0806 against the baseline" in seeds  # 0.9 in the tiny run's metrics
    measured = report.settings_section(run, {"fit": 1.5}, {"mean_accuracy": 0.8123})
    assert "<b>0.8123</b> (the seeds print 0.8194)" in measured
    assert "+0.0877 against the baseline" in measured
    assert "1.50 s" in measured


def test_report_of_a_bare_model_has_no_curves(tiny_run):
    run = runs.load_run(os.path.join(tiny_run, "model.keras"))
    assert run.folder is None and run.history == {} and run.metrics == {}
    section = report.training_section(run.history)
    assert "has no learning curves" in section and "<img" not in section


def test_report_of_an_mlp_shows_its_hidden_units(tmp_path, shapes, make_run):
    folder = make_run(tmp_path / "mlp", shapes.x_train[:200], shapes.y_train[:200],
                      kind="mlp", epochs=1)
    section = report.learned_section(runs.load_run(folder).model, shapes.x_test)
    assert "each of its 100 units" in section
    assert "one template per class" not in section
    assert len(embedded_images(section)) == 1


def test_report_with_convolutions_shows_filters_and_maps(shapes):
    import tinyann as keras

    if not hasattr(keras.layers, "Conv2D"):
        pytest.skip("tinyann.layers.Conv2D has not landed yet")
    from tinyann.app.commands import build_cnn

    section = report.learned_section(build_cnn(keras), shapes.x_test[:5])
    assert "Filters of" in section and "Feature maps of the first test image" in section
    # the filters, the input, and the maps of two convolutions and two poolings
    assert len(embedded_images(section)) == 6


def test_write_report_writes_the_run_folder(tiny_run, fake_fashion_mnist, monkeypatch):
    path = report.write_report(tiny_run)
    assert path == os.path.join(tiny_run, "report.html")
    with open(path, encoding="utf-8") as handle:
        assert len(embedded_images(handle.read())) == 8
    seen = []
    monkeypatch.setattr(report, "build_report", lambda *args: seen.append(args[-1]) or "x")
    with open(os.path.join(tiny_run, "baseline.json"), "w") as handle:
        json.dump({"mean_accuracy": 0.5}, handle)
    try:
        report.write_report(tiny_run, out=os.path.join(tiny_run, "other.html"))
    finally:
        os.remove(os.path.join(tiny_run, "baseline.json"))
    assert seen == [{"mean_accuracy": 0.5}]
    assert os.path.exists(os.path.join(tiny_run, "other.html"))


# ------------------------------------------------------------------ figures
def test_figures_are_pngs():
    rng = np.random.default_rng(0)
    names = labels.CLASS_NAMES_EN
    figures = [
        plots.image_grid(rng.integers(0, 255, (12, 28, 28)), titles=[str(i) for i in range(12)]),
        plots.class_counts(np.arange(10) + 5, names),
        plots.learning_curves({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7],
                               "accuracy": [0.5, 0.8], "val_accuracy": [0.4, 0.7]}),
        plots.confusion_matrix(rng.integers(0, 50, (10, 10)), names),
        plots.per_class_accuracy(rng.uniform(0, 1, 10), names),
        plots.weight_images(rng.normal(size=(784, 10)), list(names)),
        plots.conv_filters(rng.normal(size=(3, 3, 1, 8))),
        plots.feature_maps(rng.uniform(size=(14, 14, 4))),
    ]
    for data in figures:
        assert decode_png(data).width > 50


@pytest.mark.parametrize("call, match", [
    (lambda: plots.image_grid(np.zeros((0, 28, 28))), "at least one image; received 0"),
    (lambda: plots.learning_curves({"lr": [0.1]}), "received keys \\['lr'\\]"),
    (lambda: plots.weight_images(np.zeros((100, 10))), "received shape \\(100, 10\\)"),
    (lambda: plots.conv_filters(np.zeros((3, 3, 8))), "received shape \\(3, 3, 8\\)"),
    (lambda: plots.feature_maps(np.zeros((4, 4))), "received shape \\(4, 4\\)"),
])
def test_figures_reject_wrong_shapes(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ------------------------------------------------------------------ runs and labels
def test_model_path_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no model.keras in"):
        runs.model_path(tmp_path)
    with pytest.raises(FileNotFoundError, match="missing does not exist"):
        runs.model_path(tmp_path / "missing")


def test_corrupt_model_file_is_named(tmp_path):
    bad = tmp_path / "model.keras"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError, match="model.keras"):
        runs.load_run(tmp_path)


def test_corrupt_metrics_file_is_named(tmp_path):
    bad = tmp_path / "metrics.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="metrics.json is not valid JSON"):
        runs.read_json(str(bad))


def test_check_classifier_rejects_other_models():
    import tinyann as keras

    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(10)])
    with pytest.raises(ValueError, match="expects inputs of shape \\(10,\\)"):
        runs.check_classifier(model)
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(3)])
    runs.check_classifier(model)  # any k >= 2 classes, unless told how many
    with pytest.raises(ValueError, match="outputs of shape \\(3,\\); expected 10"):
        runs.check_classifier(model, classes=10)
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="outputs of shape \\(1,\\); expected at least 2"):
        runs.check_classifier(model)


def test_confusion_most_confused_and_cross_entropy():
    y_true = np.array([0, 0, 1, 1, 1, 2])
    y_pred = np.array([0, 1, 1, 0, 0, 2])
    matrix = runs.confusion(y_true, y_pred, n_classes=3)
    np.testing.assert_array_equal(matrix, [[1, 1, 0], [2, 1, 0], [0, 0, 1]])
    assert runs.most_confused(matrix, ["a", "b", "c"]) == [(2, "b", "a", 1, 0),
                                                           (1, "a", "b", 0, 1)]
    probs = np.array([[0.5, 0.5], [0.25, 0.75]], dtype=np.float32)
    assert runs.cross_entropy(probs, [0, 1]) == pytest.approx(
        -(np.log(0.5) + np.log(0.75)) / 2, rel=1e-6)


def test_class_names_in_both_languages():
    assert labels.class_name(7) == "Sneaker"
    assert labels.class_name(7, "ko") == "스니커즈"
    assert labels.class_names("ko")[9] == "앵클 부츠"
    with pytest.raises(ValueError, match="Unknown language 'fr'; expected one of"):
        labels.class_names("fr")
    with pytest.raises(ValueError, match="Received: label=10"):
        labels.class_name(10)


@pytest.mark.slow
def test_seeds_split_sizes():
    x_val, y_val = runs.load_split("val")
    x_train, _ = runs.load_split("train")
    assert (len(x_train), len(x_val)) == (48000, 12000)
    with pytest.raises(ValueError, match="Unknown split 'dev'"):
        runs.load_split("dev")
