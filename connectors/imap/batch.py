"""Fetch and store one batch of new UIDs, committed together with the folder's cursor.

Sizes come first (RFC822.SIZE), then the bodies with BODY.PEEK[], so polling never sets \\Seen; a mail
over the size limit has only its header fetched and stored (marked truncated). The Message-ID is read
from what was fetched (a third FETCH of the Message-ID header alone cost the server and the parser more
than reading it from the mail). The cursor is written in the same transaction as the
batch's message rows, so it can never get ahead of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from imapclient import IMAPClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.imap.cursor import write_cursor
from connectors.imap.folder_config import FolderConfig, PollResult
from connectors.imap.known import find_known, relocate
from worker.db.models import Message, MessageStatus
from worker.store.messages import Origin, identify, store_messages


def store_batch(
    client: IMAPClient,
    sessions: sessionmaker[Session],
    config: FolderConfig,
    result: PollResult,
    batch: Sequence[int],
) -> list[int]:
    """Fetch, store and commit one batch with the cursor; returns the ids still to be decided.

    A mail is known (only re-pointed to its new UID) when a row with the same Message-ID AND the
    same content is in this folder or being moved here; a different mail reusing a Message-ID is new.
    """
    meta = client.fetch(batch, ["RFC822.SIZE"])
    small = [uid for uid in batch if uid in meta and int(meta[uid][b"RFC822.SIZE"]) <= config.max_bytes]
    large = [uid for uid in batch if uid in meta and uid not in small]
    bodies = {
        uid: body_of(data, b"BODY[]")
        for uid, data in (client.fetch(small, ["BODY.PEEK[]"]) if small else {}).items()
    }
    heads = {
        uid: body_of(data, b"BODY[HEADER]")
        for uid, data in (client.fetch(large, ["BODY.PEEK[HEADER]"]) if large else {}).items()
    }
    raws = {
        uid: bodies[uid] if uid in bodies else heads[uid] for uid in batch if uid in bodies or uid in heads
    }
    identities = {uid: identify(raw) for uid, raw in raws.items()}  # Message-ID from the fetched header
    ids: list[int] = []
    with sessions.begin() as session:
        origins = {
            uid: Origin(config.account, config.folder, result.uidvalidity, uid, config.profile)
            for uid in batch
        }
        known = find_known(
            session,
            config,
            {uid: (i.message_id, i.content_hash) for uid, i in identities.items() if i.message_id},
        )
        fetched = [uid for uid in raws if uid not in known]
        stored = store_messages(
            session,
            [(raws[uid], origins[uid]) for uid in fetched],
            max_bytes=config.max_bytes,
            identities=[identities[uid] for uid in fetched],
        )
        new_rows = dict(zip(fetched, stored, strict=True))
        for uid in batch:
            row_id = known.get(uid)
            if row_id is not None:  # expunged-since-SEARCH UIDs are in neither map
                relocate(session, row_id, origins[uid])
                result.known += 1
            elif uid in new_rows:
                row = new_rows[uid]
                if row.created and uid in heads:
                    mark_headers_only(session, row.id, int(meta[uid][b"RFC822.SIZE"]), config.max_bytes)
                result.stored += int(row.created)
                result.known += int(not row.created)
                row_id = row.id
            else:
                continue
            ids.append(row_id)
        write_cursor(session, config.account, config.folder, result.uidvalidity, max(batch))
        pending = list(
            session.scalars(
                select(Message.id).where(Message.id.in_(ids), Message.status != MessageStatus.DECIDED)
            )
        )
    result.seen += len(ids)
    return sorted(set(pending))


def body_of(data: dict[bytes, Any], key: bytes) -> bytes:
    return bytes(data.get(key) or b"")


def mark_headers_only(session: Session, row_id: int, size: int, max_bytes: int) -> None:
    """A mail over the size limit: only its header was fetched; say so on the row."""
    row = session.get(Message, row_id)
    if row is not None:
        row.size, row.truncated = size, True
        row.parse_warnings = [f"mail of {size} bytes exceeds the {max_bytes}-byte limit: stored headers only"]
