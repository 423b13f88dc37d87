"""Store raw mail as message rows, deduplicated, before anything else happens to it.

The poller and ``mailroute ingest`` call :func:`store_message`; a cursor may advance only after the
transaction holding these rows commits. A mail seen again (a rescan after a UIDVALIDITY change, a
second import of the same file) maps to the same row through its dedup key: (account, folder,
Message-ID hash and content hash — content hash alone for mail without a Message-ID); its UID is
refreshed so that mailbox actions address the current copy. Two different mails that share a
Message-ID (a resend, a broken mailer) are two rows: each is stored and decided. The mail's identity
(:class:`Origin`, Message-ID, hashes, dedup key) is :mod:`worker.store.identity`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from worker.db.models import Message, MessageStatus

# re-exported (moved out, still imported from here): the mail's identity
from worker.store.identity import HEADER_END as HEADER_END
from worker.store.identity import Identity as Identity
from worker.store.identity import Origin as Origin
from worker.store.identity import dedup_key as dedup_key
from worker.store.identity import extract_message_id as extract_message_id
from worker.store.identity import identify as identify
from worker.store.identity import sha256_hex as sha256_hex
from worker.store.identity import split_headers as split_headers


@dataclass(frozen=True)
class Stored:
    id: int
    created: bool


def prepare_row(
    raw: bytes, origin: Origin, max_bytes: int, identity: Identity | None = None
) -> dict[str, object]:
    """The column values of a new message row (headers only when over ``max_bytes``); ``identity`` is
    :func:`identify` of ``raw`` when the caller already has it."""
    identity = identity or identify(raw)
    message_id, content_hash = identity.message_id, identity.content_hash
    truncated = len(raw) > max_bytes
    note = f"mail of {len(raw)} bytes exceeds the {max_bytes}-byte limit: stored headers only"
    return {
        "account": origin.account,
        "folder": origin.folder,
        "profile": origin.profile,
        "uidvalidity": origin.uidvalidity,
        "uid": origin.uid,
        "dedup_key": dedup_key(origin, message_id, content_hash),
        "message_id": message_id,
        "message_id_hash": sha256_hex(message_id.encode()) if message_id else None,
        "content_hash": content_hash,
        "raw": raw[: split_headers(raw)] if truncated else raw,
        "size": len(raw),
        "truncated": truncated,
        "parse_warnings": [note] if truncated else [],
        "status": MessageStatus.RECEIVED,
        "recipients": [],
        "headers": {},
        "subject": "",
        "sender": "",
        "attempts": 0,
        "received_at": datetime.now(UTC),
    }


def store_messages(
    session: Session,
    items: Sequence[tuple[bytes, Origin]],
    *,
    max_bytes: int = 25 * 1024 * 1024,
    identities: Sequence[Identity] | None = None,
) -> list[Stored]:
    """Insert (or find) the rows for a batch of mails in two round trips; the caller commits.

    ``INSERT … ON CONFLICT DO NOTHING`` makes a concurrent insert of the same mail harmless: the
    loser finds the winner's row. A known mail seen under a new UID gets that UID. ``identities``,
    one per item, spare a caller that has already identified the mails (the poller) doing it twice.
    """
    known_ids: Sequence[Identity | None] = identities if identities is not None else [None] * len(items)
    rows = [
        prepare_row(raw, origin, max_bytes, identity)
        for (raw, origin), identity in zip(items, known_ids, strict=True)
    ]
    keys = [str(row["dedup_key"]) for row in rows]
    known: dict[str, tuple[int, int | None, int | None]] = {
        key: (id_, uid, uidvalidity)
        for key, id_, uid, uidvalidity in session.execute(
            select(Message.dedup_key, Message.id, Message.uid, Message.uidvalidity).where(
                Message.dedup_key.in_(set(keys))
            )
        )
    }
    fresh = list({str(row["dedup_key"]): row for row in rows if row["dedup_key"] not in known}.values())
    created: dict[str, int] = {}
    if fresh:
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        table = cast(Table, Message.__table__)
        statement = (
            insert(table)
            .on_conflict_do_nothing(index_elements=["dedup_key"])
            .returning(table.c.dedup_key, table.c.id)
        )
        # one statement compiled once and cached, its VALUES repeated per row by the driver layer
        # (insertmanyvalues): a multi-row .values(rows) was compiled afresh for every batch
        created = {key: id_ for key, id_ in session.connection().execute(statement, fresh)}
        lost = [str(row["dedup_key"]) for row in fresh if row["dedup_key"] not in created]
        if lost:  # a concurrent writer stored them first
            known.update(
                (key, (id_, None, None))
                for key, id_ in session.execute(
                    select(Message.dedup_key, Message.id).where(Message.dedup_key.in_(lost))
                )
            )
    out: list[Stored] = []
    for key, (_, origin) in zip(keys, items, strict=True):
        if key in created:  # the first occurrence in this batch is the new row
            new_id = created.pop(key)
            known[key] = (new_id, origin.uid, origin.uidvalidity)
            out.append(Stored(new_id, created=True))
            continue
        id_, uid, uidvalidity = known[key]
        if origin.uid is not None and (uid, uidvalidity) != (origin.uid, origin.uidvalidity):
            refresh = {"uid": origin.uid, "uidvalidity": origin.uidvalidity}
            session.execute(update(Message).where(Message.id == id_).values(**refresh))
            known[key] = (id_, origin.uid, origin.uidvalidity)
        out.append(Stored(id_, created=False))
    return out


def store_message(
    session: Session, raw: bytes, origin: Origin, *, max_bytes: int = 25 * 1024 * 1024
) -> Stored:
    """Insert (or find) the row for one mail; see :func:`store_messages`."""
    return store_messages(session, [(raw, origin)], max_bytes=max_bytes)[0]
