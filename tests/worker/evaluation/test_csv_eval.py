"""``mailroute eval --format csv``: ticket exports, gold "no label" as its own row, warnings and text kept."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from rules import Category, Policy, RuleSet
from worker.core.errors import InputError
from worker.evaluation.datasets import load_csv
from worker.evaluation.evaluate import evaluate
from worker.evaluation.labeled import NO_LABEL, rule_set_for_labels
from worker.evaluation.metrics import NO_LABEL as NONE_ROW

RULES = RuleSet(
    name="desk",
    categories=(Category("billing", "Invoices"), Category("support", "Help")),
    policy=Policy(mode="threshold", threshold=0.5),
)


class WordScorer:
    """billing for mails saying 'invoice', support for 'error', nothing above 0.5 otherwise."""

    model_id = "words"

    def score(
        self, mails: Sequence[str], labels: Sequence[str], *, instruction: str | None = None
    ) -> np.ndarray:
        words = {"Invoices": "invoice", "Help": "error"}
        return np.array(
            [[0.9 if words[label] in mail.lower() else 0.1 for label in labels] for mail in mails]
        )


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tickets.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_rows_become_mails_with_their_subject(tmp_path: Path) -> None:
    path = write(
        tmp_path, 'id,text,label,subject\n1,"Invoice 12 is wrong",billing,Customer request\n2,hi,,\n'
    )
    mails = load_csv(path)
    assert [m.gold for m in mails] == ["billing", NO_LABEL] and mails[1].gold_set == ()
    assert b"Subject: Customer request" in mails[0].raw and b"Invoice 12 is wrong" in mails[0].raw


def test_csv_without_the_columns_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="text,label"):
        load_csv(write(tmp_path, "body,category\nx,y\n"))


def test_no_label_is_its_own_row_and_rows_carry_warnings_and_scored_text(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "text,label\nThe invoice is overdue,billing\nAn error on login,support\nNice weather today,\n"
        "Lunch on friday?,\n",
    )
    report = evaluate(load_csv(path), WordScorer(), RULES, progress=False)
    assert report["accuracy"] == 1.0  # the out-of-scope mails got no label: right
    assert report["per_label"][NONE_ROW]["support"] == 2 and report["per_label"][NONE_ROW]["recall"] == 1.0
    row = report["predictions"][0]
    assert row["scoring_text"] == "The invoice is overdue" and row["warnings"] == []
    assert report["coverage"][0]["accuracy"] == 1.0


def test_a_rule_set_from_labels() -> None:
    rules = rule_set_for_labels(["alarm_query", "iot_hue_lightoff"], name="hwu")
    assert rules.category_names() == ["alarm_query", "iot_hue_lightoff"]
    assert rules.label_texts()[1].startswith("iot hue lightoff")
