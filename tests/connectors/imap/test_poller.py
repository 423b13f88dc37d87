"""The poll pass against a real Dovecot: nothing lost, nothing stored or decided twice, \\Seen untouched."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from connectors.imap.client import session
from connectors.imap.folder_config import FolderConfig
from connectors.imap.poller import poll_folder_once
from tests.connectors.conftest import ACCOUNT, ImapEnv, append, imap, make_mail
from worker.db.models import Decision, Message, PollCursor
from worker.db.session import session_factory
from worker.tasks import enqueue_classify

pytestmark = pytest.mark.integration


def poll(env: ImapEnv, folder: str = "INBOX", **options: int):  # type: ignore[no-untyped-def]
    config = FolderConfig(ACCOUNT, folder, **options)
    with session(env.account(), env.settings) as client:
        return poll_folder_once(client, session_factory(env.db_url), config, enqueue=enqueue_classify)


def decisions_per_message(db_url: str) -> dict[int, int]:
    with session_factory(db_url)() as db:
        rows = db.execute(select(Decision.message_id, func.count()).group_by(Decision.message_id)).all()
    return {message_id: n for message_id, n in rows}


def count_messages(db_url: str) -> int:
    with session_factory(db_url)() as db:
        return int(db.scalar(select(func.count(Message.id))) or 0)


def test_poll_stores_decides_advances_cursor_and_leaves_mail_unseen(imap_env: ImapEnv) -> None:
    append(imap_env.server, [make_mail(i) for i in range(12)])
    first = poll(imap_env, batch=5)
    assert (first.stored, len(first.queued)) == (12, 12)
    again = poll(imap_env, batch=5)
    assert (again.stored, again.seen) == (0, 0)
    with session_factory(imap_env.db_url)() as db:
        cursor = db.scalar(select(PollCursor))
        assert cursor is not None and (cursor.uidvalidity, cursor.last_uid) == (first.uidvalidity, 12)
        uids = sorted(db.scalars(select(Message.uid)))
    assert uids == list(range(1, 13))
    assert set(decisions_per_message(imap_env.db_url).values()) == {1}
    client = imap(imap_env.server)
    client.select_folder("INBOX", readonly=True)
    flags = client.get_flags(client.search(["ALL"]))
    client.logout()
    assert all(b"\\Seen" not in f for f in flags.values())


@pytest.mark.slow
def test_thousand_appended_mails_become_thousand_decisions_none_twice(imap_env: ImapEnv) -> None:
    append(imap_env.server, [make_mail(i) for i in range(1000)])
    started = time.perf_counter()
    result = poll(imap_env, batch=100, backlog_limit=0)
    elapsed = time.perf_counter() - started
    assert result.stored == 1000
    per_message = decisions_per_message(imap_env.db_url)
    assert len(per_message) == 1000 and set(per_message.values()) == {1}
    assert poll(imap_env, backlog_limit=0).seen == 0
    print(f"1000 mails polled, stored and decided in {elapsed:.1f}s")


def test_uidvalidity_reset_rescans_without_loss_or_repeat(imap_env: ImapEnv) -> None:
    append(imap_env.server, [make_mail(i) for i in range(20)])
    before = poll(imap_env)
    imap_env.server.reset_uidvalidity()
    append(imap_env.server, [make_mail(i) for i in range(20, 25)])
    after = poll(imap_env)
    assert after.rescan and after.uidvalidity != before.uidvalidity
    assert (after.stored, after.known) == (5, 20)
    assert count_messages(imap_env.db_url) == 25
    per_message = decisions_per_message(imap_env.db_url)
    assert len(per_message) == 25 and set(per_message.values()) == {1}
    with session_factory(imap_env.db_url)() as db:
        assert set(db.scalars(select(Message.uidvalidity))) == {after.uidvalidity}


def test_mail_over_size_limit_is_stored_with_headers_and_a_note(imap_env: ImapEnv) -> None:
    big = make_mail(1, body="x" * 50_000)
    append(imap_env.server, [make_mail(0), big])
    result = poll(imap_env, max_bytes=10_000)
    assert result.stored == 2
    with session_factory(imap_env.db_url)() as db:
        row = db.scalar(select(Message).where(Message.message_id == "t-1@example.com"))
        assert row is not None and row.truncated and row.size >= 50_000
        assert len(row.raw) < 1000 and b"x" * 100 not in row.raw
        assert "exceeds the 10000-byte limit" in " ".join(row.parse_warnings)
        small = db.scalar(select(Message).where(Message.message_id == "t-0@example.com"))
        assert small is not None and not small.truncated
    assert len(decisions_per_message(imap_env.db_url)) == 2


def test_non_ascii_folder_name_is_polled(imap_env: ImapEnv) -> None:
    folder = "Projekte/Bücher Ärger"
    append(imap_env.server, [make_mail(i) for i in range(3)], folder=folder)
    result = poll(imap_env, folder=folder)
    assert result.stored == 3
    with session_factory(imap_env.db_url)() as db:
        assert set(db.scalars(select(Message.folder))) == {folder}


def test_first_poll_takes_a_bounded_backlog(imap_env: ImapEnv) -> None:
    append(imap_env.server, [make_mail(i) for i in range(30)])
    result = poll(imap_env, backlog_limit=10, batch=4)
    assert (result.stored, result.skipped_backlog) == (10, 20)
    with session_factory(imap_env.db_url)() as db:
        assert sorted(db.scalars(select(Message.uid))) == list(range(21, 31))
    append(imap_env.server, [make_mail(30)])
    assert poll(imap_env, backlog_limit=10).stored == 1


def test_two_different_mails_with_one_message_id_are_both_stored_and_decided(imap_env: ImapEnv) -> None:
    append(imap_env.server, [make_mail(1, body="the first mail")])
    poll(imap_env)
    append(imap_env.server, [make_mail(1, body="a different mail, same Message-ID")])
    second = poll(imap_env)
    assert (second.stored, second.known) == (1, 0)
    with session_factory(imap_env.db_url)() as db:
        rows = {row.uid: row.raw for row in db.scalars(select(Message))}
    assert set(rows) == {1, 2}, "each row keeps its own UID"
    assert b"the first mail" in rows[1] and b"a different mail" in rows[2]
    assert (
        set(decisions_per_message(imap_env.db_url).values()) == {1} and count_messages(imap_env.db_url) == 2
    )
