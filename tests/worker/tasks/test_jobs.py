"""The classify task in-process (no broker): an outage while its actions run inline never fails it."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from worker.pipeline.classify import BatchResult
from worker.tasks import jobs


def test_an_outage_in_inline_actions_leaves_them_to_the_sweeper(monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = SimpleNamespace(
        settings=SimpleNamespace(
            eager=True, max_chars=4000, shadow_rules_path=None, subject_boilerplate_min=3
        ),
        profiles=None,
        scorer=None,
        rule_set=None,
    )
    decided = BatchResult(decided=[1, 2], action_kinds={10: "imap_keyword", 11: "imap_keyword"})

    def locked(*_: Any, **__: Any) -> None:
        raise OperationalError("UPDATE actions", {}, Exception("database is locked"))

    monkeypatch.setattr(jobs, "get_runtime", lambda: runtime)
    monkeypatch.setattr(jobs, "learned_thresholds_for", lambda *_a, **_k: {})
    monkeypatch.setattr(jobs, "classify_batch", lambda *_a, **_k: decided)
    monkeypatch.setattr(jobs, "session_scope", _null_scope)
    monkeypatch.setattr(jobs, "enqueue_actions", locked)
    assert jobs.classify.run([1, 2]) == {"decided": 2, "skipped": 0, "failed": 0}
    runtime.settings.eager = False  # with a broker the error is the task's: it retries
    with pytest.raises(Exception):  # noqa: B017 - OperationalError or Celery's Retry wrapping it
        jobs.classify.run([1, 2])


class _null_scope:
    def __init__(self, *_: Any) -> None:
        pass

    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: Any) -> None:
        return None
