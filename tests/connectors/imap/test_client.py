"""Connecting: a plaintext login is logged once it succeeded, never for a refused attempt."""

from __future__ import annotations

import imaplib
import logging
from typing import cast

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from connectors.imap.accounts import parse_accounts
from connectors.imap.client import close, connect, login
from tests.connectors.dovecot import free_port
from worker.core.errors import ConnectorError, TransientError
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


class _Refusing:
    """An IMAPClient whose LOGIN fails as imapclient reports it: a LoginError raised while handling
    imaplib's own exception (``abort`` for a BYE, ``error`` for a NO)."""

    def __init__(self, cause: imaplib.IMAP4.error):
        self.cause = cause

    def login(self, username: str, password: str) -> None:
        try:
            raise self.cause
        except imaplib.IMAP4.error as e:
            raise LoginError(str(e)) from None


def test_a_server_hanging_up_during_login_is_transient_a_refusal_is_not() -> None:
    account = parse_accounts("accounts: [{name: t, host: h, username: u, password: p}]")["t"]
    with pytest.raises(TransientError, match="hung up"):  # Dovecot restarting: "* BYE Shutting down"
        login(cast(IMAPClient, _Refusing(imaplib.IMAP4.abort("command: LOGIN => Shutting down"))), account)
    with pytest.raises(TransientError, match="deferred"):
        login(cast(IMAPClient, _Refusing(imaplib.IMAP4.error("[UNAVAILABLE] try later"))), account)
    with pytest.raises(ConnectorError, match="refused"):
        login(cast(IMAPClient, _Refusing(imaplib.IMAP4.error("[AUTHENTICATIONFAILED] bad"))), account)
