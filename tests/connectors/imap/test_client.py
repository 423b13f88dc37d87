"""Connecting: a plaintext login is logged once it succeeded, never for a refused attempt."""

from __future__ import annotations

import logging

import pytest

from connectors.imap.accounts import parse_accounts
from connectors.imap.client import close, connect
from tests.connectors.dovecot import free_port
from worker.core.errors import TransientError
from worker.core.settings import Settings


def test_refused_plaintext_connection_is_not_logged_as_a_login(caplog: pytest.LogCaptureFixture) -> None:
    account = parse_accounts(
        f"accounts: [{{name: a, host: 127.0.0.1, port: {free_port()}, username: u, password: p, tls: none}}]"
    )["a"]
    with caplog.at_level(logging.WARNING), pytest.raises(TransientError, match="cannot connect"):
        connect(account, Settings(allow_plaintext=True))
    assert not [r for r in caplog.records if "WITHOUT TLS" in r.getMessage()]


@pytest.mark.integration
def test_successful_plaintext_login_is_logged(imap_env, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.WARNING):
        close(connect(imap_env.account(), imap_env.settings))
    assert len([r for r in caplog.records if "WITHOUT TLS" in r.getMessage()]) == 1
