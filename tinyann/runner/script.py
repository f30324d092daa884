"""``tinyann run script.py``: run a Keras or tf.keras script unchanged, on tinyann.

For the length of the run, and only then:

- ``keras``, ``tensorflow`` and ``tensorflow.keras`` are served by tinyann
  (:func:`tinyann.runner.serving.served_modules`).
- The script runs as ``__main__`` (``runpy``) with ``sys.argv = [script, *args]`` and
  its folder first on ``sys.path``, as ``python script.py`` would.
- ``MPLBACKEND=Agg`` and ``matplotlib.pyplot.show()`` saves every open figure as a
  numbered PNG (``<script>-figure-1.png``...) in ``plots_dir`` (default: the current
  folder) (:func:`tinyann.runner.plots.plots_to_files`).

    from tinyann.runner.script import run_script
    globals_ = run_script("seed.py", ["--epochs", "3"], plots_dir="plots", seed=42)
"""

from __future__ import annotations

import contextlib
import os
import runpy
import sys
import traceback

from tinyann.runner.plots import plots_to_files
from tinyann.runner.serving import served_modules

__all__ = ["run_script", "main", "served_modules", "plots_to_files"]


@contextlib.contextmanager
def _as_main_script(path, argv):
    """``sys.argv`` and ``sys.path[0]`` as ``python path *argv`` sets them."""
    old_argv, old_path = sys.argv, list(sys.path)
    sys.argv = [path, *argv]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        yield
    finally:
        sys.argv = old_argv
        sys.path[:] = old_path


def run_script(path, argv=(), plots_dir=None, seed=None) -> dict:
    """Runs the script at ``path`` as ``__main__`` with Keras / TensorFlow served by tinyann.

    Args:
        path: the script.
        argv: its arguments (``sys.argv[1:]`` inside the script).
        plots_dir: where ``plt.show()`` saves figures (default: the current folder).
        seed: if given, ``keras.utils.set_random_seed(seed)`` before the script starts
            (for scripts that do not seed themselves).

    Returns:
        The script's globals when it ends. Its exceptions (``SystemExit`` included)
        propagate after everything is restored.
    """
    path = os.fspath(path)
    _check_script(path)
    stem = os.path.splitext(os.path.basename(path))[0]
    if seed is not None:
        from tinyann import backend

        backend.set_random_seed(seed)
    with served_modules(), plots_to_files(plots_dir or os.curdir, stem), \
            _as_main_script(path, list(argv)):
        return runpy.run_path(path, run_name="__main__")


def main(path, argv=(), plots_dir=None, seed=None) -> int:
    """:func:`run_script` with Python's exit statuses: 0, the script's ``sys.exit`` code,
    or 1 after printing the script's traceback (without the runner's own frames)."""
    _check_script(path)  # a missing script is the user's mistake: `tinyann: error:`, status 2
    try:
        run_script(path, argv, plots_dir, seed)
    except SystemExit as exit_:
        code = exit_.code
        if code is None or isinstance(code, int):
            return code or 0
        print(code, file=sys.stderr)
        return 1
    except Exception as error:  # the script's own error: reported as Python would
        _print_script_traceback(error, path)
        return 1
    return 0


def _check_script(path):
    if not os.path.isfile(path):
        what = "a folder" if os.path.isdir(path) else "no such file"
        raise FileNotFoundError(f"can't open script '{path}': {what}")


def _print_script_traceback(error, path):
    tb = error.__traceback__
    script = os.path.abspath(path)
    # drop the runner's frames: start at the script's first frame, as `python script` does
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) != script:
        tb = tb.tb_next
    traceback.print_exception(type(error), error, tb or error.__traceback__)
