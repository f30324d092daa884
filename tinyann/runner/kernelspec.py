"""The tinyann Jupyter kernel: ipykernel with ``%load_ext tinyann`` done at start-up.

``tinyann jupyter install`` writes its kernelspec (``kernel.json`` and ipykernel's
logos) where Jupyter looks for kernels; ``tinyann run notebook.ipynb`` starts the same
kernel without installing anything (:class:`_TinyannSpecs`).

    install(name="tinyann", user=True)      # ~/.local/share/jupyter/kernels/tinyann
    install(prefix="/tmp/env")              # /tmp/env/share/jupyter/kernels/tinyann
    uninstall(name="tinyann", user=True)
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile

__all__ = ["DISPLAY_NAME", "kernel_json", "install", "uninstall", "kernels_dir",
           "kernel_manager"]

DISPLAY_NAME = "Python 3 (tinyann)"
#: figures drawn inline in every tinyann kernel, whatever MPLBACKEND its parent had
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def kernel_json(display_name=DISPLAY_NAME, python=None) -> dict:
    """The kernelspec: this Python's ipykernel, loading the tinyann extension first."""
    return {
        "argv": [python or sys.executable, "-m", "ipykernel_launcher", "-f",
                 "{connection_file}", "--ext=tinyann"],
        "display_name": display_name,
        "language": "python",
        "env": {"MPLBACKEND": INLINE_BACKEND},
        "metadata": {"debugger": True, "tinyann": True},
    }


def kernels_dir(user=False, prefix=None) -> str:
    """Where a kernelspec goes: ``PREFIX/share/jupyter/kernels``, the user's Jupyter data
    folder (``$JUPYTER_DATA_DIR`` honoured) with ``user``, else this Python's prefix
    (the virtual environment, which its JupyterLab reads)."""
    if user and prefix:
        raise ValueError("Choose one of --user and --prefix; received both.")
    if user:
        from jupyter_core.paths import jupyter_data_dir

        return os.path.join(jupyter_data_dir(), "kernels")
    return os.path.join(prefix or sys.prefix, "share", "jupyter", "kernels")


def _check_name(name):
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    if not name or not set(name) <= allowed:
        raise ValueError("A kernel name is letters, digits, '.', '_' and '-' (as Jupyter "
                         f"requires); received {name!r}")


def install(name="tinyann", user=False, prefix=None, display_name=DISPLAY_NAME) -> str:
    """Writes the kernelspec ``name`` (replacing one of that name); returns its folder."""
    _check_name(name)
    target = os.path.join(kernels_dir(user, prefix), name)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{name}-", dir=os.path.dirname(target))
    try:
        _copy_logos(staging)
        with open(os.path.join(staging, "kernel.json"), "w", encoding="utf-8") as handle:
            json.dump(kernel_json(display_name), handle, indent=1)
            handle.write("\n")
        os.chmod(staging, 0o755)
        if os.path.isdir(target):
            shutil.rmtree(target)
        os.replace(staging, target)  # the folder appears whole, never half-written
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _copy_logos(folder):
    try:
        from ipykernel.kernelspec import RESOURCES
    except ImportError:  # the logos are a nicety: a kernel without them still runs
        return
    for entry in os.listdir(RESOURCES):
        if entry.startswith("logo-"):
            shutil.copyfile(os.path.join(RESOURCES, entry), os.path.join(folder, entry))


def uninstall(name="tinyann", user=False, prefix=None) -> str:
    """Removes the kernelspec ``name`` from where :func:`install` puts it; returns the
    folder removed."""
    _check_name(name)
    target = os.path.join(kernels_dir(user, prefix), name)
    if not os.path.isfile(os.path.join(target, "kernel.json")):
        raise FileNotFoundError(f"no kernelspec {name!r} in {os.path.dirname(target)}")
    shutil.rmtree(target)
    return target


def kernel_manager(ipc_dir=None):
    """A jupyter_client ``AsyncKernelManager`` (nbclient's kind: its per-cell timeouts
    work) for the tinyann kernel, installed or not; its
    sockets are files in ``ipc_dir`` when given (POSIX), else local TCP ports."""
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager as KernelManager

    class _TinyannSpecs(KernelSpecManager):
        """Only the tinyann kernel, made here (the notebook's own kernel is ignored)."""

        def get_kernel_spec(self, kernel_name):
            return KernelSpec(resource_dir=os.getcwd(), **kernel_json())

    if ipc_dir is None or os.name != "posix":
        return KernelManager(kernel_name="tinyann", kernel_spec_manager=_TinyannSpecs())
    # nothing listens on a TCP port (and ipykernel does not warn about plain TCP)
    return KernelManager(kernel_name="tinyann", kernel_spec_manager=_TinyannSpecs(),
                         transport="ipc", ip=os.path.join(ipc_dir, "kernel"))
