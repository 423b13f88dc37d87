"""Open a logged-in IMAP connection for an account: TLS (implicit or STARTTLS), password or XOAUTH2.

Plaintext (``tls: none``) is refused unless ``MAILROUTE_ALLOW_PLAINTEXT`` is set, and then warned
about on every successful login. Network and server-side failures surface as :class:`TransientError`, so the
poller backs off and the action tasks retry; a refused login is a :class:`ConnectorError`.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import ssl
from collections.abc import Iterator
from contextlib import contextmanager

from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from connectors.imap.accounts import Account
from connectors.imap.oauth2 import access_token, forget_token
from worker.core.errors import ConfigError, ConnectorError, TransientError
from worker.core.settings import Settings, get_settings

log = logging.getLogger(__name__)

# What a dropped connection or a restarting server looks like from imapclient.
NETWORK_ERRORS: tuple[type[BaseException], ...] = (OSError, imaplib.IMAP4.abort, EOFError)
# Server answers that mean "try again later" (RFC 5530 response codes).
TRANSIENT_CODES = ("[UNAVAILABLE]", "[INUSE]", "[LIMIT]", "[SERVERBUG]")


def tls_context(account: Account) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not account.verify_tls:
        log.warning("account %s: TLS certificate verification is OFF", account.name)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def connect(account: Account, settings: Settings | None = None) -> IMAPClient:
    """A logged-in client for ``account``; raises TransientError / ConnectorError / ConfigError."""
    settings = settings or get_settings()
    if account.tls == "none" and not settings.allow_plaintext:
        raise ConfigError(
            f"account {account.name}: tls: none sends the password in clear; "
            "set MAILROUTE_ALLOW_PLAINTEXT=true to allow it"
        )
    try:
        client = IMAPClient(
            account.host,
            port=account.imap_port,
            ssl=account.tls == "ssl",
            ssl_context=tls_context(account) if account.tls == "ssl" else None,
            timeout=settings.imap_timeout_s,
        )
    except NETWORK_ERRORS as e:
        raise TransientError(f"account {account.name}: cannot connect to {account.host}: {e}") from e
    try:
        if account.tls == "starttls":
            client.starttls(tls_context(account))
        login(client, account)
    except BaseException:
        close(client)
        raise
    if account.tls == "none":  # logged only once it happened: a refused attempt is not a login
        log.warning(
            "account %s: IMAP login WITHOUT TLS to %s (allowed by settings)", account.name, account.host
        )
    return client


def login(client: IMAPClient, account: Account) -> None:
    try:
        if account.oauth2 is not None:
            token = access_token(account)
            try:
                client.oauth2_login(account.username, token)
            except LoginError:
                forget_token(account.name)  # next try fetches a fresh one
                raise
        else:
            client.login(account.username, account.secret_password().get_secret_value())
    except LoginError as e:
        if isinstance(e.__context__, imaplib.IMAP4.abort):  # BYE (e.g. "Shutting down"): not a refusal
            raise TransientError(f"account {account.name}: server hung up during login: {e}") from e
        if any(code in str(e) for code in TRANSIENT_CODES):
            raise TransientError(f"account {account.name}: login deferred by the server: {e}") from e
        raise ConnectorError(f"account {account.name}: login refused: {e}") from e
    except NETWORK_ERRORS as e:
        raise TransientError(f"account {account.name}: connection lost during login: {e}") from e


def close(client: IMAPClient) -> None:
    """Log out if possible, else just drop the socket. Never raises."""
    try:
        client.logout()
    except Exception:
        with contextlib.suppress(Exception):  # already gone
            client.shutdown()


@contextmanager
def session(account: Account, settings: Settings | None = None) -> Iterator[IMAPClient]:
    """``with session(account) as client:`` — connected, logged in, closed afterwards."""
    client = connect(account, settings)
    try:
        yield client
    finally:
        close(client)


def is_transient(error: BaseException) -> bool:
    """True for errors worth a reconnect/retry: network loss or a server's 'try later' answer."""
    if isinstance(error, (*NETWORK_ERRORS, TransientError)):
        return True
    # "* BYE" where a command's answer was expected (e.g. "Unexpected IDLE response: b'* BYE Server
    # shutting down.'"): the server is going away, not refusing us
    return isinstance(error, imaplib.IMAP4.error) and any(
        code in str(error) for code in (*TRANSIENT_CODES, "* BYE")
    )
