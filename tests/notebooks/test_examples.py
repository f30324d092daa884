"""examples/notebooks/ run with ``tinyann run`` on the real Fashion-MNIST, and give the
textbook's results (slow: each trains on 48,000 images)."""

from __future__ import annotations

import re

import pytest

from tinyann.datasets import fashion_mnist

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("notebook_extra")]

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(autouse=True)
def real_data():
    try:
        fashion_mnist.load_data()
    except OSError as error:  # `make test` fetches it first: a missing set is a failure
        pytest.fail(f"Fashion-MNIST is needed (tinyann data --fetch): {error}")


def run_example(nb, name, tmp_path):
    source = nb.repo / "examples" / "notebooks" / name
    done = nb.cli(["run", str(source)], cwd=tmp_path, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    out = nb.read(tmp_path / name.replace(".ipynb", ".tinyann.ipynb"))
    text = "\n".join(ANSI.sub("", nb.stream(out, i)) for i in range(len(out["cells"])))
    return out, text, done


def number_after(label, text):
    match = re.search(re.escape(label) + r"\s*([0-9.]+)", text)
    assert match, f"{label!r} not in the notebook's output"
    return float(match.group(1))


def png_outputs(nb, out):
    return [o for i in range(len(out["cells"])) for o in nb.outputs(out, i)
            if "image/png" in o.get("data", {})]


def test_7_1_gives_the_seed_recipes_validation_accuracy(nb, tmp_path):
    out, text, done = run_example(nb, "7-1_neural_network.ipynb", tmp_path)
    assert 0.83 <= number_after("validation accuracy:", text) <= 0.86
    assert 0.75 <= float(re.findall(r"^0\.\d+$", text, re.M)[0]) <= 0.85  # the baseline
    fit = [line for line in text.splitlines() if line.startswith("1500/1500 ━")]
    assert len(fit) == 5  # one final line per epoch stored, not one per redraw
    assert len(png_outputs(nb, out)) == 1  # the ten images
    assert "validation accuracy:" in ANSI.sub("", done.stdout)  # shown while it ran


def test_7_2_deeper_network_with_adam(nb, tmp_path):
    out, text, _ = run_example(nb, "7-2_deep_neural_network.ipynb", tmp_path)
    assert 0.86 <= number_after("validation accuracy:", text) <= 0.90
    summaries = [o for i in range(len(out["cells"])) for o in nb.outputs(out, i)
                 if "text/html" in o.get("data", {})]
    plain = "".join("".join(o["data"]["text/plain"]) for o in summaries)
    assert "은닉층 (Dense)" in plain and "78,500" in plain and "패션_MNIST_모델" in plain
    assert len(png_outputs(nb, out)) == 1  # plot_model's picture
    assert (tmp_path / "model.png").exists()


def test_7_3_saves_loads_and_predicts_one_image(nb, tmp_path):
    out, text, _ = run_example(nb, "7-3_training_and_saving.ipynb", tmp_path)
    best = number_after("validation accuracy of best-model.keras:", text)
    assert 0.86 <= best <= 0.91
    assert 0.85 <= number_after("test accuracy:", text) <= 0.90
    for name in ("best-model.keras", "model-whole.keras", "model.weights.h5"):
        assert (tmp_path / name).exists() and name in text  # and `!ls` listed it
    assert re.search(r"예측 \(prediction\): \S+.* \(\d+\.\d%\), 정답 \(target\): ", text)
    assert len(png_outputs(nb, out)) == 2  # the learning curves and the one image
