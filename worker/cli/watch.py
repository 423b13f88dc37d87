"""The long-running poller: one watcher thread per (account, folder) until Ctrl-C or SIGTERM, a
progress bar for a large backlog, and the periodic pass that re-queues stale work and alerts
over-limit review queues. ``mailroute poll`` (:mod:`worker.cli.poll`) runs it unless ``--once``.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import typer
from tqdm import tqdm

from connectors.imap.accounts import Account
from connectors.imap.watcher import FolderWatcher
from worker.core.settings import Settings
from worker.db.session import session_factory, session_scope

if TYPE_CHECKING:
    from worker.tasks.lostwork import LostWorkWatch

log = logging.getLogger("worker.cli.poll")  # the poller's records keep their logger
SWEEP_EVERY_S = 60.0


def backlog_bar(label: str, *, min_total: int = 200) -> Callable[[int, int], None]:
    """A progress callback that shows a bar only for a large backlog (a first start, a rescan)."""
    bar: list[tqdm] = []

    def update(done: int, total: int) -> None:
        if not bar and total >= min_total:
            bar.append(tqdm(total=total, unit="mail", desc=label, disable=None))
        if bar:
            bar[0].update(done)
            if bar[0].n >= bar[0].total:
                bar.pop().close()

    return update


def run_watchers(accounts: list[Account], settings: Settings, enqueue: Callable[[list[int]], None]) -> None:
    """One thread per (account, folder) until Ctrl-C; re-queues stale work every minute."""
    from worker.tasks.lostwork import CHECK_EVERY_S

    stop, sessions = threading.Event(), session_factory()
    watchers = [
        FolderWatcher(
            a, f, sessions, settings, enqueue=enqueue, stop=stop, progress=backlog_bar(f"{a.name}/{f}")
        )
        for a in accounts
        for f in a.folders
    ]
    threads = [threading.Thread(target=w.run, name=f"poll:{w.account.name}/{w.folder}") for w in watchers]
    for thread in threads:
        thread.start()
    stop_on_sigterm(stop)
    typer.echo(f"watching {len(watchers)} folder(s) of {len(accounts)} account(s); Ctrl-C to stop")
    watch = lost_work_watch(settings)
    last_sweep = time.monotonic()
    try:
        while any(t.is_alive() for t in threads):
            if stop.wait(CHECK_EVERY_S if watch else SWEEP_EVERY_S):
                break
            if watch is not None:  # the broker lost work (restart, empty queues): re-queue it now
                watch.check(session_scope, batch_size=settings.batch_size)
            if time.monotonic() - last_sweep >= SWEEP_EVERY_S:
                last_sweep = time.monotonic()
                sweep_and_alert(settings)
    except KeyboardInterrupt:
        typer.echo("stopping")
    finally:
        log.info("stopping %d watcher(s); their folder leases are released", len(watchers))
        stop.set()
        for thread in threads:
            thread.join(timeout=30)


def sweep_and_alert(settings: Settings) -> None:
    """The periodic pass: re-queue stale work, then alert over-limit review queues (when configured;
    the alert's HTTP client is only imported then)."""
    from worker.tasks.sweeper import sweep

    with session_scope() as db:
        sweep(db, batch_size=settings.batch_size)
    if not settings.review_alert_endpoint:  # off unless MAILROUTE_REVIEW_ALERT_ENDPOINT is set
        return
    from connectors.webhook.notify import alert_review_queues

    with session_scope() as db:
        alert_review_queues(db, settings)


def stop_on_sigterm(stop: threading.Event) -> None:
    """SIGTERM (docker stop, systemd, Kubernetes) stops the watchers like Ctrl-C: each releases its
    folder lease at once, so a replacement poller takes over without waiting for the lease to expire."""
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be installed from the main thread (e.g. in tests)

    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())  # no logging inside a handler


def lost_work_watch(settings: Settings) -> LostWorkWatch | None:
    """The broker watch of a poller with a Redis broker (None in-process or with another broker)."""
    from worker.tasks.lostwork import LostWorkWatch, redis_client

    client = redis_client(settings.broker_url)
    return LostWorkWatch(client) if client is not None else None
