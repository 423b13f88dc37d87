"""Bringing a message's outbox in line with its reviewed labels.

Plain functions over a session, called by :mod:`worker.review.corrections` (the caller commits, then
queues the returned action ids). An action of a newly chosen label is made ``present`` (a new outbox
row, or an undone one re-armed); an action no chosen label wants any more is made ``absent`` —
re-queued when it had been carried out (the executor removes the keyword or label, moves the mail
back, or tells the webhook endpoint), cancelled when it never ran. A correction also re-arms the
webhooks that stay, so every endpoint that got the original gets a ``decision.corrected`` event.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from rules import RuleSet
from worker.db.models import Action, ActionStatus, new_key


def sync_actions(session: Session, message_id: int, labels: Sequence[str], rule_set: RuleSet) -> list[int]:
    """Make the message's outbox match ``labels``; returns the ids whose rows need running."""
    wanted: dict[tuple[str, str], tuple[str, dict[str, str]]] = {}
    for name in labels:
        try:
            category = rule_set.category(name)
        except KeyError:
            continue  # a label of an older rule set: nothing to do for it any more
        for spec in category.actions:
            wanted.setdefault((spec.kind, spec.target), (name, dict(spec.params)))
    existing = {
        (a.kind, a.target): a
        for a in session.scalars(select(Action).where(Action.message_id == message_id).with_for_update())
    }
    touched: list[Action] = []
    for key, (category_name, params) in wanted.items():
        action = existing.get(key)
        if action is None:
            action = Action(
                message_id=message_id, kind=key[0], target=key[1], params=params, category=category_name
            )
            session.add(action)
            touched.append(action)
        elif action.desired != "present":
            _rearm(action, "present")
            action.category, action.params = category_name, params
            touched.append(action)
    for key, action in existing.items():
        if key in wanted or action.desired != "present":
            continue
        if action.status == ActionStatus.DONE:
            _rearm(action, "absent")  # carried out: the executor undoes it
            touched.append(action)
        else:
            action.desired = "absent"  # never carried out: nothing to undo
            action.status = ActionStatus.SKIPPED
            action.last_error = "cancelled by review before it ran"
    session.flush()
    return [a.id for a in touched]


def tell_webhooks(session: Session, message_id: int, *, exclude: Sequence[int]) -> list[int]:
    """Re-arm the delivered webhooks a correction left in place, so their endpoints hear of it."""
    query = select(Action).where(
        Action.message_id == message_id, Action.kind == "webhook", Action.status == ActionStatus.DONE
    )
    touched = [a for a in session.scalars(query) if a.id not in exclude and a.desired == "present"]
    for action in touched:
        _rearm(action, "present")  # the executor sends decision.corrected (it was delivered before)
    return [a.id for a in touched]


def _rearm(action: Action, desired: str) -> None:
    action.desired = desired
    action.status = ActionStatus.PENDING
    action.attempts = 0
    action.last_error = None
    action.next_attempt_at = None
    action.done_at = None
    action.key = new_key()  # a new effect: receivers must not drop it as a repeat
