"""RuleSetSource: a broken edit keeps the last good set, also in a process started after the edit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.conftest import CHAOS_RULES
from worker.core.errors import RuleSetError
from worker.pipeline.rulesource import RuleSetSource, last_good_path

BROKEN = "name: chaos\ncategories: [oops\n"


@pytest.fixture
def rules_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "rules.yaml"
    path.write_text(CHAOS_RULES)
    yield path
    last_good_path(path).unlink(missing_ok=True)


def test_a_broken_edit_keeps_the_last_good_set_and_says_why(rules_file: Path) -> None:
    source = RuleSetSource(rules_file)
    assert source().name == "chaos" and source.error is None
    rules_file.write_text(BROKEN)
    assert source().name == "chaos"
    assert source.error and str(rules_file) in source.error


def test_a_process_started_after_the_edit_routes_with_the_last_good_copy(rules_file: Path) -> None:
    RuleSetSource(rules_file)()  # an earlier process loaded the good version
    rules_file.write_text(BROKEN)
    fresh = RuleSetSource(rules_file)  # e.g. a Celery child replaced after its task limit
    assert fresh().name == "chaos"
    assert fresh.error


def test_with_no_good_version_anywhere_the_first_load_raises(rules_file: Path) -> None:
    rules_file.write_text(BROKEN)
    with pytest.raises(RuleSetError):
        RuleSetSource(rules_file)()
