"""Operations commands: ``mailroute requeue`` (re-queue stale work) and ``mailroute worker``."""

from __future__ import annotations

import os
import sys

import typer

from worker.db.session import session_scope


def requeue_command(
    older_than: float | None = typer.Option(
        None,
        help="Only work older than this many seconds (default: 0 when the broker's queues are empty, "
        "as after a broker loss, else 300).",
    ),
) -> None:
    """Queue again the mails and actions a crash or a lost task left unfinished."""
    from worker.core.settings import get_settings
    from worker.tasks.lostwork import queues_empty
    from worker.tasks.sweeper import sweep

    if older_than is None:
        older_than = 0.0 if queues_empty(get_settings().broker_url) else 300.0
    with session_scope() as session:
        stale = sweep(session, older_than_s=older_than)
    typer.echo(f"re-queued {len(stale.message_ids)} mails and {len(stale.action_ids)} actions")


def worker_command(
    concurrency: int = typer.Option(0, help="Worker processes (0: one per core; GPU workers: 1)."),
    pool: str = typer.Option("prefork", help="prefork, or solo for a GPU worker (vLLM needs it)."),
    queues: str = typer.Option("classify,actions,webhooks", help="Comma-separated queues to consume."),
) -> None:
    """Run a Celery worker (the same as ``celery -A worker worker``) with mailroute's defaults."""
    args = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "worker",
        "worker",
        f"--pool={pool}",
        f"-Q{queues}",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
    ]
    if concurrency:
        args.append(f"--concurrency={concurrency}")
    os.execv(sys.executable, args)  # noqa: S606 - replace this process with the worker, no shell


def register(app: typer.Typer) -> None:
    app.command("requeue")(requeue_command)
    app.command("worker")(worker_command)
