"""``mailroute poll`` as a real process on Dovecot and Postgres: SIGTERM releases its folder leases at
once, and a poller killed -9 is taken over within the lease TTL (15 s), each mail decided once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.chaos.services import kill_group, wait_for
from tests.conftest import REPO
from tests.connectors.conftest import append, make_mail, write_accounts
from tests.connectors.dovecot import Dovecot
from worker.db.models import Decision, Lease
from worker.db.session import session_factory

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(180)]
POLL = [sys.executable, "-c", "from worker.cli import main; main()", "poll"]


def poll_env(server: Dovecot, db_url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILROUTE_")}
    env.update(
        MAILROUTE_DATABASE_URL=db_url,
        MAILROUTE_ACCOUNTS_FILE=str(write_accounts(tmp_path / "accounts.yaml", server, ["INBOX"])),
        MAILROUTE_ALLOW_PLAINTEXT="true",
        MAILROUTE_BACKEND="constant",
        MAILROUTE_RULES_PATH=str(REPO / "rules" / "examples" / "office.yaml"),
        TEST_IMAP_PASSWORD=server.password,
        HF_HUB_OFFLINE="1",
    )
    return env


def start_poller(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        POLL, cwd=REPO, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
    )


def lease_owners(db_url: str) -> list[str]:
    with session_factory(db_url)() as session:
        return list(session.scalars(select(Lease.owner)))


def decisions(db_url: str) -> int:
    with session_factory(db_url)() as session:
        return int(session.scalar(select(func.count(Decision.id))) or 0)


def test_sigterm_releases_the_folder_leases_at_once(
    dovecot: Dovecot, postgres_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "poll.log"
    proc = start_poller(poll_env(dovecot, postgres_url, tmp_path), log)
    try:
        assert wait_for(lambda: len(lease_owners(postgres_url)) == 1, 60, 0.2), log.read_text()[-3000:]
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    finally:
        kill_group(proc, signal.SIGKILL)
    assert proc.returncode == 0, log.read_text()[-3000:]
    assert lease_owners(postgres_url) == [], "SIGTERM must release the leases, not leave them to expire"


def test_a_poller_killed_9_is_taken_over_within_the_lease_ttl(
    dovecot: Dovecot, postgres_url: str, tmp_path: Path
) -> None:
    env = poll_env(dovecot, postgres_url, tmp_path)
    log = tmp_path / "poll.log"
    first = start_poller(env, log)
    second = None
    try:
        assert wait_for(lambda: len(lease_owners(postgres_url)) == 1, 60, 0.2), log.read_text()[-3000:]
        append(dovecot, [make_mail(i, tag="before") for i in range(3)])
        assert wait_for(lambda: decisions(postgres_url) == 3, 30, 0.2), log.read_text()[-3000:]
        (held_by,) = lease_owners(postgres_url)
        kill_group(first, signal.SIGKILL)  # no chance to release: the lease must run out
        killed_at = time.monotonic()
        second = start_poller(env, log)
        append(dovecot, [make_mail(i, tag="after") for i in range(3)])
        assert wait_for(lambda: decisions(postgres_url) == 6, 45, 0.2), log.read_text()[-3000:]
        taken_over_s = time.monotonic() - killed_at
        owners = lease_owners(postgres_url)
        assert len(owners) == 1 and owners != [held_by]
    finally:
        kill_group(first, signal.SIGKILL)
        if second is not None:
            kill_group(second, signal.SIGTERM)
    print(f"taken over and new mail decided {taken_over_s:.1f} s after kill -9")
    assert taken_over_s < 30, f"takeover took {taken_over_s:.0f} s"
