"""``mailroute admin user ...`` in a real subprocess on a migrated SQLite database."""

from __future__ import annotations

from sqlalchemy import select

from admin.auth import verify_password
from admin.users import token_hash
from tests.worker.cli.test_cli import mailroute
from worker.db.models import ApiToken, AuditEvent, User
from worker.db.session import session_factory

PASSWORD = b"a long enough password\n"


def test_add_token_disable_reset_and_revoke(sqlite_url: str) -> None:
    env = {"MAILROUTE_DATABASE_URL": sqlite_url}
    added = mailroute(
        "admin",
        "user",
        "add",
        "dana",
        "--role",
        "reviewer",
        "-p",
        "support",
        "--password-stdin",
        stdin=PASSWORD,
        **env,
    )
    assert added.returncode == 0, added.stderr
    assert b"added dana (reviewer; profiles: support)" in added.stdout
    taken = mailroute("admin", "user", "add", "dana", "--password-stdin", stdin=PASSWORD, **env)
    assert taken.returncode != 0 and b"exists already" in taken.stderr
    issued = mailroute("admin", "user", "token", "dana", "--name", "ticketing", **env)
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.decode().strip()
    assert mailroute("admin", "user", "disable", "dana", **env).returncode == 0
    reset = mailroute(
        "admin", "user", "reset-password", "dana", "--password-stdin", stdin=b"another password\n", **env
    )
    assert reset.returncode == 0, reset.stderr
    with session_factory(sqlite_url)() as session:
        user = session.scalars(select(User).where(User.username == "dana")).one()
        row = session.scalars(select(ApiToken)).one()
        assert user.disabled and user.profiles == ["support"]
        assert verify_password("another password", user.password_hash)
        assert row.token_hash == token_hash(token) and token not in (row.prefix + row.name)
        actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["user.add", "user.token", "user.disable", "user.reset_password"]
    revoked = mailroute("admin", "user", "token", "dana", "--revoke", str(row.id), **env)
    assert revoked.returncode == 0 and b"revoked" in revoked.stdout
    listed = mailroute("admin", "user", "list", **env).stdout.decode()
    assert "dana\treviewer\tsupport\tdisabled" in listed
