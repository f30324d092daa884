"""``tinyann run notebook.ipynb``: a notebook's cells run in order in a tinyann kernel.

The kernel is ipykernel with ``keras`` / ``tensorflow`` served by tinyann (the
notebook's own kernel name is ignored), started in the current folder, so files the
notebook writes land there, as with ``tinyann run script.py``. nbclient sends the
cells; each cell's text (stdout, stderr, the ``text/plain`` of results and displays)
is written to the terminal as it comes. The executed notebook is written as Jupyter
stores it (plots as ``image/png``, results as ``execute_result``, errors as
``error``), default ``NAME.tinyann.ipynb`` in the current folder.

    status = run_notebook("7-1.ipynb", output="out.ipynb", allow_errors=False, timeout=600)

Statuses: 0 every cell ran; 1 a cell failed (its number, line and error printed, the
notebook written up to it) or timed out. A file that is not a notebook raises
:class:`NotebookFileError` (``tinyann: error: ...``, status 2).
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile

from tinyann.runner.kernelspec import DISPLAY_NAME
from tinyann.runner.streams import TerminalEcho, tidy_streams

__all__ = ["run_notebook", "read_notebook", "looks_like_notebook", "NotebookFileError",
           "missing_packages", "INSTALL_HINT"]

#: what ``tinyann run x.ipynb`` needs besides tinyann
NEEDED = ("ipykernel", "nbclient", "nbformat", "jupyter_client")
INSTALL_HINT = "pip install 'tinyann[notebook]'  (ipykernel, nbclient, nbformat)"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class NotebookFileError(ValueError):
    """The file is not a notebook tinyann can run (exit status 2)."""


def missing_packages() -> list[str]:
    """The packages of the ``notebook`` extra that this Python cannot import."""
    import importlib.util

    return [name for name in NEEDED if importlib.util.find_spec(name) is None]


def looks_like_notebook(path) -> bool:
    """``.ipynb``, or a file of another name holding notebook JSON (starts with ``{``)."""
    if os.fspath(path).lower().endswith(".ipynb"):
        return True
    if os.fspath(path).lower().endswith(".py"):
        return False
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096).lstrip()
    except OSError:
        return False
    return head.startswith(b"{")


def read_notebook(path):
    """The notebook at ``path`` as nbformat version 4 (version 3 files are converted).

    Raises:
        NotebookFileError: not JSON, not a notebook, or an nbformat version other than 3 / 4.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        what = "a folder" if os.path.isdir(path) else "no such file"
        raise FileNotFoundError(f"can't open notebook '{path}': {what}")
    with open(path, "rb") as handle:
        raw = handle.read()
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise NotebookFileError(f"{path} is not a notebook: not UTF-8 text "
                                f"(byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise NotebookFileError(f"{path} is not a notebook: corrupt JSON at line "
                                f"{error.lineno}, column {error.colno} ({error.msg})") from None
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        kind = type(data).__name__ if not isinstance(data, dict) else "an object without 'cells'"
        raise NotebookFileError(f"{path} is not a notebook: expected a JSON object with "
                                f"'cells' and 'nbformat', got {kind}")
    version = data.get("nbformat")
    if version not in (3, 4):
        raise NotebookFileError(f"{path}: unknown nbformat version {version!r}; tinyann runs "
                                "notebooks of nbformat 4 (and converts 3)")
    import nbformat

    try:
        notebook = nbformat.reads(raw.decode("utf-8"), as_version=4)
    except Exception as error:  # nbformat's own reader: any failure means a bad file
        # (some of nbformat's failures carry no message: an AssertionError, say)
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise NotebookFileError(f"{path} is not a valid notebook: {first}") from None
    # nbformat only logs schema problems; the runner needs at least a list of cells
    cells = notebook.get("cells")
    if not isinstance(cells, list) or not all(
            isinstance(c, dict) and isinstance(c.get("cell_type"), str) for c in cells):
        raise NotebookFileError(f"{path} is not a valid notebook: expected 'cells' to be a "
                                f"list of cells with a 'cell_type', got {_shape(cells)}")
    return notebook


def _shape(cells) -> str:
    if not isinstance(cells, list):
        return type(cells).__name__
    bad = next(c for c in cells if not isinstance(c, dict)
               or not isinstance(c.get("cell_type"), str))
    return f"a cell {json.dumps(bad, default=str)[:60]}"


def default_output(path) -> str:
    """``7-1.ipynb`` -> ``7-1.tinyann.ipynb`` in the current folder."""
    stem = os.path.basename(os.fspath(path))
    stem = stem[:-len(".ipynb")] if stem.lower().endswith(".ipynb") else stem
    return f"{stem}.tinyann.ipynb"


def _client_class():
    from nbclient import NotebookClient

    class _EchoingClient(NotebookClient):
        """nbclient, echoing each output to the terminal as it arrives."""

        echo: TerminalEcho

        def output(self, outs, msg, display_id, cell_index):
            out = super().output(outs, msg, display_id, cell_index)
            self.echo.message(msg)
            return out

    return _EchoingClient


def run_notebook(path, output=None, allow_errors=False, timeout=None, echo=None) -> int:
    """Runs the notebook at ``path``; returns the exit status (see the module's doc)."""
    missing = missing_packages()
    if missing:
        raise NotebookFileError(f"running a notebook needs {', '.join(missing)}: "
                                f"{INSTALL_HINT}")
    notebook = read_notebook(path)
    output = os.fspath(output) if output is not None else default_output(path)
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    from tinyann.runner.kernelspec import kernel_manager

    echo = echo or TerminalEcho(sys.stdout, sys.stderr)
    state = {"cell": None}

    def on_cell_start(cell, cell_index):
        state["cell"] = cell_index
        echo.cell_start(cell_index)

    sockets = tempfile.TemporaryDirectory(prefix="tinyann-kernel-")
    manager = kernel_manager(sockets.name)
    client = _client_class()(
        notebook, km=manager, timeout=timeout, allow_errors=allow_errors,
        resources={"metadata": {"path": os.getcwd()}}, on_cell_start=on_cell_start,
        on_cell_executed=lambda cell, cell_index, execute_reply: echo.cell_end(),
        record_timing=True, startup_timeout=120, shutdown_kernel="immediate")
    client.echo = echo
    client.owns_km = True  # nbclient stops the kernel it was given only when it owns it
    status = 0
    try:
        client.execute()
    except CellExecutionError as error:
        echo.cell_end()
        _report_error(notebook, state["cell"], error)
        status = 1
    except CellTimeoutError:
        echo.cell_end()
        print(f"tinyann run: cell {state['cell'] + 1} did not finish in {timeout} s "
              "(--timeout); stopped", file=sys.stderr)
        status = 1
    except DeadKernelError:
        echo.cell_end()
        where = "at start-up" if state["cell"] is None else f"in cell {state['cell'] + 1}"
        print(f"tinyann run: the kernel died {where}", file=sys.stderr)
        status = 1
    finally:
        sockets.cleanup()
        _write(notebook, output)
    print(f"tinyann run: wrote the executed notebook to {output}", file=sys.stderr)
    return status


def _write(notebook, output):
    import nbformat

    from tinyann.utils.files import atomic_write_text

    tidy_streams(notebook)
    notebook.metadata["kernelspec"] = {"name": "tinyann", "display_name": DISPLAY_NAME,
                                       "language": "python"}
    atomic_write_text(output, nbformat.writes(notebook) + "\n")


def _report_error(notebook, index, error):
    """``cell 4 (In [3]), line 2: y = 1 / 0`` and the error, after its traceback."""
    cell = notebook.cells[index]
    errors = [out for out in cell.get("outputs", ()) if out.get("output_type") == "error"]
    lines = errors[-1].get("traceback", []) if errors else [str(error.traceback or "")]
    traceback_text = _ANSI.sub("", "\n".join(lines))
    print(traceback_text.rstrip(), file=sys.stderr)
    where = f"cell {index + 1}"
    if cell.get("execution_count"):
        where += f" (In [{cell.execution_count}])"
    line = _failing_line(traceback_text, cell)
    if line is not None:
        number, text = line
        where += f", line {number}: {text.strip()}"
    print(f"tinyann run: {where}", file=sys.stderr)
    print(f"{error.ename}: {error.evalue}", file=sys.stderr)


def _failing_line(traceback_text, cell):
    """(line number, source line) of the cell's own frame nearest the error, or None."""
    count = cell.get("execution_count")
    marks = re.findall(r"Cell In\[(\d+)\], line (\d+)", traceback_text)
    numbers = [int(line) for n, line in marks if count is None or int(n) == count]
    if not numbers:
        return None
    lines = cell.source.splitlines()
    number = numbers[-1]
    return (number, lines[number - 1]) if 0 < number <= len(lines) else None
