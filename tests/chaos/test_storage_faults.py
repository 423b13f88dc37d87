"""The database refuses writes while mail arrives: read-only Postgres, a full disk under SQLite.

An in-process watcher (eager routing) keeps polling a private Dovecot. While writes fail, nothing may
be lost: the cursor stays at the last committed batch, the watcher backs off instead of dying, and
once the database takes writes again every mail is stored and decided exactly once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, select

from tests.chaos.conftest import audit, chaos_mail, sweep_now, write_rules
from tests.chaos.services import PrivatePostgres, wait_for
from tests.chaos.test_imap_faults import watching
from tests.connectors.conftest import ImapEnv, append, install_env, teardown_env
from tests.connectors.dovecot import Dovecot
from worker.db.models import PollCursor
from worker.db.session import get_engine, session_factory
from worker.scoring.backends.constant import ConstantScorer

pytestmark = [pytest.mark.chaos, pytest.mark.integration, pytest.mark.timeout(240)]


def cursor_of(db: str) -> int | None:
    with session_factory(db)() as s:
        return s.scalar(select(PollCursor.last_uid))


def run_outage(env: ImapEnv, break_db: Any, heal_db: Any) -> None:
    with watching(env) as watcher:
        assert wait_for(lambda: watcher.stats.polls >= 1, 30)
        append(env.server, [chaos_mail(i, "disk") for i in range(10)])
        assert wait_for(lambda: audit(env.db_url).decided == 10, 60), audit(env.db_url).summary()
        break_db()
        append(env.server, [chaos_mail(100 + i, "disk", pad=30000) for i in range(15)])  # new pages needed
        assert wait_for(lambda: watcher.stats.losses >= 1, 30), (
            f"no write error: {audit(env.db_url).summary()} {cursor_of(env.db_url)} {watcher.stats}"
        )
        assert any("read-only" in e or "full" in e for e in watcher.stats.errors), watcher.stats.errors
        assert cursor_of(env.db_url) == 10, "the cursor moved past mail that was not stored"
        assert audit(env.db_url).messages == 10
        heal_db()
        assert wait_for(lambda: audit(env.db_url).decided == 25, 60), audit(env.db_url).summary()
    sweep_now(env.db_url)  # anything that failed after its commit (actions) is re-run here
    result = audit(env.db_url)
    assert result.messages == 25 and result.decided == 25 and result.duplicate_decisions == 0, (
        result.summary()
    )
    assert not result.stuck and result.duplicate_actions == 0, result.summary()
    assert cursor_of(env.db_url) == 25


@pytest.fixture
def pg_env(
    dovecot: Dovecot, private_postgres: PrivatePostgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ImapEnv, PrivatePostgres]]:
    from worker.cli.db import upgrade

    db = private_postgres.create_database()
    upgrade(url=db)
    env = install_env(
        monkeypatch, dovecot, db, tmp_path, scorer=ConstantScorer(), rules_path=write_rules(tmp_path)
    )
    yield env, private_postgres
    teardown_env()


def set_read_only(server: PrivatePostgres, *, on: bool) -> None:
    with psycopg.connect(server.admin_url().replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("SET default_transaction_read_only = off")  # this session must still write
        if on:
            conn.execute("ALTER SYSTEM SET default_transaction_read_only = on")
        else:
            conn.execute("ALTER SYSTEM RESET default_transaction_read_only")
        conn.execute("SELECT pg_reload_conf()")  # open sessions pick it up at their next transaction


def test_postgres_turns_read_only_then_writable(pg_env: tuple[ImapEnv, PrivatePostgres]) -> None:
    env, server = pg_env
    run_outage(env, lambda: set_read_only(server, on=True), lambda: set_read_only(server, on=False))


def test_sqlite_disk_full_then_space_freed(
    dovecot: Dovecot, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's max_page_count caps the file where it is: each write that needs a page fails with
    SQLITE_FULL ("database or disk is full"), exactly what a full filesystem produces."""
    env = install_env(
        monkeypatch, dovecot, sqlite_url, tmp_path, scorer=ConstantScorer(), rules_path=write_rules(tmp_path)
    )
    engine = get_engine(sqlite_url)
    full = {"on": False}

    def cap(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        cursor = dbapi_connection.cursor()
        if full["on"]:
            pages = cursor.execute("PRAGMA page_count").fetchone()[0]
            cursor.execute(f"PRAGMA max_page_count = {pages}")
        else:
            cursor.execute("PRAGMA max_page_count = 1073741823")
        cursor.close()

    event.listen(engine, "checkout", cap)
    try:
        run_outage(env, lambda: full.update(on=True), lambda: full.update(on=False))
    finally:
        event.remove(engine, "checkout", cap)
        teardown_env()
