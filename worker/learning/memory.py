"""The memory of recent traffic per rule set, in the database: what a learned model pools with.

Each decided mail with a CPU-model vector leaves a row in ``mail_vectors``: the vector and the
probabilities it was decided with (:func:`record`, in the decision's transaction). Each worker holds
the newest ``size`` rows per rule set (:class:`TrafficMemory`), reading only the rows added since its
last call (one indexed query per batch), so it sees what the others decided; rows of another category
list (a changed rule set) are not used. :func:`record` prunes a rule set to its newest 2 × ``size``
rows about once per :data:`PRUNE_EVERY` message ids.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from worker.db.models import MailVector
from worker.learning.neighbours import MEMORY, unit

log = logging.getLogger(__name__)
PRUNE_EVERY = 1000


@dataclass(frozen=True)
class Recent:
    """The newest rows of a rule set, oldest first."""

    message_ids: np.ndarray
    vectors: np.ndarray  # unit, float32
    probs: np.ndarray


def _empty(dim: int = 0, width: int = 0) -> Recent:
    return Recent(np.zeros(0, np.int64), np.zeros((0, dim), np.float32), np.zeros((0, width)))


class TrafficMemory:
    """``memory(rule_set_name, columns)`` → :class:`Recent`; a database error keeps what it had."""

    def __init__(self, sessions: sessionmaker[Session], *, size: int = MEMORY):
        self.sessions, self.size = sessions, size
        self._held: dict[str, tuple[str, Recent]] = {}
        self._lock = threading.Lock()

    def __call__(self, rule_set_name: str, columns: str) -> Recent:
        with self._lock:
            held_columns, recent = self._held.get(rule_set_name, (columns, _empty()))
            if held_columns != columns:
                recent = _empty()
            last = int(recent.message_ids[-1]) if len(recent.message_ids) else 0
            try:
                with self.sessions() as session:
                    found = session.execute(
                        select(MailVector.message_id, MailVector.vector, MailVector.probs)
                        .where(
                            MailVector.rule_set_name == rule_set_name,
                            MailVector.message_id > last,
                            MailVector.columns == columns,
                        )
                        .order_by(MailVector.message_id.desc())
                        .limit(self.size)
                    )
                    rows = [(int(i), bytes(v), bytes(p)) for i, v, p in found]
            except SQLAlchemyError as e:
                log.warning("traffic memory not refreshed: %s", type(e).__name__)
                return recent
            if rows:
                recent = _append(recent, rows[::-1], self.size)
            self._held[rule_set_name] = (columns, recent)
            return recent


def _append(recent: Recent, rows: Sequence[tuple[int, bytes, bytes]], size: int) -> Recent:
    """``recent`` and ``rows`` (oldest first), the newest ``size``; rows of another vector or column
    count than the newest row's (another embedding model, say) are left out."""
    shape = (len(rows[-1][1]), len(rows[-1][2]))
    rows = [row for row in rows if (len(row[1]), len(row[2])) == shape]
    ids = np.array([row[0] for row in rows], dtype=np.int64)
    vectors = np.vstack([np.frombuffer(row[1], dtype=np.float16) for row in rows]).astype(np.float32)
    probs = np.vstack([np.frombuffer(row[2], dtype=np.float32) for row in rows]).astype(np.float64)
    if (
        len(recent.message_ids)
        and recent.vectors.shape[1:] == vectors.shape[1:]
        and recent.probs.shape[1:] == probs.shape[1:]
    ):
        ids = np.concatenate([recent.message_ids, ids])
        vectors = np.vstack([recent.vectors, vectors])
        probs = np.vstack([recent.probs, probs])
    return Recent(ids[-size:], vectors[-size:], probs[-size:])


def record(
    session: Session,
    rule_set_name: str,
    columns: str,
    message_ids: Sequence[int],
    vectors: np.ndarray,
    probs: np.ndarray,
    *,
    keep: int = 2 * MEMORY,
) -> None:
    """Add the decided mails' rows (replacing a re-decided mail's); the caller commits."""
    if not len(message_ids):
        return
    if len(vectors) != len(message_ids) or len(probs) != len(message_ids):
        raise ValueError(f"{len(message_ids)} mails, {len(vectors)} vectors, {len(probs)} probability rows")
    now = datetime.now(UTC)
    vectors16 = unit(vectors).astype(np.float16)
    probs32 = np.asarray(probs, dtype=np.float32)
    ids = [int(i) for i in message_ids]
    session.execute(delete(MailVector).where(MailVector.message_id.in_(ids)))
    session.execute(
        insert(MailVector),
        [
            {
                "message_id": message_id,
                "rule_set_name": rule_set_name,
                "columns": columns,
                "vector": vectors16[row].tobytes(),
                "probs": probs32[row].tobytes(),
                "created_at": now,
            }
            for row, message_id in enumerate(ids)
        ],
    )
    if max(ids) // PRUNE_EVERY != (min(ids) - 1) // PRUNE_EVERY:
        prune(session, rule_set_name, keep=keep)


def prune(session: Session, rule_set_name: str, *, keep: int) -> int:
    """Delete the rule set's rows older than its ``keep`` newest; how many went."""
    cutoff = session.scalar(
        select(MailVector.message_id)
        .where(MailVector.rule_set_name == rule_set_name)
        .order_by(MailVector.message_id.desc())
        .offset(keep)
        .limit(1)
    )
    if cutoff is None:
        return 0
    result = session.execute(
        delete(MailVector).where(MailVector.rule_set_name == rule_set_name, MailVector.message_id <= cutoff)
    )
    return int(getattr(result, "rowcount", 0) or 0)
