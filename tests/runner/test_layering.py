"""The runner sits above the library: nothing below it imports it, and ``import tinyann``
does not load it (the kernel and ``%load_ext tinyann`` reach it on demand)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import tinyann

PACKAGE = Path(tinyann.__file__).parent
# the command line and the package's lazy `load_ipython_extension` may reach the runner
ABOVE_RUNNER = {PACKAGE / "cli.py", PACKAGE / "__init__.py"}


def imported_names(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def test_no_library_module_imports_the_runner():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if PACKAGE / "runner" in path.parents or path in ABOVE_RUNNER:
            continue
        names = [n for n in imported_names(path)
                 if n == "tinyann.runner" or n.startswith("tinyann.runner.")]
        if names:
            offenders.append(f"{path.relative_to(PACKAGE)}: {names}")
    assert offenders == []


def test_the_old_top_level_modules_are_gone():
    assert not (PACKAGE / "run.py").exists()
    assert not (PACKAGE / "compat").exists()


def test_import_tinyann_loads_neither_the_runner_nor_ipython():
    code = ("import sys, tinyann; "
            "print(sorted(m for m in sys.modules if m.startswith('tinyann.runner') "
            "or m.split('.')[0] in ('IPython', 'ipykernel', 'matplotlib', 'nbclient')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == "[]"
