"""Run an evaluation: score labeled mails through the real pipeline, and report what it measured.

The labeled mails come from :mod:`worker.evaluation.datasets` (the layouts read) and
:mod:`worker.evaluation.labeled` (the mail, its gold labels, sampling).

The pipeline per mail is the worker's: ``parse_message(raw, max_chars)`` → ``scoring_text`` → the
backend scores a batch against ``rule_set.label_texts()`` → :func:`rules.decide`. The prediction is
the decision's first label (``None`` when it chose none, which is right for a gold "no label" mail);
the confidence is the top score (a calibrated probability when learning is on), which orders mails
for the coverage table. Each prediction row carries the mail's parse warnings and scored text; a
boilerplate subject (:mod:`worker.store.boilerplate`, counted over the evaluated set) is left out of it
(``subject_kept``: false), as live classification leaves out a profile's boilerplate subject.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any

from rules import RuleSet
from worker.core.errors import InputError
from worker.evaluation.labeled import LabeledMail, gold_labels
from worker.evaluation.metrics import classification_report
from worker.scoring.base import Scorer
from worker.store.boilerplate import DEFAULT_MIN_SHARED, keep_in_set

# Mails handed to the backend per score() call. Backends batch internally (``batch_size``) after
# sorting a call's mails by length, so a larger call pads less: 32 Enron mails per call pad to the
# longest of the 32, and encoding took 1.7x as long as one call of 256 on the same mails.
SCORE_CHUNK = 256


def predict(
    mails: Sequence[LabeledMail],
    scorer: Scorer,
    rule_set: RuleSet,
    *,
    max_chars: int,
    batch_size: int,
    progress: bool = True,
    boilerplate_min: int = DEFAULT_MIN_SHARED,
) -> list[dict[str, Any]]:
    """One row per mail: prediction, decision flags and scores, through the worker's pipeline.

    ``batch_size`` is the least number of mails per ``score()`` call (see :data:`SCORE_CHUNK`). A
    boilerplate subject of the set (``boilerplate_min`` mails share it) is not scored, as live.
    """
    from tqdm import tqdm

    from worker.parsing.message import parse_message
    from worker.pipeline.route import route

    subjects = [parse_message(mail.raw, max_chars=max_chars).subject for mail in mails]
    keep = keep_in_set(subjects, min_shared=boilerplate_min)
    rows: list[dict[str, Any]] = []
    bar = tqdm(total=len(mails), unit="mail", file=sys.stderr, disable=None if progress else True)
    chunk = max(batch_size, SCORE_CHUNK)
    for start in range(0, len(mails), chunk):
        batch = mails[start : start + chunk]
        parsed = [parse_message(mail.raw, max_chars=max_chars) for mail in batch]
        kept = keep[start : start + chunk]
        routed_batch = route(parsed, scorer, rule_set, keep_subject=kept)
        for mail, one, k, routed in zip(batch, parsed, kept, routed_batch, strict=True):
            decision = routed.decision
            if decision is None:
                raise InputError(f"{mail.key}: {routed.error}")
            rows.append(
                {
                    "key": mail.key,
                    "gold": mail.gold,
                    "gold_set": list(mail.gold_set),
                    "predicted": decision.labels[0] if decision.labels else None,
                    "labels": list(decision.labels),
                    "needs_review": decision.needs_review,
                    "margin": routed.margin,
                    "confidence": routed.confidence,
                    "scores": routed.scores,
                    "warnings": list(one.warnings),
                    "scoring_text": one.scored_text(keep_subject=k),
                    "subject_kept": k or not one.subject,
                }
            )
        bar.update(len(batch))
    bar.close()
    return rows


def evaluate(
    mails: Sequence[LabeledMail],
    scorer: Scorer,
    rule_set: RuleSet,
    *,
    max_chars: int = 4000,
    batch_size: int = 32,
    progress: bool = True,
    boilerplate_min: int = DEFAULT_MIN_SHARED,
) -> dict[str, Any]:
    """The evaluation report (:func:`worker.evaluation.metrics.classification_report`) and run details."""
    if not mails:
        raise InputError("no labeled mails to evaluate")
    labels = gold_labels(mails, rule_set)
    started = time.perf_counter()
    rows = predict(
        mails,
        scorer,
        rule_set,
        max_chars=max_chars,
        batch_size=batch_size,
        progress=progress,
        boilerplate_min=boilerplate_min,
    )
    seconds = time.perf_counter() - started
    from worker.evaluation.metrics import NO_LABEL as NONE_ROW

    gold = [r["gold"] or NONE_ROW for r in rows]  # gold "no label" is right when nothing is chosen
    pred = [r["predicted"] or (NONE_ROW if not r["gold"] else None) for r in rows]
    if NONE_ROW in gold:
        labels = [*labels, NONE_ROW]
    report = classification_report(
        gold,
        pred,
        labels,
        gold_sets=[r["gold_set"] for r in rows],
        confidence=[r["confidence"] for r in rows],
    )
    auto = [r for r in rows if not r["needs_review"]]
    report["review"] = {
        "auto_routed": len(auto) / len(rows),
        "auto_accuracy": sum(r["gold"] == r["predicted"] for r in auto) / len(auto) if auto else 0.0,
    }
    report.update(
        {
            "rule_set": rule_set.name,
            "rule_set_hash": rule_set.digest,
            "model_id": scorer.model_id,
            "seconds": seconds,
            "mails_per_s": len(rows) / seconds if seconds else 0.0,
            "subject_boilerplate_min": boilerplate_min,
            "subjects_left_out": sum(not r["subject_kept"] for r in rows),
            "predictions": rows,
        }
    )
    return report
