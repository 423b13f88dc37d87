"""The poll cursor of a folder: the UIDVALIDITY and last UID stored so far, one row per (account, folder).

The cursor is written in the same transaction as a batch's message rows
(:func:`connectors.imap.batch.store_batch`), so it can never get ahead of them.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from worker.db.models import PollCursor


def read_cursor(sessions: sessionmaker[Session], account: str, folder: str) -> tuple[int | None, int] | None:
    with sessions() as session:
        row = session.scalar(
            select(PollCursor).where(PollCursor.account == account, PollCursor.folder == folder)
        )
        return None if row is None else (row.uidvalidity, row.last_uid)


def write_cursor(session: Session, account: str, folder: str, uidvalidity: int, last_uid: int) -> None:
    row = session.scalar(select(PollCursor).where(PollCursor.account == account, PollCursor.folder == folder))
    if row is None:
        session.add(PollCursor(account=account, folder=folder, uidvalidity=uidvalidity, last_uid=last_uid))
    else:
        row.uidvalidity, row.last_uid = uidvalidity, last_uid
