"""``tinyann evaluate / predict / report / baseline / serve`` run in process through main()."""

from __future__ import annotations

import gc
import json
import os

import numpy as np
import pytest
from PIL import Image

from tinyann.cli import main


def run_cli(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line_error(status, err, match):
    assert status == 2
    assert err.startswith("tinyann: error: ") and err.count("\n") == 1, err
    assert match in err, err


# ------------------------------------------------------------------ predict
def test_predict_names_the_right_shape(capsys, tiny_run, images, tmp_path):
    photos = [images.photo_of_shape(label, tmp_path / f"shape{label}.png")
              for label in (1, 3, 7)]
    status, out, err = run_cli(capsys, "predict", tiny_run, *photos)
    assert status == 0, err
    blocks = out.strip().split("\n")
    headers = [line for line in blocks if not line.startswith("  ")]
    assert [h.split(": ")[1].split(" (")[0] for h in headers] == ["Trouser", "Dress", "Sneaker"]
    assert sum(line.startswith("  ") for line in blocks) == 9  # top 3 each


def test_predict_json_top_and_korean(capsys, tiny_run, images, tmp_path):
    photo = images.photo_of_shape(7, tmp_path / "shape7.jpg")
    status, out, _ = run_cli(capsys, "predict", tiny_run, photo, "--json", "--top", "5",
                             "--lang", "ko")
    assert status == 0
    (result,) = json.loads(out)
    assert result["image"] == photo
    assert [t["class_name"] for t in result["top"]][0] == "스니커즈"
    assert len(result["top"]) == 5
    probabilities = [t["probability"] for t in result["top"]]
    assert probabilities == sorted(probabilities, reverse=True)
    assert result["input"]["size"] == [300, 240] and result["input"]["inverted"] is True


def test_predict_show_input_saves_what_the_model_saw(capsys, tiny_run, images, tmp_path):
    photo = images.photo_of_shape(1, tmp_path / "bar.png")
    status, out, _ = run_cli(capsys, "predict", tiny_run, photo, "--show-input",
                             tmp_path / "seen")
    assert status == 0
    saved = tmp_path / "seen" / "bar-28x28.png"
    assert f"the model saw: {saved}" in out
    seen = np.asarray(Image.open(saved))
    assert seen.shape == (28, 28)
    assert seen[:, 12:16].mean() > 150 and seen[:, :5].max() < 30  # a bright upright bar


@pytest.mark.parametrize("name, match", [
    ("truncated.jpg", "truncated.jpg could not be decoded"),
    ("not_an_image.jpg", "not_an_image.jpg is not an image Pillow can read"),
    ("missing.png", "missing.png"),
])
def test_predict_bad_images_are_one_line_errors(capsys, tiny_run, images, name, match):
    status, _, err = run_cli(capsys, "predict", tiny_run, images.path(name))
    assert_one_line_error(status, err, match)


@pytest.mark.parametrize("argv, match", [
    (["--top", "0"], "expected an integer from 1 to 10, got '0'"),
    (["--top", "x"], "expected an integer from 1 to 10, got 'x'"),
    (["--lang", "fr"], "invalid choice: 'fr'"),
])
def test_predict_bad_options(capsys, tiny_run, images, argv, match):
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", tiny_run, images.path("boot_16bit.png"), *argv])
    assert exit_info.value.code == 2
    assert_one_line_error(2, capsys.readouterr().err, match)


def test_missing_and_corrupt_models(capsys, tmp_path, images):
    photo = images.path("boot_16bit.png")
    status, _, err = run_cli(capsys, "predict", tmp_path / "nothing", photo)
    assert_one_line_error(status, err, "nothing does not exist")
    status, _, err = run_cli(capsys, "predict", tmp_path, photo)
    assert_one_line_error(status, err, "no model.keras in")
    (tmp_path / "model.keras").write_bytes(b"garbage")
    status, _, err = run_cli(capsys, "evaluate", tmp_path)
    assert_one_line_error(status, err, "model.keras")


# ------------------------------------------------------------------ evaluate, report
def test_evaluate(capsys, tiny_run, fake_fashion_mnist):
    status, out, err = run_cli(capsys, "evaluate", tiny_run)
    assert status == 0, err
    assert "on the test split (200 images" in out
    assert "precision" in out and "recall" in out and "Ankle boot" in out
    accuracy = float(out.split("accuracy: ")[1].split()[0])
    assert 0.9 < accuracy < 1.0  # 8 test labels are deliberately wrong
    assert "most confused pairs" in out


def test_evaluate_val_split(capsys, tiny_run, fake_fashion_mnist):
    status, out, _ = run_cli(capsys, "evaluate", tiny_run, "--split", "val")
    assert status == 0
    assert "on the val split (200 images" in out  # 20% of the 1000 synthetic images


def test_report_command(capsys, tiny_run, fake_fashion_mnist, tmp_path):
    out_file = tmp_path / "r.html"
    status, out, _ = run_cli(capsys, "report", tiny_run, "--out", out_file)
    assert status == 0
    assert f"wrote the report {out_file}" in out
    assert out_file.read_text(encoding="utf-8").count("data:image/png;base64,") == 8
    status, _, err = run_cli(capsys, "report", tmp_path / "nope")
    assert_one_line_error(status, err, "is not a folder; expected a run folder")


# ------------------------------------------------------------------ baseline, serve
def test_baseline_small(capsys, fake_fashion_mnist, tmp_path):
    status, out, err = run_cli(capsys, "baseline", "--out", tmp_path)
    assert status == 0, err
    assert "5-fold cross-validation on 1000 images" in out
    saved = json.loads((tmp_path / "baseline.json").read_text())
    assert len(saved["fold_accuracy"]) == 5
    assert saved["mean_accuracy"] == pytest.approx(np.mean(saved["fold_accuracy"]))
    assert f"mean accuracy: {saved['mean_accuracy']:.4f} (the seeds print 0.8194)" in out


def test_baseline_out_must_be_a_folder(capsys, tmp_path):
    status, _, err = run_cli(capsys, "baseline", "--out", tmp_path / "no")
    assert_one_line_error(status, err, "is not a folder")


@pytest.mark.parametrize("port", ["99999", "http"])
def test_serve_bad_port(capsys, tiny_run, port):
    with pytest.raises(SystemExit):
        main(["serve", tiny_run, "--port", port])
    assert_one_line_error(2, capsys.readouterr().err, "expected a port number 0-65535")


@pytest.mark.parametrize("workers", ["0", "65", "two"])
def test_serve_bad_worker_count(capsys, tiny_run, workers):
    with pytest.raises(SystemExit):
        main(["serve", tiny_run, "--workers", workers])
    assert_one_line_error(2, capsys.readouterr().err,
                          "expected a number of processes from 1 to 64")


def test_default_workers_is_one_per_core_at_most_four(monkeypatch):
    from tinyann.app import server
    from tinyann.kernels import cores as cores_module

    for cores, expected in [(1, 1), (2, 2), (3, 3), (16, 4)]:
        monkeypatch.setattr(cores_module, "usable_cores", lambda n=cores: n)
        assert server.default_workers() == expected


def test_worker_processes_build_the_app_from_the_environment(monkeypatch, tiny_run):
    from tinyann.app import server

    monkeypatch.delenv(server.OPTIONS_VARIABLE, raising=False)
    with pytest.raises(RuntimeError, match="TINYANN_SERVE_OPTIONS is not set"):
        server.app_from_environment()
    options = server.ServeOptions(tiny_run, None, test_images=False)
    monkeypatch.setenv(server.OPTIONS_VARIABLE, options.to_json())
    try:
        app = server.app_from_environment()
        # the start-up's objects are out of the collector's full passes (server.settle)
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()  # this test process goes on to other tests
    state = app.state.tinyann
    assert state.run.name == "tiny" and len(state.labels) == 0


# ------------------------------------------------------------------ real data
@pytest.mark.slow
def test_baseline_is_the_seeds_number(capsys):
    status, out, _ = run_cli(capsys, "baseline")
    assert status == 0
    assert "mean accuracy: 0.8194 (the seeds print 0.8194)" in out


TOPS = {"T-shirt/top", "Pullover", "Coat", "Shirt", "Dress"}
SHOES = {"Sneaker", "Sandal", "Ankle boot"}


@pytest.mark.slow
@pytest.mark.parametrize("name, top1, family", [
    ("dark_shirt_on_white.jpg", TOPS - {"Dress"}, TOPS),
    ("sneaker_at_angle.jpg", {"Sneaker"}, SHOES),
    ("sneaker_exif_rotated.jpg", {"Sneaker"}, SHOES),
    ("trousers_transparent.png", {"Trouser"}, None),
    ("dress_cmyk.jpg", {"Dress"}, None),
    ("boot_16bit.png", {"Ankle boot"}, SHOES),
])
def test_predict_real_photos_sensibly(capsys, real_run, images, name, top1, family):
    status, out, _ = run_cli(capsys, "predict", real_run, images.path(name), "--json")
    assert status == 0
    names = [t["class_name"] for t in json.loads(out)[0]["top"]]
    assert names[0] in top1, names
    if family is not None:  # the runner-up is a near miss: another top, another shoe
        assert names[1] in family, names


@pytest.mark.slow
def test_train_writes_the_report_like_make_demo(capsys, tmp_path):
    out_dir = tmp_path / "demo"
    status, out, err = run_cli(capsys, "train", "--epochs", "1", "--out", out_dir,
                               "--verbose", "0")
    assert status == 0, err
    assert f"wrote the report {os.path.join(str(out_dir), 'report.html')}" in out
    html = (out_dir / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 8
    assert "60000 training images" in html
    assert "one template per class" in html


@pytest.mark.parametrize("extra, workers, access_log", [
    ([], "1", False), (["--access-log"], "1", True), ([], "2", False)])
def test_serve_passes_its_settings_to_uvicorn(monkeypatch, capsys, tiny_run, extra, workers,
                                              access_log):
    import uvicorn

    from tinyann.app import server

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    monkeypatch.setenv(server.OPTIONS_VARIABLE, "")  # restored after the test
    main(["serve", tiny_run, "--no-test-images", "--workers", workers, "--port", "8123",
          *extra])
    (app, settings), = calls
    assert settings["access_log"] is access_log and settings["backlog"] >= 2048
    assert settings["port"] == 8123 and settings["host"] == "127.0.0.1"
    if workers == "1":
        assert app.state.tinyann.run.name == "tiny"
    else:
        assert app == server.FACTORY and settings["workers"] == 2
        assert os.environ[server.OPTIONS_VARIABLE]
