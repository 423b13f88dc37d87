"""The IMAP side under faults: the server restarted and the connection cut during IDLE and during FETCH.

An in-process :class:`FolderWatcher` against a private Dovecot, routing eagerly (SQLite, constant
scorer, the chaos rule set: an IMAP keyword and a webhook per mail). The FETCH faults are injected
at the exact command through a wrapped client, so they land mid-batch every run. After each run:
every appended mail decided once, its keyword set on the server, its webhook received, the cursor
at the last UID.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connectors.imap.client import connect
from connectors.imap.watcher import FolderWatcher
from tests.chaos.conftest import (
    audit,
    chaos_mail,
    check_webhook_effects,
    sweep_now,
    write_rules,
    write_webhooks,
)
from tests.chaos.services import wait_for
from tests.connectors.conftest import ImapEnv, append, imap, install_env, teardown_env, watching
from tests.connectors.dovecot import Dovecot
from tests.connectors.receiver import Receiver, Reply, receiver
from worker.core.settings import Settings
from worker.db.models import Decision, Message, PollCursor
from worker.db.session import session_factory
from worker.scoring.backends.constant import ConstantScorer

pytestmark = [pytest.mark.chaos, pytest.mark.integration, pytest.mark.timeout(240)]

# a safety poll every 10 s (production: idle_poll_s, 5 min) catches a notification a restarting server
# never sent, within the test's time
CHAOS: dict[str, Any] = {"lease_ttl_s": 5.0, "idle_poll_s": 10.0, "join_s": 15.0}


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver(Reply(200)) as server:
        yield server


@pytest.fixture
def chaos_imap(
    dovecot: Dovecot, sqlite_url: str, hook: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ImapEnv]:
    env = install_env(
        monkeypatch,
        dovecot,
        sqlite_url,
        tmp_path,
        scorer=ConstantScorer(),
        rules_path=write_rules(tmp_path),
        webhooks_file=write_webhooks(tmp_path, hook.url),
        imap_fetch_batch=10,
        imap_timeout_s=10,
    )
    yield env
    teardown_env()


def diagnose(env: ImapEnv, watcher: FolderWatcher) -> str:
    """What the watcher is doing right now: its stats and its thread's stack (for a stuck run)."""
    import sys
    import traceback

    stacks = [
        "".join(traceback.format_stack(frame))
        for ident, frame in sys._current_frames().items()
        if any(t.ident == ident and t.name.startswith("Thread") for t in threading.enumerate())
    ]
    return f"{audit(env.db_url).summary()}\n{watcher.stats}\n" + "\n---\n".join(stacks)[-4000:]


def n_decided(env: ImapEnv) -> int:
    return audit(env.db_url).decided


def check_all(env: ImapEnv, hook: Receiver, n: int) -> None:
    # actions that hit the outage are FAILED with their error; the sweeper (every minute in
    # `mailroute poll`) re-runs them: here at once, eagerly
    for _ in range(3):
        result = audit(env.db_url)
        if result.actions_done == result.actions:
            break
        sweep_now(env.db_url)
    result = audit(env.db_url)
    assert result.messages == n and result.decided == n and result.duplicate_decisions == 0, result.summary()
    assert result.duplicate_actions == 0 and not result.stuck, result.summary()
    assert result.actions_done == result.actions == 2 * n, result.summary()
    check_webhook_effects(result, [r.headers["idempotency-key"] for r in hook.requests])
    with session_factory(env.db_url)() as s:
        rows = s.execute(
            select(Message.uid, Decision.labels).join(Decision, Decision.message_id == Message.id)
        ).all()
        cursor = s.scalar(select(PollCursor.last_uid))
    client = imap(env.server)
    try:
        client.select_folder("INBOX", readonly=True)
        flags = client.get_flags([uid for uid, _ in rows])
        uids = client.search("ALL")
    finally:
        client.logout()
    assert cursor == max(uids)
    for uid, labels in rows:  # the keyword effect is on the server copy of every mail
        assert labels[0].encode() in flags[uid], (uid, labels, flags[uid])


def test_connection_cut_and_server_restarted_during_idle(chaos_imap: ImapEnv, hook: Receiver) -> None:
    env, server = chaos_imap, chaos_imap.server
    with watching(env, **CHAOS) as watcher:
        assert wait_for(lambda: watcher.stats.polls >= 1, 30)
        append(server, [chaos_mail(i, "idle") for i in range(20)])
        assert wait_for(lambda: n_decided(env) == 20, 60), audit(env.db_url).summary()
        for round_ in range(2):  # cut the connection while the watcher sits in IDLE, then mail arrives
            connects = watcher.stats.connects
            assert server.kill_connections() >= 1
            assert wait_for(lambda c=connects: watcher.stats.connects > c and watcher.connected, 30)
            append(server, [chaos_mail(100 * (round_ + 1) + i, "idle") for i in range(10)])
        server.restart(down_s=1.0)  # the whole server goes away during IDLE
        append(server, [chaos_mail(500 + i, "idle") for i in range(10)])
        assert wait_for(lambda: n_decided(env) == 50, 120), diagnose(env, watcher)
        assert watcher.stats.losses >= 2
    check_all(env, hook, 50)


class FaultyFetch:
    """Wraps a client: before chosen FETCH calls (counted across reconnects), run a fault first."""

    def __init__(self, client: Any, plan: dict[int, Callable[[], object]], counter: list[int]) -> None:
        self._client, self._plan, self._counter = client, plan, counter

    def fetch(self, *args: Any, **kwargs: Any) -> Any:
        self._counter[0] += 1
        fault = self._plan.get(self._counter[0])
        if fault is not None:
            fault()  # the server side breaks; the real FETCH below then fails on the wire
        return self._client.fetch(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_connection_cut_and_server_restarted_during_fetch(chaos_imap: ImapEnv, hook: Receiver) -> None:
    env, server = chaos_imap, chaos_imap.server
    append(server, [chaos_mail(i, "fetch") for i in range(60)])  # 6 batches of 10 on the first poll
    counter = [0]
    # each batch makes two FETCHes (sizes + Message-IDs, then bodies): cut in both kinds, restart once
    plan: dict[int, Callable[[], object]] = {
        4: server.kill_connections,
        9: server.kill_connections,
        15: lambda: server.restart(down_s=0.5),
    }

    def faulty_connect(account: Any, settings: Settings) -> Any:
        return FaultyFetch(connect(account, settings), plan, counter)

    with watching(env, connect_fn=faulty_connect, **CHAOS) as watcher:
        assert wait_for(lambda: n_decided(env) == 60, 120), audit(env.db_url).summary()
        assert watcher.stats.losses >= 2 and watcher.stats.connects >= 3, watcher.stats
    assert counter[0] >= 15, "every planned fault fired"
    check_all(env, hook, 60)
