"""Fault-suite fixtures: private Redis/Postgres, a scripted webhook receiver, a rule set with effects,
and :func:`audit` — the ledger check every fault test ends with.

The rule set gives every mail exactly one label (top-1, threshold 0) and so exactly two effects: an
IMAP keyword and a webhook to the loopback receiver. "Exactly once in effect" is then checkable:
one decision per mail, one action row per (mail, effect), every webhook key received at least once
(a redelivery repeats the same ``Idempotency-Key``, which a receiver drops), no key unknown.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.chaos.services import PrivatePostgres, PrivateRedis
from tests.conftest import REPO, require_service
from tests.connectors.conftest import dovecot  # noqa: F401 - the private Dovecot fixture

CHAOS_RULES = """\
name: chaos
policy:
  mode: top_k
  top_k: 1
categories:
  - name: alpha
    description: project status, milestones and plans
    actions:
      - {kind: imap_keyword, target: alpha}
      - {kind: webhook, target: hook}
  - name: beta
    description: invoices, payments and orders
    actions:
      - {kind: imap_keyword, target: beta}
      - {kind: webhook, target: hook}
"""
HOOK_SECRET = "chaos-hook-secret-0123456789"  # a throwaway test secret


def chaos_mail(i: int, tag: str = "chaos", *, pad: int = 0) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"sender{i}@example.com"
    msg["To"] = "team@example.com"
    msg["Subject"] = f"Status {tag} {i}"
    msg["Message-ID"] = f"<{tag}-{i}@example.com>"
    msg.set_content(f"Mail {i}: the migration is on track; invoice {i * 7} is paid.\n" + "Details. " * pad)
    return msg.as_bytes()


def write_rules(tmp: Path) -> Path:
    path = tmp / "chaos-rules.yaml"
    path.write_text(CHAOS_RULES)
    return path


def write_webhooks(tmp: Path, url: str, *, timeout_s: float = 2.0, max_attempts: int = 8) -> Path:
    path = tmp / "webhooks.yaml"
    path.write_text(
        f"endpoints:\n  hook:\n    url: {url}\n    secret: {HOOK_SECRET}\n"
        f"    timeout_s: {timeout_s}\n    max_attempts: {max_attempts}\n"
    )
    return path


def worker_env(
    db: str, broker: str, tmp: Path, *, hook_url: str | None = None, **extra: str
) -> dict[str, str]:
    """Environment of a real worker subprocess (and of this process, for producers/sweeps)."""
    env = {
        "MAILROUTE_DATABASE_URL": db,
        "MAILROUTE_BROKER_URL": broker,
        "MAILROUTE_BACKEND": "constant",
        "MAILROUTE_RULES_PATH": str(write_rules(tmp)),
        "MAILROUTE_BROKER_VISIBILITY_TIMEOUT_S": "5",  # a dead worker's tasks come back quickly
        "MAILROUTE_WEBHOOK_BACKOFF_BASE_S": "0.5",
        "MAILROUTE_WEBHOOK_BACKOFF_CAP_S": "2",
        "HF_HUB_OFFLINE": "1",
    }
    if hook_url:
        env["MAILROUTE_WEBHOOKS_FILE"] = str(write_webhooks(tmp, hook_url))
    env.update(extra)
    return env


def use_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """Make this process a producer with the worker's settings (send_task, sweep)."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    from worker.core.settings import get_settings
    from worker.tasks.app import app

    get_settings.cache_clear()
    # the module-level app was configured at import time (maybe eager, maybe another test's broker):
    # point it at this test's broker, with fresh connection pools, and restore it afterwards
    reset_pools(app)
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setitem(app.conf, "broker_url", env["MAILROUTE_BROKER_URL"])
    monkeypatch.setitem(app.conf, "broker_transport_options", {"visibility_timeout": 5})


@pytest.fixture(autouse=True)
def _fresh_celery_pools() -> Iterator[None]:
    """After each chaos test (and after monkeypatch restored the app's config), drop the connection
    pools it used: they point at a private broker that is gone, and later tests must get fresh ones."""
    yield
    from worker.tasks.app import app

    reset_pools(app)


