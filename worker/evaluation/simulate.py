"""Simulated review: replay a labeled set in time order, correct the first N mails per label, measure.

The set is put in time order and scored once (:mod:`worker.evaluation.prepared`). For N corrections
per label, the first N mails of each label of the data set are the reviewed mails (gold "no label"
mails are reviewed as fitting none; where labels of the set were left out of the rule set, each
left-out label counts as a label, so the "none" reviews follow the out-of-scope traffic as every
other label's reviews follow its own: :attr:`Prepared.groups`): the product's learner
(:func:`worker.learning.classifier.fit`, the code the retrain task runs) is trained on them, its
probabilities are pooled with the traffic before each mail as the live worker pools them
(:mod:`worker.evaluation.pooled`), and every figure is measured on the mails *not* reviewed
(:mod:`worker.evaluation.figures` lists them).
:func:`simulate_review` and :func:`format_curve` are ``mailroute eval --simulate-review N``'s report.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rules import RuleSet
from worker.evaluation.figures import held_out_figures, reference_accuracy
from worker.evaluation.labeled import LabeledMail
from worker.evaluation.pooled import replay_pooled
from worker.evaluation.prepared import Prepared, prepare
from worker.learning import calibration as cal
from worker.learning.classifier import LearnedModel, fit
from worker.scoring.base import Scorer

CURVE = (0, 5, 10, 20)


def reviewed_first(gold: np.ndarray, n_per_label: int) -> tuple[list[int], list[int]]:
    """(reviewed, held out): the first ``n_per_label`` mails of each gold column, and the rest."""
    done: dict[int, int] = {}
    reviewed, held = [], []
    for i, column in enumerate(gold):
        if done.get(int(column), 0) < n_per_label:
            done[int(column)] = done.get(int(column), 0) + 1
            reviewed.append(i)
        else:
            held.append(i)
    return reviewed, held


def replay(
    prep: Prepared, rule_set: RuleSet, n_per_label: int, *, review_share: float = 0.5
) -> dict[str, Any]:
    """One point of the learning curve (see the module docstring)."""
    gold = prep.gold_columns()
    reviewed, held = reviewed_first(prep.review_groups(), n_per_label)
    if not held:
        raise ValueError(f"every mail was used as a correction at N={n_per_label}")
    model = fit(prep.vectors[reviewed], prep.zero_shot[reviewed], gold[reviewed], prep.names)
    out: dict[str, Any] = {"n": n_per_label, "corrections": len(reviewed), "evaluated": len(held)}
    probs = model.proba(prep.vectors, prep.zero_shot)
    if n_per_label > 0:  # a learned model: the live worker pools it with the recent traffic
        probs = replay_pooled(probs, prep.vectors, {i: int(gold[i]) for i in reviewed})
    out.update(held_out_figures(prep, probs, held, rule_set, review_share))
    out["model"] = _summary(model)
    out["lr_accuracy"] = reference_accuracy(prep, reviewed, held)
    zero = held_out_figures(prep, cal.prior(prep.zero_shot), held, rule_set, review_share)
    out.update({f"zero_shot_{k}": v for k, v in zero.items() if k != "f1"})
    return out


def _summary(model: LearnedModel) -> dict[str, Any]:
    return {
        "weight": model.weight,
        "temperature": model.temperature,
        "c": model.chosen_c,
        "cv_accuracy": model.cv_accuracy,
        "cv_ece": model.ece,
    }


def learning_curve(
    prep: Prepared, rule_set: RuleSet, ns: Sequence[int] = CURVE, **options: Any
) -> list[dict]:
    return [replay(prep, rule_set, n, **options) for n in ns]


def curve_for(n: int) -> list[int]:
    """The curve's points up to ``n``: the standard ones below it, and ``n``."""
    return sorted({x for x in CURVE if x < n} | {n})


def simulate_review(
    mails: Sequence[LabeledMail],
    scorer: Scorer,
    rule_set: RuleSet,
    n: int,
    *,
    max_chars: int = 4000,
    review_share: float = 0.5,
) -> dict[str, Any]:
    """``mailroute eval --simulate-review N``: the learning curve up to N corrections per label."""
    from worker.scoring.backends.embedding import EmbeddingScorer
    from worker.scoring.registry import mail_embedder

    embedder = mail_embedder(scorer) or EmbeddingScorer()
    prep = prepare(mails, scorer, embedder, rule_set, max_chars=max_chars)
    points = learning_curve(prep, rule_set, curve_for(n), review_share=review_share)
    return {"rule_set": rule_set.name, "n": len(mails), "review_share": review_share, "curve": points}


def format_curve(report: dict[str, Any]) -> list[str]:
    """The curve as plain text lines, one per N."""
    share = report["review_share"]
    lines = [
        f"{report['rule_set']} on {report['n']} mails, replayed in time order; figures on the mails not "
        f"corrected; auto = accuracy of the {1 - share:.0%} with the highest calibrated probability",
        f"{'N':>4} {'corrected':>9} {'evaluated':>9}  {'accuracy':>8} {'macro-F1':>8} {'auto':>6}"
        f"  | zero-shot: {'accuracy':>8} {'macro-F1':>8} {'auto':>6}",
    ]
    for p in report["curve"]:
        lines.append(
            f"{p['n']:>4} {p['corrections']:>9} {p['evaluated']:>9}  {p['accuracy']:8.3f} "
            f"{p['macro_f1']:8.3f} {p['auto_accuracy']:6.3f}  |            {p['zero_shot_accuracy']:8.3f} "
            f"{p['zero_shot_macro_f1']:8.3f} {p['zero_shot_auto_accuracy']:6.3f}"
        )
    return lines
