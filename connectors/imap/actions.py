"""Mailbox actions from the outbox: IMAP keyword, system flag, Gmail label, move — all idempotent.

Each kind is one executor class registered into ``worker.outbox.runner``. Setting a flag or label that is
already set (or removing one that is absent) changes nothing, so a retried action is harmless. A
move records the mail's new location on its row and its origin on the action; a repeated move finds
the mail already in the target and does nothing; an undone move puts the mail back in its origin.
See :mod:`connectors.imap.mailbox` for how a mail is found after its UID changed.
"""

from __future__ import annotations

import imaplib
import re

from imapclient import IMAPClient
from sqlalchemy.orm import Session

from connectors.imap.accounts import Account, load_accounts
from connectors.imap.client import NETWORK_ERRORS, TRANSIENT_CODES
from connectors.imap.mailbox import Location, ensure_folder, find_by_message_id, locate, pooled_client, record
from worker.core.errors import ConnectorError, TransientError
from worker.core.settings import get_settings
from worker.db.models import Action, Message
from worker.outbox.runner import NotApplicable, register

SYSTEM_FLAGS = {
    "\\flagged": "\\Flagged",
    "\\seen": "\\Seen",
    "\\answered": "\\Answered",
    "\\draft": "\\Draft",
}
MOVED_FROM = "moved_from"  # on a done move's params: the folder the mail was taken from
ATOM_SPECIALS = re.compile(r'[^\x21-\x7e]|[(){%*"\\\]]')


def keyword_atom(label: str) -> str:
    """An IMAP keyword for a label: printable ASCII without atom-specials (spaces become ``_``)."""
    atom = ATOM_SPECIALS.sub("_", label.strip())
    if not atom:
        raise ConnectorError(f"label {label!r} gives an empty IMAP keyword")
    return atom


def system_flag(target: str) -> str:
    flag = SYSTEM_FLAGS.get("\\" + target.strip().lstrip("\\").lower())
    if flag is None:
        raise ConnectorError(
            f"{target!r} is not a flag mailroute sets (use one of {sorted(SYSTEM_FLAGS.values())})"
        )
    return flag


def account_of(message: Message) -> Account:
    accounts = load_accounts(get_settings().accounts_file)
    account = accounts.get(message.account)
    if account is None:
        raise NotApplicable(f"account {message.account!r} is not a configured IMAP account (a local import?)")
    return account


class MailboxExecutor:
    """Shared frame: resolve the account, borrow a connection, map IMAP errors to retry/fail."""

    def apply(self, session: Session, action: Action, message: Message) -> int | None:
        account = account_of(message)
        for attempt in (1, 2):  # a pooled connection may have died since its last use: one fresh retry
            try:
                with pooled_client(account) as client:
                    self.run(client, session, action, message)
                return None
            except NETWORK_ERRORS as e:
                if attempt == 2:
                    raise TransientError(f"IMAP connection to {account.name} lost: {e}") from e
            except imaplib.IMAP4.error as e:
                if any(code in str(e) for code in TRANSIENT_CODES):
                    raise TransientError(f"IMAP server busy: {e}") from e
                raise ConnectorError(f"IMAP server refused {action.kind} {action.target!r}: {e}") from e
        return None

    def run(self, client: IMAPClient, session: Session, action: Action, message: Message) -> None:
        raise NotImplementedError


def must_locate(client: IMAPClient, session: Session, message: Message) -> Location:
    found = locate(client, session, message)
    if found is None:
        raise NotApplicable(
            f"mail {message.id} is no longer in {message.folder!r} (deleted or moved by hand)"
        )
    return found


class KeywordExecutor(MailboxExecutor):
    def run(self, client: IMAPClient, session: Session, action: Action, message: Message) -> None:
        where = must_locate(client, session, message)
        keyword = keyword_atom(action.target)
        if action.desired == "absent":
            client.remove_flags([where.uid], [keyword], silent=True)
        else:
            client.add_flags([where.uid], [keyword], silent=True)


class FlagExecutor(MailboxExecutor):
    def run(self, client: IMAPClient, session: Session, action: Action, message: Message) -> None:
        where = must_locate(client, session, message)
        flag = system_flag(action.target)
        if action.desired == "absent":
            client.remove_flags([where.uid], [flag], silent=True)
        else:
            client.add_flags([where.uid], [flag], silent=True)


class GmailLabelExecutor(MailboxExecutor):
    def run(self, client: IMAPClient, session: Session, action: Action, message: Message) -> None:
        if not client.has_capability("X-GM-EXT-1"):
            raise NotApplicable(f"{message.account}: server has no X-GM-EXT-1 (not Gmail); use imap_keyword")
        where = must_locate(client, session, message)
        if action.desired == "absent":
            client.remove_gmail_labels([where.uid], [action.target], silent=True)
        else:
            client.add_gmail_labels([where.uid], [action.target], silent=True)


class MoveExecutor(MailboxExecutor):
    """Moves a mail to ``target`` and notes where it came from (``params.moved_from``) on the action.

    Undoing (``desired: absent``) moves the mail back there, found by Message-ID; a mail moved
    elsewhere by hand meanwhile is left where it is.
    """

    def run(self, client: IMAPClient, session: Session, action: Action, message: Message) -> None:
        if action.desired == "absent":
            self.undo(client, session, action, message)
            return
        target = action.target
        where = locate(client, session, message, also=[target])
        if where is None:
            raise NotApplicable(f"mail {message.id} is neither in {message.folder!r} nor in {target!r}")
        if where.folder == target:
            return  # already moved (a retry, or the mail was moved before): locate recorded it
        action.params = {**(action.params or {}), MOVED_FROM: where.folder}
        transfer(client, message, where, target)

    def undo(self, client: IMAPClient, session: Session, action: Action, message: Message) -> None:
        origin = (action.params or {}).get(MOVED_FROM)
        if not origin:
            raise NotApplicable("this move never ran (or ran before origins were kept): nothing to undo")
        where = locate(client, session, message, also=[action.target, origin])
        if where is not None and where.folder == origin:
            return  # back already (a retry)
        if where is None or where.folder != action.target:
            raise NotApplicable(f"mail {message.id} is no longer in {action.target!r} (moved by hand?); left")
        transfer(client, message, where, origin)


def transfer(client: IMAPClient, message: Message, where: Location, target: str) -> None:
    """Move the mail at ``where`` to ``target`` (MOVE, else COPY + expunge) and record its new place."""
    ensure_folder(client, target)
    client.select_folder(where.folder)
    if client.has_capability("MOVE"):
        client.move([where.uid], target)
    else:
        if not (
            message.message_id and find_by_message_id(client, target, message.message_id, reselect=where)
        ):
            client.copy([where.uid], target)  # not copied by an earlier, interrupted try
        client.add_flags([where.uid], ["\\Deleted"], silent=True)
        if client.has_capability("UIDPLUS"):
            client.uid_expunge([where.uid])
        else:
            client.expunge()
    new = find_by_message_id(client, target, message.message_id) if message.message_id else None
    record(message, new or Location(target, None, None))


register("imap_keyword", KeywordExecutor())
register("imap_flag", FlagExecutor())
register("gmail_label", GmailLabelExecutor())
register("imap_move", MoveExecutor())
