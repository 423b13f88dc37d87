"""The rows of a classify batch in the ledger: which still need a decision, where they came from,
and the error kept on those that failed.

Rows are locked with SKIP LOCKED on Postgres so two workers given the same ids never both decide
them. A failed message keeps its error and stays retryable (status FAILED, attempts counted).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from worker.db.models import Message, MessageStatus

log = logging.getLogger("worker.pipeline.classify")  # the classify batch's records keep their logger


def load_pending(session: Session, ids: Sequence[int]) -> list[Message]:
    """The messages among ``ids`` that still need a decision, locked for this transaction."""
    query = (
        select(Message)
        .where(Message.id.in_(list(ids)), Message.status != MessageStatus.DECIDED)
        .order_by(Message.id)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(query))


def load_pending_rows(session: Session, ids: Sequence[int]) -> list[tuple[int, bytes, list[str]]]:
    """(id, raw, warnings) of the messages among ``ids`` that still need a decision, locked."""
    query = (
        select(Message.id, Message.raw, Message.parse_warnings)
        .where(Message.id.in_(list(ids)), Message.status != MessageStatus.DECIDED)
        .order_by(Message.id)
        .with_for_update(skip_locked=True)
    )
    return [(id_, raw, list(warnings or [])) for id_, raw, warnings in session.execute(query)]


def origins_of(session: Session, ids: Sequence[int]) -> dict[int, tuple[str, str, str]]:
    """(account, folder, routing profile) of each message among ``ids``."""
    query = select(Message.id, Message.account, Message.folder, Message.profile).where(
        Message.id.in_(list(ids))
    )
    return {id_: (account, folder, profile) for id_, account, folder, profile in session.execute(query)}


def mark_failed(message: Message, error: str) -> None:
    """Keep the error on the row; the message stays retryable."""
    message.status = MessageStatus.FAILED
    message.error = error[:4000]
    message.attempts = (message.attempts or 0) + 1
    log.warning("message %s failed: %s", message.id, error, extra={"message_id": message.id})


def record_batch_failure(session: Session, ids: Sequence[int], error: BaseException) -> list[int]:
    """After a failed batch (rolled back), keep the error on every undecided message of it."""
    text = f"{type(error).__name__}: {error}"
    failed = []
    for message in load_pending(session, ids):
        mark_failed(message, text)
        failed.append(message.id)
    return failed
