"""Store raw mail as message rows, deduplicated, before anything else happens to it.

The poller and ``mailroute ingest`` call :func:`store_message`; a cursor may advance only after the
transaction holding these rows commits. A mail seen again (a rescan after a UIDVALIDITY change, a
second import of the same file) maps to the same row through its dedup key: (account, folder,
Message-ID hash — or content hash for mail without a Message-ID); its UID is refreshed so that
mailbox actions address the current copy.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from worker.db.models import Message, MessageStatus

HEADER_END = (b"\r\n\r\n", b"\n\n")


@dataclass(frozen=True)
class Origin:
    """Where a mail came from: an IMAP folder (with UIDVALIDITY and UID) or a local source."""

    account: str
    folder: str
    uidvalidity: int | None = None
    uid: int | None = None


@dataclass(frozen=True)
class Stored:
    id: int
    created: bool


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def extract_message_id(raw: bytes) -> str | None:
    """The Message-ID header, cheaply (headers only), or None. Never raises."""
    try:
        head = raw[: split_headers(raw)]
        value = BytesHeaderParser(policy=compat32).parsebytes(head).get("Message-ID")
    except Exception:
        return None
    text = str(value or "").strip().strip("<>").strip()
    return text or None


def split_headers(raw: bytes) -> int:
    """Offset where the header block ends (the whole mail when it has no body)."""
    ends = [raw.find(sep) for sep in HEADER_END]
    found = [pos + len(sep) for pos, sep in zip(ends, HEADER_END, strict=True) if pos >= 0]
    return min(found) if found else len(raw)


def dedup_key(origin: Origin, message_id: str | None, content_hash: str) -> str:
    identity = f"mid:{sha256_hex(message_id.encode())}" if message_id else f"sha:{content_hash}"
    return sha256_hex(f"{origin.account}\x1f{origin.folder}\x1f{identity}".encode())


def store_message(
    session: Session, raw: bytes, origin: Origin, *, max_bytes: int = 25 * 1024 * 1024
) -> Stored:
    """Insert (or find) the row for ``raw``; flushes but does not commit."""
    content_hash = sha256_hex(raw)
    message_id = extract_message_id(raw)
    key = dedup_key(origin, message_id, content_hash)
    existing = session.scalar(select(Message).where(Message.dedup_key == key))
    if existing is not None:
        if origin.uid is not None and (existing.uid, existing.uidvalidity) != (origin.uid, origin.uidvalidity):
            existing.uid, existing.uidvalidity = origin.uid, origin.uidvalidity
        return Stored(existing.id, created=False)
    truncated = len(raw) > max_bytes
    stored = raw[: split_headers(raw)] if truncated else raw
    warnings = [f"mail of {len(raw)} bytes exceeds the {max_bytes}-byte limit: stored headers only"]
    row = Message(
        account=origin.account,
        folder=origin.folder,
        uidvalidity=origin.uidvalidity,
        uid=origin.uid,
        dedup_key=key,
        message_id=message_id,
        message_id_hash=sha256_hex(message_id.encode()) if message_id else None,
        content_hash=content_hash,
        raw=stored,
        size=len(raw),
        truncated=truncated,
        parse_warnings=warnings if truncated else [],
        status=MessageStatus.RECEIVED,
        recipients=[],
        headers={},
        subject="",
        sender="",
        attempts=0,
    )
    try:
        with session.begin_nested():  # a savepoint: a concurrent insert of the same mail loses nothing
            session.add(row)
    except IntegrityError:
        winner = session.scalar(select(Message.id).where(Message.dedup_key == key))
        if winner is None:
            raise
        return Stored(winner, created=False)
    return Stored(row.id, created=True)
