"""The package's layers: no module imports upward (parsed with ``ast``, function-level imports included)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "extent"

FORBIDDEN = {
    "extent": ("extent.cli",),
    "extent.models": ("extent.estimators", "extent.calibrate", "extent.reporting", "extent.cli"),
    "extent.simulate": ("extent.estimators", "extent.calibrate"),
}
"""Package prefix -> packages its modules must not import (``extent.cli`` itself may import anything)."""


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, root: Path = PACKAGE) -> list[tuple[int, str, list[str]]]:
    """``(line, module, names)`` of every import in ``path``, relative imports resolved."""
    module = _module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            out.append((node.lineno, base, [alias.name for alias in node.names]))
    return out


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def upward_imports(root: Path = PACKAGE) -> list[str]:
    """Every import that breaks :data:`FORBIDDEN` or reaches the package root, as ``path:line: what``."""
    problems = []
    for path in sorted(root.rglob("*.py")):
        module = _module_name(path, root)
        if _within(module, "extent.cli"):
            continue
        rules = [bad for prefix, bads in FORBIDDEN.items() if _within(module, prefix) for bad in bads]
        for line, target, names in imports(path, root):
            where = f"{path.relative_to(root.parent)}:{line}"
            hit = next((bad for bad in rules if _within(target, bad)), None)
            if hit is None and target == "extent":  # `from extent import cli` names a subpackage
                hit = next((bad for bad in rules for n in names if _within(f"extent.{n}", bad)), None)
            if hit is not None:
                problems.append(f"{where}: {module} imports {target} ({hit} is above it)")
            elif target == "extent" and module != "extent":
                problems.append(f"{where}: {module} imports the package root ({', '.join(names) or 'extent'})")
    return problems


def test_no_module_imports_upward():
    assert upward_imports() == []


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        ("models/m.py", "from extent.estimators import HierarchicalExtent\n", "extent.estimators is above it"),
        ("models/m.py", "def f():\n    from extent.reporting import write_report\n", "extent.reporting is above it"),
        ("simulate/s.py", "import extent.calibrate.study\n", "extent.calibrate is above it"),
        ("calibrate/r.py", "from extent.cli.output import write_csv\n", "extent.cli is above it"),
        ("calibrate/r.py", "from extent import cli\n", "extent.cli is above it"),
        ("results.py", "from extent import __version__\n", "imports the package root (__version__)"),
        ("models/counts/m.py", "from ...estimators import base\n", "extent.estimators is above it"),
    ],
)
def test_each_rule_catches_its_import(tmp_path, path, source, expected):
    root = tmp_path / "extent"
    (root / path).parent.mkdir(parents=True)
    (root / path).write_text(source)
    (root / "cli").mkdir()
    (root / "cli" / "app.py").write_text("from extent import __version__\nfrom extent.models import Design\n")
    (problems,) = upward_imports(root)
    assert expected in problems and problems.startswith(f"extent/{path}:")


def test_allowed_imports_pass(tmp_path):
    root = tmp_path / "extent"
    (root / "models").mkdir(parents=True)
    (root / "models" / "m.py").write_text("from extent.data import ExtentData\nfrom . import likelihood\n")
    (root / "calibrate").mkdir()
    (root / "calibrate" / "c.py").write_text("from extent.estimators import NaiveScaling\nimport extent.simulate\n")
    assert upward_imports(root) == []


def test_the_test_tree_mirrors_the_package():
    """Tests of a subpackage live in the folder of the same name; tests of top-level modules at the root."""
    tests = Path(__file__).resolve().parent
    folders = {p.name for p in tests.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))}
    subpackages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert folders and folders <= subpackages, folders - subpackages
    for folder in folders:
        assert list((tests / folder).glob("test_*.py")), folder  # no empty mirror folders
