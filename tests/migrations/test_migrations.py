"""Alembic revisions on a real Postgres: up, down, up again, and in step with the models."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from tests.conftest import (
    REPO,
    create_postgres_database,
    drop_postgres_database,
    postgres_available,
    require_service,
)
from worker.cli.db import alembic_config
from worker.db.models import Base

pytestmark = pytest.mark.integration
TABLES = {
    "messages",
    "scores",
    "decisions",
    "actions",
    "action_attempts",
    "corrections",
    "poll_cursors",
    "leases",
    "users",
    "api_tokens",
    "audit_events",
    "rule_set_versions",
}


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    require_service(postgres_available(), "Postgres at 127.0.0.1:5432")
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(empty_postgres: str) -> None:
    from alembic import command

    config = alembic_config(empty_postgres)
    command.upgrade(config, "head")
    assert tables(empty_postgres) >= TABLES
    command.downgrade(config, "base")
    assert tables(empty_postgres) == set()
    command.upgrade(config, "head")
    assert tables(empty_postgres) >= TABLES


def test_migrations_match_the_models(empty_postgres: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(empty_postgres), "head")
    engine = create_engine(empty_postgres)
    try:
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations differ; add a revision: {diff}"


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        [sys.executable, "-c", "from worker.cli import main; main()", "db", "upgrade"],
    ],
    ids=["alembic", "mailroute"],
)
def test_both_commands_migrate(empty_postgres: str, command: list[str]) -> None:
    env = {**os.environ, "MAILROUTE_DATABASE_URL": empty_postgres}
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert tables(empty_postgres) >= TABLES
