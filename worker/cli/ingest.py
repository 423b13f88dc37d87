"""``mailroute ingest PATH``: store a folder of .eml, an mbox or a Maildir and queue it."""

from __future__ import annotations

from pathlib import Path

import typer
from tqdm import tqdm

from worker.cli.common import quiet_libraries
from worker.cli.db import upgrade
from worker.core.redaction import redact_url
from worker.core.settings import get_settings
from worker.db.session import session_factory
from worker.store.ingest import ingest_path
from worker.store.sources import count_messages


def ingest_command(
    path: Path = typer.Argument(..., help="A folder of .eml files, an mbox file or a Maildir."),
    account: str = typer.Option("local", help="Account name recorded on the stored messages."),
    profile: str = typer.Option("default", help="Routing profile whose rule set decides them."),
    queue: bool = typer.Option(True, "--queue/--no-queue", help="Queue the stored mails for classification."),
) -> None:
    """Store every mail under PATH (deduplicated) and queue it for classification."""
    quiet_libraries()
    settings = get_settings()
    upgrade()
    from worker.tasks import enqueue_classify

    total = count_messages(path)
    with tqdm(total=total, unit="mail", desc="ingest", disable=None) as bar:
        result = ingest_path(
            session_factory(),
            path,
            account=account,
            profile=profile,
            enqueue=(lambda ids: enqueue_classify(ids, batch_size=settings.batch_size)) if queue else None,
            max_bytes=settings.max_message_bytes,
            progress=bar.update,
        )
    where = "classified in-process" if settings.eager else f"queued on {redact_url(settings.broker_url)}"
    typer.echo(
        f"stored {result.stored} new, {result.duplicates} already known; "
        f"{len(result.queued) if queue else 0} {where if queue else 'not queued'}"
    )


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_command)
