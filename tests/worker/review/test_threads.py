"""worker/review/threads.py: a thread's replies are found (replies of replies too) and re-routed with it."""

from __future__ import annotations

from sqlalchemy import select

from tests.admin.builders import MailSpec, add_mail, office_rules
from worker.db.models import AuditEvent, Decision
from worker.db.session import session_factory
from worker.review.threads import correct_thread, thread_replies

RULES = office_rules()


def followed(session, parent: int, labels: tuple[str, ...] = ("urgent matters",)) -> int:  # type: ignore[no-untyped-def]
    reason = f"reply in thread of #{parent}: {', '.join(labels)}"
    return add_mail(session, MailSpec(needs_review=False, labels=labels, reasons=(reason,)))


def test_replies_of_replies_are_found_and_corrected_with_the_first_mail(sqlite_url: str) -> None:
    with session_factory(sqlite_url).begin() as session:
        first = add_mail(session, MailSpec(needs_review=False, labels=("urgent matters",)))
        reply = followed(session, first)
        reply_of_reply = followed(session, reply)
        add_mail(
            session,
            MailSpec(
                needs_review=False, labels=("urgent matters",), reasons=(f"reply in thread of #{first}0: x",)
            ),
        )
        assert thread_replies(session, first) == [reply, reply_of_reply]
        correct_thread(
            session, first, ["meeting notice"], "rita", rule_set=RULES, replies=[reply, reply_of_reply]
        )
    with session_factory(sqlite_url)() as session:
        labels = {d.message_id: d.labels for d in session.scalars(select(Decision))}
        notes = [e.after.get("note") for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert labels[first] == labels[reply] == labels[reply_of_reply] == ["meeting notice"]
    assert notes == [None, f"re-routed with its thread #{first}", f"re-routed with its thread #{first}"]
