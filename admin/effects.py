"""What an outbox action did to the mailbox or an endpoint, in words — and whether it was undone.

``describe(action)`` is shown on the message page and in the API: an action that is ``desired:
absent`` and done was undone (the keyword removed, the mail moved back, the endpoint told of the
correction); one that never ran shows what it will do.
"""

from __future__ import annotations

from dataclasses import dataclass

from worker.db.models import Action, ActionStatus


@dataclass(frozen=True)
class Effect:
    text: str
    undone: bool


def _done_text(action: Action) -> str:
    target, origin = action.target, (action.params or {}).get("moved_from")
    if action.kind == "imap_move":
        where = f"from {origin} " if origin else ""
        return f"moved back to {origin}" if action.desired == "absent" else f"moved {where}to {target}"
    if action.kind == "webhook":
        return f"told {target} of the correction" if action.desired == "absent" else f"delivered to {target}"
    what = {"imap_keyword": "keyword", "imap_flag": "flag", "gmail_label": "label"}.get(
        action.kind, action.kind
    )
    return f"{what} {target} removed" if action.desired == "absent" else f"{what} {target} set"


def describe(action: Action) -> Effect:
    undo = action.desired == "absent"
    if action.status == ActionStatus.DONE:
        return Effect(_done_text(action), undone=undo)
    if action.status == ActionStatus.SKIPPED:
        return Effect("not applied" + (" (cancelled before it ran)" if undo else ""), undone=False)
    verb = "to undo" if undo else "to do"
    return Effect(f"{action.status}: {verb}", undone=False)
