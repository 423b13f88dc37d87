"""Latency under continuous arrival through IDLE on a real Dovecot: no mail waits for the safety poll.

Bursts of 100 mails, APPENDed one by one a few seconds apart, race the poller's SEARCH/FETCH; a
mail announced during a poll must be read at once, not after ``idle_poll_s`` (300 s).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from connectors.imap.watcher import FolderWatcher
from tests.connectors.conftest import ImapEnv, imap, make_mail
from tests.connectors.imap.test_watcher import wait_for
from worker.db.models import Decision, Message
from worker.db.session import session_factory
from worker.tasks import enqueue_classify

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BURSTS, BURST_SIZE, GAP_S = 5, 100, 2.0


def test_slowest_mail_of_continuous_bursts_is_decided_within_10_s(imap_env: ImapEnv) -> None:
    settings = imap_env.settings.model_copy(
        update={"poll_interval_s": 3600.0, "idle_poll_s": 300.0, "lease_ttl_s": 30.0}
    )
    sessions = session_factory(imap_env.db_url)
    watcher = FolderWatcher(imap_env.account(), "INBOX", sessions, settings, enqueue=enqueue_classify)
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    arrived: dict[str, datetime] = {}
    try:
        assert wait_for(lambda: watcher.stats.polls >= 1)
        client = imap(imap_env.server)
        for burst in range(BURSTS):
            for i in range(burst * BURST_SIZE, (burst + 1) * BURST_SIZE):
                client.append("INBOX", make_mail(i))
                arrived[f"t-{i}@example.com"] = datetime.now(UTC)
            time.sleep(GAP_S)
        client.logout()
        total = BURSTS * BURST_SIZE

        def all_decided() -> bool:
            with sessions() as db:
                return len(db.scalars(select(Decision.id)).all()) >= total

        assert wait_for(all_decided, timeout=30), watcher.stats
    finally:
        watcher.stop.set()
        thread.join(timeout=10)
    with sessions() as db:
        rows = db.execute(
            select(Message.message_id, Decision.created_at).join(Decision, Decision.message_id == Message.id)
        ).all()
    assert len(rows) == total
    latencies = [
        (at.replace(tzinfo=at.tzinfo or UTC) - arrived[str(mid)]).total_seconds() for mid, at in rows
    ]
    assert max(latencies) < 10, f"slowest arrival→decision {max(latencies):.1f} s"
