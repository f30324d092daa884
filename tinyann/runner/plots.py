"""``plt.show()`` in a script run: each open figure saved as a numbered PNG file.

``MPLBACKEND=Agg`` for the block, and ``matplotlib.pyplot.show()`` saves every open
figure as ``<stem>-figure-<n>.png`` in a folder, then closes them, as closing the
windows would. pyplot is patched when the script imports it, not before (importing
matplotlib up front would cost every run half a second).
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import os
import sys
import tempfile

__all__ = ["plots_to_files"]


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
