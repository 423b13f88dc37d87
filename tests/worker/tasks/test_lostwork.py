"""LostWorkWatch decides from the broker's run_id and queue lengths (a fake Redis) when to sweep."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from worker.tasks.lostwork import LOST_AFTER_S, LostWorkWatch, redis_client


class FakeRedis:
    def __init__(self) -> None:
        self.run_id = "a"
        self.lengths: dict[str, int] = {}
        self.down = False

    def info(self, section: str) -> dict[str, Any]:
        if self.down:
            raise ConnectionError("refused")
        return {"run_id": self.run_id}

    def llen(self, queue: str) -> int:
        return self.lengths.get(queue, 0)


def test_a_restarted_broker_with_empty_queues_sweeps_everything_at_once() -> None:
    fake = FakeRedis()
    watch = LostWorkWatch(fake)
    fake.lengths["classify"] = 3
    assert watch.sweep_age() is None  # the broker holds work: nothing is lost
    fake.run_id, fake.lengths = "b", {}
    assert watch.sweep_age() == 0.0
    assert watch.sweep_age() == LOST_AFTER_S  # the same broker again, queues still empty


def test_a_restarted_broker_that_kept_its_queues_sweeps_nothing() -> None:
    fake = FakeRedis()
    watch = LostWorkWatch(fake)
    watch.sweep_age()
    fake.run_id, fake.lengths = "b", {"actions": 1}
    assert watch.sweep_age() is None


def test_an_unreachable_broker_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="worker.tasks.lostwork")
    fake = FakeRedis()
    fake.down = True
    assert LostWorkWatch(fake).check(lambda: pytest.fail("no sweep without a broker")) is None
    assert "broker unreachable" in caplog.text


def test_only_a_redis_broker_is_watched() -> None:
    assert redis_client(None) is None
    assert redis_client("memory://localhost/") is None
    assert redis_client("redis://127.0.0.1:6391/0") is not None
