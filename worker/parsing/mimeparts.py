"""Walk a MIME tree: readable text from body parts, name/type/size from everything else.

The walk is an explicit stack with a depth limit, because hostile mail nests multiparts hundreds of
levels deep. Each leaf is read by :mod:`worker.parsing.leafpart`: attachments are measured, never
decoded, and text parts are capped there.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message

from worker.parsing.headers import decode_raw, header_values
from worker.parsing.leafpart import _warn_once, body_charset, content_type, decode_text, encoded_size
from worker.parsing.sanitize import clean_line

MAX_DEPTH = 128  # real mail nests 4-6 levels; the walk is iterative, the limit bounds hostile mail
BODY_MAX_CHARS = 1_000_000
FORWARD_MARKER = "---------- Forwarded message ----------"
_BODY_TYPES = ("text/plain", "text/html")


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
