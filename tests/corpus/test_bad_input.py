"""Every mail of the bad-input corpus ends as a decision or as a stored message with a clear error.

The corpus (tests/corpus/badmail.py, ~220 generated cases, 50 MB attachment and zip bombs included)
goes through the real path: ``store_messages`` (size limit: headers only past 25 MB) and
``classify_batch`` on SQLite with the constant scorer, in batches as the worker runs them.
"""

from __future__ import annotations

import time

import psutil
import pytest
from sqlalchemy import select

from rules import load_rule_set
from tests.conftest import REPO
from tests.corpus.badmail import bad_mails
from worker.db.models import Decision, Message, MessageStatus
from worker.db.session import session_factory
from worker.parsing.message import parse_message
from worker.pipeline.classify import classify_batch, record_batch_failure
from worker.scoring.backends.constant import ConstantScorer
from worker.store.messages import Origin, store_messages

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
RULES = REPO / "rules" / "examples" / "office.yaml"


def test_corpus_is_large_and_varied() -> None:
    names = [name for name, _ in bad_mails(heavy=False)]
    assert len(names) >= 200 and len(set(names)) == len(names)


def test_every_bad_mail_ends_decided_or_failed_with_an_error(sqlite_url: str) -> None:
    rule_set, scorer = load_rule_set(RULES), ConstantScorer()
    sessions = session_factory(sqlite_url)
    rss_before = psutil.Process().memory_info().rss
    peak = rss_before
    names: dict[int, str] = {}
    slowest = (0.0, "")
    for i, (name, raw) in enumerate(bad_mails(heavy=True)):
        with sessions.begin() as session:
            (stored,) = store_messages(session, [(raw, Origin("corpus", "INBOX", 1, i + 1))])
        names[stored.id] = name
        started = time.perf_counter()
        try:
            with sessions.begin() as session:
                classify_batch(session, [stored.id], scorer, rule_set)
        except Exception as e:  # what the task does: roll back, keep the error on the row
            with sessions.begin() as session:
                record_batch_failure(session, [stored.id], e)
        slowest = max(slowest, (time.perf_counter() - started, name))
        peak = max(peak, psutil.Process().memory_info().rss)
        del raw
    with sessions() as session:
        rows = session.execute(select(Message.id, Message.status, Message.error)).all()
        decided = set(session.scalars(select(Decision.message_id)))
    assert len(rows) >= 200, f"only {len(rows)} bad mails were stored"
    assert len(rows) == len(names)
    for id_, status, error in rows:
        ok = (status == MessageStatus.DECIDED and id_ in decided) or (
            status == MessageStatus.FAILED and error
        )
        assert ok, (names[id_], status, error)
    assert slowest[0] < 30, f"{slowest[1]} took {slowest[0]:.1f}s"
    assert peak - rss_before < 1_500 * 2**20, f"memory grew by {(peak - rss_before) / 2**20:.0f} MiB"


@pytest.mark.parametrize("max_chars", [4000])
def test_parse_never_raises_and_bounds_its_text(max_chars: int) -> None:
    seen = 0
    for name, raw in bad_mails(heavy=False):
        seen += 1
        parsed = parse_message(raw, max_chars=max_chars)
        assert len(parsed.text) <= max_chars + 16, name
        assert "\x00" not in parsed.scoring_text, name
    assert seen >= 200, f"the corpus yielded {seen} mails"
