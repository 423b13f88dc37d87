"""The Alembic-free head check that lets a current database skip the migration step at start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from worker.cli.db import alembic_config, upgrade
from worker.cli.schema import MIGRATIONS, at_head, script_heads


def test_heads_are_alembics() -> None:
    assert script_heads() == set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def test_a_file_it_cannot_read_plainly_means_no_answer(tmp_path: Path) -> None:
    for path in (MIGRATIONS / "versions").glob("*.py"):
        (tmp_path / path.name).write_text(path.read_text())
    assert script_heads(tmp_path)
    (tmp_path / "9999_merge.py").write_text('revision = "9999"\ndown_revision = ("a", "b")\n')
    assert script_heads(tmp_path) is None


def test_only_a_database_at_the_head_skips_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    assert not at_head(url)  # no version table yet
    upgrade(url=url)
    assert at_head(url)
    command.downgrade(alembic_config(url), "-1")
    assert not at_head(url)
    upgrade(url=url)  # the fallback: Alembic migrates it up again
    assert at_head(url) and "learned_models" in inspect(create_engine(url)).get_table_names()
