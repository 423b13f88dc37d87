"""Backtest on a stored history reports exactly the flips a constructed rule change causes."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import func, select

from rules import HeaderCondition, Policy, load_rule_set
from tests.conftest import REPO
from tests.worker.pipeline.test_classify import FixedScorer, mail
from worker.db.models import Action, Decision
from worker.db.session import session_factory
from worker.evaluation.backtest import backtest_stored
from worker.pipeline.classify import classify_batch
from worker.review import corrections as review
from worker.store.messages import Origin, store_message

OFFICE = load_rule_set(REPO / "rules" / "examples" / "office.yaml")
NAMES = OFFICE.category_names()


def history(url: str) -> dict[str, int]:
    """One decided mail per category (subject "About <name>"), plus two about invoices."""
    subjects = [f"About {name}" for name in NAMES] + [f"Invoice {i} about {NAMES[0]}" for i in (1, 2)]
    with session_factory(url).begin() as session:
        ids = {
            s: store_message(session, mail(i, s), Origin("a", "INBOX", 1, i)).id
            for i, s in enumerate(subjects)
        }
        classify_batch(session, list(ids.values()), FixedScorer(NAMES), OFFICE)
    return ids


def test_no_change_flips_nothing(sqlite_url: str) -> None:
    ids = history(sqlite_url)
    with session_factory(sqlite_url)() as session:
        report = backtest_stored(session, FixedScorer(NAMES), OFFICE).to_dict()
    assert report["n"] == len(ids) and report["flipped"] == 0


def test_a_boilerplate_subject_is_left_out_as_live_so_nothing_flips(sqlite_url: str) -> None:
    """Live classification scores these mails on their bodies (the subject is on all of them); a
    backtest that scored the subject would flip every one to the category it names."""
    with session_factory(sqlite_url).begin() as session:
        ids = [
            store_message(session, mail(i, f"About {NAMES[0]}"), Origin("a", "INBOX", 1, i)).id
            for i in range(4)
        ]
        classify_batch(session, ids, FixedScorer(NAMES), OFFICE)
        live = {d.message_id: tuple(d.labels) for d in session.scalars(select(Decision))}
    assert NAMES[0] not in {label for labels in live.values() for label in labels}
    with session_factory(sqlite_url)() as session:
        report = backtest_stored(session, FixedScorer(NAMES), OFFICE).to_dict()
        assert report["n"] == 4 and report["flipped"] == 0
        kept = backtest_stored(session, FixedScorer(NAMES), OFFICE, boilerplate_min=0).to_dict()
    assert kept["flipped"] == 4  # with the rule off, the subject decides: what the check above guards


def test_a_forcing_condition_flips_exactly_the_mails_it_matches(sqlite_url: str) -> None:
    ids = history(sqlite_url)
    target = NAMES[-1]
    changed = replace(
        OFFICE,
        conditions=(*OFFICE.conditions, HeaderCondition("subject", r"^Invoice", "force", target)),
    )
    with session_factory(sqlite_url)() as session:
        old = {d.message_id: tuple(d.labels) for d in session.scalars(select(Decision))}
        report = backtest_stored(session, FixedScorer(NAMES), changed)
    flipped = {int(f.key): (f.old_labels, f.new_labels) for f in report.flips}
    invoices = [ids[s] for s in ids if s.startswith("Invoice")]
    assert flipped == {mid: (old[mid], (target, *old[mid])) for mid in invoices}


def test_review_rate_accuracy_and_shadow_decisions(sqlite_url: str) -> None:
    ids = history(sqlite_url)
    sessions = session_factory(sqlite_url)
    first = ids[f"About {NAMES[0]}"]
    with sessions.begin() as session:  # a reviewer says the first mail belongs to the second category
        review.correct(session, first, [NAMES[1]], "rita", rule_set=OFFICE)
        actions_before = session.scalar(select(func.count(Action.id)))
    stricter = replace(OFFICE, policy=Policy(**{**OFFICE.policy.to_dict(), "review_band": (0.0, 0.95)}))
    with sessions.begin() as session:
        report = backtest_stored(session, FixedScorer(NAMES), stricter, shadow=True).to_dict()
    assert report["review_rate"]["new"] == 1.0 and report["flipped"] == len(ids)
    assert report["accuracy"] == {"n": 1, "old": 0.0, "new": 0.0}
    flip = next(f for f in report["flips"] if f["key"] == str(first))
    assert flip["old_labels"] == (NAMES[0],) and flip["truth"] == (
        NAMES[1],
    )  # first decision, not the review
    with sessions.begin() as session:  # a second run replaces the shadow decisions
        backtest_stored(session, FixedScorer(NAMES), stricter, shadow=True)
    with sessions() as session:
        shadow = list(session.scalars(select(Decision).where(Decision.mode == "shadow")))
        assert len(shadow) == len(ids) and all(d.needs_review for d in shadow)
        assert {d.rule_set_hash for d in shadow} == {stricter.digest}
        assert session.scalar(select(func.count(Action.id))) == actions_before  # shadow never acts
        live = session.scalars(
            select(Decision).where(Decision.mode == "live", Decision.message_id == first)
        ).one()
        assert live.labels == [NAMES[1]]  # the live decision is untouched
