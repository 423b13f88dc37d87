"""The shared frame of every IMAP action executor: per account, borrow a pooled connection, run the
batch, map IMAP errors onto the outbox runner's signals (TransientError: retry; ConnectorError: dead;
NotApplicable: skipped). Subclasses implement :meth:`MailboxExecutor.run_many` for one kind.
"""

from __future__ import annotations

import imaplib
from collections.abc import Sequence

from imapclient import IMAPClient
from sqlalchemy.orm import Session

from connectors.imap.accounts import Account, load_accounts
from connectors.imap.client import NETWORK_ERRORS, TRANSIENT_CODES
from connectors.imap.mailbox import pooled_client
from worker.core.errors import ConnectorError, TransientError
from worker.core.settings import get_settings
from worker.db.models import Action, Message
from worker.outbox.registry import NotApplicable

Items = Sequence[tuple[Action, Message]]
Results = dict[int, BaseException | None]


def account_of(message: Message) -> Account:
    accounts = load_accounts(get_settings().accounts_file)
    account = accounts.get(message.account)
    if account is None:
        raise NotApplicable(f"account {message.account!r} is not a configured IMAP account (a local import?)")
    return account


def server_error(action: str, error: imaplib.IMAP4.error) -> Exception:
    if any(code in str(error) for code in TRANSIENT_CODES):
        return TransientError(f"IMAP server busy: {error}")
    return ConnectorError(f"IMAP server refused {action}: {error}")


def not_found(message: Message) -> NotApplicable:
    return NotApplicable(f"mail {message.id} is no longer in {message.folder!r} (deleted or moved by hand)")


class MailboxExecutor:
    """Shared frame: per account, borrow a connection, run the batch, map IMAP errors to retry/fail."""

    def apply(self, session: Session, action: Action, message: Message) -> int | None:
        failure = self.apply_many(session, [(action, message)]).get(action.id)
        if failure is not None:
            raise failure
        return None

    def apply_many(self, session: Session, items: Items) -> Results:
        del session  # rows are updated in place; the caller's transaction commits them
        results: Results = {}
        accounts: dict[str, list[tuple[Action, Message]]] = {}
        for action, message in items:
            accounts.setdefault(message.account, []).append((action, message))
        for group in accounts.values():
            try:
                account = account_of(group[0][1])
            except NotApplicable as e:
                results.update((action.id, e) for action, _ in group)
                continue
            for attempt in (1, 2):  # a pooled connection may have died since its last use: one fresh retry
                try:
                    with pooled_client(account) as client:
                        results.update(self.run_many(client, group))
                    break
                except NETWORK_ERRORS as e:
                    if attempt == 2:
                        lost = TransientError(f"IMAP connection to {account.name} lost: {e}")
                        results.update((action.id, lost) for action, _ in group)
                except imaplib.IMAP4.error as e:
                    failed = server_error(group[0][0].kind, e)
                    results.update((action.id, failed) for action, _ in group)
                    break
        return results

    def run_many(self, client: IMAPClient, items: Items) -> Results:
        raise NotImplementedError
