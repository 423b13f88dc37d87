"""Published rule-set versions: validated before they are recorded, counted per profile, rolled back."""

from __future__ import annotations

import pytest

from tests.worker.profiles_fixtures import HELPDESK, PERSONAL
from worker.core.errors import InputError, RuleSetError
from worker.db.session import session_factory
from worker.store import rulesets


def test_versions_count_per_profile_and_the_highest_is_live(db_url: str) -> None:
    with session_factory(db_url).begin() as session:
        first = rulesets.publish(session, "support", HELPDESK, author="ann", message="first")
        rulesets.publish(session, "personal", PERSONAL, author="ann")
        second = rulesets.publish(session, "support", HELPDESK.replace("0.5}", "0.7}"), author="bob")
    assert (first.version, second.version) == (1, 2)
    with session_factory(db_url)() as session:
        assert rulesets.heads(session) == {"support": 2, "personal": 1}
        live = rulesets.get_version(session, "support")
        assert live.author == "bob" and live.name == "helpdesk-queue" and "0.7" in live.yaml
        assert [r.version for r in rulesets.history(session, "support")] == [2, 1]


def test_an_invalid_rule_set_is_refused_with_line_and_key(sqlite_url: str) -> None:
    broken = HELPDESK.replace("  - name: bug report\n", "  - name: bug report\n    threshold: 7\n")
    with session_factory(sqlite_url).begin() as session:
        with pytest.raises(RuleSetError, match=r":9: categories\[1\]\.threshold: .*") as caught:
            rulesets.publish(session, "support", broken, author="ann")
        assert "support" in str(caught.value)
        assert rulesets.head(session, "support") is None  # nothing recorded


def test_rollback_publishes_the_old_yaml_as_a_new_version(sqlite_url: str) -> None:
    with session_factory(sqlite_url).begin() as session:
        rulesets.publish(session, "support", HELPDESK, author="ann")
        rulesets.publish(session, "support", HELPDESK.replace("0.5}", "0.7}"), author="ann")
        row = rulesets.rollback(session, "support", 1, author="bob")
        assert row.version == 3 and row.yaml == HELPDESK and row.message == "rollback to version 1"
        with pytest.raises(InputError, match="no version 9"):
            rulesets.rollback(session, "support", 9, author="bob")
        with pytest.raises(InputError, match="author"):
            rulesets.publish(session, "support", HELPDESK, author=" ")
