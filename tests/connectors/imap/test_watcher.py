"""The IDLE loop against a real Dovecot: woken by new mail, survives a restart, one poller per folder."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from connectors.imap.client import connect
from connectors.imap.watcher import FolderWatcher
from tests.connectors.conftest import ImapEnv, append, make_mail, watching
from tests.connectors.dovecot import Dovecot
from worker.core.settings import Settings
from worker.db.models import Decision
from worker.db.session import session_factory
from worker.tasks import enqueue_classify

pytestmark = pytest.mark.integration


def decided(db_url: str) -> dict[int, int]:
    with session_factory(db_url)() as db:
        rows = db.execute(select(Decision.message_id, func.count()).group_by(Decision.message_id)).all()
    return {message_id: n for message_id, n in rows}


def wait_for(predicate: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_idle_wakes_the_poller_for_a_new_mail(imap_env: ImapEnv) -> None:
    with watching(imap_env) as watcher:
        assert wait_for(lambda: watcher.stats.polls >= 1)
        started = time.monotonic()
        append(imap_env.server, [make_mail(1)])
        assert wait_for(lambda: len(decided(imap_env.db_url)) == 1, timeout=10)
        latency = time.monotonic() - started
    assert latency < 5, "the poll interval is an hour: only IDLE can have woken the poller"


def test_interval_polling_when_the_server_has_no_idle(imap_env: ImapEnv) -> None:
    def no_idle(account, settings: Settings):  # type: ignore[no-untyped-def]
        client = connect(account, settings)
        client.has_capability = lambda name: name.upper() != "IDLE"  # type: ignore[method-assign]
        return client

    with watching(imap_env, connect_fn=no_idle, poll_interval_s=0.3) as watcher:
        assert wait_for(lambda: watcher.stats.polls >= 1)
        append(imap_env.server, [make_mail(1), make_mail(2)])
        assert wait_for(lambda: len(decided(imap_env.db_url)) == 2)
    assert watcher.stats.polls >= 2


def deliver_to_maildir(server: Dovecot, raw: bytes, name: str) -> None:
    """Drop a mail into the Maildir while the server is down, as a local delivery agent would."""
    new = server.maildir / "new"
    path = Path(new) / f"{int(time.time())}.{name}.test"
    path.write_bytes(raw)
    if server.private_root:
        import os
        import pwd

        entry = pwd.getpwnam("dovecot")
        os.chown(path, entry.pw_uid, entry.pw_gid)


def test_server_restart_during_idle_reconnects_and_catches_up(
    imap_env: ImapEnv, caplog: pytest.LogCaptureFixture
) -> None:
    append(imap_env.server, [make_mail(i) for i in range(5)])
    with watching(imap_env) as watcher:
        assert wait_for(lambda: len(decided(imap_env.db_url)) == 5)
        time.sleep(0.3)  # in IDLE now
        imap_env.server.stop()
        for i in range(5, 8):
            deliver_to_maildir(imap_env.server, make_mail(i), f"down{i}")
        time.sleep(1.5)  # a few failed reconnects while the server is down
        imap_env.server.start()
        append(imap_env.server, [make_mail(i) for i in range(8, 10)])
        assert wait_for(lambda: len(decided(imap_env.db_url)) == 10, timeout=20), watcher.stats
    per_message = decided(imap_env.db_url)
    assert set(per_message.values()) == {1}
    assert watcher.stats.losses == 1 and watcher.stats.connects >= 2
    lost_lines = [r for r in caplog.records if "connection lost" in r.getMessage()]
    assert len(lost_lines) == 1, "each loss of connection is logged once, not per retry"


def test_killed_connection_is_reopened_and_nothing_is_missed(imap_env: ImapEnv) -> None:
    with watching(imap_env) as watcher:
        assert wait_for(lambda: watcher.stats.polls >= 1)
        time.sleep(0.3)
        assert imap_env.server.kill_connections() >= 1
        append(imap_env.server, [make_mail(i) for i in range(3)])
        assert wait_for(lambda: len(decided(imap_env.db_url)) == 3), watcher.stats
    assert watcher.stats.losses == 1 and watcher.stats.connects == 2


@pytest.mark.parametrize("db", ["sqlite", "postgres"])
def test_two_pollers_never_fetch_the_same_folder_at_once(
    db: str, dovecot: Dovecot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    from tests.connectors.conftest import install_env, teardown_env

    env = install_env(monkeypatch, dovecot, str(request.getfixturevalue(f"{db}_url")), tmp_path)
    try:
        with watching(env) as first:
            assert wait_for(lambda: first.connected)
            with watching(env) as second:
                append(dovecot, [make_mail(i) for i in range(20)])
                assert wait_for(lambda: len(decided(env.db_url)) == 20)
                time.sleep(1.5)  # past a lease renewal
                assert second.stats.connects == 0 and not second.connected
            first.stop.set()  # releases the lease: a third poller takes over
            with watching(env) as third:
                assert wait_for(lambda: third.connected, timeout=10)
                append(dovecot, [make_mail(i) for i in range(20, 25)])
                assert wait_for(lambda: len(decided(env.db_url)) == 25)
        assert set(decided(env.db_url).values()) == {1}
    finally:
        teardown_env()


class SilentIdle:
    """A connection whose IDLE never reports anything (a server that lost a notification)."""

    def __init__(self) -> None:
        self.idles = 0
        self.done = 0

    def noop(self) -> tuple[bytes, list[tuple[int, bytes]]]:
        return b"NOOP completed", []

    def idle(self) -> None:
        self.idles += 1

    def idle_check(self, timeout: float) -> list[tuple[int, bytes]]:
        time.sleep(timeout)
        return []

    def idle_done(self) -> None:
        self.done += 1


def test_idle_ends_at_the_safety_poll_even_when_the_server_stays_silent(imap_env: ImapEnv) -> None:
    settings = imap_env.settings.model_copy(update={"idle_poll_s": 0.5, "lease_ttl_s": 30.0})
    watcher = FolderWatcher(
        imap_env.account(), "INBOX", session_factory(imap_env.db_url), settings, enqueue=None
    )
    watcher._renewed = time.monotonic()
    client = SilentIdle()
    started = time.monotonic()
    watcher.wait_idle(client)  # type: ignore[arg-type]
    assert 0.4 < time.monotonic() - started < 5 and client.idles == client.done == 1


def test_mail_announced_during_the_poll_is_read_without_waiting_for_the_safety_poll(
    imap_env: ImapEnv,
) -> None:
    """A mail APPENDed while the poller FETCHes is announced in that FETCH's answer, not by IDLE."""
    armed = threading.Event()

    def racing(account, settings: Settings):  # type: ignore[no-untyped-def]
        client = connect(account, settings)
        fetch = client.fetch

        def fetch_and_race(*args, **kwargs):  # type: ignore[no-untyped-def]
            if armed.is_set():
                armed.clear()
                append(imap_env.server, [make_mail(2)])  # arrives between SEARCH and the next IDLE
            return fetch(*args, **kwargs)

        client.fetch = fetch_and_race  # type: ignore[method-assign]
        return client

    with watching(imap_env, connect_fn=racing, idle_poll_s=300.0, lease_ttl_s=30.0) as watcher:
        assert wait_for(lambda: watcher.stats.polls >= 1)
        armed.set()
        append(imap_env.server, [make_mail(1)])
        assert wait_for(lambda: len(decided(imap_env.db_url)) == 2, timeout=10), watcher.stats
        assert not armed.is_set()


