"""The move executor: one ``UID MOVE`` (or COPY + \\Deleted + EXPUNGE) per (folder, target) for a batch,
new UIDs found with one SEARCH, targets resolved through the server's namespace
(:mod:`connectors.imap.folders`). A done move notes where the mail came from (``params.moved_from``);
undoing it (``desired: absent``) puts the mail back there, found by Message-ID.
"""

from __future__ import annotations

import imaplib

from imapclient import IMAPClient

from connectors.imap.executor import Items, MailboxExecutor, Results, server_error
from connectors.imap.folders import ensure_folder, server_folder
from connectors.imap.locate import locate, locate_many, search
from connectors.imap.mailbox import Location, record
from worker.db.models import Action, Message
from worker.outbox.registry import NotApplicable

MOVED_FROM = "moved_from"  # on a done move's params: the folder the mail was taken from


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
