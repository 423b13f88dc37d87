"""The Postgres engine lets psycopg cache the parse of a batch-sized statement."""

from __future__ import annotations

from typing import Any

import pytest
from psycopg import _queries

from worker.db.session import session_scope
from worker.store.messages import Origin, store_messages


def mails(start: int, n: int) -> list[tuple[bytes, Origin]]:
    return [
        (
            f"Message-ID: <m{i}@test>\r\nSubject: {i}\r\n\r\nbody {i}\r\n".encode(),
            Origin("acct", "INBOX", 1, i),
        )
        for i in range(start, start + n)
    ]


def test_a_second_batch_of_the_same_shape_is_not_parsed_again(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_scope(postgres_url) as session:
        store_messages(session, mails(0, 32))
    uncached: list[bytes] = []
    parse = _queries._query2pg_nocache

    def counted(query: bytes, encoding: str) -> Any:
        uncached.append(query)
        return parse(query, encoding)

    monkeypatch.setattr(_queries, "_query2pg_nocache", counted)  # what psycopg calls for uncached ones
    with session_scope(postgres_url) as session:
        store_messages(session, mails(100, 32))  # a 32-row INSERT of ~20 columns: far over 50 parameters
    assert uncached == []


def test_a_psycopg_without_the_private_limits_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    from worker.db.session import cache_batch_statements

    monkeypatch.delattr(_queries, "MAX_CACHED_STATEMENT_PARAMS")
    assert cache_batch_statements() is False  # no error: only the cache stays at psycopg's own limits
    assert _queries.MAX_CACHED_STATEMENT_LENGTH >= 4096
