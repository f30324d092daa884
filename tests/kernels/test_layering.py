"""The kernel layer stands below everything: tinyann/kernels imports only NumPy, the
standard library and itself; layers, losses, activations and optimizers reach
the kernels through ``tinyann.kernels`` and never import models."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "tinyann"


def _imports(path):
    """Every module a file imports, at module level or inside functions."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", sorted((PACKAGE / "kernels").rglob("*.py")),
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_ops_import_nothing_of_tinyann_but_ops(path):
    tinyann = {n for n in _imports(path) if n == "tinyann" or n.startswith("tinyann.")}
    assert all(n.startswith("tinyann.kernels") for n in tinyann), sorted(tinyann)


KERNEL_USERS = sorted([*(PACKAGE / "optimizers").glob("*.py"), *(PACKAGE / "losses").glob("*.py"),
                       PACKAGE / "activations.py"])


@pytest.mark.parametrize("path", KERNEL_USERS, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_optimizers_losses_and_activations_never_import_models_or_layers(path):
    bad = {n for n in _imports(path)
           if n.startswith(("tinyann.models", "tinyann.layers", "tinyann.trainers"))
           or n in ("tinyann.models", "tinyann.layers")}
    assert not bad, sorted(bad)
