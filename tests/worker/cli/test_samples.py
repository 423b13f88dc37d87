"""The demo mailbox in samples/mailbox parses cleanly: no warnings, a subject and scoring text each."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.parsing.message import parse_message

MAILBOX = Path(__file__).resolve().parents[3] / "samples" / "mailbox"
SAMPLES = sorted(MAILBOX.glob("*.eml"))


def test_mailbox_has_enough_variety() -> None:
    assert 12 <= len(SAMPLES) <= 16
    prefixes = {path.name.split("-")[1] for path in SAMPLES}
    assert {"urgent", "project", "meeting", "customer", "system", "newsletter"} <= prefixes


@pytest.mark.parametrize("path", SAMPLES, ids=[path.stem for path in SAMPLES])
def test_sample_parses_cleanly(path: Path) -> None:
    mail = parse_message(path.read_bytes())
    assert mail.warnings == ()
    assert mail.subject and mail.sender and mail.recipients and mail.message_id and mail.date
    assert len(mail.text) >= 100 or "Fwd:" in mail.subject
    assert "\r" not in mail.body_text


def test_sample_specifics() -> None:
    mails = {path.name.split("-", 1)[0]: parse_message(path.read_bytes()) for path in SAMPLES}
    assert mails["12"].list_id == "weekly.freightnews.example.net"
    assert [a.filename for a in mails["05"].attachments] == ["invite.ics", "Q2-planning-agenda.pdf"]
    assert "清关" in mails["08"].text and "reunión" in mails["06"].subject
    assert "Original Message" not in mails["13"].text and "checklist" in mails["13"].text
    assert "> please send me" not in mails["04"].text and "Velocity was 41" in mails["04"].text
    assert "Site Reliability" not in mails["01"].text and "Site Reliability" in mails["01"].body_text
    assert "crushed pallets" not in mails["09"].text and "crushed pallets" in mails["09"].body_text
