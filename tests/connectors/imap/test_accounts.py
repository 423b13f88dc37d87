"""Account configuration, secrets, plaintext refusal and XOAUTH2 tokens (no server needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connectors.imap import oauth2
from connectors.imap.accounts import parse_accounts
from connectors.imap.client import connect, login
from worker.core.errors import ConfigError
from worker.core.settings import Settings

YAML = """
accounts:
  - name: office
    host: imap.example.com
    username: ops@example.com
    password_file: {secret}
    folders: [INBOX, "Projekte/Bücher"]
  - name: gmail
    host: imap.gmail.com
    username: me@gmail.com
    oauth2: {{provider: gmail, client_id: cid, refresh_token_env: TEST_REFRESH}}
"""


def test_accounts_parse_with_defaults_and_secret_files(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("hunter2\n")
    accounts = parse_accounts(YAML.format(secret=secret))
    office = accounts["office"]
    assert (office.imap_port, office.tls, office.folders) == (993, "ssl", ("INBOX", "Projekte/Bücher"))
    assert office.secret_password().get_secret_value() == "hunter2"
    assert "hunter2" not in repr(office) and "hunter2" not in str(office.model_dump())
    assert accounts["gmail"].oauth2 is not None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("accounts: [{name: a, host: h, username: u}]", "exactly one of"),
        ("accounts: [{name: a, host: h, username: u, password: p, tls: maybe}]", "tls"),
        (
            "accounts: [{name: a, host: h, username: u, password: p},"
            " {name: a, host: h, username: u, password: p}]",
            "duplicate",
        ),
        ("accounts: [{name: a, host: h, username: u, oauth2: {provider: gmail}}]", "token_command"),
    ],
)
def test_invalid_accounts_are_refused_with_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_accounts(text, source="accounts.yaml")


def test_validation_error_never_echoes_a_password() -> None:
    with pytest.raises(ConfigError) as info:
        parse_accounts("accounts: [{name: a, host: h, username: u, password: s3cret, port: nope}]")
    assert "s3cret" not in str(info.value)


def test_plaintext_is_refused_unless_allowed() -> None:
    account = parse_accounts(
        "accounts: [{name: a, host: 127.0.0.1, port: 1, username: u, password: p, tls: none}]"
    )["a"]
    with pytest.raises(ConfigError, match="MAILROUTE_ALLOW_PLAINTEXT"):
        connect(account, Settings(allow_plaintext=False))


class FakeClient:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def oauth2_login(self, user: str, token: str) -> None:
        self.calls.append(("oauth2", user, token))

    def login(self, user: str, password: str) -> None:
        self.calls.append(("login", user, password))


def test_xoauth2_with_a_token_command() -> None:
    oauth2.forget_token("m365")
    account = parse_accounts(
        "accounts: [{name: m365, host: outlook.office365.com, username: u@example.com, "
        "oauth2: {provider: microsoft, token_command: 'echo tok-123'}}]"
    )["m365"]
    client = FakeClient()
    login(client, account)  # type: ignore[arg-type]
    assert client.calls == [("oauth2", "u@example.com", "tok-123")]


def test_xoauth2_refresh_token_flow_caches_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    oauth2.forget_token("gmail")
    monkeypatch.setenv("TEST_REFRESH", "refresh-abc")
    posts: list[dict[str, Any]] = []

    class Response:
        status_code = 200

        @staticmethod
        def json() -> dict[str, Any]:
            return {"access_token": "access-xyz", "expires_in": 3600}

    def post(url: str, data: dict[str, Any], timeout: float) -> Response:
        posts.append({"url": url, **data})
        return Response()

    import httpx

    monkeypatch.setattr(httpx, "post", post)
    account = parse_accounts(YAML.format(secret="/nonexistent"))["gmail"]
    assert oauth2.access_token(account) == "access-xyz"
    assert oauth2.access_token(account) == "access-xyz"
    assert len(posts) == 1 and posts[0]["url"] == "https://oauth2.googleapis.com/token"
    assert posts[0]["grant_type"] == "refresh_token" and posts[0]["refresh_token"] == "refresh-abc"


PROFILES = """
accounts:
  - name: support
    host: imap.example.com
    username: support@example.com
    password: x
    folders: [INBOX, Escalations, Lists]
    profile: helpdesk
    profiles: {Lists: newsletters}
  - {name: anna, host: imap.example.com, username: anna@example.com, password: x}
"""


def test_folders_map_to_routing_profiles() -> None:
    accounts = parse_accounts(PROFILES)
    support, anna = accounts["support"], accounts["anna"]
    assert [support.profile_for(f) for f in support.folders] == ["helpdesk", "helpdesk", "newsletters"]
    assert anna.profile_for("INBOX") == "default"


def test_a_profile_for_an_unwatched_folder_is_refused() -> None:
    with pytest.raises(
        ConfigError, match=r"accounts\.0: .*profiles: folder\(s\) not watched by this account: Spam"
    ):
        parse_accounts(PROFILES.replace("{Lists: newsletters}", "{Spam: junk}"))
