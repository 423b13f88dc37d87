"""IMAP fixtures: a private Dovecot per test, an accounts file pointing at it, in-process routing.

``dovecot`` starts a fresh server (skipped on a laptop without Dovecot, a failure in CI);
``imap_env`` adds a migrated SQLite database, an accounts file for the test user, and settings with
no broker, so classification and actions run eagerly in the calling thread with the constant
scorer. Fault tests reuse ``dovecot.restart()`` / ``dovecot.reset_uidvalidity()``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from imapclient import IMAPClient

from tests.conftest import REPO, require_service
from tests.connectors.dovecot import Dovecot, find_dovecot
from worker.core.settings import Settings

ACCOUNT = "test"


@pytest.fixture
def dovecot(tmp_path: Path) -> Iterator[Dovecot]:
    """A running Dovecot with one user, on a free loopback port; stopped afterwards."""
    require_service(find_dovecot() is not None, "Dovecot (apt-get install dovecot-imapd)")
    server = Dovecot(tmp_path / "dovecot")
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def dotted_dovecot(tmp_path: Path) -> Iterator[Dovecot]:
    """The Cyrus/Courier dialect: personal folders under ``INBOX.``, ``.`` as the hierarchy delimiter."""
    require_service(find_dovecot() is not None, "Dovecot (apt-get install dovecot-imapd)")
    server = Dovecot(tmp_path / "dovecot-dotted", prefix="INBOX.", separator=".")
    server.start()
    yield server
    server.cleanup()


def make_mail(i: int, *, subject: str | None = None, body: str | None = None, tag: str = "t") -> bytes:
    msg = EmailMessage()
    msg["From"] = f"sender{i}@example.com"
    msg["To"] = "team@example.com"
    msg["Subject"] = subject or f"Weekly project status {i}"
    msg["Message-ID"] = f"<{tag}-{i}@example.com>"
    msg.set_content(body or f"Mail {i}: the migration is on track; next milestone on Friday.")
    return msg.as_bytes()


def imap(server: Dovecot) -> IMAPClient:
    client = IMAPClient(server.host, server.port, ssl=False, timeout=30)
    client.login(server.user, server.password)
    return client


def append(server: Dovecot, mails: list[bytes], folder: str = "INBOX") -> None:
    client = imap(server)
    try:
        if not client.folder_exists(folder):
            client.create_folder(folder)
        for start in range(0, len(mails), 100):
            client.multiappend(folder, mails[start : start + 100])
    finally:
        client.logout()


def write_accounts(path: Path, server: Dovecot, folders: list[str]) -> Path:
    quoted = ", ".join(f'"{f}"' for f in folders)
    path.write_text(
        f"accounts:\n"
        f"  - name: {ACCOUNT}\n"
        f"    host: {server.host}\n"
        f"    port: {server.port}\n"
        f"    tls: none\n"
        f"    username: {server.user}\n"
        f"    password_env: TEST_IMAP_PASSWORD\n"
        f"    folders: [{quoted}]\n"
    )
    return path


@dataclass
class ImapEnv:
    server: Dovecot
    db_url: str
    settings: Settings

    def account(self):  # type: ignore[no-untyped-def]
        from connectors.imap.accounts import load_accounts

        return load_accounts(self.settings.accounts_file)[ACCOUNT]


def install_env(
    monkeypatch: pytest.MonkeyPatch, server: Dovecot, db_url: str, tmp_path: Path, **overrides: object
) -> ImapEnv:
    """Settings (through the environment, as tasks read them) and an eager in-process runtime."""
    from worker.core.settings import get_settings
    from worker.pipeline.runtime import build_runtime, set_runtime
    from worker.scoring.backends.constant import ConstantScorer
    from worker.tasks.app import app

    accounts = write_accounts(tmp_path / "accounts.yaml", server, ["INBOX"])
    env = {
        "MAILROUTE_DATABASE_URL": db_url,
        "MAILROUTE_ACCOUNTS_FILE": str(accounts),
        "MAILROUTE_ALLOW_PLAINTEXT": "true",
        "MAILROUTE_BACKEND": "constant",
        "MAILROUTE_RULES_PATH": str(REPO / "rules" / "examples" / "office.yaml"),
        "TEST_IMAP_PASSWORD": server.password,
    }
    env.update({f"MAILROUTE_{k.upper()}": str(v) for k, v in overrides.items() if k != "scorer"})
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("MAILROUTE_BROKER_URL", raising=False)
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    get_settings.cache_clear()
    settings = get_settings()
    scorer = overrides.get("scorer") or ConstantScorer(0.0)
    set_runtime(build_runtime(settings, scorer=scorer))  # type: ignore[arg-type]
    return ImapEnv(server, db_url, settings)


@pytest.fixture
def imap_env(
    dovecot: Dovecot, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ImapEnv]:
    """Dovecot + SQLite + eager routing with a scorer that decides no labels (fast, no actions)."""
    yield install_env(monkeypatch, dovecot, sqlite_url, tmp_path)
    teardown_env()


@pytest.fixture
def dotted_env(
    dotted_dovecot: Dovecot, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ImapEnv]:
    """``imap_env`` on the ``INBOX.``-prefixed, ``.``-delimited dialect."""
    yield install_env(monkeypatch, dotted_dovecot, sqlite_url, tmp_path)
    teardown_env()


@contextmanager
def watching(
    env: ImapEnv,
    *,
    connect_fn: Callable[[Any, Settings], Any] | None = None,
    enqueue: Callable[[list[int]], None] | None = None,
    join_s: float = 10.0,
    **settings: object,
) -> Iterator[Any]:
    """A :class:`FolderWatcher` of the env's INBOX running in a thread (poll interval an hour, lease
    3 s, fast reconnect backoff; ``settings`` override them), stopped afterwards and checked stopped.
    ``enqueue`` defaults to routing eagerly, ``connect_fn`` to the real client."""
    from connectors.imap.client import connect
    from connectors.imap.recovery import Backoff
    from connectors.imap.watcher import FolderWatcher
    from worker.db.session import session_factory
    from worker.tasks import enqueue_classify

    watcher = FolderWatcher(
        env.account(),
        "INBOX",
        session_factory(env.db_url),
        env.settings.model_copy(update={"poll_interval_s": 3600.0, "lease_ttl_s": 3.0, **settings}),
        enqueue=enqueue or enqueue_classify,
        connect_fn=connect_fn or connect,
        backoff=Backoff(base_s=0.2, cap_s=1.0),
    )
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    try:
        yield watcher
    finally:
        watcher.stop.set()
        thread.join(timeout=join_s)
        assert not thread.is_alive(), "the watcher did not stop"


def teardown_env() -> None:
    from connectors.imap.mailbox import close_pooled
    from worker.core.settings import get_settings
    from worker.pipeline.runtime import set_runtime

    close_pooled()
    set_runtime(None)
    get_settings.cache_clear()
