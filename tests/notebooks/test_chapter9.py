"""Chapter 9's notebooks (examples/notebooks/9-2, 9-3) run with ``tinyann run`` on a
synthetic IMDB file placed in ``$TINYANN_DATA_DIR/imdb`` (slow: each trains its models up to
100 epochs with early stopping).

The file is smaller than IMDB (5,000 + 2,000 reviews) and its opinion words are denser,
so that the textbook's RMSprop(1e-4) runs learn within the 100 epochs on fewer reviews.
"""

from __future__ import annotations

import re

import pytest

from tinyann.datasets import synthetic_imdb

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("notebook_extra")]

ANSI = re.compile(r"\x1b\[[0-9;]*m")
TRAIN, TEST = 5_000, 2_000


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    synthetic_imdb.write(str(root / "imdb"), train=TRAIN, test=TEST, signal=0.25)
    return root


def run_example(nb, name, tmp_path, data_dir, timeout=1200):
    source = nb.repo / "examples" / "notebooks" / name
    done = nb.cli(["run", str(source)], cwd=tmp_path, timeout=timeout,
                  TINYANN_DATA_DIR=str(data_dir))
    assert done.returncode == 0, done.stderr[-3000:]
    out = nb.read(tmp_path / name.replace(".ipynb", ".tinyann.ipynb"))
    text = "\n".join(ANSI.sub("", nb.stream(out, i)) for i in range(len(out["cells"])))
    stderr = "\n".join(nb.stream(out, i, "stderr") for i in range(len(out["cells"])))
    return out, text, stderr


def plain_outputs(nb, out):
    return "".join("".join(o["data"]["text/plain"]) for i in range(len(out["cells"]))
                   for o in nb.outputs(out, i) if "text/plain" in o.get("data", {}))


def png_count(nb, out):
    return sum("image/png" in o.get("data", {}) for i in range(len(out["cells"]))
               for o in nb.outputs(out, i))


def best_val_accuracies(text):
    return [float(v) for v in re.findall(r"best val_accuracy ([0-9.]+)", text)]


def test_9_2_pads_one_hot_encodes_and_trains_two_simple_rnns(nb, tmp_path, data_dir):
    out, text, stderr = run_example(nb, "9-2_recurrent_neural_network.ipynb", tmp_path,
                                    data_dir)
    assert f"({TRAIN},) ({TEST},)" in text  # object arrays of reviews
    train = int(TRAIN * 0.8)
    assert f"{train} {TRAIN - train}" in text  # train_test_split(test_size=0.2)
    assert f"({train}, 100)" in text  # pad_sequences(maxlen=100)
    assert f"({train}, 100, 200) float64" in text  # to_categorical, as Keras returns it
    assert f"{train * 100 * 4} {train * 100 * 200 * 8}" in text  # the two nbytes
    assert "not Keras's imdb.npz" in stderr  # the one-line warning for a synthetic file
    plain = plain_outputs(nb, out)
    assert "1,672" in plain and "3,200" in plain  # SimpleRNN on one-hot; Embedding(200, 16)
    one_hot, embedding = best_val_accuracies(text)
    assert one_hot >= 0.7 and embedding >= 0.65  # well above chance (0.5)
    assert number_after("validation accuracy of best-embedding-model.keras:", text) >= 0.65
    for name in ("best-simplernn-model.keras", "best-embedding-model.keras"):
        assert (tmp_path / name).exists()
    assert png_count(nb, out) == 3  # the histogram and two learning curves


def test_9_3_trains_lstm_dropout_stacked_and_gru(nb, tmp_path, data_dir):
    # four models, the first alone ran 63 epochs (about 10 minutes on 2 shared cores)
    out, text, _ = run_example(nb, "9-3_lstm_and_gru.ipynb", tmp_path, data_dir, timeout=3600)
    plain = plain_outputs(nb, out)
    for count in ("800", "624", "8,000"):  # LSTM(8), GRU(8) (reset_after), Embedding(500, 16)
        assert count in plain
    assert "(None, 100, 8)" in plain  # return_sequences=True
    accuracies = best_val_accuracies(text)
    assert len(accuracies) == 4 and min(accuracies) >= 0.65
    assert number_after("test accuracy:", text) >= 0.65
    for name in ("lstm", "dropout", "2rnn", "gru"):
        assert (tmp_path / f"best-{name}-model.keras").exists()
    assert png_count(nb, out) == 4


def number_after(label, text):
    match = re.search(re.escape(label) + r"\s*([0-9.]+)", text)
    assert match, f"{label!r} not in the notebook's output"
    return float(match.group(1))
