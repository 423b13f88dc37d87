"""Mails already stored for a folder, recognised by Message-ID and content.

A changed UIDVALIDITY restarts the poll from UID 1: mails already known (same Message-ID in this
folder, or same content) only get their new UID, so nothing is stored or decided twice. A mail that
mailroute is moving into the folder is matched the same way.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from connectors.imap.folder_config import FolderConfig
from worker.db.models import Action, Message
from worker.store.messages import Origin, sha256_hex


def find_known(
    session: Session, config: FolderConfig, identities: dict[int, tuple[str, str]]
) -> dict[int, int]:
    """UID → row id of the mails (UID → (Message-ID, content hash)) already stored for this folder.

    A row matches when both its Message-ID and its content are the same, it is in this folder or
    mailroute is moving it here (its ``imap_move`` names this folder until the move commits), and
    no earlier UID of the batch claimed it: a different mail reusing a Message-ID is not known.
    """
    if not identities:
        return {}
    moved_here = select(Action.message_id).where(Action.kind == "imap_move", Action.target == config.folder)
    rows = session.execute(
        select(Message.message_id_hash, Message.content_hash, Message.id)
        .where(
            Message.account == config.account,
            Message.message_id_hash.in_({sha256_hex(mid.encode()) for mid, _ in identities.values()}),
            or_(Message.folder == config.folder, Message.id.in_(moved_here)),
        )
        .order_by(Message.id)
    )
    free: dict[tuple[str | None, str | None], list[int]] = {}
    for mid_hash, content_hash, row_id in rows:
        free.setdefault((mid_hash, content_hash), []).append(row_id)
    known: dict[int, int] = {}
    for uid in sorted(identities):
        mid, content_hash = identities[uid]
        candidates = free.get((sha256_hex(mid.encode()), content_hash))
        if candidates:
            known[uid] = candidates.pop(0)
    return known


def relocate(session: Session, row_id: int, origin: Origin) -> None:
    row = session.get(Message, row_id)
    if row is not None and (row.folder, row.uidvalidity, row.uid) != (
        origin.folder,
        origin.uidvalidity,
        origin.uid,
    ):
        row.folder, row.uidvalidity, row.uid = origin.folder, origin.uidvalidity, origin.uid
