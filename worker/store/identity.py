"""What identifies a stored mail: where it came from (:class:`Origin`), its Message-ID and content
hash, and the dedup key made of them.

The key is (account, folder, Message-ID hash and content hash — content hash alone for mail without
a Message-ID): a mail seen again maps to the same row, and two different mails that share a
Message-ID are two rows. The Message-ID is read from the header block only, and never raises.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32

from worker.db.models import DEFAULT_PROFILE

HEADER_END = (b"\r\n\r\n", b"\n\n")


@dataclass(frozen=True)
class Origin:
    """Where a mail came from: an IMAP folder (with UIDVALIDITY and UID) or a local source.

    ``profile`` is the routing profile (account/folder configuration) whose rule set decides it.
    """

    account: str
    folder: str
    uidvalidity: int | None = None
    uid: int | None = None
    profile: str = DEFAULT_PROFILE


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Identity:
    """What a mail's bytes say of who it is: its Message-ID (None when absent) and content hash."""

    message_id: str | None
    content_hash: str


def identify(raw: bytes) -> Identity:
    """The Message-ID and content hash of ``raw``, each computed once for all who need them."""
    return Identity(extract_message_id(raw), sha256_hex(raw))


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
    identity = (
        f"mid:{sha256_hex(message_id.encode())}:sha:{content_hash}" if message_id else f"sha:{content_hash}"
    )
    return sha256_hex(f"{origin.account}\x1f{origin.folder}\x1f{identity}".encode())
