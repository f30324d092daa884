"""``%load_ext tensorboard`` and ``%tensorboard --logdir ...`` in a tinyann notebook: the
TensorBoard callback's logs served by the real TensorBoard on 127.0.0.1, read back through
its HTTP API (``tinyann run``) and seen as a scalar chart in JupyterLab (headless Chromium).
The TensorBoard each test starts is stopped after it, by its process id."""

from __future__ import annotations

import json
import os
import signal

import pytest

pytestmark = pytest.mark.usefixtures("notebook_extra")
pytest.importorskip("tensorboard")  # the optional extra; `make test` installs it

FIT = ("import numpy as np\nfrom tensorflow import keras\n"
       "keras.utils.set_random_seed(0)\n"
       "x = np.random.rand(256, 4); y = (x.sum(1) > 2).astype(int)\n"
       "model = keras.Sequential([keras.Input((4,)),\n"
       "                          keras.layers.Dense(2, activation='softmax')])\n"
       "model.compile(loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n"
       "model.fit(x, y, epochs=4, validation_split=0.25, verbose=0,\n"
       "          callbacks=[keras.callbacks.TensorBoard('logs')])\n"
       "print('fit done')")


def _cells(port):
    return [FIT, "%load_ext tensorboard",
            f"%tensorboard --logdir logs --host 127.0.0.1 --port {port}"]


@pytest.fixture
def tensorboard_port(nb):
    """A free port for the notebook's TensorBoard; the TensorBoard found on it (TensorBoard's
    own record of the instances it started) is stopped after the test."""
    from tensorboard import manager

    port = nb.free_port()
    yield port
    for info in manager.get_all():
        if info.port == port:
            try:
                os.kill(info.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass


def test_tensorboard_magic_serves_the_callback_logs(nb, tmp_path, tensorboard_port):
    fetch = ("import json, urllib.request\n"
             f"url = 'http://127.0.0.1:{tensorboard_port}/data/plugin/scalars/tags'\n"
             "print(json.dumps(json.load(urllib.request.urlopen(url, timeout=30)),"
             " sort_keys=True))")
    path = nb.make(tmp_path / "tb.ipynb", *_cells(tensorboard_port), fetch)
    done = nb.cli(["run", str(path)], cwd=tmp_path, timeout=240)
    assert done.returncode == 0, done.stderr
    out = nb.read(tmp_path / "tb.tinyann.ipynb")
    tags = json.loads(nb.stream(out, 4).strip().splitlines()[-1])
    assert set(tags) == {"train", "validation"}
    assert {"epoch_loss", "epoch_accuracy", "epoch_learning_rate"} <= set(tags["train"])
    assert {"epoch_loss", "epoch_accuracy", "evaluation_loss_vs_iterations"} <= set(
        tags["validation"])


@pytest.mark.browser
def test_jupyterlab_shows_a_tensorboard_scalar_chart(browser, nb, tmp_path, tensorboard_port):
    with nb.jupyterlab(tmp_path, {"tb.ipynb": _cells(tensorboard_port)}) as (base, token):
        context = browser.new_context(viewport={"width": 1280, "height": 1400})
        page = context.new_page()
        page.set_default_timeout(120_000)
        try:
            page.goto(f"{base}/lab/tree/tb.ipynb?token={token}")
            page.wait_for_function(
                "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                " const s = w && w.sessionContext && w.sessionContext.session;"
                " return s && s.kernel && s.kernel.name === 'tinyann'"
                " && s.kernel.status === 'idle'; }")
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            page.wait_for_selector(".jp-OutputArea-output iframe", state="attached")
            frame = page.frame_locator(".jp-OutputArea-output iframe")
            # TensorBoard's time-series dashboard: a card per scalar tag, drawn on a canvas;
            # cards are drawn when scrolled to, and epoch_accuracy comes first
            card = frame.locator("scalar-card", has_text="epoch_accuracy").first
            chart = card.locator("canvas").first
            chart.wait_for(state="visible")
            box = chart.bounding_box()
            assert box["width"] > 100 and box["height"] > 50
            runs = frame.locator("body").inner_text()
            assert "train" in runs and "validation" in runs
        finally:
            context.close()
