"""bench/setfit_trial.py: its pure helpers (the trial itself needs setfit, which is not a dependency)."""

from __future__ import annotations

import sys

import numpy as np

from tests.conftest import REPO

sys.path.append(str(REPO / "bench"))

import setfit_trial as trial

from worker.evaluation.labeled import LabeledMail


def _mail(key: str, gold: str) -> LabeledMail:
    return LabeledMail(key, b"", gold, (gold,))


def test_pick_labels_keeps_the_first_labels_in_sorted_order() -> None:
    mails = [_mail("1", "b"), _mail("2", "a"), _mail("3", "c"), _mail("4", "a")]
    assert [m.key for m in trial.pick_labels(mails, 2)] == ["1", "2", "4"]
    assert trial.pick_labels(mails, None) == mails


def test_the_split_is_simulates_restricted_to_categories() -> None:
    gold = np.array([0, 1, 0, 2, 0, 1, 2])  # column 2 = "none" when there are 2 categories
    reviewed, held = trial.in_scope_split(gold, 2, 2)
    assert reviewed == [0, 1, 2, 5]
    assert held == [4]


def test_the_head_scores_held_out_mails() -> None:
    rng = np.random.default_rng(0)
    centres = np.eye(3, 8)
    gold = np.repeat(np.arange(3), 10)
    vectors = centres[gold] + 0.05 * rng.standard_normal((30, 8))
    train, test = [i for i in range(30) if i % 10 < 5], [i for i in range(30) if i % 10 >= 5]
    figures = trial.lr_head(vectors, gold, ["a", "b", "c"], train, test)
    assert figures["accuracy"] == 1.0
    assert figures["macro_f1"] == 1.0
    assert figures["fit_s"] >= 0


def test_rate_is_texts_per_second() -> None:
    assert trial.rate(lambda texts: None, ["x"] * 10, rounds=1) > 0
