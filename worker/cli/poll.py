"""``mailroute poll``: watch the configured IMAP folders (IDLE, or polling) and queue new mail.

This module is the command, its account selection and the ``--once`` pass; the long-running watch
(threads, SIGTERM, the periodic sweep) is :mod:`worker.cli.watch`.
"""

from __future__ import annotations

from collections.abc import Callable

import typer

from connectors.imap.accounts import Account, load_accounts
from connectors.imap.client import session
from connectors.imap.folder_config import FolderConfig
from connectors.imap.lease import FolderLease
from connectors.imap.poller import poll_folder_once
from worker.cli.common import quiet_libraries

# re-exported (moved out, still imported from here): the long-running watch of worker.cli.watch
from worker.cli.watch import SWEEP_EVERY_S as SWEEP_EVERY_S
from worker.cli.watch import backlog_bar as backlog_bar
from worker.cli.watch import lost_work_watch as lost_work_watch
from worker.cli.watch import run_watchers as run_watchers
from worker.cli.watch import stop_on_sigterm as stop_on_sigterm
from worker.cli.watch import sweep_and_alert as sweep_and_alert
from worker.core.errors import ConfigError
from worker.core.settings import Settings, get_settings
from worker.db.session import session_factory


def selected_accounts(settings: Settings, names: list[str] | None) -> list[Account]:
    accounts = load_accounts(settings.accounts_file)
    if not accounts:
        raise ConfigError("no IMAP accounts: set MAILROUTE_ACCOUNTS_FILE (see docs/imap.md)")
    unknown = sorted(set(names or []) - set(accounts))
    if unknown:
        raise ConfigError(f"unknown account(s): {', '.join(unknown)}; configured: {', '.join(accounts)}")
    return [a for name, a in accounts.items() if not names or name in names]


def poll_once(accounts: list[Account], settings: Settings, enqueue: Callable[[list[int]], None]) -> int:
    """One pass over every folder (each under its lease); returns the number of new mails stored."""
    stored, sessions = 0, session_factory()
    for account in accounts:
        with session(account, settings) as client:
            for folder in account.folders:
                lease = FolderLease(sessions, account.name, folder, settings.lease_ttl_s)
                if not lease.acquire():
                    typer.echo(f"{account.name}/{folder}: another poller holds it; skipped")
                    continue
                try:
                    config = FolderConfig.of(account, folder, settings)
                    result = poll_folder_once(
                        client,
                        sessions,
                        config,
                        enqueue=enqueue,
                        progress=backlog_bar(f"{account.name}/{folder}"),
                    )
                finally:
                    lease.release()
                stored += result.stored
                typer.echo(f"{account.name}/{folder}: {result.stored} new, {result.known} known")
    return stored


def poll_command(
    once: bool = typer.Option(False, "--once", help="Poll every folder once and exit (no IDLE)."),
    account: list[str] | None = typer.Option(None, "--account", "-a", help="Only this account (repeatable)."),
) -> None:
    """Watch the IMAP folders of MAILROUTE_ACCOUNTS_FILE: store new mail and queue it for routing."""
    quiet_libraries()
    settings = get_settings()
    from worker.cli.db import upgrade
    from worker.tasks.producer import enqueue_classify

    upgrade()
    accounts = selected_accounts(settings, account)

    def enqueue(ids: list[int]) -> None:
        enqueue_classify(ids, batch_size=settings.batch_size)

    if once:
        stored = poll_once(accounts, settings, enqueue)
        typer.echo(f"stored {stored} new mail(s)")
    else:
        run_watchers(accounts, settings, enqueue)


def register(app: typer.Typer) -> None:
    app.command("poll")(poll_command)
