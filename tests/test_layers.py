"""The import contract: each step imports only the steps below it (``lint-imports``, in ``make check``).

The contract itself is in pyproject.toml; these tests prove it holds on the tree and that it really
fails when ``rules/`` imports ``worker`` (a contract that cannot fail would prove nothing).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("worker", "connectors", "admin", "rules")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    if not LINT_IMPORTS.exists():
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
    )


def _copy_tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    for name in PACKAGES:
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_tree_keeps_the_import_contract(tmp_path: Path) -> None:
    result = _lint(_copy_tree(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken" in result.stdout


def test_the_contract_fails_when_rules_imports_worker(tmp_path: Path) -> None:
    root = _copy_tree(tmp_path)
    engine = root / "rules" / "engine.py"
    engine.write_text(engine.read_text() + "\nimport worker.core.settings  # noqa: E402,F401\n")
    result = _lint(root)
    assert result.returncode != 0
    assert "rules/ is pure" in result.stdout and "BROKEN" in result.stdout


def test_no_module_sits_at_the_top_of_worker() -> None:
    top = sorted(p.name for p in (REPO / "worker").glob("*.py"))
    assert top == ["__init__.py"], f"every module belongs in a step package: {top}"
    packages = [p for p in (REPO / "worker").iterdir() if (p / "__init__.py").exists()]
    assert len(packages) >= 10


def test_the_rule_engine_is_called_from_one_function_only() -> None:
    calls = []
    for package in ("worker", "connectors", "admin"):
        for path in (REPO / package).rglob("*.py"):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if "decide(" in line:
                    calls.append(f"{path.relative_to(REPO)}:{number}")
    assert len(calls) == 1 and calls[0].startswith("worker/pipeline/route.py"), calls
