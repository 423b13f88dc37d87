"""Mailbox actions from the outbox: IMAP keyword, system flag, Gmail label, move — all idempotent, grouped.

Each kind is one executor class registered into ``worker.outbox.runner``. A batch of rows (the
``apply_actions`` task's up to 64) is carried out on one pooled connection per account with one
``UID STORE`` per (folder, desired, flag) and one ``UID MOVE`` per (folder, target); mails whose UID
changed are located for the whole batch at once (:mod:`connectors.imap.locate`). Setting a flag that
is already set changes nothing, and a repeated move finds the mail already in the target, so a retried
batch is harmless. A move notes the folder it took the mail from (``params.moved_from``) and an
undone move (``desired: absent``) puts the mail back there. Move targets are resolved through the
server's namespace (:mod:`connectors.imap.folders`).
"""

from __future__ import annotations

import imaplib
import re
from collections.abc import Callable, Sequence

from imapclient import IMAPClient
from sqlalchemy.orm import Session

from connectors.imap.accounts import Account, load_accounts
from connectors.imap.client import NETWORK_ERRORS, TRANSIENT_CODES
from connectors.imap.folders import ensure_folder, server_folder
from connectors.imap.locate import locate, locate_many, search
from connectors.imap.mailbox import Location, pooled_client, record
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
Items = Sequence[tuple[Action, Message]]
Results = dict[int, BaseException | None]


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


class StoreExecutor(MailboxExecutor):
    """Flag-like kinds: one STORE per (folder, desired, flag) for the whole batch."""

    def flag(self, target: str) -> str:
        raise NotImplementedError

    def store(self, client: IMAPClient, *, present: bool) -> Callable[..., object]:
        return client.add_flags if present else client.remove_flags

    def check(self, client: IMAPClient, message: Message) -> None:
        """Raise NotApplicable when the server cannot do this kind at all."""

    def run_many(self, client: IMAPClient, items: Items) -> Results:
        results: Results = {}
        wanted: list[tuple[Action, Message, str]] = []
        for action, message in items:
            try:
                self.check(client, message)
                wanted.append((action, message, self.flag(action.target)))
            except (ConnectorError, NotApplicable) as e:
                results[action.id] = e
        where = locate_many(client, [message for _, message, _ in wanted])
        groups: dict[tuple[str, bool, str], list[tuple[Action, int]]] = {}
        for action, message, flag in wanted:
            found = where.get(message.id)
            if found is None or found.uid is None:
                results[action.id] = not_found(message)
                continue
            key = (found.folder, action.desired != "absent", flag)
            groups.setdefault(key, []).append((action, found.uid))
        for (folder, present, flag), members in groups.items():
            outcome: BaseException | None = None
            try:
                client.select_folder(folder)
                self.store(client, present=present)(sorted({uid for _, uid in members}), [flag], silent=True)
            except imaplib.IMAP4.abort:
                raise
            except imaplib.IMAP4.error as e:
                outcome = server_error(f"{members[0][0].kind} {flag!r}", e)
            results.update((action.id, outcome) for action, _ in members)
        return results


class KeywordExecutor(StoreExecutor):
    def flag(self, target: str) -> str:
        return keyword_atom(target)


class FlagExecutor(StoreExecutor):
    def flag(self, target: str) -> str:
        return system_flag(target)


class GmailLabelExecutor(StoreExecutor):
    def flag(self, target: str) -> str:
        return target

    def check(self, client: IMAPClient, message: Message) -> None:
        if not client.has_capability("X-GM-EXT-1"):
            raise NotApplicable(f"{message.account}: server has no X-GM-EXT-1 (not Gmail); use imap_keyword")

    def store(self, client: IMAPClient, *, present: bool) -> Callable[..., object]:
        return client.add_gmail_labels if present else client.remove_gmail_labels


class MoveExecutor(MailboxExecutor):
    """One MOVE (or COPY + \\Deleted + EXPUNGE) per (folder, target); new UIDs found with one SEARCH.

    Each done move notes where the mail came from (``params.moved_from``). Undoing (``desired:
    absent``) moves the mail back there, found by Message-ID; a mail moved elsewhere by hand meanwhile
    is left where it is.
    """

    def run_many(self, client: IMAPClient, items: Items) -> Results:
        results: Results = {}
        targets: dict[str, list[tuple[Action, Message]]] = {}
        for action, message in items:
            if action.desired == "absent":
                results[action.id] = self.undo(client, action, message)
            else:
                targets.setdefault(action.target, []).append((action, message))
        for name, members in targets.items():
            target = server_folder(client, name)
            where = locate_many(client, [message for _, message in members], also=[target])
            sources: dict[str, list[tuple[Action, Message, Location]]] = {}
            for action, message in members:
                found = where.get(message.id)
                if found is None:
                    results[action.id] = NotApplicable(
                        f"mail {message.id} is neither in {message.folder!r} nor in {target!r}"
                    )
                elif found.folder == target:
                    results[action.id] = (
                        None  # already moved (a retry, or moved before): located and recorded
                    )
                else:
                    sources.setdefault(found.folder, []).append((action, message, found))
            if sources:
                ensure_folder(client, target)
            for folder, group in sources.items():
                results.update(self.guarded_move(client, folder, target, group, f"imap_move {name!r}"))
        return results

    def undo(self, client: IMAPClient, action: Action, message: Message) -> BaseException | None:
        origin = (action.params or {}).get(MOVED_FROM)
        if not origin:
            return NotApplicable("this move never ran (or ran before origins were kept): nothing to undo")
        target = server_folder(client, action.target)
        where = locate(client, message, also=[target, origin])
        if where is not None and where.folder == origin:
            return None  # back already (a retry)
        if where is None or where.folder != target:
            return NotApplicable(
                f"mail {message.id} is no longer in {action.target!r} (moved by hand?); left"
            )
        outcome = self.guarded_move(
            client, target, origin, [(action, message, where)], f"undo move {origin!r}"
        )
        return outcome[action.id]

    def guarded_move(
        self,
        client: IMAPClient,
        folder: str,
        target: str,
        group: list[tuple[Action, Message, Location]],
        what: str,
    ) -> Results:
        """Move ``group`` from ``folder`` to ``target``; a server refusal is every member's outcome."""
        try:
            self.move(client, folder, target, group)
            outcome: BaseException | None = None
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as e:
            outcome = server_error(what, e)
        if outcome is None:
            for action, _, _ in group:
                if action.desired != "absent":
                    action.params = {**(action.params or {}), MOVED_FROM: folder}
        return {action.id: outcome for action, _, _ in group}

    def move(
        self, client: IMAPClient, folder: str, target: str, group: list[tuple[Action, Message, Location]]
    ) -> None:
        uids = sorted({int(found.uid or 0) for _, _, found in group})
        messages = [message for _, message, _ in group]
        client.select_folder(folder)
        if client.has_capability("MOVE"):
            client.move(uids, target)
        else:
            copied = search(client, target, messages)  # by an earlier, interrupted try
            client.select_folder(folder)
            fresh = sorted({int(found.uid or 0) for _, message, found in group if message not in copied})
            if fresh:
                client.copy(fresh, target)
            client.add_flags(uids, ["\\Deleted"], silent=True)
            if client.has_capability("UIDPLUS"):
                client.uid_expunge(uids)
            else:
                client.expunge()
        new = search(client, target, messages)
        for message in messages:
            record(message, new.get(message) or Location(target, None, None))


register("imap_keyword", KeywordExecutor())
register("imap_flag", FlagExecutor())
register("gmail_label", GmailLabelExecutor())
register("imap_move", MoveExecutor())
