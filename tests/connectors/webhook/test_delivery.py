"""Webhook delivery against a real HTTP receiver on loopback: signature, retries, dead letter, redelivery.

The state machine is driven by calling :func:`deliver` once per attempt (what the task does), so no
test sleeps through a backoff; the schedule itself is a pure function tested on its own.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from connectors.webhook.answer import parse_retry_after
from connectors.webhook.delivery import SCHEMA, redeliver, sign
from connectors.webhook.endpoints import Endpoint, load_endpoints
from tests.conftest import REPO
from tests.connectors.receiver import Reply, closed_port_url, receiver
from worker.core.errors import ConfigError, InputError
from worker.core.settings import get_settings
from worker.db.models import Action, ActionAttempt, ActionStatus, Decision, Message, Score
from worker.db.session import session_factory
from worker.tasks.retry import MAX_RETRY_AFTER_S, retry_delay
from worker.tasks.webhooks import Delivery, deliver, deliver_webhook, due_webhooks

SECRET = "s3cret-only-for-tests"
ADMIN = "https://admin.example"
Configure = Callable[..., Path]


def receiver_snippet() -> Callable[..., bool]:
    """The verification function exactly as docs/webhooks.md gives it to receivers."""
    text = (REPO / "docs" / "webhooks.md").read_text()
    code = text.split("<!-- receiver-snippet")[1].split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    return namespace["verify_mailroute_signature"]


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sqlite_url: str) -> Iterator[Configure]:
    """Write an endpoints file (name -> url/overrides) and point the settings at it and the test DB."""

    def _configure(db: str = sqlite_url, **endpoints: dict[str, Any]) -> Path:
        path = tmp_path / f"webhooks-{len(list(tmp_path.glob('webhooks-*')))}.yaml"
        config = {name: {"secret": SECRET, **spec} for name, spec in endpoints.items()}
        path.write_text(yaml.safe_dump({"endpoints": config}))
        monkeypatch.setenv("MAILROUTE_WEBHOOKS_FILE", str(path))
        monkeypatch.setenv("MAILROUTE_DATABASE_URL", db)
        get_settings.cache_clear()
        return path

    monkeypatch.setenv("MAILROUTE_ADMIN_URL", ADMIN)
    monkeypatch.delenv("MAILROUTE_BROKER_URL", raising=False)
    yield _configure
    get_settings.cache_clear()


def make_webhook_action(url: str, *, target: str = "hook", status: str = ActionStatus.PENDING) -> int:
    """A decided mail with scores and one webhook outbox row; returns the action id."""
    with session_factory(url).begin() as session:
        message = Message(
            account="support",
            folder="INBOX",
            uidvalidity=1,
            uid=7,
            dedup_key=f"k{time.time_ns()}",
            message_id="abc@example.com",
            content_hash="0" * 64,
            subject="Still no answer",
            sender="Ann <ann@example.com>",
            recipients=["support@example.com"],
            raw=b"Subject: x\r\n\r\nbody",
            sent_at=datetime(2025, 3, 1, 9, 12, tzinfo=UTC),
        )
        session.add(message)
        session.flush()
        session.add(
            Decision(
                message_id=message.id,
                rule_set_name="helpdesk",
                rule_set_hash="r" * 64,
                model_id="m",
                labels=["complaint"],
                reasons=["complaint scored 0.91"],
                top_score=0.91,
                margin=0.44,
            )
        )
        session.add_all(
            Score(
                message_id=message.id,
                label=label,
                score=value,
                model_id="m",
                rule_set_hash="r" * 64,
                template_hash="t" * 64,
            )
            for label, value in {"complaint": 0.91, "spam": 0.02}.items()
        )
        action = Action(
            message_id=message.id,
            kind="webhook",
            target=target,
            params={"priority": "high"},
            category="complaint",
            status=status,
        )
        session.add(action)
        session.flush()
        return action.id


def attempt(url: str, action_id: int, **kwargs: Any) -> Delivery:
    with session_factory(url).begin() as session:
        return deliver(session, action_id, **kwargs)


def load(url: str, action_id: int) -> tuple[Action, list[ActionAttempt]]:
    with session_factory(url)() as session:
        action = session.get(Action, action_id)
        assert action is not None
        log = list(
            session.scalars(
                select(ActionAttempt).where(ActionAttempt.action_id == action_id).order_by(ActionAttempt.id)
            )
        )
        return action, log


def test_delivery_is_signed_versioned_and_verifiable(configure: Configure, sqlite_url: str) -> None:
    verify = receiver_snippet()
    with receiver(Reply(200)) as server:
        configure(hook={"url": server.url})
        action_id = make_webhook_action(sqlite_url)
        result = attempt(sqlite_url, action_id)
    action, log = load(sqlite_url, action_id)
    assert (result.status, result.attempts, result.retry_in) == (ActionStatus.DONE, 1, None)
    assert [(a.outcome, a.status_code) for a in log] == [("done", 200)]
    [request] = server.requests
    headers, body = request.headers, request.body
    assert headers["idempotency-key"] == action.key and headers["x-mailroute-schema"] == SCHEMA
    stamp = headers["x-mailroute-timestamp"]
    assert abs(int(stamp) - time.time()) < 30
    assert headers["x-mailroute-signature"] == sign(SECRET, stamp, body)
    assert verify(SECRET.encode(), stamp, headers["x-mailroute-signature"], body)
    assert not verify(SECRET.encode(), stamp, headers["x-mailroute-signature"], body + b" ")
    assert not verify(b"another secret", stamp, headers["x-mailroute-signature"], body)
    assert not verify(SECRET.encode(), stamp, headers["x-mailroute-signature"], body, now=int(stamp) + 301)
    payload = json.loads(body)
    assert payload["schema"] == SCHEMA and payload["delivery_id"] == action.key
    assert payload["decision"]["labels"] == ["complaint"]
    assert payload["decision"]["reasons"] == ["complaint scored 0.91"]
    assert payload["scores"] == {"complaint": 0.91, "spam": 0.02}
    assert payload["links"]["admin"] == f"{ADMIN}/messages/{action.message_id}"
    assert payload["message"]["subject"] == "Still no answer" and payload["params"] == {"priority": "high"}


def test_500_is_retried_until_the_dead_letter(
    configure: Configure, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with receiver(Reply(500, body=f"bad secret {SECRET}".encode())) as server:
        configure(db=db_url, hook={"url": server.url, "max_attempts": 3})
        action_id = make_webhook_action(db_url)
        results = [attempt(db_url, action_id, rand=lambda: 1.0) for _ in range(4)]
    assert [r.status for r in results] == ["failed", "failed", "dead", "dead"]
    assert [r.retry_in for r in results] == [5.0, 10.0, None, None]  # base 5 s, doubling
    assert len(server.requests) == 3  # a dead row is not tried again
    action, log = load(db_url, action_id)
    assert {r.headers["idempotency-key"] for r in server.requests} == {action.key}
    assert [r.headers["x-mailroute-attempt"] for r in server.requests] == ["1", "2", "3"]
    assert [a.outcome for a in log] == ["failed", "failed", "dead"]
    assert [a.status_code for a in log] == [500, 500, 500]
    assert action.attempts == 3 and action.next_attempt_at is None
    assert action.last_error is not None and "HTTP 500" in action.last_error
    assert SECRET not in caplog.text  # nor in any log line
    for text in (action.last_error, *(a.error or "" for a in log)):  # what the admin shows
        assert SECRET not in text and server.url not in text
    assert "***" in action.last_error  # the receiver echoed the secret: redacted


def test_500_then_200_is_delivered(configure: Configure, sqlite_url: str) -> None:
    with receiver(Reply(503), Reply(200)) as server:
        configure(hook={"url": server.url})
        action_id = make_webhook_action(sqlite_url)
        statuses = [attempt(sqlite_url, action_id).status for _ in range(2)]
    assert statuses == ["failed", "done"]
    assert [a.outcome for a in load(sqlite_url, action_id)[1]] == ["failed", "done"]


def test_429_retry_after_is_a_floor_on_the_wait(configure: Configure, sqlite_url: str) -> None:
    with receiver(Reply(429, headers={"Retry-After": "120"}), Reply(200)) as server:
        configure(hook={"url": server.url})
        action_id = make_webhook_action(sqlite_url)
        first = attempt(sqlite_url, action_id, rand=lambda: 0.0)
        action, _ = load(sqlite_url, action_id)
        second = attempt(sqlite_url, action_id)
    assert first.status == "failed" and first.retry_in is not None and 115 < first.retry_in <= 120
    assert action.next_attempt_at is not None
    due = action.next_attempt_at.replace(tzinfo=UTC) - datetime.now(UTC)
    assert timedelta(seconds=110) < due <= timedelta(seconds=120)
    assert action.last_error is not None and "HTTP 429" in action.last_error
    assert second.status == "done" and len(server.requests) == 2


def test_timeout_is_retried_until_the_dead_letter(configure: Configure, sqlite_url: str) -> None:
    with receiver(Reply(hang_s=5)) as server:
        configure(hook={"url": server.url, "timeout_s": 0.3, "max_attempts": 2})
        action_id = make_webhook_action(sqlite_url)
        started = time.monotonic()
        statuses = [attempt(sqlite_url, action_id).status for _ in range(2)]
        elapsed = time.monotonic() - started
    action, log = load(sqlite_url, action_id)
    assert statuses == ["failed", "dead"] and len(server.requests) == 2 and elapsed < 4
    assert action.last_error is not None and "timed out after 0.3s" in action.last_error
    assert [a.outcome for a in log] == ["failed", "dead"]


def test_connection_reset_is_retried(configure: Configure, sqlite_url: str) -> None:
    with receiver(Reply(reset=True), Reply(200)) as server:
        configure(hook={"url": server.url})
        action_id = make_webhook_action(sqlite_url)
        statuses = [attempt(sqlite_url, action_id).status for _ in range(2)]
    assert statuses == ["failed", "done"]
    assert load(sqlite_url, action_id)[1][0].error is not None


def test_closed_port_is_retried_until_the_dead_letter(configure: Configure, sqlite_url: str) -> None:
    configure(hook={"url": closed_port_url(), "max_attempts": 2})
    action_id = make_webhook_action(sqlite_url)
    assert [attempt(sqlite_url, action_id).status for _ in range(3)] == ["failed", "dead", "dead"]
    action, log = load(sqlite_url, action_id)
    assert len(log) == 2 and action.last_error is not None and "Connection refused" in action.last_error


@pytest.mark.parametrize("status", [400, 401, 404, 422, 302])
def test_other_client_errors_are_dead_without_retry(
    configure: Configure, sqlite_url: str, status: int
) -> None:
    with receiver(Reply(status, headers={"Location": "http://127.0.0.1:9/elsewhere"})) as server:
        configure(hook={"url": server.url})
        action_id = make_webhook_action(sqlite_url)
        results = [attempt(sqlite_url, action_id) for _ in range(2)]
    assert [(r.status, r.retry_in) for r in results] == [("dead", None), ("dead", None)]
    assert len(server.requests) == 1
    action, log = load(sqlite_url, action_id)
    assert action.last_error is not None and f"HTTP {status}" in action.last_error
    assert [a.outcome for a in log] == ["dead"]


def test_unconfigured_endpoint_is_dead_with_a_clear_message(configure: Configure, sqlite_url: str) -> None:
    path = configure(hook={"url": "http://127.0.0.1:9/"})
    action_id = make_webhook_action(sqlite_url, target="ticketing")
    assert attempt(sqlite_url, action_id).status == "dead"
    error = load(sqlite_url, action_id)[0].last_error
    assert error == f"webhook endpoint 'ticketing' is not configured in {path}"


def test_redelivery_carries_the_same_idempotency_key(configure: Configure, sqlite_url: str) -> None:
    with receiver(Reply(404), Reply(200)) as server:
        configure(hook={"url": server.url})
        action_id = make_webhook_action(sqlite_url)
        assert attempt(sqlite_url, action_id).status == "dead"
        with session_factory(sqlite_url).begin() as session:
            assert redeliver(session, action_id) == [action_id]
        action, _ = load(sqlite_url, action_id)
        assert (action.status, action.attempts, action.last_error) == ("pending", 0, None)
        assert attempt(sqlite_url, action_id).status == "done"
        with session_factory(sqlite_url).begin() as session:
            redeliver(session, action_id)  # a delivered one can be sent again, too
        assert attempt(sqlite_url, action_id).status == "done"
    action, log = load(sqlite_url, action_id)
    assert [r.headers["idempotency-key"] for r in server.requests] == [action.key] * 3
    assert [a.outcome for a in log] == ["dead", "done", "done"]


def test_redeliver_refuses_pending_and_other_kinds(configure: Configure, sqlite_url: str) -> None:
    configure()
    pending = make_webhook_action(sqlite_url)
    with session_factory(sqlite_url).begin() as session:
        other = session.get(Action, make_webhook_action(sqlite_url, status=ActionStatus.DONE))
        assert other is not None
        other.kind = "imap_keyword"
    with session_factory(sqlite_url)() as session:
        with pytest.raises(InputError, match="is pending"):
            redeliver(session, pending)
        with pytest.raises(InputError, match="no webhook action"):
            redeliver(session, other.id)


def test_enqueue_actions_routes_webhooks_to_their_task(
    configure: Configure, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from worker.tasks import enqueue_actions

    configure()
    from worker.tasks.webhook_batch import deliver_webhooks

    sent: list[list[int]] = []
    monkeypatch.setattr(deliver_webhooks, "delay", sent.append)
    monkeypatch.setattr(deliver_webhook, "delay", lambda *_: pytest.fail("webhooks go out in batches"))
    ids = [make_webhook_action(sqlite_url) for _ in range(3)]
    enqueue_actions(ids)
    assert sent == [ids]  # one concurrent batch on the webhooks queue


def test_due_webhooks_finds_overdue_retries_and_stranded_pending(
    configure: Configure, sqlite_url: str
) -> None:
    configure()
    now = datetime.now(UTC)
    due, later, stranded = (make_webhook_action(sqlite_url) for _ in range(3))
    with session_factory(sqlite_url).begin() as session:
        for action_id, when in ((due, now - timedelta(seconds=1)), (later, now + timedelta(hours=1))):
            action = session.get(Action, action_id)
            assert action is not None
            action.status, action.next_attempt_at = ActionStatus.FAILED, when
    with session_factory(sqlite_url)() as session:
        assert due_webhooks(session, now=now + timedelta(seconds=1), stale_after=timedelta(0)) == [
            due,
            stranded,
        ]
        assert due_webhooks(session, now=now) == []  # 15 minutes' grace by default
        assert due_webhooks(session, now=now + timedelta(minutes=16)) == [due, stranded]


def test_task_in_eager_mode_tries_once_and_leaves_the_retry_due(
    configure: Configure, sqlite_url: str
) -> None:
    with receiver(Reply(500)) as server:
        configure(hook={"url": server.url})
        action_id = make_webhook_action(sqlite_url)
        result = deliver_webhook.apply(args=(action_id,)).get()
    assert result == "failed" and len(server.requests) == 1
    action, _ = load(sqlite_url, action_id)
    assert action.status == "failed" and action.next_attempt_at is not None


def test_task_with_a_broker_retries_with_the_countdown(
    configure: Configure, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    countdowns: list[float] = []

    def fake_retry(*, countdown: float) -> Exception:
        countdowns.append(countdown)
        return RuntimeError("retry scheduled")

    monkeypatch.setattr(deliver_webhook, "retry", fake_retry)
    with receiver(Reply(429, headers={"Retry-After": "7"})) as server:
        configure(hook={"url": server.url})
        action_id = make_webhook_action(sqlite_url)
        with pytest.raises(RuntimeError, match="retry scheduled"):
            deliver_webhook.run(action_id)  # called directly: not eager, as in a worker
    [countdown] = countdowns
    assert 6 < countdown <= 7  # base 5 s * jitter < Retry-After 7 s
    assert load(sqlite_url, action_id)[0].status == "failed"


def test_retry_delay_is_capped_exponential_full_jitter() -> None:
    top = [retry_delay(n, base=5, cap=900, rand=lambda: 1.0) for n in range(1, 10)]
    assert top == [5, 10, 20, 40, 80, 160, 320, 640, 900]
    assert retry_delay(3, base=5, cap=900, rand=lambda: 0.0) == 0.0
    assert retry_delay(3, base=5, cap=900, rand=lambda: 0.5) == 10.0
    assert retry_delay(1, base=5, cap=900, retry_after=30, rand=lambda: 0.0) == 30.0
    assert retry_delay(1, base=5, cap=900, retry_after=10**9, rand=lambda: 0.0) == MAX_RETRY_AFTER_S
    assert retry_delay(8, base=5, cap=900, retry_after=3, rand=lambda: 1.0) == 640.0


def test_parse_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120", now=now) == 120.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now=now) == 90.0
    assert parse_retry_after(format_datetime(now - timedelta(hours=1), usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None and parse_retry_after(None, now=now) is None


def test_endpoint_file_reads_secrets_from_env_and_file(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("from-a-file\n")
    path = tmp_path / "webhooks.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "endpoints": {
                    "a": {
                        "url": "https://a.example/hook",
                        "secret_env": "A_SECRET",
                        "timeout_s": 2,
                        "max_attempts": 3,
                    },
                    "b": {"url": "http://127.0.0.1:8080/", "secret_file": str(tmp_path / "secret")},
                }
            }
        )
    )
    endpoints = load_endpoints(path, environ={"A_SECRET": "from-env"})
    assert endpoints["a"] == Endpoint("a", "https://a.example/hook", b"from-env", 2.0, 3)
    assert endpoints["b"].secret == b"from-a-file" and endpoints["b"].max_attempts == 8
    assert "from-env" not in repr(endpoints["a"])


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        ({"secret": SECRET}, "endpoints.x.url: must be an absolute"),
        ({"url": "ftp://h/", "secret": SECRET}, "endpoints.x.url: must be an absolute"),
        ({"url": "https://h/", "secret": SECRET, "secret_env": "X"}, "endpoints.x.secret: give exactly one"),
        ({"url": "https://h/"}, "endpoints.x.secret: give exactly one"),
        ({"url": "https://h/", "secret_env": "UNSET_VAR"}, "environment variable UNSET_VAR is not set"),
        ({"url": "https://h/", "secret": SECRET, "max_attempts": 0}, "endpoints.x.max_attempts: must be"),
        ({"url": "https://h/", "secret": SECRET, "timeout_s": "soon"}, "endpoints.x.timeout_s: must be"),
        ({"url": "https://h/", "secret": SECRET, "retries": 3}, "endpoints.x: unknown key(s) retries"),
    ],
)
def test_endpoint_file_errors_name_file_endpoint_and_key(
    tmp_path: Path, spec: dict[str, Any], error: str
) -> None:
    path = tmp_path / "webhooks.yaml"
    path.write_text(yaml.safe_dump({"endpoints": {"x": spec}}))
    with pytest.raises(ConfigError) as caught:
        load_endpoints(path, environ={})
    assert str(caught.value).startswith(f"{path}: ") and error in str(caught.value)
    assert SECRET not in str(caught.value)


def test_a_dead_action_is_logged_at_warning_with_its_error(
    configure: Configure, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    configure(hook={"url": "http://127.0.0.1:9/"})
    action_id = make_webhook_action(sqlite_url, target="ticketing")
    with caplog.at_level(logging.WARNING, logger="worker.outbox.runner"):
        assert attempt(sqlite_url, action_id).status == "dead"
    (line,) = [r for r in caplog.records if "-> dead" in r.getMessage()]
    assert line.levelno == logging.WARNING and "is not configured" in line.getMessage()


@pytest.mark.parametrize("still_wanted", [True, False])
def test_a_correction_sends_decision_corrected_to_the_endpoint_that_got_the_original(
    configure: Configure, sqlite_url: str, still_wanted: bool
) -> None:
    from rules import parse_rule_set
    from worker.review import corrections as review

    rules = parse_rule_set(
        "name: helpdesk\n"
        "categories:\n"
        "  - name: complaint\n    description: an unhappy customer\n"
        "    actions: [{kind: webhook, target: hook, params: {priority: high}}]\n"
        "  - name: billing\n    description: invoices\n"
        "    actions: [{kind: webhook, target: hook}]\n"
        "  - name: spam\n    description: junk\n",
        source="test",
    )
    with receiver(Reply(200)) as server:
        configure(hook={"url": server.url})
        action_id = make_webhook_action(sqlite_url)
        assert attempt(sqlite_url, action_id).status == ActionStatus.DONE
        with session_factory(sqlite_url).begin() as session:
            mid = session.get(Action, action_id).message_id  # type: ignore[union-attr]
            labels = ["billing"] if still_wanted else ["spam"]
            ids = review.correct(session, mid, labels, "rita", rule_set=rules)
        assert ids == [action_id]
        assert attempt(sqlite_url, action_id).status == ActionStatus.DONE
    first, second = (json.loads(r.body) for r in server.requests)
    assert first["event"] == "message.routed" and "correction" not in first
    assert second["event"] == "decision.corrected" and second["wanted"] is still_wanted
    assert second["correction"]["by"] == "rita" and second["correction"]["old_labels"] == ["complaint"]
    assert second["decision"]["labels"] == labels and second["delivery_id"] != first["delivery_id"]


def test_a_batch_builds_the_same_documents_as_one_at_a_time(postgres_url: str) -> None:
    from connectors.webhook.payload import build_payload, build_payloads

    ids = [make_webhook_action(postgres_url) for _ in range(3)]
    with session_factory(postgres_url)() as session:
        items = [(action, action.message) for action in (session.get(Action, i) for i in ids) if action]
        batch = build_payloads(session, items, admin_url="https://admin")
        assert batch == {a.id: build_payload(session, a, m, admin_url="https://admin") for a, m in items}
        assert batch[ids[0]]["scores"] == {"complaint": 0.91, "spam": 0.02}
