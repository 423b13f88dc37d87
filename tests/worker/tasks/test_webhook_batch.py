"""The batch webhook task: concurrent deliveries, bounded per endpoint, failures re-scheduled alone."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from connectors.webhook.client import Reply
from tests.connectors.receiver import http_reply
from tests.connectors.webhook.test_delivery import SECRET, make_webhook_action
from worker.core.settings import get_settings
from worker.db.models import Action, ActionAttempt, ActionStatus
from worker.db.session import session_factory
from worker.outbox.registry import EXECUTORS
from worker.tasks.webhook_batch import deliver_many


@pytest.fixture
def endpoints(monkeypatch: pytest.MonkeyPatch, tmp_path: Any, postgres_url: str) -> Iterator[str]:
    """Two endpoints, concurrency 3 each, on Postgres (threads write at the same time)."""
    path = tmp_path / "webhooks.yaml"
    spec = {name: {"url": f"http://127.0.0.1:9/{name}", "secret": SECRET} for name in ("a", "b")}
    path.write_text(yaml.safe_dump({"endpoints": spec}))
    monkeypatch.setenv("MAILROUTE_WEBHOOKS_FILE", str(path))
    monkeypatch.setenv("MAILROUTE_DATABASE_URL", postgres_url)
    monkeypatch.setenv("MAILROUTE_WEBHOOK_CONCURRENCY", "3")
    get_settings.cache_clear()
    yield postgres_url
    get_settings.cache_clear()


class FakeReceiver:
    """Stands in for the HTTP POST: records the peak number in flight per endpoint."""

    def __init__(self, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.status, self.headers = status, headers or {}
        self.lock = threading.Lock()
        self.in_flight: dict[str, int] = {}
        self.peak: dict[str, int] = {}

    def post(self, url: str, **_: Any) -> Reply:
        name = url.rsplit("/", 1)[1]
        with self.lock:
            self.in_flight[name] = self.in_flight.get(name, 0) + 1
            self.peak[name] = max(self.peak.get(name, 0), self.in_flight[name])
        time.sleep(0.05)
        with self.lock:
            self.in_flight[name] -= 1
        return http_reply(self.status, self.headers)


def test_deliveries_run_concurrently_within_the_endpoint_limit(
    endpoints: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeReceiver()
    monkeypatch.setattr(EXECUTORS["webhook"], "post", fake.post)
    ids = [make_webhook_action(endpoints, target=name) for name in "ab" * 8]
    started = time.perf_counter()
    outcomes = deliver_many(ids, reschedule=lambda *_: pytest.fail("nothing to retry"))
    elapsed = time.perf_counter() - started
    assert outcomes == {"done": 16}
    assert fake.peak == {"a": 3, "b": 3}  # concurrent, never above the per-endpoint limit
    assert elapsed < 16 * 0.05  # faster than one at a time
    with session_factory(endpoints)() as session:
        assert {session.get(Action, i).status for i in ids} == {ActionStatus.DONE}  # type: ignore[union-attr]


def test_a_429_is_rescheduled_alone_after_its_retry_after(
    endpoints: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeReceiver(429, {"Retry-After": "120"})
    monkeypatch.setattr(EXECUTORS["webhook"], "post", fake.post)
    ids = [make_webhook_action(endpoints, target="a") for _ in range(2)]
    later: list[tuple[int, float]] = []
    assert deliver_many(ids, reschedule=lambda i, wait: later.append((i, wait))) == {"failed": 2}
    assert sorted(i for i, _ in later) == ids
    assert all(wait >= 119 for _, wait in later)  # Retry-After is a floor on the wait


def test_unknown_ids_are_reported_missing(endpoints: str) -> None:
    assert deliver_many([10**9]) == {"missing": 1}


def test_each_row_keeps_its_own_outcome_and_attempt(endpoints: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """One transaction for the batch, yet a receiver's 500 fails its row only, each with an attempt."""

    def post(url: str, **_: Any) -> Reply:
        return http_reply(500 if url.endswith("/b") else 200)

    monkeypatch.setattr(EXECUTORS["webhook"], "post", post)
    ids = [make_webhook_action(endpoints, target=name) for name in "abab"]
    later: list[int] = []
    assert deliver_many(ids, reschedule=lambda i, _: later.append(i)) == {"done": 2, "failed": 2}
    assert later == ids[1::2]
    with session_factory(endpoints)() as session:
        rows = [session.get(Action, i) for i in ids]
        assert [row.status for row in rows] == ["done", "failed"] * 2  # type: ignore[union-attr]
        assert all(row.next_attempt_at is not None for row in rows[1::2])  # type: ignore[union-attr]
        codes = session.execute(select(ActionAttempt.action_id, ActionAttempt.status_code)).all()
        assert sorted(codes) == sorted(zip(ids, [200, 500] * 2, strict=True))


def test_an_unexpected_error_rolls_the_batch_back_and_requeues_each_alone(
    endpoints: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def post(url: str, **_: Any) -> Reply:
        raise RuntimeError("a bug, not the network")

    monkeypatch.setattr(EXECUTORS["webhook"], "post", post)
    ids = [make_webhook_action(endpoints, target="a") for _ in range(2)]
    later: list[int] = []
    assert deliver_many(ids, reschedule=lambda i, _: later.append(i)) == {"error": 2}
    assert later == ids
    with session_factory(endpoints)() as session:
        assert {session.get(Action, i).status for i in ids} == {ActionStatus.PENDING}  # type: ignore[union-attr]


def test_other_kinds_are_left_alone(endpoints: str) -> None:
    action_id = make_webhook_action(endpoints, target="a")
    with session_factory(endpoints).begin() as session:
        session.get(Action, action_id).kind = "imap_keyword"  # type: ignore[union-attr]
    assert deliver_many([action_id]) == {"missing": 1}
