"""Replies follow their thread: a mail answering one already decided (same profile) gets its decision.

Contract: :func:`follow_threads` is called by ``classify_batch`` before ``route()``. For each parsed
mail whose ``In-Reply-To`` / ``References`` name a mail with a settled live decision (not waiting for
review) in the same profile, it returns a :class:`Routed` that copies that decision's labels (as
corrected by a reviewer, if they were), with their actions from the rule set, without scoring — the
reason says so: ``reply in thread of #123: urgent matters``. The nearest ancestor wins (In-Reply-To,
then References from the last). The rule set's ``policy.threads`` turns this off (``off``) or
scores replies as usual with the thread noted (``rescore``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from rules import Decision as RuleDecision
from rules import RuleSet
from worker.db.models import Decision, Message
from worker.db.profiles import message_profile
from worker.parsing.message import ParsedMail
from worker.pipeline.route import Routed

_ID = re.compile(r"<([^<>\s]+)>")
THREAD_REASON = "reply in thread of #{id}: {labels}"


def referenced_ids(mail: ParsedMail) -> list[str]:
    """Message-IDs this mail answers, nearest first (In-Reply-To, then References backwards)."""
    found = _ID.findall(mail.headers.get("in-reply-to", ""))
    found += list(reversed(_ID.findall(mail.headers.get("references", ""))))
    return list(dict.fromkeys(i for i in found if i != mail.message_id))


def _hash(message_id: str) -> str:
    return hashlib.sha256(message_id.encode()).hexdigest()


def settled_parents(session: Session, hashes: Sequence[str]) -> dict[str, tuple[Message, Decision]]:
    """Message-ID hash → (message, live decision) of decided, not-pending mails among ``hashes``."""
    if not hashes:
        return {}
    query = (
        select(Message, Decision)
        .join(Decision, Decision.message_id == Message.id)
        .where(Message.message_id_hash.in_(list(hashes)), Decision.mode == "live")
        .where(Decision.review_state != "pending")
        .order_by(Message.id)
    )
    return {str(m.message_id_hash): (m, d) for m, d in session.execute(query)}


def follow_threads(
    session: Session, message_ids: Sequence[int], mails: Sequence[ParsedMail], rule_set: RuleSet
) -> dict[int, Routed]:
    """Index in ``mails`` → the decision it inherits from its thread; the other mails are routed as usual."""
    if rule_set.policy.threads != "follow":
        return {}
    wanted = {i: referenced_ids(mail) for i, mail in enumerate(mails)}
    parents = settled_parents(session, sorted({_hash(r) for refs in wanted.values() for r in refs}))
    if not parents:
        return {}
    profiles = {
        m.id: message_profile(m)
        for m in session.scalars(select(Message).where(Message.id.in_(list(message_ids))))
    }
    known = set(rule_set.category_names())
    followed: dict[int, Routed] = {}
    for i, refs in wanted.items():
        for ref in refs:
            parent = parents.get(_hash(ref))
            if parent is None or parent[0].id == message_ids[i]:
                continue
            message, decision = parent
            if message_profile(message) != profiles.get(message_ids[i]):
                continue
            labels = tuple(label for label in decision.labels if label in known)
            actions = tuple(
                dict.fromkeys(a for c in rule_set.categories if c.name in labels for a in c.actions)
            )
            reason = THREAD_REASON.format(id=message.id, labels=", ".join(labels) or "no label")
            followed[i] = Routed(scores={}, decision=RuleDecision(labels, actions, False, (reason,)))
            break
    return followed
