"""Ingest from local files: store every mail of a folder/mbox/Maildir, then queue it.

The same function powers backfills. Messages are committed in chunks *before* they are queued, so a
crash in between loses nothing: ``mailroute ingest`` again finds them stored and queues the ones not
yet decided.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from worker.db.models import DEFAULT_PROFILE, Message, MessageStatus
from worker.store.messages import Origin, store_messages
from worker.store.sources import iter_messages


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    queued: list[int] = field(default_factory=list)


def ingest_path(
    sessions: sessionmaker[Session],
    path: Path,
    *,
    account: str = "local",
    profile: str = DEFAULT_PROFILE,
    enqueue: Callable[[list[int]], None] | None = None,
    chunk: int = 100,
    max_bytes: int = 25 * 1024 * 1024,
    progress: Callable[[int], None] | None = None,
) -> IngestResult:
    """Store all mails under ``path`` in chunks (routed by ``profile``'s rule set); hand each committed
    chunk's pending ids to ``enqueue``."""
    result = IngestResult()
    batch: list[tuple[str, bytes]] = []

    def flush() -> None:
        with sessions.begin() as session:
            ids = store_batch(session, batch, account, max_bytes, result, profile=profile)
            pending = list(
                session.scalars(
                    select(Message.id).where(Message.id.in_(ids), Message.status != MessageStatus.DECIDED)
                )
            )
        result.queued.extend(pending)
        if enqueue and pending:
            enqueue(pending)
        if progress:
            progress(len(batch))
        batch.clear()

    for item in iter_messages(path):
        batch.append(item)
        if len(batch) >= chunk:
            flush()
    if batch:
        flush()
    return result


def store_batch(
    session: Session,
    items: Iterable[tuple[str, bytes]],
    account: str,
    max_bytes: int,
    result: IngestResult,
    *,
    profile: str = DEFAULT_PROFILE,
) -> list[int]:
    batch = [(raw, Origin(account=account, folder=folder, profile=profile)) for folder, raw in items]
    stored = store_messages(session, batch, max_bytes=max_bytes)
    result.stored += sum(s.created for s in stored)
    result.duplicates += sum(not s.created for s in stored)
    return [s.id for s in stored]