def reset_pools(app) -> None:  # type: ignore[no-untyped-def]
    """Close and forget every connection/producer pool: the app's and kombu's global registry (which
    hands the same pool back for the same broker URL, closed or not)."""
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def producer():  # type: ignore[no-untyped-def]
    from worker.tasks.app import make_app

    return make_app()


@dataclass
class Audit:
    messages: int = 0
    decided: int = 0
    duplicate_decisions: int = 0
    stuck: list[str] = field(default_factory=list)  # undecided with no error, or pending actions
    failed_visible: list[str] = field(default_factory=list)  # failed with an error the admin shows
    actions: int = 0
    actions_done: int = 0
    duplicate_actions: int = 0
    webhook_keys: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"messages={self.messages} decided={self.decided} dup_decisions={self.duplicate_decisions} "
            f"actions={self.actions} done={self.actions_done} dup_actions={self.duplicate_actions} "
            f"stuck={self.stuck[:5]} failed={self.failed_visible[:5]}"
        )


def audit(db_url: str) -> Audit:
    """The ledger: decisions per mail, action rows per effect, and anything stuck without an error."""
    from worker.db.models import Action, ActionStatus, Decision, Message, MessageStatus
    from worker.db.session import session_factory

    out = Audit()
    with session_factory(db_url)() as s:
        out.messages = int(s.scalar(select(func.count(Message.id))) or 0)
        per_message = s.execute(
            select(Decision.message_id, func.count())
            .where(Decision.mode == "live")
            .group_by(Decision.message_id)
        ).all()
        out.decided = len(per_message)
        out.duplicate_decisions = sum(n - 1 for _, n in per_message)
        for id_, status, error in s.execute(select(Message.id, Message.status, Message.error)):
            if status == MessageStatus.DECIDED:
                continue
            (out.failed_visible if status == MessageStatus.FAILED and error else out.stuck).append(
                f"message {id_} {status} {error or ''}"[:200]
            )
        per_effect = s.execute(
            select(Action.message_id, Action.kind, Action.target, Action.desired, func.count()).group_by(
                Action.message_id, Action.kind, Action.target, Action.desired
            )
        ).all()
        out.duplicate_actions = sum(row[-1] - 1 for row in per_effect)
        for id_, kind, status, error, key in s.execute(
            select(Action.id, Action.kind, Action.status, Action.last_error, Action.key)
        ):
            out.actions += 1
            if status in (ActionStatus.DONE, ActionStatus.SKIPPED):
                out.actions_done += 1
            elif status in (ActionStatus.FAILED, ActionStatus.DEAD) and error:
                out.failed_visible.append(f"action {id_} {kind} {status} {error}"[:200])
            else:
                out.stuck.append(f"action {id_} {kind} {status}")
            if kind == "webhook":
                out.webhook_keys.append(key)
    return out


def check_webhook_effects(result: Audit, received_keys: list[str]) -> None:
    """Every webhook action reached the receiver; nothing arrived that no action row explains."""
    done_keys = set(result.webhook_keys)
    got = Counter(received_keys)
    assert set(got) <= done_keys, f"unknown keys arrived: {sorted(set(got) - done_keys)[:5]}"
    missing = done_keys - set(got)
    assert not missing, f"{len(missing)} webhook actions never reached the receiver"


def sweep_now(db_url: str) -> tuple[int, int]:
    """``mailroute requeue`` with no grace period: re-queue everything undecided or unfinished."""
    from worker.db.session import session_scope
    from worker.tasks.sweeper import sweep

    with session_scope(db_url) as session:
        stale = sweep(session, older_than_s=0, batch_size=8)
    return len(stale.message_ids), len(stale.action_ids)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    require_service(PrivateRedis.available(), "redis-server")
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def persistent_redis() -> Iterator[PrivateRedis]:
    """A private Redis with an append-only file, like docker-compose's: a restart keeps the queues."""
    require_service(PrivateRedis.available(), "redis-server")
    server = PrivateRedis(persistent=True)
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    require_service(PrivatePostgres.available(), "Postgres binaries (initdb, pg_ctl)")
    server = PrivatePostgres()
    server.init()
    server.start()
    yield server
    from worker.db.session import _engine_for

    _engine_for.cache_clear()
    server.cleanup()


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    from worker.core.settings import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


__all__ = ["REPO", "audit", "chaos_mail", "worker_env"]
