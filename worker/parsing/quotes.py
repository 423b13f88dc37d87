"""Reduce a mail body to what its sender wrote, for scoring.

A reply quoting a week-long thread would otherwise be scored on the thread; a signature full of
job titles and phone numbers only dilutes the signal. Everything here is conservative: a line is
cut only when it matches a pattern mail clients actually produce, and the caller falls back to the
full text when nothing is left. When the sender's own words are trivial ("FYI", "see below"), the
forwarded or quoted message below them is what the mail is about, so it is taken in their place.
Expects text that went through :func:`worker.parsing.sanitize.collapse_whitespace` (stripped lines).
"""

from __future__ import annotations

import re

from worker.parsing.sanitize import collapse_whitespace

# moved out, used here and still imported from here: the signature
from worker.parsing.signature import strip_signature as strip_signature

TRIVIAL_CHARS = 25  # own text shorter than this ("FYI", "see below") does not describe the mail
MAX_NESTING = 8  # forwards of forwards: plenty for real mail, bounded for hostile mail

_QUOTED_RE = re.compile(r"^>")
_ATTRIBUTION_RE = re.compile(
    r"^(?:on\b.{0,300}\bwrote|el\b.{0,300}\bescribi[óo]|le\b.{0,300}\ba [ée]crit|am\b.{0,300}\bschrieb"
    r"|il\b.{0,300}\bha scritto|em\b.{0,300}\bescreveu|op\b.{0,300}\bschreef|.{0,300}写道)\s*[:：]$",
    re.IGNORECASE,
)
_MARKER_RE = re.compile(
    r"^(?:-{2,} ?(?:forwarded message|mensaje reenviado|weitergeleitete nachricht|message transf[ée]r[ée]"
    r"|messaggio inoltrato|doorgestuurd bericht|转发的邮件|转发邮件|轉寄的郵件"
    r"|original message|mensaje original|urspr[üu]ngliche nachricht|message d'origine"
    r"|messaggio originale|原始邮件|原始郵件) ?-{2,}"
    r"|-{2,} ?forwarded by\b.*|begin forwarded message:?|inicio del mensaje reenviado:?)$",
    re.IGNORECASE,
)
_RULE_RE = re.compile(r"^_{10,}$")
_FROM_RE = re.compile(r"^\*?(?:from|de|von|van|da|发件人|寄件者) ?\*? ?[:：]", re.IGNORECASE)
_SENT_RE = re.compile(
    r"^\*?(?:sent|date|enviado|fecha|gesendet|datum|envoy[ée]|data|发送时间|日期|寄件日期) ?\*? ?[:：]",
    re.IGNORECASE,
)
_TO_RE = re.compile(
    r"^\*?(?:to|cc|subject|para|asunto|an|betreff|[àa]|objet|oggetto|收件人|主题|主旨) ?\*? ?[:：]",
    re.IGNORECASE,
)
_SUBJECT_RE = re.compile(r"^\*?(?:subject|asunto|betreff|objet|oggetto|主题|主旨) ?\*? ?[:：] ?(.*)$", re.I)
_HEADER_LINE_RE = re.compile(r"^\*?[\w\u4e00-\u9fff][\w\u4e00-\u9fff -]{0,24}\*? ?[:：]")


def clean_for_scoring(text: str) -> str:
    """The sender's own words: quotes, quoted/forwarded tails and the signature removed.

    May return "" (a mail that is all quote); the caller then scores the full text instead.
    """
    kept: list[str] = []
    written = 0  # the sender's own characters; a forwarded Subject line does not count
    rest: str | None = text
    for _ in range(MAX_NESTING):
        if rest is None:
            break
        own, subject, rest = split_tail(rest)
        own = strip_signature(drop_quoted(own))
        kept += [own] if own else []
        written += len(own)
        if written >= TRIVIAL_CHARS:
            break
        kept += [subject] if subject else []
    return collapse_whitespace("\n\n".join(kept))


def split_tail(text: str) -> tuple[str, str, str | None]:
    """Split at the first forward marker, reply attribution or Outlook header block.

    Returns the text above, the Subject of the message below ("" when none) and that message's
    body without its marker and header lines (None when there is no such tail).
    """
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if not line:
            continue
        if _MARKER_RE.match(line) or _is_header_block(lines, index):
            skip = 1 if _MARKER_RE.match(line) else 0
            return _above(lines, index), *_tail_body(lines[index + skip :])
        if _ATTRIBUTION_RE.match(line):
            return _above(lines, index), "", "\n".join(lines[index + 1 :])
        if index + 1 < len(lines) and len(line) < 200 and _ATTRIBUTION_RE.match(f"{line} {lines[index + 1]}"):
            return _above(lines, index), "", "\n".join(lines[index + 2 :])
    return text.strip(), "", None


def drop_quoted(text: str) -> str:
    """Remove ``>``-quoted lines (what is left of an interleaved reply is the sender's answers)."""
    return "\n".join(line for line in text.split("\n") if not _QUOTED_RE.match(line)).strip()


def _is_header_block(lines: list[str], index: int) -> bool:
    """An Outlook-style ``From:`` line followed closely by ``Sent:``/``Date:`` and ``To:``/``Subject:``."""
    if not _FROM_RE.match(lines[index]):
        return False
    window = lines[index + 1 : index + 6]
    return any(_SENT_RE.match(line) for line in window) and any(_TO_RE.match(line) for line in window)


def _above(lines: list[str], index: int) -> str:
    if index > 0 and _RULE_RE.match(lines[index - 1]):
        index -= 1  # Outlook's "____" rule belongs to the header block below it
    return "\n".join(lines[:index]).strip()


def _tail_body(lines: list[str]) -> tuple[str, str]:
    """The Subject and the body of a quoted/forwarded message whose header lines start ``lines``."""
    subject = ""
    index = 0
    while index < min(len(lines), 14):
        line = lines[index]
        if not line:
            if index and _HEADER_LINE_RE.match(lines[index - 1]):
                break
        elif _HEADER_LINE_RE.match(line):
            match = _SUBJECT_RE.match(line)
            subject = match.group(1).strip() if match else subject
        else:
            break
        index += 1
    return subject, "\n".join(lines[index:]).strip()
