"""The package's layers: no module imports from a layer above its own (lazy imports included),
and the folder listing is the architecture."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "papernotes"

# bottom to top; a module may import from its own layer and the ones below it
LAYERS = [
    {"errors", "commands", "__init__"},  # leaves: import nothing of papernotes
    {"disk"},  # the notes folder on disk
    {"note"},  # the note format and the paper model
    {"engine"},  # the index: the one read engine
    {"watcher", "edit", "interop"},  # built on the engine, independent of one another
    {"render"},  # terminal output
    {"assistant"},  # the MCP server
    {"cli"},
    {"__main__"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, top-level name under papernotes) of every import of papernotes in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] != "papernotes":
                continue
            names = [a.name for a in node.names] if len(parts) == 1 else [parts[1]]
            found += [(node.lineno, n) for n in names if n != "__version__"]
        elif isinstance(node, ast.Import):
            found += [
                (node.lineno, a.name.split(".")[1])
                for a in node.names
                if a.name.startswith("papernotes.")
            ]
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def layer_of(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def test_every_module_is_in_a_layer() -> None:
    assert {layer_of(path) for path in MODULES} == set(RANK)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_from_a_layer_above_its_own(path: Path) -> None:
    own = layer_of(path)
    above = [
        f"{path.name}:{line} imports papernotes.{name}"
        for line, name in imports(path)
        if name != own and RANK[name] >= RANK[own]
    ]
    assert above == []


def test_the_layers_are_packages_of_readable_modules() -> None:
    """Each layer a package with a docstring saying what it holds; no module too long to read
    in one sitting."""
    for names in LAYERS[1:-1]:
        for name in names:
            init = PACKAGE / name / "__init__.py"
            assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), name
    longest = max(MODULES, key=lambda p: len(p.read_text(encoding="utf-8").splitlines()))
    assert len(longest.read_text(encoding="utf-8").splitlines()) <= 900, longest
