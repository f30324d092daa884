"""Helpers for the notebook tests: notebooks made in the test, ``tinyann run`` on them in
a child process, and the notebook extra (whose absence fails under CI, as ``make test``
installs it, and skips elsewhere)."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _require(*names):
    missing = [n for n in names if importlib.util.find_spec(n) is None]
    if missing:
        message = f"needs {', '.join(missing)}: pip install -e '.[notebook]' (make test does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def notebook_extra():
    _require("ipykernel", "nbclient", "nbformat", "jupyter_client")


def make_notebook(path, *cells, kernel="python3", markdown_first=True):
    """Writes a notebook of code cells (strings) to ``path``; a markdown cell first
    (cell numbers then count it, as Jupyter shows them)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    body = [new_markdown_cell("# test")] if markdown_first else []
    body += [new_code_cell(source) for source in cells]
    notebook = new_notebook(cells=body, metadata={"kernelspec": {
        "name": kernel, "display_name": kernel, "language": "python"}})
    nbformat.write(notebook, str(path))
    return Path(path)


def child_env(**extra):
    """This worktree first on the path (the kernel is a grandchild), no inherited backend."""
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "KERAS_BACKEND")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra)
    return env


def tinyann_cli(args, cwd, timeout=300, **env):
    """``tinyann ARGS`` in a child process: (returncode, stdout, stderr)."""
    done = subprocess.run([sys.executable, "-m", "tinyann", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=child_env(**env))
    return SimpleNamespace(returncode=done.returncode, stdout=done.stdout, stderr=done.stderr)


def read_notebook(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def outputs_of(notebook, index):
    return notebook["cells"][index].get("outputs", [])


def stream_text(notebook, index, name="stdout"):
    return "".join(o["text"] if isinstance(o["text"], str) else "".join(o["text"])
                   for o in outputs_of(notebook, index)
                   if o["output_type"] == "stream" and o["name"] == name)


def _wait_for_server(url, process, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"JupyterLab did not answer {url} in {seconds} s")


@contextlib.contextmanager
def jupyterlab(tmp_path, notebooks):
    """JupyterLab on a free port of 127.0.0.1 serving tmp_path/work, where ``notebooks``
    ({file name: cells}) are written for the tinyann kernel, installed in a temporary Jupyter
    data folder; yields (base URL, token); stopped (then killed) after."""
    home = {"JUPYTER_DATA_DIR": str(tmp_path / "data"), "JUPYTER_PATH": "",
            "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
            "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces")}
    installed = tinyann_cli(["jupyter", "install", "--user"], cwd=tmp_path, **home)
    assert installed.returncode == 0, installed.stderr
    work = tmp_path / "work"
    work.mkdir()
    for name, cells in notebooks.items():
        make_notebook(work / name, *cells, kernel="tinyann")
    port, token = free_port(), secrets.token_hex(16)
    log = open(tmp_path / "jupyterlab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}",
         "--allow-root", "--expose-app-in-browser", "--LabApp.news_url=",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.extension_manager=readonly"],  # CI runs as root; nothing fetched
        cwd=work, stdout=log, stderr=subprocess.STDOUT, env=child_env(**home))
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_server(f"{base}/api/status?token={token}", server)
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()


@pytest.fixture
def nb():
    """The helpers above for a test."""
    return SimpleNamespace(make=make_notebook, cli=tinyann_cli, read=read_notebook,
                           outputs=outputs_of, stream=stream_text, env=child_env, repo=REPO,
                           free_port=free_port, jupyterlab=jupyterlab)
