"""Boilerplate subjects: the pure decision (normalisation, threshold) and the stored counts."""

from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy import update

from worker.db.models import Message
from worker.db.session import session_factory
from worker.store.boilerplate import boilerplate, keep_in_set, keep_subjects, normalise, stored_counts
from worker.store.messages import Origin, store_message


def test_normalise_ignores_reply_prefixes_case_and_whitespace() -> None:
    assert normalise("  Re: FWD:  Customer   request ") == "customer request"
    assert normalise("re:Fw : customer request") == "customer request"
    assert normalise("Request: re: invoice") == "request: re: invoice"  # only leading prefixes go
    assert normalise("") == ""


def test_a_subject_is_boilerplate_from_the_threshold_on() -> None:
    subjects = ["Customer request", "RE: customer  request", "Invoice 12"]
    assert boilerplate(subjects, min_shared=3) == [False, False, False]
    assert boilerplate([*subjects, "Fwd: Customer Request"], min_shared=3) == [True, True, False, True]
    assert boilerplate(subjects, min_shared=3, known={"customer request": 1}) == [True, True, False]
    assert boilerplate(subjects, min_shared=2) == [True, True, False]


def test_a_subject_must_also_be_a_share_of_the_mails_counted() -> None:
    thread = ["Energy issues"] * 3 + [f"Subject {i}" for i in range(97)]  # 3% of the mails: a topic
    assert not any(boilerplate(thread, min_shared=3))
    assert boilerplate(thread, min_shared=3, min_share=0.0)[:3] == [True, True, True]
    form = ["Customer request"] * 5 + [f"Subject {i}" for i in range(95)]
    assert boilerplate(form, min_shared=3)[:6] == [True] * 5 + [False]
    assert boilerplate(["Customer request"], min_shared=3, known={"customer request": 2, "": 57}) == [True]
    assert boilerplate(["Customer request"], min_shared=3, known={"customer request": 2, "": 58}) == [False]


def test_empty_subjects_are_never_boilerplate_and_zero_turns_it_off() -> None:
    assert boilerplate(["", "", ""], min_shared=3) == [False, False, False]
    assert boilerplate(["a", "a", "a"], min_shared=0) == [False, False, False]
    assert keep_in_set(["a", "a", "b", "A"], min_shared=3) == [False, False, True, False]


def _raw(i: int, subject: str) -> bytes:
    message = EmailMessage()
    message["Subject"] = subject
    message["Message-ID"] = f"<b{i}@example.com>"
    message.set_content(f"body {i}")
    return bytes(message)


def test_stored_counts_are_per_profile_within_the_look_back(db_url: str) -> None:
    rows = [("ops", "Alert"), ("ops", "Re: alert"), ("sales", "Alert"), ("ops", "Other"), ("ops", "")]
    rows += [("ops", "Pending")]  # not decided yet: not counted
    ids = _decided(db_url, rows, keyed=False)  # rows decided before subject_key: counted by subject
    with session_factory(db_url)() as session:
        top = max(ids)
        assert stored_counts(session, "ops", upto=top) == ({"alert": 2, "other": 1, "": 1}, 4)
        assert stored_counts(session, "ops", upto=top, exclude=ids[:1]) == (
            {"alert": 1, "other": 1, "": 1},
            3,
        )
        assert stored_counts(session, "ops", upto=top, lookback=3) == ({"other": 1, "": 1}, 2)
        assert stored_counts(session, "ops", upto=top, keys={"alert"}) == ({"alert": 2}, 4)
        keep = keep_subjects(session, [top + 1, top + 2], ["ALERT", "alert"], ["ops", "sales"], min_shared=3)
        assert keep == [False, True]  # ops: 2 stored + this one; sales: 1 stored + this one


def _decided(url: str, rows: list[tuple[str, str]], *, keyed: bool, first: int = 0) -> list[int]:
    """Store ``rows`` (profile, subject) and mark all but the last decided; ``keyed``: as the
    classifier writes them now, with ``subject_key``."""
    with session_factory(url).begin() as session:
        ids = [
            store_message(session, _raw(first + i, s), Origin("a", "INBOX", 1, first + i, profile=p)).id
            for i, (p, s) in enumerate(rows)
        ]
        for id_, (_, subject) in zip(ids, rows, strict=True):  # the subject is stored when decided
            values = {"subject": subject, "status": "decided" if id_ != ids[-1] else "received"}
            if keyed:
                values["subject_key"] = normalise(subject)
            session.execute(update(Message).where(Message.id == id_).values(**values))
    return ids


def test_keyed_rows_and_legacy_rows_count_alike_and_only_the_asked_keys_come_back(db_url: str) -> None:
    rows = [("ops", "Alert"), ("ops", "Re: ALERT"), ("ops", "Other"), ("ops", ""), ("ops", "Form")]
    _decided(db_url, [*rows, ("ops", "pending")], keyed=False)
    ids = _decided(db_url, [*rows, ("ops", "pending")], keyed=True, first=100)
    with session_factory(db_url)() as session:
        counts, total = stored_counts(session, "ops", upto=max(ids))
        assert (counts, total) == ({"alert": 4, "other": 2, "": 2, "form": 2}, 10)
        asked = stored_counts(session, "ops", upto=max(ids), keys={"alert", "form", "missing"})
        assert asked == ({"alert": 4, "form": 2}, 10)  # the others still count in the total
        assert stored_counts(session, "ops", upto=max(ids), keys=set()) == ({}, 10)


def test_a_known_total_counts_in_the_share_like_the_known_counts() -> None:
    known = {"customer request": 2}
    assert boilerplate(["Customer request"], min_shared=3, known=known, known_total=59) == [True]
    assert boilerplate(["Customer request"], min_shared=3, known=known, known_total=60) == [False]
    assert boilerplate(["Customer request"], min_shared=3, known=known, known_total=1) == [True]
