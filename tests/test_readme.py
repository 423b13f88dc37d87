"""The README is the front door: its settings table must match the settings object."""

from __future__ import annotations

from types import ModuleType

from tests.conftest import REPO, load_script


def load_table_script() -> ModuleType:
    return load_script("scripts/settings_table.py")


def test_readme_settings_table_is_current() -> None:
    script = load_table_script()
    readme = (REPO / "README.md").read_text()
    current = readme.split(script.START, 1)[1].split(script.END, 1)[0].strip()
    assert current == script.table(), "run: python scripts/settings_table.py --write"


def test_readme_names_the_two_commands_and_ci_calls_the_test_one() -> None:
    readme = (REPO / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    assert "make test" in (REPO / ".ci" / "run").read_text()
