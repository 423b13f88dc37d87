"""Keep one folder in sync: poll, then IDLE until the server reports new mail (or poll on a timer).

Each watcher holds the folder's lease (one poller per folder across processes), re-issues IDLE before
the server's 29-minute limit (:mod:`connectors.imap.idle`), and on any network or server error
reconnects with exponential backoff and jitter (:mod:`connectors.imap.recovery`) — logging the loss of
a connection once, and its recovery once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from imapclient import IMAPClient
from sqlalchemy.orm import Session, sessionmaker

from connectors.imap.accounts import Account
from connectors.imap.client import close, connect, is_transient
from connectors.imap.folder_config import Enqueue, FolderConfig
from connectors.imap.idle import IdleWaits
from connectors.imap.lease import FolderLease, LeaseHeartbeat
from connectors.imap.poller import poll_folder_once
from connectors.imap.recovery import OUTAGES, Backoff, WatchStats
from worker.core.errors import ConnectorError
from worker.core.settings import Settings

log = logging.getLogger(__name__)
STALL_S = 120.0  # a watcher with no progress this long is stuck: its heartbeat stops renewing the lease


class LeaseLostError(ConnectorError):
    """Another poller took this folder over (we stalled past the lease's expiry)."""


class FolderWatcher(IdleWaits):
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
