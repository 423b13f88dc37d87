"""``mailroute healthcheck poller``: a container probe for the IMAP poller (exit 0 healthy, 1 not);
``mailroute healthcheck rules``: does the live rules file load (exit 1 while workers fall back).

The poller serves no port, but its folder leases are a heartbeat: each watcher renews its lease every
``LEASE_TTL_S/3`` while it is connected, and a lease's owner starts with the host name. So the poller
on this host is healthy when the database answers and none of the leases it owns has run out (a
stuck thread, or an IMAP server it cannot reach, lets its lease expire). A poller standing by while
another host holds every folder owns no lease and is healthy; ``--require-lease`` says it must hold one.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import typer
from sqlalchemy import func, select, text

from worker.db.models import Lease
from worker.db.session import session_scope

health_app = typer.Typer(help="Container health probes (exit status 0 = healthy).", no_args_is_help=True)


@health_app.command("poller")
def poller_command(
    require_lease: bool = typer.Option(False, "--require-lease", help="Unhealthy unless it holds a lease."),
    host: str | None = typer.Option(None, help="Host whose leases to check (default: this host)."),
) -> None:
    """Exit 0 when the database answers and this host's folder leases are all fresh."""
    owner_prefix = f"{host or socket.gethostname()}:"
    now = datetime.now(UTC)
    try:
        with session_scope() as session:
            session.execute(text("SELECT 1"))
            mine = Lease.owner.startswith(owner_prefix, autoescape=True)
            held = int(session.scalar(select(func.count()).where(mine)) or 0)
            expired = list(session.scalars(select(Lease.name).where(mine, Lease.expires_at < now)))
    except Exception as e:  # a probe reports, it does not raise
        typer.echo(f"unhealthy: database: {type(e).__name__}", err=True)
        raise typer.Exit(1) from None
    if expired:
        names = ", ".join(name.removeprefix("imap:").replace("\x1f", "/") for name in expired)
        typer.echo(f"unhealthy: lease(s) not renewed: {names}", err=True)
        raise typer.Exit(1)
    if require_lease and not held:
        typer.echo("unhealthy: this poller holds no folder lease", err=True)
        raise typer.Exit(1)
    typer.echo(f"healthy: {held} folder lease(s) held")


@health_app.command("rules")
def rules_command() -> None:
    """Exit 0 when the rules file and every profile's live rule-set version load; else 1, one line
    per problem (what does not load and what routes instead) — a probe for monitoring, not for
    restarting workers (they keep routing with the last good rule set)."""
    from rules import load_rule_set
    from worker.core.errors import RuleSetError
    from worker.core.settings import get_settings
    from worker.pipeline.profiles import check_profiles

    path, problems = get_settings().rules_path, 0
    try:
        rule_set = load_rule_set(path)
        file_line = f"rules file {path} loads ({len(rule_set.categories)} categories)"
    except RuleSetError as e:
        typer.echo(f"unhealthy: rules file {path} does not load; workers route with the last good set: {e}")
        problems += 1
    try:
        with session_scope() as session:
            health = check_profiles(session)
    except Exception as e:  # a probe reports, it does not raise
        typer.echo(f"unhealthy: database: {type(e).__name__}", err=True)
        raise typer.Exit(1) from None
    for h in health:
        if h.error is not None:
            fallback = f"routing with version {h.routing}" if h.routing else "no version loads"
            typer.echo(
                f"unhealthy: profile {h.profile}: version {h.head} does not load ({fallback}): {h.error}",
                err=True,
            )
            problems += 1
    if problems:
        raise typer.Exit(1)
    typer.echo(f"healthy: {file_line}; {len(health)} profile(s), live versions load")


def register(app: typer.Typer) -> None:
    app.add_typer(health_app, name="healthcheck")
