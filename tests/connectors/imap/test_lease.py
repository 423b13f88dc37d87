"""Folder leases with a heartbeat: a slow holder keeps its folder, a stuck or dead one loses it."""

from __future__ import annotations

import time

from connectors.imap.lease import FolderLease, LeaseHeartbeat
from worker.cli.db import upgrade
from worker.db.session import session_factory


def test_the_heartbeat_keeps_a_slow_holder_and_lets_a_stuck_one_go(sqlite_url: str) -> None:
    upgrade(url=sqlite_url)
    sessions = session_factory(sqlite_url)
    holder, other = (FolderLease(sessions, "acct", "INBOX", 0.9) for _ in range(2))
    assert holder.acquire()
    alive = [True]
    beat = LeaseHeartbeat(holder, alive=lambda: alive[0])
    beat.start()
    try:
        time.sleep(2.0)  # a slow IMAP command: over twice the TTL without the holder renewing itself
        assert holder.fresh and not other.acquire(), "the heartbeat must keep the lease"
        alive[0] = False  # the holder is stuck: no more renewals
        time.sleep(1.5)
        assert not holder.fresh
        assert other.acquire(), "a stuck holder's lease runs out"
        holder.renew_if_held()
        assert not holder.held  # the heartbeat never takes a lease back
    finally:
        beat.stop()
        beat.join(timeout=5)
