"""``tinyann run script.py``: run a Keras or tf.keras script unchanged, on tinyann.

For the length of the run, and only then:

- ``import keras``, ``import tensorflow as tf``, ``from tensorflow.keras.layers import
  Dense`` and the like are served from tinyann by an import hook placed first on
  ``sys.meta_path`` (see :mod:`tinyann.compat.modules`); entries under those names
  already in ``sys.modules`` (a real Keras imported earlier in the process) are set
  aside and put back afterwards, and the served ones removed.
- The script runs as ``__main__`` (``runpy``) with ``sys.argv = [script, *args]`` and
  its folder first on ``sys.path``, as ``python script.py`` would.
- ``MPLBACKEND=Agg`` and ``matplotlib.pyplot.show()`` saves every open figure as a
  numbered PNG (``<script>-figure-1.png``...) in ``plots_dir`` (default: the current
  folder), then closes them, as closing the windows would.

    from tinyann.run import run_script
    globals_ = run_script("seed.py", ["--epochs", "3"], plots_dir="plots", seed=42)
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import os
import runpy
import sys
import tempfile
import traceback

from tinyann.compat import modules

__all__ = ["run_script", "main", "served_modules", "plots_to_files"]


class _ServingFinder:
    """A meta path finder and loader for the ``keras`` and ``tensorflow`` trees."""

    def find_spec(self, fullname, path=None, target=None):
        if not modules.is_served_name(fullname):
            return None
        if modules.resolve(fullname) is None:
            raise modules.not_served_import(fullname)
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec):
        return modules.module(spec.name)

    def exec_module(self, module):
        pass  # nothing to run: the served module forwards to tinyann


@contextlib.contextmanager
def served_modules():
    """Serves ``keras`` / ``tensorflow`` from tinyann inside the block; restores after."""
    saved = {n: m for n, m in sys.modules.items() if modules.is_served_name(n)}
    for name in saved:
        del sys.modules[name]
    finder = _ServingFinder()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        for name in [n for n in sys.modules if modules.is_served_name(n)]:
            del sys.modules[name]
        sys.modules.update(saved)


class _FigureSaver:
    """``plt.show()`` for a run: save each open figure as the next numbered PNG."""

    def __init__(self, folder, stem):
        self.folder, self.stem, self.count = folder, stem, 0
        self.saved = []

    def show(self, *args, **kwargs):
        import matplotlib.pyplot as plt

        for num in plt.get_fignums():
            self.count += 1
            os.makedirs(self.folder, exist_ok=True)
            path = os.path.join(self.folder, f"{self.stem}-figure-{self.count}.png")
            _save_atomically(plt.figure(num), path)
            self.saved.append(path)
            print(f"tinyann run: plt.show() saved figure {self.count} to {path}",
                  file=sys.stderr)
        plt.close("all")


def _save_atomically(figure, path):
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".png", dir=os.path.dirname(path) or ".")
    try:
        with os.fdopen(fd, "wb") as handle:
            figure.savefig(handle, format="png")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a saved plot is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class _PatchingLoader:
    """Runs the real loader of ``matplotlib.pyplot``, then replaces its ``show``."""

    def __init__(self, loader, patch):
        self._loader, self._patch = loader, patch

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        self._patch(module)

    def __getattr__(self, name):
        return getattr(self._loader, name)


class _PyplotFinder:
    """Patches ``matplotlib.pyplot.show`` when the script imports pyplot (not before:
    importing matplotlib up front would cost every run half a second)."""

    def __init__(self, patch):
        self.patch = patch

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "matplotlib.pyplot":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _PatchingLoader(spec.loader, self.patch)
        return spec


@contextlib.contextmanager
def plots_to_files(folder, stem):
    """Inside the block: ``MPLBACKEND=Agg`` and ``plt.show()`` saves numbered PNG files."""
    saver = _FigureSaver(folder, stem)
    originals = {}

    def show(*args, **kwargs):
        # a plain function: pyplot.switch_backend sets `show.__signature__`
        return saver.show(*args, **kwargs)

    def patch(pyplot):
        originals.setdefault("show", pyplot.show)
        show.__doc__ = pyplot.show.__doc__
        pyplot.show = show

    old_backend = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "Agg"
    finder = _PyplotFinder(patch)
    if "matplotlib.pyplot" in sys.modules:
        patch(sys.modules["matplotlib.pyplot"])
    else:
        sys.meta_path.insert(0, finder)
    try:
        yield saver
    finally:
        if finder in sys.meta_path:
            sys.meta_path.remove(finder)
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None and "show" in originals:
            pyplot.show = originals["show"]
        if old_backend is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = old_backend


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
