"""Simulated review: replay a labeled set in time order, correct the first N mails per label, measure.

Time order: the Berkeley Enron files carry no reliable dates (forwarded and re-sent copies keep
old ones), so mails are replayed in the order of their numeric message id (``N/ID.txt`` → ``ID``),
the order the corpus numbered them in; other keys (CSV rows) sort by a fixed hash of the key, so
every run replays the same history and no label's rows come first.

For N corrections per label, the first N mails of each label of the data set are the reviewed mails
(gold "no label" mails are reviewed as fitting none; where labels of the set were left out of the rule
set, each left-out label counts as a label, so the "none" reviews follow the out-of-scope traffic as
every other label's reviews follow its own: :attr:`Prepared.groups`): the product's learner
(:func:`worker.learning.classifier.fit`, the code the retrain task runs) is trained on them, and
every figure is measured on the mails *not* reviewed, decided by :func:`route_scores` on the
learned probabilities, so no mail is judged by a model that saw it:

* ``accuracy``/``macro_f1``: over the held-out mails whose gold label is a category;
* ``zero_shot_*``: the same mails with the prior alone (no reviews), in the same run;
* ``auto_accuracy``: accuracy of the ``1 - review_share`` most confident of them (confidence = the
  calibrated top probability); ``ece``: expected calibration error of that confidence;
* with out-of-scope mails: ``oos_labeled_share``, the share of them that the gate auto-routing 80%
  of in-scope mails would label;
* ``lr_accuracy``: a plain scikit-learn logistic regression on the same reviewed mails' embeddings
  (the reference a data scientist would train), on the same held-out mails.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rules import MessageFacts, RuleSet
from worker.evaluation.evaluate import SCORE_CHUNK, LabeledMail
from worker.evaluation.metrics import accuracy, macro_f1, per_label
from worker.learning import calibration as cal
from worker.learning.classifier import LearnedModel, fit
from worker.learning.vectors import Embedder, zero_shot_from_vectors
from worker.pipeline.route import route_scores
from worker.scoring.base import Scorer
from worker.store.boilerplate import DEFAULT_MIN_SHARED, keep_in_set

CURVE = (0, 5, 10, 20)
INSCOPE_AUTO = 0.8  # the gate for the out-of-scope figure auto-routes this share of in-scope mails
_ID = re.compile(r"(\d+)\.[^/]*$")


def time_key(key: str) -> tuple[int, str]:
    """Replay order: the numeric message id of ``N/ID.txt`` keys, else a fixed hash of the key."""
    match = _ID.search(key)
    return (int(match.group(1)), key) if match else (-1, hashlib.sha256(key.encode()).hexdigest())


@dataclass(frozen=True)
class Prepared:
    """A labeled set scored once: time-ordered mails, their backend scores and embeddings."""

    mails: list[LabeledMail]
    names: list[str]
    facts: list[MessageFacts]
    zero_shot: np.ndarray
    vectors: np.ndarray
    groups: np.ndarray | None = None  # the label each mail is reviewed under; default its gold column

    def review_groups(self) -> np.ndarray:
        """What "N corrections per label" counts: the data set's labels, out-of-scope ones included
        (each left-out label's mails are reviewed as "none" in proportion to their traffic)."""
        return self.gold_columns() if self.groups is None else self.groups

    def gold_columns(self) -> np.ndarray:
        """Each mail's gold column; ``len(names)`` for "no label" and labels outside the rule set."""
        k = len(self.names)
        return np.array([self.names.index(m.gold) if m.gold in self.names else k for m in self.mails])


def prepare(
    mails: Sequence[LabeledMail],
    scorer: Scorer,
    embedder: Embedder,
    rule_set: RuleSet,
    *,
    max_chars: int,
    boilerplate_min: int = DEFAULT_MIN_SHARED,
) -> Prepared:
    from worker.parsing.message import parse_message
    from worker.pipeline.route import facts_of

    ordered = sorted(mails, key=lambda mail: time_key(mail.key))
    parsed = [parse_message(mail.raw, max_chars=max_chars) for mail in ordered]
    keep = keep_in_set([p.subject for p in parsed], min_shared=boilerplate_min)
    texts = [p.scored_text(keep_subject=k) for p, k in zip(parsed, keep, strict=True)]
    vectors = np.vstack(
        [embedder.encode(texts[i : i + SCORE_CHUNK]) for i in range(0, len(texts), SCORE_CHUNK)]
    )
    labels = rule_set.label_texts()
    zero_shot = zero_shot_from_vectors(scorer, vectors, labels)
    if zero_shot is None:
        chunks = range(0, len(texts), SCORE_CHUNK)
        zero_shot = np.vstack(
            [
                scorer.score(texts[i : i + SCORE_CHUNK], labels, instruction=rule_set.instruction)
                for i in chunks
            ]
        )
    names = rule_set.category_names()
    return Prepared(ordered, names, [facts_of(p) for p in parsed], zero_shot, vectors)


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


def _figures(
    prep: Prepared, probs: np.ndarray, idx: list[int], rule_set: RuleSet, share: float
) -> dict[str, Any]:
    k = len(prep.names)
    gold_col = prep.gold_columns()[idx]
    inscope = gold_col < k
    routed = route_scores(probs[idx, :k], [prep.facts[i] for i in idx], rule_set)
    pred = [r.predicted for r in routed]
    conf = probs[idx, :k].max(axis=1)
    gold = [prep.mails[i].gold for i in idx]
    correct = np.array([g == p for g, p in zip(gold, pred, strict=True)])
    g_in = [g for g, ok in zip(gold, inscope, strict=True) if ok]
    p_in = [p for p, ok in zip(pred, inscope, strict=True) if ok]
    labels = [name for name in prep.names if name in set(g_in)]
    order = np.argsort(-conf[inscope], kind="stable")[: max(1, round(inscope.sum() * (1 - share)))]
    out = {
        "accuracy": accuracy(g_in, p_in),
        "macro_f1": macro_f1(g_in, p_in, labels),
        "f1": {k_: v["f1"] for k_, v in per_label(g_in, p_in, labels).items()},
        "auto_accuracy": float(correct[inscope][order].mean()),
        "ece": cal.ece(conf[inscope], correct[inscope]),
    }
    if (~inscope).any():
        gate = float(np.quantile(conf[inscope], 1 - INSCOPE_AUTO))
        auto = conf >= gate
        out.update(
            gate=gate,
            inscope_auto_share=float(auto[inscope].mean()),
            oos_labeled_share=float(auto[~inscope].mean()),
            ece_auto=cal.ece(conf[auto], correct[auto]),
        )
    return out


def _reference(prep: Prepared, reviewed: list[int], held: list[int]) -> float | None:
    """Plain logistic regression on the reviewed in-scope mails' embeddings, held-out accuracy."""
    from sklearn.linear_model import LogisticRegression

    k = len(prep.names)
    gold = prep.gold_columns()
    train = [i for i in reviewed if gold[i] < k]
    test = [i for i in held if gold[i] < k]
    if len(set(gold[train])) < 2 or not test:
        return None
    model = LogisticRegression(max_iter=1000).fit(prep.vectors[train], gold[train])
    return float((model.predict(prep.vectors[test]) == gold[test]).mean())


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
    out.update(_figures(prep, model.proba(prep.vectors, prep.zero_shot), held, rule_set, review_share))
    out["model"] = _summary(model)
    out["lr_accuracy"] = _reference(prep, reviewed, held)
    zero = _figures(prep, cal.prior(prep.zero_shot), held, rule_set, review_share)
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
