"""``tinyann run NOTEBOOK.ipynb``: notebooks made here, executed through a real kernel."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.usefixtures("notebook_extra")

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def joined(value):
    return value if isinstance(value, str) else "".join(value)


FEATURES = [
    # 1: shell commands; a failing one (offline wget, exit 3) does not stop the run
    "!echo shell-says-hi\n!sh -c 'echo gone-wrong >&2; exit 3'\n"
    "!wget -q -T 2 -t 1 http://127.0.0.1:9/best-model.keras\nprint('after the commands')",
    # 2: the served modules, the notebook's own kernel name ignored
    "%matplotlib inline\nimport tensorflow as tf\nfrom tensorflow import keras\n"
    "import numpy as np, tinyann\nprint(keras.Sequential is tinyann.Sequential, tf.__name__)",
    # 3: a short fit with progress (1000 steps per epoch)
    "%%time\nkeras.utils.set_random_seed(1)\n"
    "x = np.random.rand(4000, 8).astype('float32'); y = (x.sum(1) > 4).astype(int)\n"
    "model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2, activation='softmax')])\n"
    "model.compile(loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n"
    "history = model.fit(x, y, epochs=5, batch_size=4)",
    # 4: summary
    "model.summary()",
    # 5: plot_model as the cell's result
    "keras.utils.plot_model(model, show_shapes=True)",
    # 6: a plot shown with plt.show()
    "import matplotlib.pyplot as plt\nplt.plot(history.history['loss'])\nplt.show()",
    # 7: display() and a result
    "from IPython.display import display\ndisplay({'shown': 1})\n6 * 7",
]


def test_a_notebook_runs_in_a_tinyann_kernel_and_is_stored_as_jupyter_stores_it(nb, tmp_path):
    path = nb.make(tmp_path / "features.ipynb", *FEATURES, kernel="conda-env-default-py")
    done = nb.cli(["run", str(path)], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = nb.read(tmp_path / "features.tinyann.ipynb")
    assert out["metadata"]["kernelspec"]["name"] == "tinyann"
    cells = out["cells"]
    assert all(c["execution_count"] for c in cells[1:])

    # the terminal saw each cell's text
    assert "shell-says-hi" in done.stdout and "after the commands" in done.stdout
    assert "True tensorflow" in done.stdout
    assert "Out[7]: 42" in done.stdout and "{'shown': 1}" in done.stdout
    assert ANSI.sub("", done.stdout).count("Epoch 5/5") == 1

    assert "shell-says-hi" in nb.stream(out, 1)
    assert "after the commands" in nb.stream(out, 1)
    assert "gone-wrong" in nb.stream(out, 1) + nb.stream(out, 1, "stderr")

    # the fit: one final line per epoch in the stored notebook, not one per redraw
    fit_text = ANSI.sub("", nb.stream(out, 3))
    lines = [line for line in fit_text.splitlines() if line.strip()]
    steps = [line for line in lines if re.match(r"^1000/1000 ━+ ", line)]
    assert len(steps) == 5 and "\r" not in fit_text
    assert [line for line in lines if line.startswith("Epoch")] == [
        f"Epoch {i}/5" for i in range(1, 6)]
    assert len(lines) <= 13  # the 10 lines and %%time's two
    assert "Wall time" in fit_text

    # summary: Keras's blocks, each as text and HTML
    summary = [o for o in nb.outputs(out, 4) if o["output_type"] == "display_data"]
    texts = [joined(o["data"]["text/plain"]) for o in summary]
    assert texts[0] == 'Model: "sequential"\n' and texts[2].startswith(" Total params: ")
    assert "dense (Dense)" in texts[1] and "┏" in texts[1]
    html = joined(summary[1]["data"]["text/html"])
    assert html.startswith("<pre style=") and "dense (Dense)" in html

    # plot_model: an execute_result holding a PNG
    (result,) = [o for o in nb.outputs(out, 5) if o["output_type"] == "execute_result"]
    assert base64.b64decode(joined(result["data"]["image/png"]))[:8] == b"\x89PNG\r\n\x1a\n"

    # plt.show(): an inline figure
    figures = [o for o in nb.outputs(out, 6)
               if o["output_type"] == "display_data" and "image/png" in o["data"]]
    assert len(figures) == 1
    assert base64.b64decode(joined(figures[0]["data"]["image/png"]))[:4] == b"\x89PNG"

    kinds = [o["output_type"] for o in nb.outputs(out, 7)]
    assert kinds == ["display_data", "execute_result"]
    assert joined(nb.outputs(out, 7)[1]["data"]["text/plain"]) == "42"


def test_a_failing_cell_stops_the_run_names_the_cell_and_keeps_what_ran(nb, tmp_path):
    path = nb.make(tmp_path / "bad.ipynb", "print('first cell ran')",
                   "total = 10\nshare = total / 0\nprint('not reached')", "print('never')")
    done = nb.cli(["run", str(path), "--output", "partial.ipynb"], cwd=tmp_path)
    assert done.returncode == 1
    assert "cell 3 (In [2]), line 2: share = total / 0" in done.stderr
    assert "ZeroDivisionError: division by zero" in done.stderr
    out = nb.read(tmp_path / "partial.ipynb")
    assert "first cell ran" in nb.stream(out, 1)
    errors = [o for o in nb.outputs(out, 2) if o["output_type"] == "error"]
    assert errors and errors[0]["ename"] == "ZeroDivisionError"
    assert out["cells"][3]["execution_count"] is None and not nb.outputs(out, 3)


def test_allow_errors_goes_on_and_a_timeout_stops_the_cell(nb, tmp_path):
    path = nb.make(tmp_path / "errors.ipynb", "raise KeyError('k')", "print('went on')",
                   "import time\ntime.sleep(120)", "print('not reached')")
    done = nb.cli(["run", str(path), "--allow-errors", "--timeout", "3"], cwd=tmp_path)
    assert done.returncode == 1
    assert "went on" in done.stdout
    assert "cell 4 did not finish in 3 s" in done.stderr
    out = nb.read(tmp_path / "errors.tinyann.ipynb")
    assert out["cells"][1]["outputs"][0]["ename"] == "KeyError"
    assert "went on" in nb.stream(out, 2)


def test_output_streams_to_the_terminal_while_the_notebook_runs(nb, tmp_path):
    gate = tmp_path / "go"
    path = nb.make(tmp_path / "slow.ipynb", textwrap.dedent(f"""\
        import os, time
        print('tick', flush=True)
        for _ in range(600):
            if os.path.exists({str(gate)!r}):
                break
            time.sleep(0.1)
        print('tock')"""))
    child = subprocess.Popen([sys.executable, "-m", "tinyann", "run", str(path)],
                             cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=nb.env())
    try:
        first = child.stdout.readline()
        # the cell is still waiting for the gate: its first line came while it ran
        assert first == "tick\n" and child.poll() is None
        assert not (tmp_path / "slow.tinyann.ipynb").exists()
        gate.touch()
        rest, _ = child.communicate(timeout=120)
    finally:
        child.kill()
        child.wait(timeout=30)
    assert child.returncode == 0 and rest == "tock\n"


@pytest.mark.parametrize("content,message", [
    ('{"cells": [', "bad.ipynb is not a notebook: corrupt JSON at line 1"),
    ("print('a script named .ipynb')", "bad.ipynb is not a notebook: corrupt JSON"),
    ('[1, 2]', "is not a notebook: expected a JSON object with 'cells' and 'nbformat'"),
    ('{"cells": [], "metadata": {}, "nbformat": 5, "nbformat_minor": 0}',
     "unknown nbformat version 5"),
    ('{"cells": [{"cell_type": "code"}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
     "bad.ipynb is not a valid notebook"),
])
def test_files_that_are_not_notebooks_get_one_line_and_status_2(nb, tmp_path, content, message):
    (tmp_path / "bad.ipynb").write_text(content, encoding="utf-8")
    done = nb.cli(["run", "bad.ipynb"], cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("tinyann: error: ") and message in done.stderr
    assert done.stderr.count("\n") == 1 and done.stdout == ""
    assert not (tmp_path / "bad.tinyann.ipynb").exists()


def test_a_missing_notebook_extra_says_what_to_install(nb, tmp_path):
    (tmp_path / "x.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4, '
                                      '"nbformat_minor": 5}', encoding="utf-8")
    code = ("import sys; sys.modules['nbclient'] = None; from tinyann.cli import main; "
            "sys.exit(main(['run', 'x.ipynb']))")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, env=nb.env())
    assert done.returncode == 2
    assert done.stderr == ("tinyann: error: running a notebook needs nbclient: "
                           "pip install 'tinyann[notebook]'  (ipykernel, nbclient, nbformat)\n")


def test_notebook_options_are_refused_for_scripts(nb, tmp_path):
    (tmp_path / "s.py").write_text("print('ran')\n", encoding="utf-8")
    done = nb.cli(["run", "--output", "o.ipynb", "s.py"], cwd=tmp_path)
    assert done.returncode == 2 and "--output: only for notebooks" in done.stderr
    done = nb.cli(["run", "s.py", "--output", "o.ipynb"], cwd=tmp_path)  # the script's args
    assert done.returncode == 0 and done.stdout == "ran\n"


def test_a_missing_notebook_is_a_one_line_error(nb, tmp_path):
    done = nb.cli(["run", "nowhere.ipynb"], cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == "tinyann: error: can't open notebook 'nowhere.ipynb': no such file\n"


def test_a_kernel_that_dies_stops_the_run_with_status_1(nb, tmp_path):
    path = nb.make(tmp_path / "dies.ipynb", "print('alive')", "import os\nos._exit(3)",
                   "print('never')")
    done = nb.cli(["run", str(path)], cwd=tmp_path)
    assert done.returncode == 1
    assert "tinyann run: the kernel died in cell 3" in done.stderr
    assert "alive" in nb.stream(nb.read(tmp_path / "dies.tinyann.ipynb"), 1)
