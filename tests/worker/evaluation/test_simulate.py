"""Simulated review: time order, honest hold-out, and a curve that learns on an easy synthetic set."""

from __future__ import annotations

from email.message import EmailMessage

import numpy as np

from rules import Category, Policy, RuleSet
from tests.worker.learning.fakes import PreferenceScorer, WordEmbedder
from worker.evaluation.labeled import NO_LABEL, LabeledMail
from worker.evaluation.prepared import Prepared, prepare, time_key
from worker.evaluation.simulate import learning_curve, replay, reviewed_first

RULES = RuleSet(
    name="desk",
    categories=(Category("billing", "Invoices and payments"), Category("support", "Help with the product")),
    policy=Policy(mode="top_k"),
)
TOPICS = {"billing": "invoice payment refund overdue", "support": "login error crash password"}


def labeled(i: int, gold: str) -> LabeledMail:
    msg = EmailMessage()
    msg["Subject"] = f"{TOPICS[gold].split()[i % 4]} {i}"
    msg.set_content(f"{TOPICS[gold]} case {i}")
    return LabeledMail(f"{1 + i % 3}/{1000 + i}.txt", msg.as_bytes(), gold, (gold,))


def test_time_order_is_the_numeric_message_id() -> None:
    keys = ["2/30.txt", "1/200.txt", "3/4.txt", "x.eml"]
    assert sorted(keys, key=time_key) == ["x.eml", "3/4.txt", "2/30.txt", "1/200.txt"]
    rows = [f"set.csv:{i}" for i in range(2, 40)]
    assert sorted(rows, key=time_key) != rows and sorted(rows, key=time_key) == sorted(rows, key=time_key)


def test_the_curve_learns_and_never_judges_a_corrected_mail() -> None:
    mails = [labeled(i, "billing" if i % 3 else "support") for i in range(60)]
    texts = dict(zip(RULES.category_names(), RULES.label_texts(), strict=True))
    scorer = PreferenceScorer({texts["support"]: 0.6, texts["billing"]: 0.4})  # always says support
    prep = prepare(mails, scorer, WordEmbedder(), RULES, max_chars=2000)
    assert [m.key for m in prep.mails] == sorted((m.key for m in mails), key=time_key)
    curve = learning_curve(prep, RULES, (0, 2, 5))
    zero, two, five = curve
    assert (
        zero["corrections"] == 0
        and zero["evaluated"] == 60
        and zero["macro_f1"] == zero["zero_shot_macro_f1"]
    )
    assert (two["corrections"], two["evaluated"]) == (4, 56) and (five["corrections"], five["evaluated"]) == (
        10,
        50,
    )
    assert zero["accuracy"] < 0.4 < 0.95 <= five["accuracy"] and five["macro_f1"] > zero["macro_f1"]
    assert five["zero_shot_accuracy"] == 0.3  # the same held-out mails, no reviews: 15 of 50 are support
    assert five["lr_accuracy"] is not None and 0.0 <= five["ece"] <= 1.0


def test_out_of_scope_mails_are_reviewed_per_label_of_the_data_set() -> None:
    """Three left-out labels' mails are all gold "no label"; "N corrections per label" still counts each
    of them, so the reviewed "none" mails follow their traffic (3 × N), not N in all."""
    base = prepare(
        [labeled(i, "billing") for i in range(40)],
        PreferenceScorer({}),
        WordEmbedder(),
        RULES,
        max_chars=2000,
    )
    gold = base.gold_columns()
    groups = np.array([0] * 10 + [2, 3, 4] * 10)  # 10 billing mails, then 3 left-out labels interleaved
    mails = [m if i < 10 else LabeledMail(m.key, m.raw, NO_LABEL, ()) for i, m in enumerate(base.mails)]
    ungrouped = Prepared(mails, base.names, base.facts, base.zero_shot, base.vectors)
    grouped = Prepared(mails, base.names, base.facts, base.zero_shot, base.vectors, groups)
    assert (gold == 0).all() and (grouped.gold_columns()[10:] == 2).all()
    assert reviewed_first(ungrouped.review_groups(), 2)[0] == [0, 1, 10, 11]
    assert reviewed_first(grouped.review_groups(), 2)[0] == [0, 1, *range(10, 16)]
    assert replay(grouped, RULES, 2)["corrections"] == 8 and replay(ungrouped, RULES, 2)["corrections"] == 4
