"""Storing mail: dedup by Message-ID/content, UID refresh, size limit — on SQLite and Postgres."""

from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy import func, select

from worker.db.models import Message
from worker.db.session import session_factory
from worker.store.messages import Origin, extract_message_id, split_headers, store_message, store_messages


def mail(
    subject: str = "Hello", body: str = "Body text", message_id: str | None = "<a1@example.com>"
) -> bytes:
    msg = EmailMessage()
    msg["From"] = "alice@example.com"
    msg["To"] = "bob@example.com"
    msg["Subject"] = subject
    if message_id:
        msg["Message-ID"] = message_id
    msg.set_content(body)
    return msg.as_bytes()


def count(url: str) -> int:
    with session_factory(url)() as session:
        return int(session.scalar(select(func.count(Message.id))) or 0)


def test_same_message_id_is_stored_once_and_uid_refreshed(db_url: str) -> None:
    origin = Origin("acct", "INBOX", uidvalidity=1, uid=10)
    with session_factory(db_url).begin() as session:
        first = store_message(session, mail(), origin)
    with session_factory(db_url).begin() as session:
        again = store_message(session, mail(), Origin("acct", "INBOX", uidvalidity=2, uid=3))
    assert first.created and not again.created and first.id == again.id
    with session_factory(db_url)() as session:
        row = session.get(Message, first.id)
        assert row is not None and (row.uidvalidity, row.uid) == (2, 3)
    assert count(db_url) == 1


def test_without_message_id_dedups_by_content(db_url: str) -> None:
    with session_factory(db_url).begin() as session:
        a = store_message(session, mail(message_id=None), Origin("local", "f"))
        b = store_message(session, mail(message_id=None), Origin("local", "f"))
        c = store_message(session, mail(body="other", message_id=None), Origin("local", "f"))
    assert a.id == b.id and c.id != a.id and count(db_url) == 2


def test_same_mail_in_two_folders_is_two_rows(sqlite_url: str) -> None:
    with session_factory(sqlite_url).begin() as session:
        a = store_message(session, mail(), Origin("acct", "INBOX"))
        b = store_message(session, mail(), Origin("acct", "Archive"))
    assert a.id != b.id


def test_oversized_mail_keeps_headers_and_a_note(sqlite_url: str) -> None:
    raw = mail(body="x" * 5000)
    with session_factory(sqlite_url).begin() as session:
        stored = store_message(session, raw, Origin("acct", "INBOX"), max_bytes=1000)
    with session_factory(sqlite_url)() as session:
        row = session.get(Message, stored.id)
        assert row is not None and row.truncated and row.size == len(raw)
        assert row.raw == raw[: split_headers(raw)] and b"Subject: Hello" in row.raw
        assert "exceeds" in row.parse_warnings[0]


def test_message_id_extraction_never_raises() -> None:
    assert extract_message_id(mail()) == "a1@example.com"
    assert extract_message_id(b"\x00\xff garbage") is None
    assert extract_message_id(b"") is None


def test_batch_with_known_new_and_repeated_mails(db_url: str) -> None:
    with session_factory(db_url).begin() as session:
        (known,) = store_messages(session, [(mail(message_id="<k@x>"), Origin("acct", "INBOX", 1, 1))])
    batch = [
        (mail(message_id="<k@x>"), Origin("acct", "INBOX", 2, 7)),  # known, new UIDVALIDITY
        (mail(message_id="<n@x>"), Origin("acct", "INBOX", 2, 8)),  # new
        (mail(message_id="<n@x>"), Origin("acct", "INBOX", 2, 8)),  # the same new mail twice in a batch
    ]
    with session_factory(db_url).begin() as session:
        out = store_messages(session, batch)
    assert [s.created for s in out] == [False, True, False]
    assert out[0].id == known.id and out[1].id == out[2].id != known.id
    with session_factory(db_url)() as session:
        row = session.get(Message, known.id)
        assert row is not None and (row.uidvalidity, row.uid) == (2, 7)
    assert count(db_url) == 2


def test_two_different_mails_with_one_message_id_are_two_rows(db_url: str) -> None:
    with session_factory(db_url).begin() as session:
        a = store_message(session, mail(body="first"), Origin("acct", "INBOX", 1, 1))
        b = store_message(session, mail(body="second"), Origin("acct", "INBOX", 1, 2))
    assert a.created and b.created and a.id != b.id
    with session_factory(db_url)() as session:
        first = session.get(Message, a.id)
        assert first is not None and first.uid == 1, "the first row keeps its own UID"
