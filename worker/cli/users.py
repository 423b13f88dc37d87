"""``mailroute admin user add|list|disable|reset-password|token``: the admin's users from a shell.

Passwords are asked twice on the terminal, or read as one line from stdin with ``--password-stdin``
(for scripts). A token is printed once; only its hash is stored. Every change is audited with the
actor ``cli:<login name>``.
"""

from __future__ import annotations

import getpass
import sys
from contextlib import AbstractContextManager

import typer
from sqlalchemy.orm import Session

from worker.core.errors import ConfigError

user_app = typer.Typer(
    help="Users of the admin: roles, profiles, passwords, API tokens.", no_args_is_help=True
)
PasswordStdin = typer.Option(False, "--password-stdin", help="Read the password as one line from stdin.")


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _password(*, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != password:
        raise ConfigError("the two passwords differ")
    return password


def _session() -> AbstractContextManager[Session]:
    from worker.core.settings import get_settings
    from worker.db.session import session_scope

    return session_scope(get_settings().database_url)


@user_app.command("add")
def add(
    name: str,
    role: str = typer.Option("reviewer", help="viewer | reviewer | admin"),
    profile: list[str] = typer.Option(
        ["*"], "--profile", "-p", help="A profile they may see (repeat; * = all)."
    ),
    password_stdin: bool = PasswordStdin,
) -> None:
    """Add a user with a role and the profiles they are given."""
    from admin import users

    password = _password(from_stdin=password_stdin)
    with _session() as session:
        user = users.add_user(session, name, password, role=role, profiles=profile, actor=_actor())
        said = f"added {user.username} ({user.role}; profiles: {', '.join(user.profiles)})"
    typer.echo(said)


@user_app.command("list")
def list_users() -> None:
    """Every user: role, profiles, disabled, last login."""
    from sqlalchemy import select

    from worker.db.models import User

    with _session() as session:
        for u in session.scalars(select(User).order_by(User.username)):
            state = "disabled" if u.disabled else "enabled"
            last = u.last_login_at.isoformat(timespec="seconds") if u.last_login_at else "never"
            typer.echo(f"{u.username}\t{u.role}\t{','.join(u.profiles)}\t{state}\tlast login {last}")


@user_app.command("disable")
def disable(name: str, enable: bool = typer.Option(False, "--enable", help="Enable the user again.")) -> None:
    """Disable a user (no login, no token) — or enable them again."""
    from admin import users

    with _session() as session:
        users.set_disabled(session, name, disabled=not enable, actor=_actor())
    typer.echo(f"{name} {'enabled' if enable else 'disabled'}")


@user_app.command("reset-password")
def reset_password(name: str, password_stdin: bool = PasswordStdin) -> None:
    """Set a new password for a user."""
    from admin import users

    password = _password(from_stdin=password_stdin)
    with _session() as session:
        users.reset_password(session, name, password, actor=_actor())
    typer.echo(f"new password set for {name}")


@user_app.command("token")
def token(
    name: str,
    label: str = typer.Option("", "--name", help="What the token is for."),
    revoke: int | None = typer.Option(None, "--revoke", help="Revoke this token id instead."),
) -> None:
    """Issue an API token for a user (printed once) or revoke one; lists the user's tokens."""
    from admin import users

    with _session() as session:
        user = users.get_user(session, name)
        if revoke is not None:
            if revoke not in {t.id for t in users.tokens_of(session, user.id)}:
                raise users.UserError(f"{name} has no token {revoke}")
            users.revoke_token(session, revoke, actor=_actor())
            said = f"token {revoke} revoked"
        else:
            said = users.issue_token(session, name, name=label, actor=_actor())
    typer.echo(said)  # after the commit: a printed token is a stored one
