"""On a real Dovecot: a reply to a routed mail is routed with its thread, unscored, the reason kept."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.connectors.conftest import Dovecot, append, install_env, make_mail, teardown_env
from tests.connectors.imap.test_actions import mailbox
from tests.connectors.imap.test_poller import poll
from tests.worker.pipeline.test_threads import CountingScorer
from worker.db.models import Decision, Message
from worker.db.session import session_factory

pytestmark = pytest.mark.integration


def reply_to(parent_id: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "ann@example.com"
    msg["To"] = "team@example.com"
    msg["Subject"] = "Re: Weekly project status 1"
    msg["Message-ID"] = "<reply-1@example.com>"
    msg["In-Reply-To"] = f"<{parent_id}>"
    msg["References"] = f"<{parent_id}>"
    msg.set_content("Thanks, noted.")
    return msg.as_bytes()


def test_a_reply_is_routed_with_its_thread_without_scoring(
    dovecot: Dovecot, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scorer = CountingScorer()
    env = install_env(monkeypatch, dovecot, sqlite_url, tmp_path, scorer=scorer)
    try:
        append(dovecot, [make_mail(1)])
        poll(env)
        assert len(scorer.scored) == 1
        append(dovecot, [reply_to("t-1@example.com")])
        poll(env)
        assert len(scorer.scored) == 1, "the reply was scored"
        with session_factory(sqlite_url)() as db:
            rows = db.execute(
                select(Message.id, Message.message_id, Decision.labels, Decision.reasons)
                .join(Decision, Decision.message_id == Message.id)
                .order_by(Message.id)
            ).all()
        (parent, _, labels, _), (_, reply_mid, reply_labels, reasons) = rows
        assert reply_mid == "reply-1@example.com" and reply_labels == labels == ["urgent matters"]
        assert reasons == [f"reply in thread of #{parent}: urgent matters"]
        assert b"urgent" in mailbox(env, "INBOX")["reply-1@example.com"]
    finally:
        teardown_env()
