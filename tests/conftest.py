"""Shared fixtures: real services when present (skip on a laptop, fail in CI), fresh databases."""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

CI = os.environ.get("CI") == "true"
REPO = Path(__file__).resolve().parents[1]


def load_script(relative: str) -> ModuleType:
    """A script of the repository (``bench/…``, ``scripts/…``) imported as a module, by path."""
    path = REPO / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PG_ADMIN_URL = os.environ.get("MAILROUTE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("MAILROUTE_TEST_REDIS", "redis://127.0.0.1:6379")

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def require_service(available: bool, what: str) -> None:
    """Skip when a service is missing — except in CI, where a missing service is a failure."""
    if available:
        return
    if CI:
        pytest.fail(f"{what} is not available, and CI=true requires it")
    pytest.skip(f"{what} is not available")


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), connect_timeout=3):
            return True
    except Exception:
        return False


def redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except Exception:
        return False


def create_postgres_database() -> str:
    """A brand-new empty database (so parallel runs never share tables); returns its URL."""
    import psycopg

    name = f"mailroute_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres_database(url: str) -> None:
    import psycopg

    from worker.db.session import get_engine

    get_engine(url).dispose()
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite database in a temporary file."""
    from worker.cli.db import upgrade

    url = f"sqlite:///{tmp_path / 'mailroute.db'}"
    upgrade(url=url)
    return url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A migrated, private Postgres database, dropped afterwards."""
    require_service(postgres_available(), "Postgres at 127.0.0.1:5432")
    from worker.cli.db import upgrade

    url = create_postgres_database()
    upgrade(url=url)
    yield url
    drop_postgres_database(url)


@pytest.fixture
def redis_url() -> str:
    """A Redis database number picked at random, flushed before use."""
    require_service(redis_available(), "Redis at 127.0.0.1:6379")
    import random

    import redis

    url = f"{REDIS_URL}/{random.randint(1, 15)}"
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Runs a test on SQLite and on Postgres."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url"))
