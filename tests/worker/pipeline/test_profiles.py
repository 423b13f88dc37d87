"""Routing profiles: each mail decided by its own profile's published rule set, versions picked up
per batch, a broken version never replacing the last good one."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from tests.worker.profiles_fixtures import HELPDESK, PERSONAL, WordScorer, mail, record_unloadable_version
from worker.core.errors import RuleSetError
from worker.db.models import Action, Decision
from worker.db.session import session_factory
from worker.learning.history import reviewed_mails
from worker.pipeline.classify import classify_profiles
from worker.pipeline.profiles import ProfileSource, ProfileSources, check_profiles
from worker.review.corrections import correct
from worker.store import rulesets
from worker.store.messages import Origin, store_message


def publish(url: str, profile: str, text: str) -> int:
    with session_factory(url).begin() as session:
        return rulesets.publish(session, profile, text, author="test").version


def store(url: str, items: list[tuple[int, str, str]]) -> list[int]:
    """(number, folder/profile, subject) -> stored message ids."""
    with session_factory(url).begin() as session:
        return [
            store_message(session, mail(i, subject), Origin("acct", profile, 1, i, profile)).id
            for i, profile, subject in items
        ]


def decisions(url: str) -> dict[int, Decision]:
    with session_factory(url)() as session:
        return {d.message_id: d for d in session.scalars(select(Decision))}


def test_a_mixed_batch_is_routed_per_profile_and_records_versions(db_url: str) -> None:
    publish(db_url, "support", HELPDESK)
    publish(db_url, "support", HELPDESK.replace("a customer", "a customer (or crash)"))
    publish(db_url, "personal", PERSONAL)
    ids = store(
        db_url, [(1, "support", "Refund please"), (2, "personal", "Family dinner"), (3, "support", "Bug")]
    )
    scorer = WordScorer()
    with session_factory(db_url).begin() as session:
        result = classify_profiles(
            session, ids, scorer, ProfileSources(session_factory(db_url), rules_path=None)
        )
    assert sorted(result.decided) == sorted(ids)
    assert sorted(map(sorted, scorer.calls)) == [
        ["bug reported by a customer (or crash)", "refund asked by a customer (or crash)"],
        ["family news from relatives", "newsletter or mailing"],
    ]  # one backend call per profile, with that profile's labels
    found = decisions(db_url)
    assert [(found[i].rule_set_name, found[i].rule_set_version, found[i].labels) for i in ids] == [
        ("helpdesk-queue", 2, ["refund"]),
        ("personal-inbox", 1, ["family"]),
        ("helpdesk-queue", 2, ["bug report"]),
    ]
    with session_factory(db_url)() as session:
        actions = {(a.message_id, a.kind, a.target) for a in session.scalars(select(Action))}
    assert actions == {
        (ids[0], "webhook", "tickets"),
        (ids[1], "imap_keyword", "family"),
        (ids[2], "imap_keyword", "bug"),
    }


def test_a_correction_in_one_profile_never_changes_the_other(db_url: str) -> None:
    with_target = "policy: {mode: top_k, top_k: 1, threshold: 0.5, target_precision: 0.9}"
    publish(
        db_url, "support", HELPDESK.replace("policy: {mode: top_k, top_k: 1, threshold: 0.5}", with_target)
    )
    publish(
        db_url, "personal", PERSONAL.replace("policy: {mode: top_k, top_k: 1, threshold: 0.5}", with_target)
    )
    sources = ProfileSources(session_factory(db_url), rules_path=None)
    ids = store(db_url, [(1, "support", "Refund please"), (2, "personal", "Family dinner")])
    with session_factory(db_url).begin() as session:
        classify_profiles(session, ids, WordScorer(), sources)
    with session_factory(db_url).begin() as session:
        correct(session, ids[0], ["bug report"], "rev", rule_set=sources("support").rule_set)
        with pytest.raises(Exception, match="unknown label"):  # labels are the profile's own
            correct(session, ids[1], ["refund"], "rev", rule_set=sources("personal").rule_set)
    with session_factory(db_url)() as session:
        assert [m.message_id for m in reviewed_mails(session, rule_set_name="helpdesk-queue")] == [ids[0]]
        assert reviewed_mails(session, rule_set_name="personal-inbox") == []
    later = store(db_url, [(3, "personal", "Family photos")])
    with session_factory(db_url).begin() as session:
        classify_profiles(session, later, WordScorer(), sources)
    assert decisions(db_url)[later[0]].labels == ["family"]


def test_bootstrap_then_new_versions_are_picked_up_and_a_broken_one_keeps_the_last_good(
    sqlite_url: str, tmp_path: Path
) -> None:
    file = tmp_path / "rules.yaml"
    file.write_text(PERSONAL)
    source = ProfileSource("default", session_factory(sqlite_url), bootstrap=file)
    assert source().name == "personal-inbox" and source.version == 1  # the file, recorded as version 1
    publish(sqlite_url, "default", PERSONAL.replace("from relatives", "from my relatives"))
    assert source.version == 1 and source().categories[0].description == "family news from my relatives"
    assert source.version == 2 and source.error is None
    with session_factory(sqlite_url).begin() as session:  # a version that fails at load (not via publish)
        record_unloadable_version(session, "default", 3)
    assert source.current().version == 2
    assert source.error is not None and "default v3" in source.error
    with session_factory(sqlite_url)() as session:
        [health] = check_profiles(session)
    assert (health.head, health.routing) == (3, 2) and "default v3" in (health.error or "")
    publish(sqlite_url, "default", PERSONAL)
    assert source.current().version == 4 and source.error is None


def test_a_profile_with_no_version_and_no_file_is_an_error(sqlite_url: str) -> None:
    with pytest.raises(RuleSetError, match="profile nowhere: no published rule set"):
        ProfileSource("nowhere", session_factory(sqlite_url))()


def test_conditions_see_the_account_and_folder_the_mail_was_stored_from(sqlite_url: str) -> None:
    text = (
        PERSONAL
        + "conditions:\n  - {field: folder, pattern: '^News$', effect: force, category: newsletter}\n"
    )
    publish(sqlite_url, "personal", text)
    ids = store(sqlite_url, [(1, "personal", "Family dinner")])
    with session_factory(sqlite_url).begin() as session:
        ids += [store_message(session, mail(2, "Family dinner"), Origin("acct", "News", 1, 2, "personal")).id]
    with session_factory(sqlite_url).begin() as session:
        classify_profiles(
            session, ids, WordScorer(), ProfileSources(session_factory(sqlite_url), rules_path=None)
        )
    found = decisions(sqlite_url)
    assert (found[ids[0]].labels, found[ids[1]].labels[0]) == (["family"], "newsletter")
