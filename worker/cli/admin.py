"""``mailroute admin serve|hash-password`` and ``mailroute admin user ...`` (see ``worker.cli.users``)."""

from __future__ import annotations

import getpass

import typer

from worker.core.errors import ConfigError

admin_app = typer.Typer(help="The review web app and JSON API.", no_args_is_help=True)


@admin_app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
) -> None:
    """Serve the admin (pages, /api, /healthz, /metrics) with uvicorn."""
    import uvicorn

    from admin.app import create_app
    from worker.core.settings import get_settings

    settings = get_settings()
    from admin.identity import any_user
    from worker.db.session import session_factory

    if settings.admin_password_hash is None and not any_user(session_factory(settings.database_url)):
        raise ConfigError(
            "no admin user: set MAILROUTE_ADMIN_PASSWORD_HASH (`mailroute admin hash-password`) "
            "or add one with `mailroute admin user add NAME --role admin`"
        )
    if not settings.admin_cookie_secure:
        typer.echo(
            "warning: MAILROUTE_ADMIN_COOKIE_SECURE=false: session cookies may travel without TLS", err=True
        )
    uvicorn.run(create_app(settings), host=host, port=port, proxy_headers=True, server_header=False)


@admin_app.command("hash-password")
def hash_password_command() -> None:
    """Ask for a password twice and print its hash for MAILROUTE_ADMIN_PASSWORD_HASH."""
    from admin.auth import hash_password

    password = getpass.getpass("Password: ")
    if len(password) < 10:
        raise ConfigError("use a password of at least 10 characters")
    if getpass.getpass("Again: ") != password:
        raise ConfigError("the two passwords differ")
    typer.echo(hash_password(password))


def register(app: typer.Typer) -> None:
    from worker.cli.users import user_app

    admin_app.add_typer(user_app, name="user")
    app.add_typer(admin_app, name="admin")
