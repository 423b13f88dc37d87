"""The rule-set editor's preview: validate a draft, diff it against the live version, backtest it.

:func:`preview` never writes anything: the draft is validated with the rule engine's loader (an
error names the line and key), compared line by line with the live YAML, and re-decides the last
``limit`` decided mails of the profile under both the live rule set and the draft
(:func:`worker.evaluation.backtest.backtest_stored` with ``against``), so what flips is the rule
change alone — not model or memory drift. Publishing is a separate, admin-only step.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from rules import RuleSet
from worker.core.errors import RuleSetError
from worker.evaluation.backtest import backtest_stored
from worker.scoring.base import Scorer
from worker.store import rulesets
from worker.store.boilerplate import DEFAULT_MIN_SHARED

PREVIEW_MAILS = 200  # decided mails re-routed by a preview, by default


@dataclass
class Preview:
    profile: str
    text: str
    base_version: int | None  # the live version the draft was compared with (publish checks it)
    error: str | None = None
    diff: list[str] = field(default_factory=list)
    report: dict[str, Any] | None = None

    @property
    def changed(self) -> bool:
        return bool(self.diff)


def live_text(session: Session, profile: str) -> tuple[int | None, str]:
    """(live version, its YAML); (None, "") for a profile with no version yet."""
    number = rulesets.head(session, profile)
    if number is None:
        return None, ""
    return number, rulesets.get_version(session, profile, number).yaml


def preview(
    session: Session,
    scorer: Scorer,
    profile: str,
    text: str,
    *,
    limit: int = PREVIEW_MAILS,
    boilerplate_min: int = DEFAULT_MIN_SHARED,
) -> Preview:
    """What publishing ``text`` as ``profile``'s next version would change (nothing is written); mails
    are scored as live (``boilerplate_min``: :mod:`worker.store.boilerplate`)."""
    text = normalize(text)
    base, live_yaml = live_text(session, profile)
    result = Preview(profile, text, base)
    try:
        draft = rulesets.validate(text, source="draft")
    except RuleSetError as e:
        result.error = str(e)
        return result
    result.diff = list(
        difflib.unified_diff(
            live_yaml.splitlines(), text.splitlines(), f"version {base}", "draft", lineterm="", n=2
        )
    )
    live: RuleSet | None = None
    if live_yaml:
        try:
            live = rulesets.validate(live_yaml, source=f"{profile} v{base}")
        except RuleSetError:
            live = None  # a live version that does not load: compare with the decisions as made
    report = backtest_stored(
        session, scorer, draft, against=live, limit=limit, profile=profile, boilerplate_min=boilerplate_min
    )
    result.report = report.to_dict()
    session.rollback()  # a preview never keeps anything
    return result


def normalize(text: str) -> str:
    """Browser forms send CRLF; the stored YAML uses LF and ends with one newline."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text if text.endswith("\n") else text + "\n"