def test_mail_arriving_while_the_batch_is_classified_in_process_is_read_at_once(imap_env: ImapEnv) -> None:
    """Embedded mode: a mail APPENDed during the poll's enqueue (after its last FETCH) wakes no IDLE."""
    appended = threading.Event()

    def enqueue_and_race(ids: list[int]) -> None:
        enqueue_classify(ids)
        if not appended.is_set():
            appended.set()
            append(imap_env.server, [make_mail(2)])  # after the poll's last command, before IDLE

    with watching(imap_env, enqueue=enqueue_and_race, idle_poll_s=300.0, lease_ttl_s=30.0) as watcher:
        assert wait_for(lambda: watcher.stats.polls >= 1)
        append(imap_env.server, [make_mail(1)])
        assert wait_for(lambda: len(decided(imap_env.db_url)) == 2, timeout=10), watcher.stats


def test_mail_arriving_just_before_idle_starts_waits_one_slice_not_the_safety_poll(imap_env: ImapEnv) -> None:
    """Dovecot's IDLE reports only later changes; a mail landing between the check and IDLE shows at DONE."""
    armed = threading.Event()

    def late(account, settings: Settings):  # type: ignore[no-untyped-def]
        client = connect(account, settings)
        noop = client.noop

        def noop_then_race():  # type: ignore[no-untyped-def]
            answer = noop()
            if armed.is_set():
                armed.clear()
                append(imap_env.server, [make_mail(2)])  # after the check, before IDLE
            return answer

        client.noop = noop_then_race  # type: ignore[method-assign]
        return client

    with watching(imap_env, connect_fn=late, idle_poll_s=300.0, lease_ttl_s=30.0) as watcher:
        assert wait_for(lambda: watcher.stats.polls >= 1)
        armed.set()  # the next NOOP check is followed by a mail: after the poll of this one, at the latest
        append(imap_env.server, [make_mail(1)])
        assert wait_for(lambda: len(decided(imap_env.db_url)) == 2, timeout=10), watcher.stats
        assert not armed.is_set()
