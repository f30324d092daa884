"""``tinyann run``: Keras / tf.keras scripts served by tinyann, for that run only."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import tinyann
from tinyann.cli import main as cli_main
from tinyann.runner.script import run_script

TINYANN_CMD = Path(sys.executable).with_name("tinyann")


def write(folder, name, code):
    path = Path(folder) / name
    path.write_text(textwrap.dedent(code), encoding="utf-8")
    return path


def run_cli(args, cwd, module=False):
    """``tinyann run ...`` (or ``python -m tinyann run ...``) in a child process."""
    cmd = [sys.executable, "-m", "tinyann"] if module else [str(TINYANN_CMD)]
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "KERAS_BACKEND")}
    return subprocess.run([*cmd, "run", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=120)


def served_keys():
    return sorted(n for n in sys.modules
                  if n.split(".")[0] in ("keras", "tensorflow"))


# ---------------------------------------------------------------------- serving
IMPORTS = """
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras.layers import Dense, Flatten
from tensorflow.keras.models import Sequential, load_model
from tensorflow.keras.datasets import mnist
import keras as plain_keras
import keras.datasets.fashion_mnist as fm
from keras import layers
tf_dense = tf.keras.layers.Dense
"""


def test_every_import_form_gets_tinyanns_objects(tmp_path):
    g = run_script(write(tmp_path, "imports.py", IMPORTS))
    assert g["Dense"] is tinyann.layers.Dense and g["tf_dense"] is tinyann.layers.Dense
    assert g["Flatten"] is tinyann.layers.Flatten
    assert g["Sequential"] is tinyann.Sequential
    assert g["load_model"] is tinyann.models.load_model
    assert g["mnist"].load_data is tinyann.datasets.mnist.load_data
    assert g["fm"].load_data is tinyann.datasets.fashion_mnist.load_data
    assert g["plain_keras"].layers.Dense is tinyann.layers.Dense
    assert g["layers"] is g["plain_keras"].layers
    assert g["keras"].__name__ == "tensorflow.keras"
    assert g["keras"].__version__.endswith(f"+tinyann.{tinyann.__version__}")
    assert g["tf"].__version__.startswith("2.")


def test_nothing_is_left_in_sys_modules_after_the_run(tmp_path):
    before_meta = list(sys.meta_path)
    assert served_keys() == []
    run_script(write(tmp_path, "imports.py", IMPORTS))
    assert served_keys() == []
    assert sys.meta_path == before_meta


def test_a_real_keras_imported_before_is_set_aside_and_restored(tmp_path, monkeypatch):
    import types

    real_keras = types.ModuleType("keras")
    real_tf_keras = types.ModuleType("tensorflow.keras")
    monkeypatch.setitem(sys.modules, "keras", real_keras)
    monkeypatch.setitem(sys.modules, "tensorflow.keras", real_tf_keras)
    g = run_script(write(tmp_path, "s.py", """
        import keras
        import tensorflow.keras
        seen = keras.Sequential, tensorflow.keras.Sequential
    """))
    assert g["seen"] == (tinyann.Sequential, tinyann.Sequential)
    assert sys.modules["keras"] is real_keras
    assert sys.modules["tensorflow.keras"] is real_tf_keras
    assert "tensorflow" not in sys.modules and "keras.layers" not in sys.modules


def test_script_runs_as_main_with_its_argv_and_folder_on_sys_path(tmp_path):
    sub = tmp_path / "proj"
    sub.mkdir()
    write(sub, "helper.py", "VALUE = 41\n")
    old_argv, old_path = list(sys.argv), list(sys.path)
    g = run_script(write(sub, "main.py", """
        import sys
        from helper import VALUE
        argv = list(sys.argv)
        if __name__ == "__main__":
            answer = VALUE + 1
    """), ["--epochs", "3"])
    assert g["answer"] == 42
    assert g["argv"] == [str(sub / "main.py"), "--epochs", "3"]
    assert sys.argv == old_argv and sys.path == old_path
    sys.modules.pop("helper", None)


def test_keras_backend_setting_and_query_keep_working(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    g = run_script(write(tmp_path, "backend.py", """
        import os
        os.environ["KERAS_BACKEND"] = "torch"
        import keras
        name = keras.config.backend()
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        out = model.predict(__import__("numpy").ones((4, 3)), verbose=0)
        os.environ["KERAS_BACKEND"] = "jax"   # after import: changes nothing, as in Keras
    """))
    assert g["name"] == "numpy"
    assert g["out"].shape == (4, 2)


def test_seed_option_makes_an_unseeded_script_repeatable(tmp_path):
    script = write(tmp_path, "unseeded.py", """
        import keras
        model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)])
        kernel = model.get_weights()[0]
    """)
    a = run_script(script, seed=3)["kernel"]
    b = run_script(script, seed=3)["kernel"]
    c = run_script(script, seed=4)["kernel"]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


# ---------------------------------------------------------------------- plots
PLOTS = """
import os
import matplotlib.pyplot as plt
backend_env = os.environ.get("MPLBACKEND")
plt.plot([1, 2, 3])
plt.show()
fig, axs = plt.subplots(1, 2)
plt.figure()
plt.show()
open_after_show = plt.get_fignums()
"""


def test_plt_show_saves_numbered_pngs_and_everything_is_restored(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.delenv("MPLBACKEND", raising=False)
    original_show = plt.show
    g = run_script(write(tmp_path, "plots.py", PLOTS), plots_dir=tmp_path / "figs")
    files = sorted(p.name for p in (tmp_path / "figs").iterdir())
    assert files == ["plots-figure-1.png", "plots-figure-2.png", "plots-figure-3.png"]
    for name in files:
        assert (tmp_path / "figs" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert g["backend_env"] == "Agg"
    assert g["open_after_show"] == []  # shown figures are closed, as closing a window does
    assert plt.show is original_show
    assert "MPLBACKEND" not in os.environ


def test_plots_go_to_the_current_folder_when_pyplot_is_first_imported_by_the_script(tmp_path):
    write(tmp_path, "plots.py", PLOTS + "print('backend', plt.get_backend())\n")
    done = run_cli(["plots.py"], cwd=tmp_path, module=True)
    assert done.returncode == 0, done.stderr
    assert "backend agg" in done.stdout.lower()
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        "plots-figure-1.png", "plots-figure-2.png", "plots-figure-3.png"]
    assert "saved figure 3 to" in done.stderr


# ---------------------------------------------------------------------- the command
def test_console_script_and_python_m_run_a_tf_keras_script(tmp_path):
    write(tmp_path, "train.py", """
        import sys
        import numpy as np
        import tensorflow as tf
        from tensorflow import keras
        tf.keras.utils.set_random_seed(1)
        tf.config.experimental.enable_op_determinism()
        x = np.random.rand(64, 4); y = (x.sum(axis=1) > 2).astype(int)
        ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(64).batch(16)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
        model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(ds, epochs=2, verbose=0)
        print("classes", model.predict_classes(x[:3]).tolist(), "args", sys.argv[1:])
    """)
    assert TINYANN_CMD.exists(), "the tinyann console script is installed with the package"
    for module in (False, True):
        done = run_cli(["train.py", "a", "--b"], cwd=tmp_path, module=module)
        assert done.returncode == 0, done.stderr
        assert "args ['a', '--b']" in done.stdout
        # the script's DeprecationWarning is shown, as Python shows it for __main__
        assert "DeprecationWarning" in done.stderr
        assert "np.argmax(model.predict(x), axis=-1)" in done.stderr


def test_unserved_tensorflow_symbol_gives_a_short_traceback_into_the_script(tmp_path):
    write(tmp_path, "bad.py", """
        import numpy as np
        import tensorflow as tf
        x = np.ones(3)
        m = tf.signal.fft(x)
    """)
    done = run_cli(["bad.py"], cwd=tmp_path)
    assert done.returncode == 1
    assert 'File "bad.py", line 5, in <module>' in done.stderr
    assert "`tf.signal` is not served by tinyann" in done.stderr
    assert "Use numpy.fft instead." in done.stderr
    assert "runpy" not in done.stderr and "tinyann/runner/script.py" not in done.stderr


@pytest.mark.parametrize("code,match", [
    ("from keras.layers import NoSuchLayer",
     r"No module or name 'NoSuchLayer' in 'keras.layers': `keras.layers.NoSuchLayer` is "
     r"not in tinyann .*keras.layers here has: .*Dense"),
    ("import keras.applications",
     r"No module named 'keras.applications': `tinyann run` serves keras and "
     r"tensorflow.keras with tinyann's modules \(.*layers.*\)"),
    ("import tensorflow.compat.v1",
     r"No module or name 'compat' in 'tensorflow': `tf.compat` is not served by tinyann"),
    ("import tensorflow as tf\ntf.keras.layers.NoSuchLayer",
     r"`tensorflow.keras.layers.NoSuchLayer` is not in tinyann"),
    ("import tensorflow as tf\ntf.data.Dataset.range(3).padded_batch(2)",
     r"`tf.data.Dataset.padded_batch` is not served by tinyann.*numpy.pad"),
    ("import tensorflow as tf\ntf.np", r"`tf.np` is not served"),
])
def test_unserved_names_get_clear_errors(tmp_path, code, match):
    with pytest.raises((ImportError, AttributeError), match=match):
        run_script(write(tmp_path, "s.py", code + "\n"))
    assert served_keys() == []


def test_exit_status_follows_the_script(tmp_path, capsys):
    assert cli_main(["run", str(write(tmp_path, "ok.py", "x = 1\n"))]) == 0
    assert cli_main(["run", str(write(tmp_path, "three.py", "import sys; sys.exit(3)\n"))]) == 3
    assert cli_main(["run", str(write(tmp_path, "msg.py", "raise SystemExit('bye')\n"))]) == 1
    assert "bye" in capsys.readouterr().err
    assert cli_main(["run", str(write(tmp_path, "err.py", "1 / 0\n"))]) == 1
    err = capsys.readouterr().err
    assert "ZeroDivisionError" in err and "err.py" in err
    assert cli_main(["run", str(tmp_path / "missing.py")]) == 2
    assert "tinyann: error: can't open script" in capsys.readouterr().err
    assert served_keys() == []
