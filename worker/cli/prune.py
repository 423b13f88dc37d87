"""``mailroute prune --older-than DAYS``: retention of stored mail (see :mod:`worker.store.retention`)."""

from __future__ import annotations

import typer

from worker.core.errors import InputError
from worker.db.session import session_factory


def prune_command(
    older_than: float = typer.Option(
        ..., "--older-than", min=0, metavar="DAYS", help="Prune decided mail received over DAYS days ago."
    ),
    keep_decisions: bool = typer.Option(
        False,
        "--keep-decisions",
        help="Keep the message rows with headers, decisions, scores and actions; drop only the bodies.",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what would be pruned; change nothing."),
    batch_size: int = typer.Option(500, "--batch-size", min=1, help="Rows per transaction."),
) -> None:
    """Delete the bodies (or the whole rows) of decided mail past a given age, in batches.

    Mail still waiting in review or with actions pending or failed is never touched. Without
    --keep-decisions the rows go with their decisions, scores and actions, and the dedup ledger
    forgets them: keep decisions for mail that is still in a watched IMAP folder.
    """
    from worker.store.retention import prune

    try:
        result = prune(
            session_factory(),
            older_than_days=older_than,
            keep_decisions=keep_decisions,
            dry_run=dry_run,
            batch_size=batch_size,
        )
    except ValueError as e:
        raise InputError(str(e)) from e
    what = "the bodies of" if keep_decisions else "the whole rows of"
    size = f"{result.bytes_freed / 1e6:.1f} MB"
    tail = f"they hold {size} of raw mail" if dry_run else f"{size} of raw mail freed"
    typer.echo(
        f"{'would prune' if dry_run else 'pruned'} {what} {result.messages} decided mail(s) received "
        f"before {result.cutoff:%Y-%m-%d %H:%M} UTC; {tail}"
    )


def register(app: typer.Typer) -> None:
    app.command("prune")(prune_command)
