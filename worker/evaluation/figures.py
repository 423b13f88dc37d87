"""The figures of one point of a simulated review, measured on the held-out mails only.

Every figure is measured on the mails *not* reviewed (:mod:`worker.evaluation.simulate`), decided by
:func:`route_scores` on the learned probabilities, so no mail is judged by a model that saw it:

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

from typing import Any

import numpy as np

from rules import RuleSet
from worker.evaluation.metrics import accuracy, macro_f1, per_label
from worker.evaluation.prepared import Prepared
from worker.learning import calibration as cal
from worker.pipeline.route import route_scores

INSCOPE_AUTO = 0.8  # the gate for the out-of-scope figure auto-routes this share of in-scope mails


def held_out_figures(
    prep: Prepared, probs: np.ndarray, idx: list[int], rule_set: RuleSet, share: float
) -> dict[str, Any]:
    """The figures of ``probs`` on the mails ``idx`` (see the module docstring) at ``share`` reviewed."""
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


def reference_accuracy(prep: Prepared, reviewed: list[int], held: list[int]) -> float | None:
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
