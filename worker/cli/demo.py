"""``mailroute demo``: the whole path on the embedded defaults, over the bundled sample mailbox.

Two routing profiles, as in a real deployment: the customer inquiries arrive at a helpdesk queue
(account ``support``, profile ``helpdesk``, rules/examples/helpdesk.yaml) and everything else at an
office inbox (account ``demo``, the default profile, ``MAILROUTE_RULES_PATH``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from worker.cli.common import quiet_libraries

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "mailbox"
HELPDESK_RULES = ROOT / "rules" / "examples" / "helpdesk.yaml"
HELPDESK_MAILS = "*customer-inquiry*.eml"  # the samples that arrive at the helpdesk queue


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
    console.print(f"loading the model and routing {mailbox} through two profiles …")
    publish_helpdesk(url)
    rule_sets = (load_rule_set(get_settings().rules_path), load_rule_set(HELPDESK_RULES))
    with local_receiver(*rule_sets) as receiver, tempfile.TemporaryDirectory() as tmp:
        get_settings.cache_clear()  # the receiver's webhooks file
        stored, duplicates = 0, 0
        for source, account, profile in split_mailbox(mailbox, Path(tmp)):
            result = ingest_path(
                session_factory(url), source, account=account, profile=profile, enqueue=enqueue_classify
            )
            stored, duplicates = stored + result.stored, duplicates + result.duplicates
    get_settings.cache_clear()
    table = Table(title="mailroute demo — decisions")
    table.add_column("id", justify="right")
    table.add_column("profile")
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
                f"{message.profile} v{decision.rule_set_version}",
                message.subject[:60],
                ", ".join(decision.labels) or "-",
                "yes" if decision.needs_review else "",
                f"{decision.top_score:.2f}",
            )
    console.print(table)
    console.print(
        f"{len(rows)} decisions ({stored} new mails, {duplicates} already known) "
        f"saved to {database.resolve()}"
    )
    if receiver.names:
        console.print(
            f"{len(receiver.received)} webhook deliveries to a local receiver on 127.0.0.1 "
            f"(endpoints {', '.join(receiver.names)}; a deployment sets MAILROUTE_WEBHOOKS_FILE)"
        )


def publish_helpdesk(url: str) -> None:
    """The helpdesk profile's rule set, published once (as ``mailroute rules push`` would)."""
    from worker.db.session import session_factory
    from worker.store import rulesets

    with session_factory(url).begin() as session:
        if rulesets.head(session, "helpdesk") is None:
            text = HELPDESK_RULES.read_text()
            rulesets.publish(session, "helpdesk", text, author="demo", message="mailroute demo")


def split_mailbox(mailbox: Path, tmp: Path) -> list[tuple[Path, str, str]]:
    """(source, account, profile): a folder of .eml files split into the helpdesk queue and the
    office inbox; any other mailbox goes whole to the office inbox."""
    helpdesk = sorted(mailbox.glob(HELPDESK_MAILS)) if mailbox.is_dir() else []
    if not helpdesk:
        return [(mailbox, "demo", "default")]
    queue, inbox = tmp / "support", tmp / "inbox"
    queue.mkdir()
    inbox.mkdir()
    for path in sorted(mailbox.glob("*.eml")):
        shutil.copy(path, (queue if path in helpdesk else inbox) / path.name)
    return [(queue, "support", "helpdesk"), (inbox, "demo", "default")]


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
