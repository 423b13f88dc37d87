"""The traffic memory in the database: rows written with decisions, read incrementally by workers."""

from __future__ import annotations

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.worker.profiles_fixtures import mail
from worker.db.models import MailVector
from worker.db.session import session_factory
from worker.learning import memory as mem
from worker.learning.memory import TrafficMemory, prune, record
from worker.store.messages import Origin, store_message

COLUMNS = "abcdef0123456789"


def stored(sessions: sessionmaker[Session], n: int, start: int = 1) -> list[int]:
    with sessions.begin() as session:
        return [
            store_message(session, mail(i, f"Mail {i}"), Origin("a", "INBOX", 1, i)).id
            for i in range(start, start + n)
        ]


def write(
    sessions: sessionmaker[Session], ids: list[int], *, rule_set: str = "desk", columns: str = COLUMNS
) -> None:
    vectors = np.eye(len(ids), 8) * 3.0 + 0.1  # any length: stored at unit length
    probs = np.tile([0.7, 0.2, 0.1], (len(ids), 1))
    with sessions.begin() as session:
        record(session, rule_set, columns, ids, vectors, probs)


def test_a_worker_reads_the_newest_rows_then_only_new_ones(db_url: str) -> None:
    sessions = session_factory(db_url)
    ids = stored(sessions, 6)
    write(sessions, ids[:4])
    memory = TrafficMemory(sessions, size=3)
    first = memory("desk", COLUMNS)
    assert first.message_ids.tolist() == ids[1:4]  # the newest 3, oldest first
    assert np.allclose(np.linalg.norm(first.vectors, axis=1), 1.0, atol=1e-3)
    assert first.probs.shape == (3, 3) and np.allclose(first.probs[0], [0.7, 0.2, 0.1])
    write(sessions, ids[4:])
    assert memory("desk", COLUMNS).message_ids.tolist() == ids[3:]
    assert memory("other", COLUMNS).message_ids.tolist() == []
    assert memory("desk", "another-columns").message_ids.tolist() == []  # the categories changed


def test_a_re_decided_mail_replaces_its_row(db_url: str) -> None:
    sessions = session_factory(db_url)
    ids = stored(sessions, 2)
    write(sessions, ids)
    with sessions.begin() as session:
        record(session, "desk", COLUMNS, ids[:1], np.ones((1, 8)), np.array([[0.1, 0.8, 0.1]]))
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(MailVector)) == 2
        row = session.get(MailVector, ids[0])
        assert row is not None and np.allclose(np.frombuffer(row.probs, np.float32), [0.1, 0.8, 0.1])


def test_old_rows_are_pruned_per_rule_set(db_url: str, monkeypatch) -> None:
    sessions = session_factory(db_url)
    ids = stored(sessions, 8)
    write(sessions, ids[:5])
    write(sessions, ids[5:], rule_set="other")
    with sessions.begin() as session:
        assert prune(session, "desk", keep=2) == 3
        assert prune(session, "desk", keep=2) == 0
    with sessions() as session:
        left = session.scalars(select(MailVector.message_id).order_by(MailVector.message_id)).all()
    assert left == [*ids[3:5], *ids[5:]]
    monkeypatch.setattr(mem, "PRUNE_EVERY", 1)  # every batch crosses a boundary: record prunes
    more = stored(sessions, 2, start=20)
    with sessions.begin() as session:
        record(session, "desk", COLUMNS, more, np.ones((2, 8)), np.ones((2, 3)) / 3, keep=3)
    with sessions() as session:
        desk = session.scalars(select(MailVector.message_id).where(MailVector.rule_set_name == "desk")).all()
    assert sorted(desk) == [ids[4], *more]


def test_mismatched_rows_are_refused(sqlite_url: str) -> None:
    import pytest

    sessions = session_factory(sqlite_url)
    ids = stored(sessions, 2)
    with sessions.begin() as session, pytest.raises(ValueError, match="2 mails, 1 vectors"):
        record(session, "desk", COLUMNS, ids, np.ones((1, 8)), np.ones((2, 3)))


def test_rows_of_another_embedding_model_are_left_out(sqlite_url: str) -> None:
    sessions = session_factory(sqlite_url)
    ids = stored(sessions, 4)
    write(sessions, ids[:2])  # 8 dimensions
    with sessions.begin() as session:
        record(session, "desk", COLUMNS, ids[2:], np.ones((2, 4)), np.ones((2, 3)) / 3)  # a new model: 4
    recent = TrafficMemory(sessions)("desk", COLUMNS)
    assert recent.message_ids.tolist() == ids[2:] and recent.vectors.shape == (2, 4)
    memory = TrafficMemory(sessions)
    memory("desk", COLUMNS)
    more = stored(sessions, 1, start=30)
    with sessions.begin() as session:
        record(session, "desk", COLUMNS, more, np.ones((1, 8)), np.ones((1, 3)) / 3)
    assert memory("desk", COLUMNS).message_ids.tolist() == more  # the held rows of 4 dimensions go


def test_a_database_error_keeps_what_the_worker_held(sqlite_url: str, caplog) -> None:
    from sqlalchemy import text

    sessions = session_factory(sqlite_url)
    ids = stored(sessions, 2)
    write(sessions, ids)
    memory = TrafficMemory(sessions)
    assert memory("desk", COLUMNS).message_ids.tolist() == ids
    with sessions.begin() as session:
        session.execute(text("ALTER TABLE mail_vectors RENAME TO mail_vectors_gone"))
    assert memory("desk", COLUMNS).message_ids.tolist() == ids  # the read failed: the rows it had
    assert "traffic memory not refreshed: OperationalError" in caplog.text
