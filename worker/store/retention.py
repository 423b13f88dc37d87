"""Retention of stored mail: drop the bodies, or the whole rows, of decided mail past a given age.

Only mail that is finished with is touched: status ``decided``, no decision waiting in review, no
action still pending or failed. Two modes:

* ``keep_decisions=True``: the row stays with its headers, decision, scores and actions (the audit
  trail and the dedup ledger: a UIDVALIDITY rescan still recognises the mail); ``raw`` is cut to the
  header block, the extracted texts and its embedding (``mail_vectors``, derived from the body) are
  cleared and the row is marked ``truncated``, exactly like a mail stored over the size limit.
* ``keep_decisions=False``: the message rows are deleted; scores, decisions, actions, attempts and
  corrections go with them (``ON DELETE CASCADE``). Mail deleted here is forgotten: if it is still in
  a watched folder and that folder's UIDVALIDITY changes, the rescan stores and routes it again.

Work is done in batches of ``batch_size`` rows, one transaction each, walking the ids upwards, so a
run on a large table holds no long lock and can be stopped and started again at any time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, delete, exists, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from worker.db.models import Action, ActionStatus, Decision, MailVector, Message, MessageStatus

log = logging.getLogger(__name__)

MAX_HEADER_BYTES = 256 * 1024  # a header block longer than this is cut (it is kept for display only)


@dataclass(frozen=True)
class PruneResult:
    messages: int  # rows pruned (or, in a dry run, that would be)
    bytes_freed: int  # raw bytes dropped (in a dry run: all raw bytes the candidates hold)
    cutoff: datetime
    keep_decisions: bool
    dry_run: bool


def header_block(raw: bytes) -> bytes:
    """The header section of an RFC 822 message, up to and including the blank line."""
    for separator in (b"\r\n\r\n", b"\n\n"):
        end = raw.find(separator)
        if end != -1:
            return raw[: min(end + len(separator), MAX_HEADER_BYTES)]
    return raw[:MAX_HEADER_BYTES]


def prunable(cutoff: datetime, *, keep_decisions: bool) -> Select[int]:
    """Ids of decided mail received before ``cutoff`` that nothing is waiting on, oldest first."""
    in_review = exists().where(Decision.message_id == Message.id, Decision.review_state == "pending")
    open_action = exists().where(
        Action.message_id == Message.id, Action.status.in_([ActionStatus.PENDING, ActionStatus.FAILED])
    )
    query = select(Message.id).where(
        Message.status == MessageStatus.DECIDED, Message.received_at < cutoff, ~in_review, ~open_action
    )
    if keep_decisions:
        query = query.where(Message.truncated.is_(False))  # already header-only
    return query.order_by(Message.id)


def prune(
    sessions: sessionmaker[Session],
    *,
    older_than_days: float,
    keep_decisions: bool = False,
    dry_run: bool = False,
    batch_size: int = 500,
    now: datetime | None = None,
) -> PruneResult:
    """Prune decided mail received more than ``older_than_days`` ago; see the module docstring."""
    if older_than_days < 0 or batch_size < 1:
        raise ValueError("older_than_days must be >= 0 and batch_size >= 1")
    cutoff = (now or datetime.now(UTC)) - timedelta(days=older_than_days)
    query = prunable(cutoff, keep_decisions=keep_decisions)
    if dry_run:
        with sessions() as session:
            ids = select(query.subquery().c.id)
            count = int(session.scalar(select(func.count()).select_from(ids.subquery())) or 0)
            return PruneResult(count, raw_bytes(session, ids), cutoff, keep_decisions, dry_run=True)
    pruned = freed = last_id = 0
    while True:
        with sessions.begin() as session:
            batch = list(session.scalars(query.where(Message.id > last_id).limit(batch_size)))
            if not batch:
                break
            last_id = batch[-1]
            if keep_decisions:
                freed += strip_bodies(session, batch)
            else:
                freed += raw_bytes(session, batch)
                session.execute(delete(Message).where(Message.id.in_(batch)))
            pruned += len(batch)
        log.info("retention: pruned %d mails so far (up to id %d)", pruned, last_id)
    return PruneResult(pruned, freed, cutoff, keep_decisions, dry_run=False)


def raw_bytes(session: Session, ids: list[int] | Select[int]) -> int:
    """Total size of the stored raw mail of ``ids``."""
    total = session.scalar(select(func.sum(func.length(Message.raw))).where(Message.id.in_(ids)))
    return int(total or 0)


def strip_bodies(session: Session, ids: list[int]) -> int:
    """Cut the raw mail of ``ids`` to its headers, clear the extracted texts and drop the embeddings
    kept for the learned model's neighbours; returns bytes freed."""
    session.execute(delete(MailVector).where(MailVector.message_id.in_(ids)))
    freed = 0
    for message_id, raw in session.execute(select(Message.id, Message.raw).where(Message.id.in_(ids))):
        headers = header_block(raw or b"")
        freed += len(raw or b"") - len(headers)
        session.execute(
            update(Message)
            .where(Message.id == message_id)
            .values(raw=headers, body_text=None, clean_text=None, truncated=True)
            .execution_options(synchronize_session=False)
        )
    return freed
