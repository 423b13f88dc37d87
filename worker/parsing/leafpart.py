"""Read one leaf of a MIME tree: its media type and charset, its text, or its size.

Attachments are measured from their encoded payload and never decoded: a 20 MB PDF costs a character
count, not a base64 decode. Text parts are capped (``TEXT_MAX_BYTES``), so a 30 MB body yields its
head, which is all scoring and storage need. HTML parts are rendered to their visible text.
"""

from __future__ import annotations

import binascii
import re
from email.message import Message

from worker.parsing.charsets import decode_bytes
from worker.parsing.elision import split_elision
from worker.parsing.htmltext import HTML_MAX_CHARS, html_to_text

TEXT_MAX_BYTES = 1_000_000
_CHARSET_RE = re.compile(r"(?i)\bcharset\s*=\s*[\"']?([^\s\"';]+)")
_HTML_START_RE = re.compile(
    r"(?i)^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>]|head[\s>]|body[\s>])", re.S
)
CHARSET_SCAN_PARTS = 64  # parts looked at for the body's charset (hostile mail has thousands)


def decode_text(part: Message, warnings: list[str]) -> str:
    """The readable text of a leaf part: transfer-decoded, charset-repaired, HTML rendered, capped."""
    ctype = content_type(part)
    limit = HTML_MAX_CHARS if ctype == "text/html" else TEXT_MAX_BYTES
    raw = part.get_payload()
    head, _tail, elided = split_elision(raw) if isinstance(raw, str) else ("", "", 0)
    if elided:  # the parser only saw the head of this base64 body; decode that head ourselves
        chars = "".join(head.split())
        data = binascii.a2b_base64(chars[: len(chars) // 4 * 4].encode("ascii", "ignore"))
    else:
        decoded = part.get_payload(decode=True)
        data = decoded if isinstance(decoded, bytes) else b""
    truncated = elided > 0 or len(data) > limit
    if truncated:
        _warn_once(warnings, f"{ctype} part over {limit} bytes: only its head was read")
    text, warning = decode_bytes(data[:limit], content_charset(part), truncated=truncated)
    if warning:
        warnings.append(warning)
    if ctype == "text/plain" and part.get("content-type") is None and _HTML_START_RE.match(text):
        ctype = "text/html"  # no Content-Type at all, but an HTML document: render it, never score tags
    return html_to_text(text) if ctype == "text/html" else text


def content_type(part: Message) -> str:
    """The part's media type, lower-case; ``TEXT/PLAIN charset=US-ASCII`` (no ``;``) is ``text/plain``."""
    ctype = part.get_content_type()
    return ctype.split()[0] if ctype.split() else ctype


def content_charset(part: Message) -> str | None:
    """The declared charset; also found when the ``;`` before ``charset=`` is missing."""
    charset = part.get_content_charset()
    if charset is None:
        match = _CHARSET_RE.search(str(part.get("content-type", "")))
        charset = match.group(1).lower() if match else None
    return charset


def body_charset(msg: Message) -> str | None:
    """The charset of the first text part that declares one (raw 8-bit headers are most likely in it)."""
    stack, seen = [msg], 0
    while stack and seen < CHARSET_SCAN_PARTS:
        part, seen = stack.pop(), seen + 1
        payload = part.get_payload()
        if isinstance(payload, list):
            stack.extend(child for child in reversed(payload) if isinstance(child, Message))
        elif content_type(part).startswith("text/") and (charset := content_charset(part)):
            return charset
    return None


def encoded_size(part: Message) -> int:
    """Decoded size of a leaf part, computed from its encoded payload without decoding it."""
    raw = part.get_payload()
    if not isinstance(raw, str):
        return 0
    head, tail, elided = split_elision(raw)
    encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
    if encoding == "base64":
        alphabet = sum(len(chunk) - sum(map(chunk.count, "\r\n \t=")) for chunk in (head, tail))
        return (alphabet + elided) * 3 // 4
    if encoding == "quoted-printable":  # every "=XX" is one byte, every soft break "=\n" none
        return max(0, len(raw) - 2 * raw.count("="))
    return len(raw.encode("utf-8", "surrogateescape"))


def _warn_once(warnings: list[str], message: str) -> None:
    if message not in warnings:
        warnings.append(message)
