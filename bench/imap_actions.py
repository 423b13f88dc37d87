"""Mailbox actions per second on a private Dovecot: one row at a time vs grouped batches.

N mails are stored (polled from INBOX into a fresh Postgres database); each gets an ``imap_keyword``
action, every second one an ``imap_flag``, every fourth an ``imap_move`` to Archive. Half of the
mails are acted on one row at a time (``run_action`` per row: a locate and a UID STORE/MOVE each, as
``apply_actions`` did before grouping), the other half in batches of 64 through ``run_actions`` (one
UID STORE per (folder, flag), one UID MOVE per target, on the same pooled connection). Both halves
commit once per batch of 64 and every effect is checked on the server afterwards.

    python bench/imap_actions.py [--mails 640]

Ends with one line: ``RESULT per_row_actions_per_s=… grouped_actions_per_s=… ratio=…``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from common import REPO, create_database, drop_database, synthetic_mail  # also puts the repo on sys.path

BATCH = 64


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=640, help="mails (half per row, half grouped)")
    args = parser.parse_args()

    from tests.connectors.dovecot import Dovecot

    root = Path(tempfile.mkdtemp(prefix="mailroute-bench-actions-"))
    server = Dovecot(root / "dovecot")
    server.start()
    url = create_database()
    try:
        run(args.mails, root, server, url)
    finally:
        drop_database(url)
        server.cleanup()


def run(mails: int, root: Path, server, url: str) -> None:  # type: ignore[no-untyped-def]
    from tests.connectors.conftest import append, imap, write_accounts

    os.environ.update(
        MAILROUTE_DATABASE_URL=url,
        MAILROUTE_ACCOUNTS_FILE=str(write_accounts(root / "accounts.yaml", server, ["INBOX"])),
        MAILROUTE_ALLOW_PLAINTEXT="true",
        MAILROUTE_RULES_PATH=str(REPO / "rules" / "examples" / "office.yaml"),
        TEST_IMAP_PASSWORD=server.password,
    )
    from sqlalchemy import select

    from connectors.imap.accounts import load_accounts
    from connectors.imap.client import session
    from connectors.imap.folder_config import FolderConfig
    from connectors.imap.mailbox import close_pooled
    from connectors.imap.poller import poll_folder_once
    from worker.cli.common import quiet_libraries
    from worker.cli.db import upgrade
    from worker.core.settings import get_settings
    from worker.db.models import Action, Message
    from worker.db.session import session_factory, session_scope
    from worker.outbox.runner import run_action, run_actions
    from worker.tasks.executors import install_executors

    quiet_libraries()
    settings = get_settings()
    upgrade()
    install_executors()
    append(server, [synthetic_mail(i) for i in range(mails)])
    sessions = session_factory(url)
    with session(load_accounts(settings.accounts_file)["test"], settings) as client:
        poll_folder_once(client, sessions, FolderConfig("test", "INBOX", backlog_limit=0))
    with sessions() as db:
        ids = sorted(db.scalars(select(Message.id)))
    halves = {"per_row": ids[: len(ids) // 2], "grouped": ids[len(ids) // 2 :]}
    rates: dict[str, float] = {}
    for mode, rows in halves.items():
        with session_scope(url) as db:
            actions = []
            for n, message_id in enumerate(rows):
                actions.append(Action(message_id=message_id, kind="imap_keyword", target="project progress"))
                if n % 2 == 0:
                    actions.append(Action(message_id=message_id, kind="imap_flag", target="\\Flagged"))
                if n % 4 == 3:
                    actions.append(Action(message_id=message_id, kind="imap_move", target="Archive"))
            db.add_all(actions)
            db.flush()
            action_ids = [a.id for a in actions]
        started = time.perf_counter()
        for start in range(0, len(action_ids), BATCH):
            chunk = action_ids[start : start + BATCH]
            with session_scope(url) as db:
                if mode == "grouped":
                    statuses = list(run_actions(db, chunk).values())
                else:
                    statuses = [run_action(db, action_id) for action_id in chunk]
            assert set(statuses) == {"done"}, statuses
        elapsed = time.perf_counter() - started
        rates[mode] = len(action_ids) / elapsed
        print(
            f"{mode}: {len(action_ids)} actions on {len(rows)} mails in {elapsed:.2f} s = {rates[mode]:.0f}/s"
        )
    close_pooled()
    client = imap(server)
    client.select_folder("INBOX", readonly=True)
    flags = client.get_flags(client.search(["ALL"]))
    moved = client.select_folder("Archive", readonly=True)[b"EXISTS"]
    client.logout()
    expected_moves = sum(len(rows) // 4 for rows in halves.values())
    assert moved == expected_moves and all(b"project_progress" in f for f in flags.values()), (
        "effects missing"
    )
    ratio = rates["grouped"] / rates["per_row"]
    print(f"grouped / per row: {ratio:.1f}x ({BATCH} actions per batch, Postgres, one Dovecot connection)")
    print(
        f"RESULT per_row_actions_per_s={rates['per_row']:.1f} "
        f"grouped_actions_per_s={rates['grouped']:.1f} ratio={ratio:.2f}"
    )


if __name__ == "__main__":
    main()
