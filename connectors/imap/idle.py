"""A watcher's wait between polls: IDLE until the server reports new mail, or a timer without IDLE.

IDLE is re-issued before the server's 29-minute limit (``idle_renew_s``). :class:`IdleWaits` is mixed
into :class:`connectors.imap.watcher.FolderWatcher`, which supplies the attributes declared below.
"""

from __future__ import annotations

import threading
import time

from imapclient import IMAPClient

from connectors.imap.announcements import announces_mail, has_news
from connectors.imap.lease import FolderLease
from connectors.imap.recovery import WatchStats
from worker.core.settings import Settings

FIRST_IDLE_SLICE_S = 1.0  # the first IDLE after a poll; each next one twice as long


class IdleWaits:
    """The waits of :class:`connectors.imap.watcher.FolderWatcher` between two polls of its folder."""

    settings: Settings
    stop: threading.Event
    lease: FolderLease
    stats: WatchStats

    def renew(self) -> None:
        """Provided by the watcher: mark progress and check the lease before the next command."""
        raise NotImplementedError

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
