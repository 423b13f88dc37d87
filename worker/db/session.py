"""Engines and sessions, one engine per database URL per process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from worker.core.settings import get_settings


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


# psycopg caches its parse of a statement only up to 50 parameters and 4 KiB, so that an ORM's
# INSERT … VALUES with ever-varying row counts cannot fill its 128-entry cache with huge keys. mailroute's
# batches have a few fixed shapes (32 mails per store, their decisions, scores, actions), so it parsed
# the same ~15 KiB statement afresh at every batch (a fifth of the poller's CPU). Up to these bounds
# such statements are cached: 128 entries of at most 1,024 parameters, a few MiB at worst.
STATEMENT_CACHE_PARAMS = 1024
STATEMENT_CACHE_LENGTH = 64 * 1024


def cache_batch_statements() -> bool:
    """Let psycopg cache the parse of a batch-sized statement (see above); never lowers its limits.

    The limits are psycopg's private module constants (3.1–3.3): a psycopg without them is left as it
    is (False), only slower, never broken."""
    try:
        from psycopg import _queries
    except ImportError:
        return False
    limits = {
        "MAX_CACHED_STATEMENT_PARAMS": STATEMENT_CACHE_PARAMS,
        "MAX_CACHED_STATEMENT_LENGTH": STATEMENT_CACHE_LENGTH,
    }
    if not all(isinstance(getattr(_queries, name, None), int) for name in limits):
        return False
    for name, value in limits.items():
        setattr(_queries, name, max(getattr(_queries, name), value))
    return True


def get_engine(url: str | None = None) -> Engine:
    """The engine for ``url`` (default: the settings' database URL), one per URL per process."""
    return _engine_for(url or get_settings().database_url)


@lru_cache(maxsize=16)
def _engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    if engine.dialect.driver == "psycopg":
        cache_batch_statements()
    return engine


def preload(url: str | None = None) -> None:
    """Import the database driver and configure the ORM's mappers, without connecting.

    Every process otherwise pays both on its first query; a Celery worker calls this before it forks
    its pool, so that its children inherit them (``worker.tasks.app``).
    """
    from sqlalchemy import make_url
    from sqlalchemy.orm import configure_mappers

    import worker.db.models  # noqa: F401 - the mappers to configure

    make_url(url or get_settings().database_url).get_dialect().import_dbapi()
    configure_mappers()


def session_factory(url: str | None = None) -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A transaction: commit on success, roll back on any exception."""
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
