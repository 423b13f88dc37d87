"""Walk a MIME tree: readable text from body parts, name/type/size from everything else.

The walk is an explicit stack with a depth limit, because hostile mail nests multiparts hundreds of
levels deep. Attachments are measured from their encoded payload and never decoded: a 20 MB PDF
costs a character count, not a base64 decode. Text parts are capped (``TEXT_MAX_BYTES``), so a 30 MB
body yields its head, which is all scoring and storage need.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass
from email.message import Message

from worker.parsing.charsets import decode_bytes
from worker.parsing.elision import split_elision
from worker.parsing.headers import decode_raw, header_values
from worker.parsing.htmltext import HTML_MAX_CHARS, html_to_text
from worker.parsing.sanitize import clean_line

MAX_DEPTH = 128  # real mail nests 4-6 levels; the walk is iterative, the limit bounds hostile mail
TEXT_MAX_BYTES = 1_000_000
BODY_MAX_CHARS = 1_000_000
FORWARD_MARKER = "---------- Forwarded message ----------"
_BODY_TYPES = ("text/plain", "text/html")
_CHARSET_RE = re.compile(r"(?i)\bcharset\s*=\s*[\"']?([^\s\"';]+)")
_HTML_START_RE = re.compile(
    r"(?i)^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>]|head[\s>]|body[\s>])", re.S
)
CHARSET_SCAN_PARTS = 64  # parts looked at for the body's charset (hostile mail has thousands)


@dataclass(frozen=True)
class Attachment:
    """A non-body part, described but never opened."""

    filename: str | None
    content_type: str
    size: int  # decoded bytes; exact for base64, estimated for quoted-printable


def walk_parts(msg: Message, warnings: list[str]) -> tuple[list[str], list[Attachment]]:
    """Body texts in reading order and the attachments of ``msg``; problems go to ``warnings``."""
    texts: list[str] = []
    attachments: list[Attachment] = []
    stack: list[tuple[Message, int]] = [(msg, 0)]
    body_chars = 0
    while stack:
        part, depth = stack.pop()
        if depth > MAX_DEPTH:
            _warn_once(warnings, f"MIME parts nested deeper than {MAX_DEPTH} levels were skipped")
            continue
        try:
            ctype = content_type(part)
            payload = part.get_payload()
            if isinstance(payload, list):  # multipart/* and message/rfc822 (policy.default)
                children = [child for child in payload if isinstance(child, Message)]
                if ctype.startswith("message/") and children:
                    texts.append(_forward_header(children[0], warnings))
                elif ctype == "multipart/alternative":
                    children = _choose_alternative(children)
                stack.extend((child, depth + 1) for child in reversed(children))
                continue
            disposition = part.get_content_disposition()
            filename = part.get_filename()
            # "inline; filename=body.html" is how some clients send the body itself
            is_body = disposition != "attachment" and (not filename or disposition == "inline")
            if is_body and (ctype in _BODY_TYPES or ctype.split("/")[0] in ("multipart", "message")):
                if body_chars >= BODY_MAX_CHARS:
                    _warn_once(warnings, f"body text beyond {BODY_MAX_CHARS} characters was dropped")
                    continue
                text = decode_text(part, warnings)
                texts.append(text)
                body_chars += len(text)
            else:
                name = clean_line(filename)[:255] if filename else None
                attachments.append(Attachment(name, ctype, encoded_size(part)))
        except Exception as e:  # one broken part must not cost the others
            warnings.append(f"unreadable MIME part ({type(e).__name__}: {e})"[:300])
    return texts, attachments


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


def _choose_alternative(children: list[Message]) -> list[Message]:
    """text/plain when it says something, else the richest other version (HTML, multipart/related)."""
    plain = [c for c in children if content_type(c) == "text/plain"]
    others = [c for c in children if content_type(c) != "text/plain"]
    if plain and (not others or _has_text(plain[0])):
        return plain[:1]
    return others[-1:] if others else children[:1]


def _has_text(part: Message) -> bool:
    try:
        return bool(decode_text(part, []).strip())
    except Exception:  # an unreadable plain version: use the other one
        return False


def _forward_header(inner: Message, warnings: list[str]) -> str:
    """The header block mail clients write above a forwarded message, for an attached message/rfc822."""
    values = header_values(inner)
    lines, charset = [FORWARD_MARKER], body_charset(inner)
    for name in ("from", "date", "subject", "to"):
        if name in values:
            text, problems = decode_raw(values[name], charset=charset)
            warnings.extend(problems)
            lines.append(f"{name.capitalize()}: {text}")
    return "\n".join(lines) + "\n"


def _warn_once(warnings: list[str], message: str) -> None:
    if message not in warnings:
        warnings.append(message)
