"""``mailroute rules push|pull|history|rollback``: the published rule-set versions of each profile.

YAML files stay the way to bootstrap and to keep rules in git; the database holds every published
version (who, when, why, the YAML), and workers and the admin pick a new one up within a batch.
"""

from __future__ import annotations

import getpass
from pathlib import Path

import typer

from worker.db.models import DEFAULT_PROFILE
from worker.db.session import session_scope

rules_app = typer.Typer(help="Published rule sets per routing profile (versioned).", no_args_is_help=True)

ProfileOption = typer.Option(DEFAULT_PROFILE, "--profile", "-p", help="Routing profile.")
AuthorOption = typer.Option(None, "--author", help="Who publishes (default: the login name).")


def _author(author: str | None) -> str:
    return author or getpass.getuser()


@rules_app.command("push")
def push_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Rule-set YAML."),
    profile: str = ProfileOption,
    message: str = typer.Option("", "--message", "-m", help="Why (kept with the version)."),
    author: str | None = AuthorOption,
) -> None:
    """Validate FILE and publish it as the profile's next version (live within a batch)."""
    from worker.store import rulesets

    text = file.read_text()
    rulesets.validate(text, source=str(file))  # errors name the file, line and key
    with session_scope() as session:
        live = rulesets.head(session, profile)
        if live is not None and rulesets.get_version(session, profile, live).yaml == text:
            typer.echo(f"{profile}: version {live} already has this YAML; nothing published")
            return
        row = rulesets.publish(session, profile, text, author=_author(author), message=message)
        typer.echo(f"{profile}: published version {row.version} ({row.name}, {row.digest[:12]})")


@rules_app.command("pull")
def pull_command(
    profile: str = ProfileOption,
    version: int | None = typer.Option(None, "--version", help="Version (default: the live one)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write here instead of stdout."),
) -> None:
    """Print (or write) a published version's YAML, exactly as published."""
    from worker.store import rulesets

    with session_scope() as session:
        text = rulesets.get_version(session, profile, version).yaml
    if output is None:
        typer.echo(text, nl=not text.endswith("\n"))
    else:
        output.write_text(text)


@rules_app.command("history")
def history_command(profile: str = ProfileOption) -> None:
    """Every version of the profile, newest (live) first."""
    from worker.store import rulesets

    with session_scope() as session:
        rows = rulesets.history(session, profile)
        lines = [
            f"v{r.version}\t{r.created_at:%Y-%m-%d %H:%M}\t{r.author}\t{r.name}\t{r.message}" for r in rows
        ]
    if not lines:
        typer.echo(f"{profile}: no published versions")
    for i, line in enumerate(lines):
        typer.echo(line + ("\t(live)" if i == 0 else ""))


@rules_app.command("rollback")
def rollback_command(
    version: int = typer.Argument(..., min=1, help="The version to make live again."),
    profile: str = ProfileOption,
    author: str | None = AuthorOption,
) -> None:
    """Publish VERSION's YAML again as the profile's next version."""
    from worker.store import rulesets

    with session_scope() as session:
        row = rulesets.rollback(session, profile, version, author=_author(author))
        typer.echo(f"{profile}: version {version} is live again as version {row.version}")


def register(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")
