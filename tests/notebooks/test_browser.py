"""End to end: JupyterLab on a free port of 127.0.0.1, Debian's headless Chromium opens a
notebook on the installed tinyann kernel, runs its cells, and sees the fit's final line
and an inline plot. The server runs in a temporary Jupyter home and is stopped after."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("notebook_extra")]

CELLS = [
    "import numpy as np\nimport tensorflow as tf\nfrom tensorflow import keras\n"
    "keras.utils.set_random_seed(0)\n"
    "x = np.random.rand(2000, 8); y = (x.sum(1) > 4).astype(int)\n"
    "model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2, activation='softmax')])\n"
    "model.compile(loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n"
    "history = model.fit(x, y, epochs=3, batch_size=8)\n"
    "print('fit done on', tf.__name__)",
    "import matplotlib.pyplot as plt\nplt.plot(history.history['loss'])\nplt.show()",
]


@pytest.fixture
def jupyterlab(nb, tmp_path):
    """JupyterLab serving tmp_path/work (fit.ipynb in it) on the tinyann kernel."""
    with nb.jupyterlab(tmp_path, {"fit.ipynb": CELLS}) as (base, token):
        yield base, token


def test_jupyterlab_runs_a_notebook_on_the_tinyann_kernel(browser, jupyterlab):
    base, token = jupyterlab
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        page.goto(f"{base}/lab/tree/fit.ipynb?token={token}")
        page.wait_for_function("window.jupyterapp && document.querySelector('.jp-Notebook')")
        # the kernel the notebook names, started by the server: wait until it is idle
        page.wait_for_function(
            "() => { const w = window.jupyterapp.shell.currentWidget;"
            " const s = w && w.sessionContext && w.sessionContext.session;"
            " return s && s.kernel && s.kernel.name === 'tinyann'"
            " && s.kernel.status === 'idle'; }")
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.wait_for_function(
            "[...document.querySelectorAll('.jp-OutputArea-output')]"
            ".some(o => o.textContent.includes('fit done on tensorflow'))")
        page.wait_for_selector(".jp-RenderedImage img", state="attached")
        texts = page.eval_on_selector_all(".jp-OutputArea-output",
                                          "outs => outs.map(o => o.textContent)")
        fit = next(t for t in texts if "fit done on tensorflow" in t)
        lines = [line for line in fit.splitlines() if line.strip()]
        # the final line of each epoch stays, the redraws before it are gone
        assert [line for line in lines if line.startswith("Epoch")] == [
            "Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
        assert lines[-2].startswith("250/250 ━━━━━━━━━━━━━━━━━━━━ ") and "accuracy:" in lines[-2]
        size = page.eval_on_selector(".jp-RenderedImage img",
                                     "img => [img.naturalWidth, img.naturalHeight]")
        assert size[0] > 100 and size[1] > 100
    finally:
        context.close()
