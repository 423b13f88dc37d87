"""A thread's replies follow its first mail: find them, and correct them along with it.

Contract: a reply that followed its thread carries the reason ``reply in thread of #ID: ...``
(``worker.pipeline.threads``). :func:`thread_replies` finds every mail that followed ``message_id``,
directly or through another reply; :func:`correct_thread` corrects the mail and, when asked, every
such reply to the same labels (each audited, with a note naming the thread). The caller commits.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from rules import RuleSet
from worker.db.models import Decision
from worker.pipeline.threads import THREAD_REASON
from worker.review.corrections import correct

MAX_REPLIES = 500


def thread_replies(session: Session, message_id: int) -> list[int]:
    """Ids of the mails that followed ``message_id``'s thread (replies of replies too), oldest first."""
    found: list[int] = []
    frontier = [message_id]
    while frontier and len(found) < MAX_REPLIES:
        parent = frontier.pop(0)
        marker = THREAD_REASON.format(id=parent, labels="").rstrip()  # "reply in thread of #ID:"
        query = select(Decision.message_id).where(
            Decision.mode == "live", cast(Decision.reasons, String).like(f"%{marker}%")
        )
        for child in session.scalars(query.order_by(Decision.message_id)):
            if child not in found and child != message_id:
                found.append(child)
                frontier.append(child)
    return found[:MAX_REPLIES]


def correct_thread(
    session: Session,
    message_id: int,
    labels: Sequence[str],
    reviewer: str,
    note: str | None = None,
    *,
    rule_set: RuleSet | None = None,
    replies: Sequence[int] = (),
) -> list[int]:
    """Correct ``message_id`` and the given ``replies`` of its thread to ``labels``; returns action ids."""
    ids = correct(session, message_id, labels, reviewer, note, rule_set=rule_set)
    for reply in replies:
        ids += correct(
            session, reply, labels, reviewer, f"re-routed with its thread #{message_id}", rule_set=rule_set
        )
    return ids
