"""The parse result: :class:`ParsedMail`, one mail decoded, and its assembly from decoded headers and
body text (quotes and signatures stripped, markers defused, the character budget applied).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from worker.parsing.headers import parse_addresses, parse_date, parse_list_id, parse_message_id
from worker.parsing.mimeparts import Attachment
from worker.parsing.quotes import clean_for_scoring
from worker.parsing.sanitize import apply_budget, neutralize_markers

MAX_WARNINGS = 30
SUBJECT_SCORE_CHARS = 500  # a subject longer than this is spam or an attack, not a summary
_CLEAN_SCAN_FACTOR = 20  # cleanup reads max_chars * this: quotes below that never reach the budget


@dataclass(frozen=True)
class ParsedMail:
    """One mail, decoded. Strings are free of control characters and never None where typed str."""

    message_id: str | None
    subject: str
    sender: str
    recipients: tuple[str, ...]
    date: datetime | None
    list_id: str | None
    headers: dict[str, str]
    body_text: str
    text: str
    attachments: tuple[Attachment, ...]
    warnings: tuple[str, ...]

    @property
    def scoring_text(self) -> str:
        """``Subject\\n\\ntext``: what backends score; template markers in the subject defused too."""
        return self.scored_text(keep_subject=True)

    def scored_text(self, *, keep_subject: bool) -> str:
        """:attr:`scoring_text`, or the text alone when ``keep_subject`` is false and there is text (a
        boilerplate subject, :mod:`worker.store.boilerplate`)."""
        subject = (
            neutralize_markers(self.subject[:SUBJECT_SCORE_CHARS]) if keep_subject or not self.text else ""
        )
        return f"{subject}\n\n{self.text}" if subject else self.text


def _result(
    headers: dict[str, str],
    body_text: str,
    attachments: tuple[Attachment, ...],
    warnings: list[str],
    *,
    max_chars: int,
    clean: bool,
) -> ParsedMail:
    """Assemble the result; ``clean`` strips quotes and signatures (off for unparsed raw text)."""
    head = body_text[: max_chars * _CLEAN_SCAN_FACTOR]
    cleaned = clean_for_scoring(head) if clean else head
    text, _cut = apply_budget(neutralize_markers(cleaned or head), max_chars)
    return ParsedMail(
        message_id=parse_message_id(headers.get("message-id", "")),
        subject=headers.get("subject", ""),
        sender=headers.get("from", ""),
        recipients=parse_addresses(headers.get("to", ""), headers.get("cc", "")),
        date=parse_date(headers.get("date", "")),
        list_id=parse_list_id(headers["list-id"]) if headers.get("list-id") else None,
        headers=headers,
        body_text=body_text,
        text=text,
        attachments=attachments,
        warnings=tuple(dict.fromkeys(w for w in warnings if w))[:MAX_WARNINGS],
    )
