"""The package as users get it: a wheel and an sdist built from this tree, the wheel installed into a fresh venv."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import venv
import zipfile

import pytest
from conftest import ROOT


@pytest.mark.slow
def test_the_wheel_and_sdist_build_and_the_wheel_installs_into_a_fresh_environment(tmp_path):
    built = subprocess.run([sys.executable, "-m", "build", "--wheel", "--sdist", "--outdir", str(tmp_path / "dist"),
                            str(ROOT)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    import seedmagic

    wheel = tmp_path / "dist" / f"seedmagic-{seedmagic.__version__}-py3-none-any.whl"
    sdist = tmp_path / "dist" / f"seedmagic-{seedmagic.__version__}.tar.gz"
    names = zipfile.ZipFile(wheel).namelist()
    for module in ("seedmagic/py.typed", "seedmagic/probe.py", "seedmagic/check/explain.py",
                   "seedmagic/check/normalise.py"):
        assert module in names
    assert not any(name.startswith("tests/") for name in names)
    with tarfile.open(sdist) as archive:
        members = archive.getnames()
    assert f"seedmagic-{seedmagic.__version__}/pyproject.toml" in members
    assert f"seedmagic-{seedmagic.__version__}/seedmagic/check/verdict.py" in members

    fresh = tmp_path / "fresh"
    venv.create(fresh, with_pip=True)
    python = fresh / "bin" / "python"
    alone = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}  # only the venv's own
    installed = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(wheel)],
                               capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr
    # Importing seedmagic needs none of its dependencies (NumPy, IPython and the rest are imported when used).
    found = subprocess.run([str(python), "-c", "import seedmagic, seedmagic.check; print(seedmagic.__file__)"],
                           capture_output=True, text=True, timeout=60, cwd=tmp_path, env=alone)
    assert found.returncode == 0, found.stderr
    assert str(fresh) in found.stdout
    version = subprocess.run([str(fresh / "bin" / "seedmagic"), "--version"], capture_output=True, text=True,
                             timeout=60, cwd=tmp_path, env=alone)
    assert version.stdout.strip() == f"seedmagic {seedmagic.__version__}"


def seedmagic_imports(path, package: str) -> set[str]:
    """The seedmagic modules ``path`` imports anywhere, inside functions too (``from . import x``: ``x``'s module)."""
    import ast

    found: set[str] = set()
    tree = ast.parse(path.read_text())
    for block in ast.walk(tree):  # names for the type checker only are no import at run time
        if isinstance(block, ast.If) and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING":
            block.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("seedmagic"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("seedmagic"):
                module = node.module
            else:
                continue
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)  # ``from . import core``
    return found


def test_no_module_of_seedmagic_imports_itself_back_through_others():
    """No import circle, counting imports inside functions: the layout is a hierarchy a reader can follow."""
    import graphlib

    modules = {}
    for path in (ROOT / "seedmagic").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        package = name if parts[-1] == "__init__" else ".".join(parts[:-1])
        modules[name] = (path, package)
    graph = {}
    for name, (path, package) in modules.items():
        ancestors = {".".join(name.split(".")[:depth]) for depth in range(1, name.count(".") + 1)}
        # A package's own __init__ always runs before its modules: an edge up to it is no circle.
        graph[name] = {imported for imported in seedmagic_imports(path, package)
                       if imported in modules and imported != name and imported not in ancestors}
    order = list(graphlib.TopologicalSorter(graph).static_order())  # raises CycleError on a circle
    assert set(order) == set(modules) and "seedmagic.watch" in order
