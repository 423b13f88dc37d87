"""worker/review/corrections.py: approve and correct save who/when/old/new and bring the outbox in line."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.admin.builders import MailSpec, add_mail, office_rules
from worker.db.models import Action, ActionStatus, Correction, Decision
from worker.db.session import session_factory
from worker.review import corrections as review

RULES = office_rules()


def actions(session: Session) -> dict[tuple[str, str], tuple[str, str]]:
    return {(a.kind, a.target): (a.desired, a.status) for a in session.scalars(select(Action))}


def test_approve_creates_the_withheld_actions_and_records_the_review(db_url: str) -> None:
    with session_factory(db_url).begin() as session:
        mid = add_mail(session, MailSpec(labels=("urgent matters",)), rules=RULES)
        ids = review.approve(session, mid, "rita", rule_set=RULES)
    with session_factory(db_url)() as session:
        assert len(ids) == 2 and actions(session) == {
            ("imap_keyword", "urgent"): ("present", "pending"),
            ("imap_flag", "\\Flagged"): ("present", "pending"),
        }
        decision = session.scalars(select(Decision)).one()
        assert decision.review_state == "approved" and decision.reviewed_at is not None
        correction = session.scalars(select(Correction)).one()
        assert correction.reviewer == "rita" and correction.old_labels == correction.new_labels == [
            "urgent matters"
        ]
        assert correction.created_at is not None


def test_correct_adds_new_actions_and_undoes_done_ones(db_url: str) -> None:
    with session_factory(db_url).begin() as session:
        mid = add_mail(
            session, MailSpec(needs_review=False, labels=("system alert", "urgent matters")), rules=RULES
        )
        before = actions(session)
        assert set(before.values()) == {("present", "done")}
        ids = review.correct(
            session, mid, ["urgent matters", "customer inquiry"], "rita", "not an alert", rule_set=RULES
        )
    with session_factory(db_url)() as session:
        after = actions(session)
        assert after[("imap_keyword", "system-alert")] == ("absent", "pending")  # undo what was done
        assert after[("imap_move", "Alerts")] == ("absent", "pending")
        assert after[("imap_keyword", "urgent")] == ("present", "done")  # kept label: untouched
        assert after[("imap_keyword", "customer-inquiry")] == ("present", "pending")
        assert after[("webhook", "crm-intake")] == ("present", "pending")
        touched = {(a.kind, a.target) for a in session.scalars(select(Action).where(Action.id.in_(ids)))}
        assert touched == {
            ("imap_keyword", "system-alert"),
            ("imap_move", "Alerts"),
            ("imap_keyword", "customer-inquiry"),
            ("webhook", "crm-intake"),
        }
        decision = session.scalars(select(Decision)).one()
        assert (
            decision.labels == ["urgent matters", "customer inquiry"] and decision.review_state == "corrected"
        )
        correction = session.scalars(select(Correction)).one()
        assert (
            correction.old_labels == ["system alert", "urgent matters"] and correction.note == "not an alert"
        )


def test_removing_a_label_whose_actions_never_ran_cancels_them(sqlite_url: str) -> None:
    with session_factory(sqlite_url).begin() as session:
        mid = add_mail(
            session,
            MailSpec(needs_review=False, labels=("customer inquiry",), action_status=ActionStatus.FAILED),
            rules=RULES,
        )
        ids = review.correct(session, mid, [], "rita", rule_set=RULES)
        assert ids == []
        assert set(actions(session).values()) == {("absent", "skipped")}


def test_correcting_back_rearms_an_undone_action_with_a_new_key(sqlite_url: str) -> None:
    with session_factory(sqlite_url).begin() as session:
        mid = add_mail(session, MailSpec(needs_review=False, labels=("meeting notice",)), rules=RULES)
        key = session.scalars(select(Action.key)).one()
        review.correct(session, mid, ["project progress"], "a", rule_set=RULES)
        ids = review.correct(session, mid, ["meeting notice"], "b", rule_set=RULES)
        action = session.scalars(select(Action).where(Action.target == "meeting")).one()
        assert (
            action.id in ids
            and (action.desired, action.status) == ("present", "pending")
            and action.key != key
        )
        assert session.scalar(select(Decision.review_state)) == "corrected"  # differs from the current labels
        assert len(session.scalars(select(Correction)).all()) == 2


def test_a_second_review_of_the_same_labels_queues_nothing(sqlite_url: str) -> None:
    with session_factory(sqlite_url).begin() as session:
        mid = add_mail(session, MailSpec(), rules=RULES)
        assert len(review.approve(session, mid, "a", rule_set=RULES)) == 1
        assert review.approve(session, mid, "a", rule_set=RULES) == []


def test_bad_input_is_refused(sqlite_url: str) -> None:
    with session_factory(sqlite_url).begin() as session:
        mid = add_mail(session, MailSpec(), rules=RULES)
        with pytest.raises(review.ReviewError, match="unknown label"):
            review.correct(session, mid, ["spam"], "rita", rule_set=RULES)
        with pytest.raises(review.ReviewError, match="no decision"):
            review.approve(session, mid + 100, "rita", rule_set=RULES)
        with pytest.raises(review.ReviewError, match="reviewer"):
            review.approve(session, mid, " ", rule_set=RULES)
        assert session.scalar(select(Decision.review_state)) == "pending"


def test_requeue_action(sqlite_url: str) -> None:
    with session_factory(sqlite_url).begin() as session:
        mid = add_mail(session, MailSpec(needs_review=False, action_status=ActionStatus.DEAD), rules=RULES)
        action = session.scalars(select(Action).where(Action.message_id == mid)).one()
        assert review.requeue_action(session, action.id) == [action.id]
        assert (action.status, action.attempts) == ("pending", 0)
        with pytest.raises(review.ReviewError):
            review.requeue_action(session, 10**6)


def test_a_review_is_audited_with_who_and_the_labels_before_and_after(sqlite_url: str) -> None:
    from worker.db.models import AuditEvent

    with session_factory(sqlite_url).begin() as session:
        mid = add_mail(session, MailSpec(labels=("project progress",)), rules=RULES)
        review.correct(session, mid, ["meeting notice"], "rita", "moved", rule_set=RULES)
    with session_factory(sqlite_url)() as session:
        event = session.scalars(select(AuditEvent)).one()
        decision = session.scalars(select(Decision)).one()
    assert (event.actor, event.action, event.subject) == ("rita", "review.correct", f"message:{mid}")
    assert event.before == {"labels": ["project progress"], "review_state": "pending"}
    assert event.after == {"labels": ["meeting notice"], "review_state": "corrected", "note": "moved"}
    assert decision.reviewed_by == "rita"
