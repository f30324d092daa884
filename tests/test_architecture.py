"""The package's layering, read from the source: tinyann's import graph (every import,
at module level or inside a function) has no cycle, and no import crosses a line of
the rules below. See docs/ARCHITECTURE.md for the picture.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "tinyann"

# groups (the first name under tinyann) that hold the building blocks: they never
# reach up to the models that assemble them or the loops that train them
BLOCKS = ("layers", "optimizers", "datasets", "utils", "kernels", "losses", "activations",
          "initializers", "regularizers", "callbacks", "variables", "backend", "config",
          "metrics", "_identifiers", "ops", "autodiff", "random")
MODEL_LEVEL = ("models", "trainers")
# the models import the loops that train them (trainers) and the files that keep them
# (saving); those see a model through its attributes and never import models back
BELOW_MODELS = ("trainers", "saving")
# the app and the script runner sit on top of the library; the library never imports them
TOP = ("app", "runner", "run", "compat", "cli", "__main__")


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_modules(root: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    return {module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _resolve(name, level, current, is_package):
    """The absolute name of an import of ``name`` at relative ``level``."""
    if level == 0:
        return name
    base = current.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def imports_of(name: str, path: Path, modules) -> set[str]:
    """The tinyann modules ``name`` imports anywhere in its source (functions too).

    ``from pkg import x`` counts as importing ``pkg.x`` when that is a module, else
    ``pkg`` itself."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node.module or "", node.level, name, _is_package(path))
            targets = []
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                targets.append(sub if sub in modules else base)
        else:
            continue
        for target in targets:
            # `import tinyann.a.b` names the deepest module that exists
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target.split(".")[0] == "tinyann" and target != name:
                found.add(target)
    return found


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    modules = source_modules(root)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def group(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def cycles(graph) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def crossed_lines(graph) -> list[str]:
    """Each import that breaks a layering rule, as 'a -> b (rule)'."""
    crossed = []
    for source, targets in sorted(graph.items()):
        g = group(source)
        for target in sorted(targets):
            t = group(target)
            if g in BLOCKS and t in MODEL_LEVEL:
                crossed.append(f"{source} -> {target} (a building block imports {t})")
            elif g in BELOW_MODELS and t == "models":
                crossed.append(f"{source} -> {target} ({g} import models)")
            elif g not in TOP and t in TOP:
                crossed.append(f"{source} -> {target} (the library imports the app / runner)")
            elif g == "kernels" and t == "layers":
                crossed.append(f"{source} -> {target} (kernels import layers)")
    return crossed


# Entry points that must live in the library's namespace although they start the
# runner: IPython's `%load_ext tinyann` looks its hooks up in the top package. They
# import the runner only when IPython calls them; these exact edges are allowed.
ENTRY_POINTS = {("tinyann", "tinyann.runner.extension")}


def library_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """The import graph less the declared entry-point edges."""
    graph = import_graph(root)
    for source, target in ENTRY_POINTS:
        graph.get(source, set()).discard(target)
    return graph


# ---------------------------------------------------------------------- the package
def test_no_import_cycle():
    found = cycles(library_graph())
    assert found == [], "import cycles in tinyann: " + "; ".join(" <-> ".join(c) for c in found)


def test_no_import_crosses_a_layer_line():
    assert crossed_lines(library_graph()) == []


def test_the_entry_points_are_real_edges():
    # a stale exception would hide nothing; it must name an import that exists
    graph = import_graph()
    for source, target in ENTRY_POINTS:
        assert target in graph[source]


def test_graph_sees_the_whole_package():
    graph = import_graph()
    # a few edges every version of the tree has: the reader must find them
    assert "tinyann.models" in graph["tinyann"]
    assert "tinyann.layers.layer" in graph["tinyann.models.model"]
    assert any(t.startswith("tinyann.trainers") for t in graph["tinyann.models.model"])


# ---------------------------------------------------------------------- the reader itself
def _tree(tmp_path, files):
    root = tmp_path / "tinyann"
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_reader_finds_function_level_relative_and_submodule_imports(tmp_path):
    root = _tree(tmp_path, {
        "__init__.py": "",
        "layers/__init__.py": "",
        "layers/layer.py": "def f():\n    from ..models import tracing\n",
        "models/__init__.py": "from . import model\n",
        "models/model.py": "from tinyann.layers.layer import f\n",
        "models/tracing.py": "import tinyann.layers.layer\n",
    })
    graph = import_graph(root)
    assert graph["tinyann.layers.layer"] == {"tinyann.models.tracing"}
    assert graph["tinyann.models"] == {"tinyann.models.model"}
    assert graph["tinyann.models.tracing"] == {"tinyann.layers.layer"}
    assert cycles(graph) == [["tinyann.layers.layer", "tinyann.models.tracing"]]
    assert crossed_lines(graph) == [
        "tinyann.layers.layer -> tinyann.models.tracing (a building block imports models)"]


def test_reader_flags_the_library_importing_the_runner_or_app(tmp_path):
    root = _tree(tmp_path, {
        "__init__.py": "",
        "utils/__init__.py": "def f():\n    import tinyann.runner.shims\n",
        "runner/__init__.py": "",
        "runner/shims.py": "from tinyann import utils\n",
        "app/__init__.py": "from tinyann.runner import shims\n",
        "kernels/__init__.py": "from tinyann.layers import core\n",
        "layers/__init__.py": "",
        "layers/core.py": "",
    })
    crossed = crossed_lines(import_graph(root))
    assert crossed == [
        "tinyann.kernels -> tinyann.layers.core (kernels import layers)",
        "tinyann.utils -> tinyann.runner.shims (the library imports the app / runner)",
    ]
