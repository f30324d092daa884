"""The ``tinyann`` command: help, option errors, and ``train`` writing its run folder.

``train`` runs on a tiny random stand-in for Fashion-MNIST (``load_data`` patched), so
these tests need no data set; the app's commands are tested in tests/app/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tinyann import cli


@pytest.fixture
def tiny_data(monkeypatch):
    from tinyann.datasets import fashion_mnist

    rng = np.random.default_rng(0)
    train = (rng.integers(0, 256, (300, 28, 28), dtype=np.uint8),
             np.arange(300, dtype=np.uint8) % 10)
    test = (rng.integers(0, 256, (50, 28, 28), dtype=np.uint8),
            np.arange(50, dtype=np.uint8) % 10)
    monkeypatch.setattr(fashion_mnist, "load_data", lambda path=None: (train, test))


def run(capsys, *argv):
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_help_lists_every_command_with_examples():
    result = subprocess.run([sys.executable, "-m", "tinyann", "--help"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0
    for command in ("data", "train", "evaluate", "predict", "report", "baseline", "serve"):
        assert command in result.stdout
    assert "examples:" in result.stdout and "tinyann predict runs/mlp" in result.stdout


@pytest.mark.parametrize("argv, match", [
    (["train", "--model", "rnn"], "invalid choice: 'rnn'"),
    (["train", "--epochs", "0"], "expected a positive integer, got '0'"),
    (["evaluate", "run", "--split", "train"], "invalid choice: 'train'"),
    (["predict", "run"], "the following arguments are required: IMAGE"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
])
def test_bad_options_are_one_line_errors(capsys, argv, match):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.startswith("tinyann: error: ") and err.count("\n") == 1
    assert match in err


def test_train_writes_model_history_metrics_and_report(capsys, tiny_data, tmp_path):
    out_dir = tmp_path / "run"
    status, out, err = run(capsys, "train", "--epochs", "2", "--out", out_dir, "--verbose", "0")
    assert status == 0, err
    for name in ("model.keras", "history.json", "history.csv", "metrics.json", "report.html"):
        assert (out_dir / name).is_file(), name
    metrics = json.loads((out_dir / "metrics.json").read_text())
    assert metrics["model"] == "linear" and metrics["epochs"] == 2
    html = (out_dir / "report.html").read_text(encoding="utf-8")
    assert "300 training images" in html and html.count("data:image/png;base64,") == 8
    assert f"wrote the report {os.path.join(str(out_dir), 'report.html')}" in out


def test_train_no_report(capsys, tiny_data, tmp_path):
    status, _, _ = run(capsys, "train", "--epochs", "1", "--out", tmp_path / "r",
                       "--verbose", "0", "--no-report", "--model", "mlp")
    assert status == 0
    assert not (tmp_path / "r" / "report.html").exists()
    assert (tmp_path / "r" / "model.keras").exists()


def test_train_cnn(capsys, tiny_data, tmp_path):
    import tinyann

    status, out, err = run(capsys, "train", "--model", "cnn", "--epochs", "1", "--out",
                           tmp_path / "cnn", "--verbose", "0", "--no-report")
    if not hasattr(tinyann.layers, "Conv2D"):
        assert status == 2
        assert "tinyann: error: --model cnn needs tinyann.layers.Conv2D" in err
        return
    assert status == 0, err
    assert "conv2d" in out.lower() and (tmp_path / "cnn" / "model.keras").exists()
