"""Keep one folder in sync: poll, then IDLE until the server reports new mail (or poll on a timer).

Each watcher holds the folder's lease (one poller per folder across processes), re-issues IDLE before
the server's 29-minute limit, and on any network or server error reconnects with exponential backoff
and jitter — logging the loss of a connection once, and its recovery once.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from celery.exceptions import Retry
from imapclient import IMAPClient
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy.exc import InternalError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from connectors.imap.accounts import Account
from connectors.imap.client import close, connect, is_transient
from connectors.imap.lease import FolderLease, LeaseHeartbeat
from connectors.imap.poller import Enqueue, FolderConfig, has_news, poll_folder_once
from worker.core.errors import ConnectorError
from worker.core.settings import Settings

log = logging.getLogger(__name__)
STALL_S = 120.0  # a watcher with no progress this long is stuck: its heartbeat stops renewing the lease

FIRST_IDLE_SLICE_S = 1.0  # the first IDLE after a poll; each next one twice as long


class LeaseLostError(ConnectorError):
    """Another poller took this folder over (we stalled past the lease's expiry)."""


# The database restarting, full or read-only, and the broker away: wait and retry, never stop polling.
# The cursor only moves with a committed batch, and committed-but-unqueued mail is swept later.
# a database or broker outage; Retry: an in-process (eager) task that asked to be retried later
OUTAGES = (OperationalError, InternalError, BrokerError, Retry)


@dataclass
class Backoff:
    """Exponential backoff with equal jitter: the n-th delay lies in [d/2, d], d = base·2ⁿ ≤ cap."""

    base_s: float = 1.0
    cap_s: float = 300.0
    failures: int = 0

    def next_delay(self) -> float:
        delay = min(self.cap_s, self.base_s * 2**self.failures)
        self.failures += 1
        return delay / 2 + random.uniform(0, delay / 2)

    def reset(self) -> None:
        self.failures = 0


@dataclass
class WatchStats:
    polls: int = 0
    stored: int = 0
    connects: int = 0
    losses: int = 0
    last_wake: float = 0.0  # perf_counter() when IDLE last reported new mail
    errors: list[str] = field(default_factory=list)


class FolderWatcher:
    """Run :meth:`run` in a thread; set ``stop`` to end it (within about a second)."""

    def __init__(
        self,
        account: Account,
        folder: str,
        sessions: sessionmaker[Session],
        settings: Settings,
        *,
        enqueue: Enqueue | None,
        stop: threading.Event | None = None,
        connect_fn: Callable[[Account, Settings], IMAPClient] = connect,
        backoff: Backoff | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.account, self.folder, self.sessions, self.settings = account, folder, sessions, settings
        self.enqueue = enqueue
        self.stop = stop or threading.Event()
        self.connect_fn = connect_fn
        self.backoff = backoff or Backoff()
        self.lease = FolderLease(sessions, account.name, folder, settings.lease_ttl_s)
        self.config = FolderConfig.of(account, folder, settings)
        self.progress = progress
        self.stats = WatchStats()
        self.connected = False
        self._renewed = 0.0
        self._lost = False

    def run(self) -> None:
        heartbeat = LeaseHeartbeat(self.lease, alive=lambda: time.monotonic() - self._renewed < STALL_S)
        heartbeat.start()
        try:
            while not self.stop.is_set():
                if not self.lease.acquire():
                    self.stop.wait(self.lease.renew_every_s)  # someone else polls this folder
                    continue
                self._renewed = time.monotonic()
                try:
                    self.session_loop()
                except Exception as e:
                    if not (is_transient(e) or isinstance(e, (ConnectorError, *OUTAGES))):
                        raise
                    self.on_error(e)
        finally:
            heartbeat.stop()
            self.lease.release()

    def on_error(self, error: Exception) -> None:
        self.connected = False
        self.stats.errors.append(f"{type(error).__name__}: {error}")
        if not self._lost:
            self._lost = True
            self.stats.losses += 1
            log.warning(
                "%s/%s: connection lost (%s: %s); reconnecting with backoff",
                self.account.name,
                self.folder,
                type(error).__name__,
                error,
            )
        self.stop.wait(self.backoff.next_delay())

    def session_loop(self) -> None:
        client = self.connect_fn(self.account, self.settings)
        self.connected = True
        self.stats.connects += 1
        if self._lost:
            log.info("%s/%s: reconnected", self.account.name, self.folder)
            self._lost = False
        try:
            idle = client.has_capability("IDLE")
            while not self.stop.is_set():
                result = poll_folder_once(
                    client,
                    self.sessions,
                    self.config,
                    enqueue=self.enqueue,
                    before_batch=self.renew,
                    progress=self.progress,
                )
                self.backoff.reset()
                self.stats.polls += 1
                self.stats.stored += result.stored
                if idle:
                    self.wait_idle(client)
                else:
                    self.wait_interval()
        finally:
            self.connected = False
            close(client)

    def renew(self) -> None:
        """Mark progress (the heartbeat renews while there is some) and make sure the lease is still
        fresh before the next IMAP command; raise if it was lost."""
        self._renewed = time.monotonic()
        if self.lease.fresh:
            return
        if not self.lease.acquire():
            raise LeaseLostError(f"{self.account.name}/{self.folder}: lease taken over by another poller")

    def wait_interval(self) -> None:
        deadline = time.monotonic() + self.settings.poll_interval_s
        while not self.stop.is_set() and (left := deadline - time.monotonic()) > 0:
            self.stop.wait(min(left, self.lease.renew_every_s))
            self.renew()

    def wait_idle(self, client: IMAPClient) -> None:
        """IDLE until new mail, the renewal deadline, or stop; a dead socket surfaces at idle_done.

        The deadline is also a safety poll (``idle_poll_s``): a server that loses a notification
        (seen with Dovecot around a restart) delays a mail by that much at most, never forever.
        IDLE reports only changes made after it started (Dovecot tells the rest at DONE), so mail
        announced during the poll or arriving after its last command is asked for first (a NOOP),
        and the wait is cut into slices of 1, 2, 4 … s, each ended by DONE, which reports a mail
        that arrived just before the slice's IDLE began: it waits seconds, not ``idle_poll_s``.
        """
        if has_news(client):
            self.stats.last_wake = time.perf_counter()
            return
        deadline = time.monotonic() + min(self.settings.idle_renew_s, self.settings.idle_poll_s)
        slice_s = FIRST_IDLE_SLICE_S
        while not self.stop.is_set() and (left := deadline - time.monotonic()) > 0:
            if self.idle_slice(client, min(left, slice_s)):
                self.stats.last_wake = time.perf_counter()
                return
            slice_s *= 2

    def idle_slice(self, client: IMAPClient, duration: float) -> bool:
        """One IDLE of at most ``duration`` s; True when new mail was reported (or the socket died)."""
        client.idle()
        try:
            woke = self.idle_until(client, time.monotonic() + duration)
        finally:
            done = client.idle_done()  # the server's answer to DONE carries what it held back
        return woke or announces_mail(done[1] if isinstance(done, tuple) and len(done) > 1 else [])

    def idle_until(self, client: IMAPClient, deadline: float) -> bool:
        while not self.stop.is_set() and (left := deadline - time.monotonic()) > 0:
            timeout = min(left, self.lease.renew_every_s, 1.0)
            started = time.monotonic()
            responses = client.idle_check(timeout=timeout)
            if announces_mail(responses):
                return True
            if not responses and time.monotonic() - started < timeout / 2:
                return True  # woke with nothing to read: the server closed the connection
            self.renew()
        return False


def announces_mail(responses: Sequence[tuple[object, ...]]) -> bool:
    return any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses)
