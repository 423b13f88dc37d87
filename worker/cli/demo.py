"""``mailroute demo``: the whole path on the embedded defaults, over the bundled sample mailbox."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from worker.cli.common import quiet_libraries

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "mailbox"


def demo_command(
    mailbox: Path = typer.Option(SAMPLES, help="Mails to route (a folder of .eml, an mbox or a Maildir)."),
    database: Path = typer.Option(Path("mailroute-demo.db"), help="SQLite file the demo writes."),
) -> None:
    """Ingest the sample mailbox, classify it in-process and print every decision."""
    quiet_libraries()
    url = f"sqlite:///{database.resolve()}"
    os.environ["MAILROUTE_DATABASE_URL"] = url
    os.environ.pop("MAILROUTE_BROKER_URL", None)
    from worker.core.settings import get_settings

    get_settings.cache_clear()
    from rules import load_rule_set
    from worker.cli.db import upgrade
    from worker.cli.demo_receiver import local_receiver
    from worker.db.models import Decision, Message
    from worker.db.session import session_factory
    from worker.store.ingest import ingest_path
    from worker.tasks import enqueue_classify

    upgrade(url=url)
    console = Console(width=max(Console().width, 110))  # a readable table in CI logs and pipes too
    console.print(f"loading the model and routing {mailbox} …")
    with local_receiver(load_rule_set(get_settings().rules_path)) as receiver:
        get_settings.cache_clear()  # the receiver's webhooks file
        result = ingest_path(session_factory(url), mailbox, account="demo", enqueue=enqueue_classify)
    get_settings.cache_clear()
    table = Table(title="mailroute demo — decisions")
    table.add_column("id", justify="right")
    table.add_column("subject", no_wrap=True, overflow="ellipsis", max_width=48)
    table.add_column("labels")
    table.add_column("review")
    table.add_column("top score", justify="right")
    with session_factory(url)() as session:
        rows = session.execute(
            select(Message, Decision).join(Decision, Decision.message_id == Message.id).order_by(Message.id)
        ).all()
        for message, decision in rows:
            table.add_row(
                str(message.id),
                message.subject[:60],
                ", ".join(decision.labels) or "-",
                "yes" if decision.needs_review else "",
                f"{decision.top_score:.2f}",
            )
    console.print(table)
    console.print(
        f"{len(rows)} decisions ({result.stored} new mails, {result.duplicates} already known) "
        f"saved to {database.resolve()}"
    )
    if receiver.names:
        console.print(
            f"{len(receiver.received)} webhook deliveries to a local receiver on 127.0.0.1 "
            f"(endpoints {', '.join(receiver.names)}; a deployment sets MAILROUTE_WEBHOOKS_FILE)"
        )


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
