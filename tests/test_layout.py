"""The package layout: one import namespace (accbench.*) and imports that flow one way.

The repository keeps its top-level folders (dsp/, bench/, instruments/, sim_instruments/), so a
bare ``import dsp`` would work from the repository root and load a second copy of every class;
these tests read every import statement of the project and forbid that, and forbid any import
that points up the layering (CLI on top; bench over instruments, dsp and the station interface;
the simulator over dsp; shared leaves at the bottom).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"accbench": "accbench", "dsp": "accbench.dsp", "instruments": "accbench.instruments",
           "sim_instruments": "accbench.sim", "bench": "accbench.bench", "pyvisa_accsim": "pyvisa_accsim"}
BARE = {"dsp", "bench", "instruments", "sim_instruments"}
LEAVES = {"accbench.errors", "accbench.units", "accbench.scpi_notation", "accbench.capabilities", "accbench.station"}
# what each layer may import of the project (besides itself and the leaves)
ALLOWED = {
    "accbench.dsp": set(),
    "accbench.instruments": set(),
    "accbench.sim": {"accbench.dsp"},
    "accbench.bench": {"accbench.dsp", "accbench.instruments"},
    "pyvisa_accsim": {"accbench.sim"},
}


def _python_files() -> list[Path]:
    skip = {".git", "build", "dist", ".venv"}
    return [p for p in ROOT.rglob("*.py") if not skip & set(p.relative_to(ROOT).parts)]


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import statement in ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _package_of(path: Path) -> str | None:
    """The installed package (layer) a project source file belongs to, or None outside the packages."""
    rel = path.relative_to(ROOT)
    top = rel.parts[0]
    if top not in FOLDERS or len(rel.parts) == 1:
        return None
    if top == "accbench":
        module = "accbench." + ".".join(rel.with_suffix("").parts[1:])
        return module if module in LEAVES else "accbench (top)"
    return FOLDERS[top]


def _layer(module: str) -> str | None:
    if module in LEAVES or module == "accbench":  # the package itself holds only its version
        return "leaf"
    for layer in sorted(ALLOWED, key=len, reverse=True):
        if module == layer or module.startswith(layer + "."):
            return layer
    if module == "accbench" or module.startswith("accbench."):
        return "accbench (top)"
    return None


def test_no_bare_imports_of_the_repository_folders():
    bad = [f"{p.relative_to(ROOT)}:{line}: import {name}" for p in _python_files() for line, name in _imports(p)
           if name.split(".")[0] in BARE]
    assert not bad, "import these as accbench.*:\n" + "\n".join(bad)


def test_imports_flow_one_way():
    bad = []
    for path in _python_files():
        package = _package_of(path)
        if package is None or package == "accbench (top)":
            continue
        for line, name in _imports(path):
            target = _layer(name)
            if target is None or target == package:
                continue
            if package in LEAVES:
                ok = name in {"accbench.errors"} and package != "accbench.errors"
            else:
                ok = target == "leaf" or target in ALLOWED[package]
            if not ok:
                bad.append(f"{path.relative_to(ROOT)}:{line}: {package} imports {name}")
    assert not bad, "imports that point up the layering:\n" + "\n".join(bad)


def test_the_package_root_and_the_leaves_import_nothing_of_the_project():
    for path in [ROOT / "accbench" / "__init__.py", *(ROOT / (m.replace(".", "/") + ".py") for m in LEAVES)]:
        names = [name for _, name in _imports(path) if name.split(".")[0] in {"accbench", *BARE}]
        assert set(names) <= {"accbench.errors"}, (path.name, names)


@pytest.mark.parametrize("module", sorted(LEAVES))
def test_leaves_exist(module):
    assert (ROOT / (module.replace(".", "/") + ".py")).is_file()
