"""``mailroute db upgrade|downgrade|current``: Alembic migrations without an ini file at hand."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from worker.cli.schema import MIGRATIONS, at_head
from worker.core.settings import get_settings

if TYPE_CHECKING:
    from alembic.config import Config


def alembic_config(url: str | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", (url or get_settings().database_url).replace("%", "%%"))
    return config


def upgrade(revision: str = "head", url: str | None = None) -> None:
    """Migrate up to ``revision``; a database already at the head is left alone without Alembic."""
    if revision == "head" and at_head(url):
        return
    from alembic import command

    command.upgrade(alembic_config(url), revision)


db_app = typer.Typer(help="Database schema migrations (Alembic).", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade_command(revision: str = typer.Argument("head")) -> None:
    """Migrate the database up to REVISION (default: head)."""
    upgrade(revision)
    typer.echo(f"database at {revision}: {get_settings().database_url.split('@')[-1]}")


@db_app.command("downgrade")
def downgrade_command(revision: str = typer.Argument(..., help="Target revision, e.g. base or -1.")) -> None:
    """Migrate the database down to REVISION."""
    from alembic import command

    command.downgrade(alembic_config(), revision)


@db_app.command("current")
def current_command() -> None:
    """Print the database's current revision."""
    from alembic import command

    command.current(alembic_config())


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
