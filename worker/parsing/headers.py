"""Decode mail headers into plain strings, repairing what the sender got wrong.

Headers are read raw (``Message.raw_items``) and decoded here rather than through
``email.policy.default``'s header objects: those cost ~0.5 ms each, and on unknown charsets or raw
8-bit bytes they give up with U+FFFD. Our RFC 2047 decoder joins adjacent encoded words before
decoding (senders split UTF-8 characters across words) and goes through :func:`decode_bytes`, so a
lying charset costs a few odd characters at worst. Addresses and dates use the stdlib parsers.
"""

from __future__ import annotations

import binascii
import re
from datetime import datetime
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from worker.parsing.charsets import decode_bytes
from worker.parsing.sanitize import clean_line

MAX_HEADER_CHARS = 8_000  # a longer header is an attack or a bug; keep storage and regexes bounded
_ENCODED_WORD_RE = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_ANGLE_RE = re.compile(r"<([^<>\s]+)>")


def decode_raw(value: str, *, charset: str | None = None) -> tuple[str, list[str]]:
    """Decode one raw header value (RFC 2047 words, raw 8-bit bytes); returns text and warnings.

    Raw 8-bit bytes are UTF-8 when they form valid UTF-8 (RFC 6532), else read in ``charset``: the
    body's declared charset, which is what the sender's client wrote its headers in too.
    """
    warnings: list[str] = []
    if not value.isascii():  # raw 8-bit bytes arrive as surrogate escapes
        data = value.encode("utf-8", "surrogateescape")
        try:
            value = data.decode("utf-8")
        except UnicodeDecodeError:
            value, warning = decode_bytes(data, charset)
            warnings += [f"8-bit header: {warning}"] if warning else []
    pieces: list[str] = []
    pending: tuple[str, bytearray] | None = None  # charset and bytes of adjacent encoded words
    position = 0
    for match in _ENCODED_WORD_RE.finditer(value):
        between = value[position : match.start()]
        if pending is not None and (between.strip() or pending[0] != match.group(1).lower()):
            pieces.append(_decode_word(pending, warnings))
            pending = None
        if position == 0 or between.strip():
            pieces.append(between)  # whitespace between encoded words is dropped (RFC 2047 §6.2)
        data = _word_bytes(match.group(2), match.group(3))
        if pending is None:
            pending = (match.group(1).lower(), bytearray())
        pending[1].extend(data)
        position = match.end()
    if pending is not None:
        pieces.append(_decode_word(pending, warnings))
    pieces.append(value[position:])
    return clean_line("".join(pieces))[:MAX_HEADER_CHARS], warnings


def _word_bytes(encoding: str, payload: str) -> bytes:
    """The bytes of one encoded word; broken base64 yields what could be read."""
    if encoding in "qQ":
        return binascii.a2b_qp(payload.encode("ascii", "replace"), header=True)
    data = payload.encode("ascii", "replace")
    try:
        return binascii.a2b_base64(data + b"=" * (-len(data) % 4))
    except binascii.Error:
        return b""


def _decode_word(pending: tuple[str, bytearray], warnings: list[str]) -> str:
    text, warning = decode_bytes(bytes(pending[1]), pending[0])
    if warning:
        warnings.append(f"header: {warning}")
    return text


def header_values(msg: Message) -> dict[str, str]:
    """The first raw value of every header, keyed by lower-case name (undecoded)."""
    values: dict[str, str] = {}
    for name, value in msg.raw_items():
        values.setdefault(str(name).strip().lower(), str(value))
    return values


def parse_addresses(*decoded: str) -> tuple[str, ...]:
    """Bare addresses (``user@host``) from decoded address headers, in order, without duplicates."""
    seen: dict[str, None] = {}
    for _name, address in getaddresses([value for value in decoded if value]):
        address = address.strip()
        if address and "@" in address:
            seen.setdefault(address, None)
    return tuple(seen)


def parse_date(value: str) -> datetime | None:
    """A datetime from a Date header; aware when the header carries a zone; None when unreadable."""
    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def parse_message_id(value: str) -> str | None:
    """The first ``<id>`` of a Message-ID header without brackets; a bare token is accepted too."""
    match = _ANGLE_RE.search(value)
    token = match.group(1) if match else (value.split() or [""])[0].strip("<>")
    return token or None


def parse_list_id(value: str) -> str | None:
    """The list identifier of a List-Id header (RFC 2919 ``"Name" <list.example.com>``)."""
    match = _ANGLE_RE.search(value)
    token = match.group(1) if match else value.strip()
    return token or None
