"""Mailbox actions from the outbox: IMAP keyword, system flag, Gmail label, move — all idempotent, grouped.

Each kind is one executor class registered into ``worker.outbox.registry`` here (the shared frame is
:mod:`connectors.imap.executor`, moves are :mod:`connectors.imap.moves`). A batch of rows (the
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
from collections.abc import Callable

from imapclient import IMAPClient

from connectors.imap.executor import Items, MailboxExecutor, Results, not_found, server_error
from connectors.imap.locate import locate_many
from connectors.imap.moves import MOVED_FROM, MoveExecutor
from worker.core.errors import ConnectorError
from worker.db.models import Action, Message
from worker.outbox.registry import NotApplicable, register

__all__ = [
    "MOVED_FROM",
    "FlagExecutor",
    "GmailLabelExecutor",
    "KeywordExecutor",
    "MoveExecutor",
    "keyword_atom",
]

SYSTEM_FLAGS = {
    "\\flagged": "\\Flagged",
    "\\seen": "\\Seen",
    "\\answered": "\\Answered",
    "\\draft": "\\Draft",
}
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


register("imap_keyword", KeywordExecutor())
register("imap_flag", FlagExecutor())
register("gmail_label", GmailLabelExecutor())
register("imap_move", MoveExecutor())
