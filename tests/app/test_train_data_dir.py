"""``tinyann train --data DIR`` end to end: a folder per class of Pillow-drawn circles,
squares and triangles (varied sizes, colours, positions; PNG and JPEG) -> a run whose
predict, evaluate, report and serve (and the web page) speak its class names."""

from __future__ import annotations

import base64
import io
import json
import os

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tinyann import cli
from tinyann.app import resize, runs

CLASSES = ("circle", "square", "triangle")
SIZE = (32, 32)


def draw(kind: str, rng, size=None) -> Image.Image:
    """One RGB picture of a ``kind`` shape, dark ink on a plain light background."""
    width, height = size or (int(rng.integers(40, 90)), int(rng.integers(40, 90)))
    image = Image.new("RGB", (width, height), tuple(int(v) for v in rng.integers(170, 256, 3)))
    ink = tuple(int(v) for v in rng.integers(0, 120, 3))
    d = ImageDraw.Draw(image)
    side = int(min(width, height) * rng.uniform(0.55, 0.85))
    left = int(rng.integers(0, width - side + 1))
    top = int(rng.integers(0, height - side + 1))
    if kind == "circle":
        d.ellipse([left, top, left + side - 1, top + side - 1], fill=ink)
    elif kind == "square":
        d.rectangle([left, top, left + side - 1, top + side - 1], fill=ink)
    else:
        d.polygon([(left + side // 2, top), (left + side - 1, top + side - 1),
                   (left, top + side - 1)], fill=ink)
    return image


def write_folder(root, per_class=100, seed=0, classes=CLASSES) -> str:
    """``root/<class>/<class>-<i>.png`` (every third one a JPEG)."""
    rng = np.random.default_rng(seed)
    for kind in classes:
        os.makedirs(os.path.join(root, kind), exist_ok=True)
        for i in range(per_class):
            suffix = ".jpg" if i % 3 == 0 else ".png"
            draw(kind, rng).save(os.path.join(root, kind, f"{kind}-{i}{suffix}"))
    return str(root)


def new_pictures(folder) -> dict:
    """{class: path} of one fresh, larger picture per class (not in the training folder)."""
    rng = np.random.default_rng(1234)
    paths = {}
    for kind in CLASSES:
        paths[kind] = os.path.join(folder, f"new-{kind}.png")
        draw(kind, rng, size=(150, 120)).save(paths[kind])
    return paths


def run_cli(capsys, *argv):
    """(exit status, stdout, stderr) of ``tinyann ARGV`` run in this process."""
    try:
        status = cli.main([str(a) for a in argv])
    except SystemExit as stop:  # argparse's own errors
        status = stop.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The folder of pictures and the run ``tinyann train --data`` made of it (once)."""
    root = tmp_path_factory.mktemp("train-data")
    data = write_folder(root / "shapes")
    run = root / "run"
    status = cli.main(["train", "--data", data, "--image-size", *map(str, SIZE),
                       "--epochs", "25", "--batch-size", "16", "--verbose", "0",
                       "--out", str(run)])
    assert status == 0
    pictures = new_pictures(str(root))
    return data, str(run), pictures


def test_the_run_learns_well_above_chance_and_stores_its_classes(trained):
    data, run, _ = trained
    assert sorted(os.listdir(run)) == ["history.csv", "history.json", "images.npz",
                                       "metrics.json", "model.keras", "report.html"]
    metrics = json.loads(open(os.path.join(run, "metrics.json")).read())
    assert metrics["class_names"] == list(CLASSES)
    assert metrics["input"] == {"kind": "image-folders", "image_size": list(SIZE),
                                "color_mode": "rgb"}
    assert metrics["images"] == {"train": [60] * 3, "validation": [20] * 3,
                                 "test": [20] * 3}
    assert metrics["test_accuracy"] > 0.75  # chance is 1/3
    with np.load(os.path.join(run, "images.npz"), allow_pickle=False) as stored:
        assert stored["test_images"].shape == (60, *SIZE, 3)
        assert stored["test_images"].dtype == np.uint8
        assert np.bincount(stored["test_labels"]).tolist() == [20, 20, 20]
        assert all(f.startswith(CLASSES[label] + os.sep)
                   for f, label in zip(stored["test_files"], stored["test_labels"]))
    loaded = runs.load_run(run)
    assert loaded.spec == resize.ImageSpec(SIZE, "rgb")
    assert loaded.model.input_shape == (None, *SIZE, 3)


def test_the_test_images_are_held_out_of_training(trained):
    _, run, _ = trained
    with np.load(os.path.join(run, "images.npz"), allow_pickle=False) as stored:
        tested = set(stored["test_files"].tolist())
        sampled, test_images = stored["sample_images"], stored["test_images"]
    assert len(tested) == 60 and len(sampled) == 15
    # a training sample is never one of the test images
    assert not any((test_images == s).all(axis=(1, 2, 3)).any() for s in sampled)


def test_the_report_names_the_classes(trained):
    _, run, _ = trained
    page = open(os.path.join(run, "report.html"), encoding="utf-8").read()
    for name in CLASSES:
        assert page.count(name) >= 3  # class table, per-class table, mistakes or pairs
    assert "T-shirt" not in page and "Ankle boot" not in page
    assert "Baseline" not in page and "32x32 RGB" in page
    assert page.count("<img ") >= 6


def test_predict_names_the_right_class_of_new_pictures(trained, capsys):
    _, run, pictures = trained
    status, out, err = run_cli(capsys, "predict", run, *pictures.values(), "--json",
                               "--top", "3")
    assert status == 0, err
    results = json.loads(out)
    assert [r["top"][0]["class_name"] for r in results] == list(CLASSES)
    assert results[0]["input"] == {"size": [150, 120], "mode": "RGB",
                                   "resized_to": list(SIZE), "color_mode": "rgb"}
    status, out, _ = run_cli(capsys, "predict", run, pictures["square"])
    assert out.startswith(f"{pictures['square']}: square (")


def test_evaluate_scores_the_held_out_images(trained, capsys):
    _, run, _ = trained
    status, out, err = run_cli(capsys, "evaluate", run)
    assert status == 0, err
    accuracy = json.loads(open(os.path.join(run, "metrics.json")).read())["test_accuracy"]
    assert f"accuracy: {accuracy:.4f}" in out and "(60 images" in out
    assert all(name in out for name in CLASSES)
    status, _, err = run_cli(capsys, "evaluate", run, "--split", "val")
    assert status == 2 and "expected --split test" in err


def png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_model_file_alone_is_refused_with_a_hint(trained, capsys):
    _, run, pictures = trained
    status, _, err = run_cli(capsys, "predict", os.path.join(run, "model.keras"),
                             pictures["circle"])
    assert status == 2
    assert "expects inputs of shape (32, 32, 3)" in err and "trained with `tinyann train " \
        "--data DIR`" in err


def test_the_split_is_stratified_disjoint_and_complete():
    from tinyann.app import UsageError, folders

    labels = np.repeat([0, 1, 2], [10, 20, 7])
    train, val, test = folders.split(labels, 0.2, 0.3, seed=3)
    together = np.concatenate([train, val, test])
    assert sorted(together.tolist()) == list(range(len(labels)))  # each image once
    assert np.bincount(labels[val]).tolist() == [2, 4, 1]
    assert np.bincount(labels[test]).tolist() == [3, 6, 2]
    again = folders.split(labels, 0.2, 0.3, seed=3)
    assert all((a == b).all() for a, b in zip(again, (train, val, test)))
    with pytest.raises(UsageError, match="class 'b' has 2 image"):
        folders.split(np.array([0, 0, 0, 1, 1]), 0.2, 0.2, names=["a", "b"])


def test_serve_answers_with_the_run_classes_and_input(trained):
    from fastapi.testclient import TestClient

    from tinyann.app.server import create_app

    _, run, pictures = trained
    with TestClient(create_app(run)) as client:
        health = client.get("/api/health").json()
        assert health["classes"] == list(CLASSES) and health["classes_ko"] == list(CLASSES)
        assert health["image_size"] == list(SIZE) and health["color_mode"] == "rgb"
        assert health["test_images"] == 60 and "images.npz" in health["test_images_source"]
        for kind, path in pictures.items():
            with open(path, "rb") as handle:
                body = client.post("/api/predict", files={"file": ("x.png", handle.read())})
            assert body.status_code == 200, body.text
            assert body.json()["name"] == kind
            assert [p["name"] for p in body.json()["probabilities"]] == list(CLASSES)
        seen = Image.open(io.BytesIO(base64.b64decode(body.json()["input_png"].split(",")[1])))
        assert seen.size == SIZE[::-1] and seen.mode == "RGB"
        assert np.array(client.get("/api/confusion").json()["matrix"]).sum() == 60
        tile = Image.open(io.BytesIO(client.get("/api/test-images/0/image.png").content))
        assert tile.size == SIZE[::-1] and tile.mode == "RGB"
        one = client.get("/api/test-images/0").json()
        assert one["true_label"] in range(3) and one["name"] in CLASSES
        bad = client.post("/api/predict", files={"file": ("x.png", b"not a picture")})
        assert bad.status_code == 400 and "not an image" in bad.json()["detail"]


def test_each_serve_worker_browses_the_runs_own_test_images(trained):
    from fastapi.testclient import TestClient

    from tinyann.app import server

    _, run, _ = trained
    for browse, expected in ((True, 60), (False, 0)):
        app = server.app_for(server.ServeOptions(run, None, test_images=browse))
        with TestClient(app) as client:
            health = client.get("/api/health").json()
        assert health["classes"] == list(CLASSES) and health["test_images"] == expected


def test_serve_without_stored_images_says_so(trained, tmp_path):
    import shutil

    from fastapi.testclient import TestClient

    from tinyann.app.server import create_app

    _, run, pictures = trained
    bare = tmp_path / "bare"
    shutil.copytree(run, bare)
    os.remove(bare / "images.npz")
    with TestClient(create_app(str(bare))) as client:
        health = client.get("/api/health").json()
        assert health["test_images"] == 0 and health["test_accuracy"] is None
        assert health["test_images_source"].startswith("none: the run has no images.npz")
        assert client.get("/api/test-images").json()["total"] == 0
        with open(pictures["circle"], "rb") as handle:
            body = client.post("/api/predict", files={"file": ("c.png", handle.read())})
        assert body.json()["name"] == "circle"


def test_a_grayscale_run_takes_grey_pictures(tmp_path, capsys):
    data = write_folder(tmp_path / "grey", per_class=8, classes=("dark", "light"))
    status, _, err = run_cli(capsys, "train", "--data", data, "--image-size", 12, 16,
                             "--color-mode", "grayscale", "--epochs", 1, "--verbose", 0,
                             "--validation-split", 0.25, "--test-split", 0.25,
                             "--out", tmp_path / "run", "--no-report")
    assert status == 0, err
    run = runs.load_run(str(tmp_path / "run"))
    assert run.model.input_shape == (None, 12, 16, 1)
    prepared = resize.prepare(os.path.join(data, "dark", "dark-1.png"), run.spec)
    assert prepared.image.shape == (12, 16) and prepared.image.dtype == np.float32
    with np.load(tmp_path / "run" / "images.npz", allow_pickle=False) as stored:
        assert stored["test_images"].shape == (4, 12, 16)


@pytest.mark.browser
def test_the_page_shows_the_class_of_an_uploaded_picture(trained, page):
    from tinyann.app.server import create_app

    from .conftest import ServerThread

    _, run, pictures = trained
    with ServerThread(create_app(run)) as server:
        page.goto(server.url + "/")
        page.wait_for_selector("body[data-ready=true]")
        assert "circle / square / triangle" in page.text_content("#drop-text")
        page.wait_for_function("document.querySelectorAll('#grid .tile').length === 60")
        page.set_input_files("#file", pictures["triangle"])
        page.wait_for_selector("#result:not([hidden])")
        assert page.text_content("#label") == "triangle"
        assert page.text_content("#input-caption") == "what the model saw (32x32, colour)"
        assert page.eval_on_selector("#input28", "img => img.complete && img.naturalWidth") \
            == SIZE[1]
        bars = page.eval_on_selector_all("#bars .bar", "bs => bs.map(b => b.dataset.label)")
        assert bars == ["0", "1", "2"]
        assert page.text_content("#confusion th:nth-child(2)") == "circle"
    assert page.problems == []


# ------------------------------------------------------------------ bad input
def one_line_error(capsys, *argv) -> str:
    status, _, err = run_cli(capsys, "train", *argv, "--epochs", 1, "--verbose", 0,
                             "--no-report")
    assert status == 2
    assert err.startswith("tinyann: error: ") and err.count("\n") == 1
    return err


def test_a_missing_folder_is_named(tmp_path, capsys):
    err = one_line_error(capsys, "--data", tmp_path / "nowhere")
    assert f"--data {tmp_path / 'nowhere'}: no such folder; expected a folder with one " \
        "subfolder of images per class" in err


def test_a_file_instead_of_a_folder(tmp_path, capsys):
    (tmp_path / "a.png").write_bytes(b"x")
    assert "is a file; expected a folder" in one_line_error(capsys, "--data", tmp_path / "a.png")


def test_one_class_only(tmp_path, capsys):
    data = write_folder(tmp_path / "one", per_class=5, classes=("circle",))
    err = one_line_error(capsys, "--data", data)
    assert "has 1 class folder ('circle'); expected" in err and "at least 2 classes" in err


def test_no_class_folders(tmp_path, capsys):
    (tmp_path / "flat").mkdir()
    draw("circle", np.random.default_rng(0)).save(tmp_path / "flat" / "a.png")
    assert "has no class folders; expected" in one_line_error(capsys, "--data",
                                                              tmp_path / "flat")


def test_class_folders_without_images(tmp_path, capsys):
    data = write_folder(tmp_path / "d", per_class=5, classes=("circle",))
    os.makedirs(os.path.join(data, "square"))
    (tmp_path / "d" / "square" / "notes.txt").write_text("no pictures here")
    err = one_line_error(capsys, "--data", data)
    assert "the class folder(s) square hold no images; expected images (.bmp" in err


def test_a_corrupt_picture_is_named(tmp_path, capsys):
    data = write_folder(tmp_path / "c", per_class=5, classes=("circle", "square"))
    broken = os.path.join(data, "square", "broken.png")
    with open(broken, "wb") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    err = one_line_error(capsys, "--data", data)
    assert f"{broken} is not an image Pillow can read" in err and "expected an image" in err


def test_too_few_pictures_for_the_split(tmp_path, capsys):
    data = write_folder(tmp_path / "few", per_class=2, classes=("circle", "square"))
    err = one_line_error(capsys, "--data", data)
    assert "class 'circle' has 2 image(s); expected at least 3" in err


@pytest.mark.parametrize("argv, expected", [
    (["--image-size", "32", "32"], "--image-size: only with --data DIR"),
    (["--data", "x", "--data-dir", "y"], "--data-dir is where Fashion-MNIST's IDX files"),
    (["--data", "x", "--test-split", "0.6"], "expected a fraction between 0 and 0.5"),
    (["--data", "x", "--image-size", "0", "3"], "expected a positive integer, got '0'"),
])
def test_options_that_do_not_fit(argv, expected, capsys):
    status, _, err = run_cli(capsys, "train", *argv)
    assert status == 2 and expected in err and err.count("\n") == 1


def test_a_malformed_input_spec_in_metrics_is_an_error():
    with pytest.raises(ValueError, match=r"metrics.json's \"input\" is .*expected"):
        resize.ImageSpec.from_metrics({"input": {"kind": "image-folders",
                                                 "image_size": [32], "color_mode": "rgb"}})
    assert resize.ImageSpec.from_metrics({"model": "linear"}) is None


def test_transparent_pixels_become_white():
    picture = Image.new("RGBA", (20, 20), (255, 0, 0, 0))
    pixels = resize.to_pixels(picture, resize.ImageSpec((10, 10), "rgb"))
    assert pixels.shape == (10, 10, 3) and (pixels == 255).all()
