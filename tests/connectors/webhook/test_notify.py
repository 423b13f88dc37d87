"""Review-queue alerts: over-limit queues, one signed ``review.queue_alert`` per profile, spaced out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from connectors.webhook.delivery import sign
from connectors.webhook.notify import EVENT, alert_review_queues
from tests.admin.builders import MailSpec, add_mail
from tests.connectors.receiver import Reply, receiver
from tests.connectors.webhook.test_delivery import SECRET, Configure, configure  # noqa: F401 - a fixture
from worker.core.settings import get_settings
from worker.db.models import AuditEvent
from worker.db.session import session_factory
from worker.review.queue import review_queues

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def test_queue_limits_by_size_and_by_wait(sqlite_url: str) -> None:
    with session_factory(sqlite_url).begin() as session:
        add_mail(session, MailSpec(received_at=NOW - timedelta(hours=5)))
        add_mail(session, MailSpec(subject="b", received_at=NOW - timedelta(minutes=5)))
        add_mail(session, MailSpec(subject="done", needs_review=False))
        [state] = review_queues(session, max_size=2, max_wait_s=4 * 3600, now=NOW)
        assert (state.profile, state.pending) == ("default", 2)
        assert state.reasons == ["2 mails waiting (limit 2)", "oldest waiting 5.0 h (limit 4.0 h)"]
        [calm] = review_queues(session, max_size=3, max_wait_s=6 * 3600, now=NOW)
        assert not calm.over


def test_an_over_queue_alerts_once_signed_then_waits(
    configure: Configure,  # noqa: F811 - the fixture
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with receiver(Reply(200), Reply(200)) as server:
        configure(hook={"url": server.url})
        monkeypatch.setenv("MAILROUTE_REVIEW_ALERT_ENDPOINT", "hook")
        monkeypatch.setenv("MAILROUTE_REVIEW_ALERT_QUEUE", "1")
        get_settings.cache_clear()
        settings = get_settings()
        with session_factory(sqlite_url).begin() as session:
            add_mail(session, MailSpec(received_at=NOW - timedelta(minutes=1)))
            assert alert_review_queues(session, settings, now=NOW) == ["default"]
        with session_factory(sqlite_url).begin() as session:
            assert alert_review_queues(session, settings, now=NOW + timedelta(minutes=10)) == []
            assert alert_review_queues(session, settings, now=NOW + timedelta(hours=2)) == ["default"]
            events = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "review.alert")))
    assert len(server.requests) == 2 and len(events) == 2
    request = server.requests[0]
    stamp = request.headers["x-mailroute-timestamp"]
    assert request.headers["x-mailroute-signature"] == sign(SECRET, stamp, request.body)
    payload = json.loads(request.body)
    assert payload["event"] == EVENT and payload["profile"] == "default" and payload["pending"] == 1
    assert payload["reasons"] == ["1 mails waiting (limit 1)"]


def test_no_endpoint_no_alert(sqlite_url: str) -> None:
    settings = get_settings().model_copy(update={"review_alert_endpoint": None})
    with session_factory(sqlite_url).begin() as session:
        add_mail(session, MailSpec())
        assert alert_review_queues(session, settings) == []
