"""Simulated review: replay a labeled set in time order, correct the first N mails per label, measure.

Time order: the Berkeley Enron files carry no reliable dates (forwarded and re-sent copies keep
old ones), so mails are replayed in the order of their numeric message id (``N/ID.txt`` → ``ID``),
the order the corpus numbered them in; other keys sort as text. The order is fixed, so every run
replays the same history.

For N corrections per label, each mail in turn is decided with the memory as it stands
(``rules.decide`` on the blended scores); while its gold label has had fewer than N corrections the
reviewer "corrects" it: the mail joins the few-shot memory under its gold label and gives a
(score, kept) pair to the threshold learner. Figures are measured on the mails *not* used as
corrections, so no mail is judged by a memory that holds it:

* ``accuracy``/``macro_f1``: those mails scored with the memory after the replay (macro-F1 over the
  gold labels they contain); ``online_accuracy``: what the router decided for them during the replay;
* ``zero_shot_*``: the same mails without memory, in the same run;
* ``auto_accuracy``: the review band set so that ``review_share`` of those mails go to review:
  ``min_margin`` is the ``review_share`` quantile of their top-1 minus top-2 margins (mails at or
  above it route automatically; :func:`worker.evaluation.metrics.coverage_table` at coverage
  1 - review_share).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rules import Decision, MessageFacts, RuleSet
from worker.evaluation.evaluate import SCORE_CHUNK, LabeledMail
from worker.evaluation.metrics import accuracy, coverage_table, macro_f1, per_label
from worker.learning.memory import Embedder, FewShotMemory, MemoryConfig, zero_shot_from_vectors
from worker.learning.thresholds import gate, learn_thresholds
from worker.pipeline.route import Routed, route_scores
from worker.scoring.base import Scorer

CURVE = (0, 5, 10, 20, 50)
_ID = re.compile(r"(\d+)\.[^/]*$")


def time_key(key: str) -> tuple[int, str]:
    """Replay order: the numeric message id of ``N/ID.txt`` keys, else the key text."""
    match = _ID.search(key)
    return (int(match.group(1)) if match else -1, key)


@dataclass(frozen=True)
class Prepared:
    """A labeled set scored once: time-ordered mails, their zero-shot scores and embeddings."""

    mails: list[LabeledMail]
    names: list[str]
    facts: list[MessageFacts]
    zero_shot: np.ndarray
    vectors: np.ndarray


def prepare(
    mails: Sequence[LabeledMail], scorer: Scorer, embedder: Embedder, rule_set: RuleSet, *, max_chars: int
) -> Prepared:
    from worker.parsing.message import parse_message
    from worker.pipeline.route import facts_of

    ordered = sorted(mails, key=lambda mail: time_key(mail.key))
    parsed = [parse_message(mail.raw, max_chars=max_chars) for mail in ordered]
    texts = [p.scoring_text for p in parsed]
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


def _routed(prep: Prepared, matrix: np.ndarray, idx: Sequence[int], rule_set: RuleSet) -> list[Any]:
    rows = [matrix[i] for i in idx]
    return [_checked(r) for r in route_scores(rows, [prep.facts[i] for i in idx], rule_set)]


def _checked(routed: Routed) -> Decision:
    if routed.decision is None:
        raise ValueError(routed.error or "decision failed")
    return routed.decision


def _margins(matrix: np.ndarray, idx: Sequence[int]) -> list[float]:
    top = np.sort(matrix[list(idx)], axis=1)[:, ::-1]
    return list(top[:, 0] - top[:, 1]) if top.shape[1] > 1 else list(top[:, 0])


def _figures(prep: Prepared, matrix: np.ndarray, idx: list[int], rule_set: RuleSet, share: float) -> dict:
    gold = [prep.mails[i].gold for i in idx]
    labels = [name for name in prep.names if name in set(gold)]
    pred = [d.labels[0] if d.labels else None for d in _routed(prep, matrix, idx, rule_set)]
    auto = coverage_table(
        [g == p for g, p in zip(gold, pred, strict=True)], _margins(matrix, idx), [1 - share]
    )
    return {
        "accuracy": accuracy(gold, pred),
        "macro_f1": macro_f1(gold, pred, labels),
        "f1": {k: v["f1"] for k, v in per_label(gold, pred, labels).items()},
        "auto_accuracy": auto[0]["accuracy"],
        "auto_min_margin": auto[0]["min_confidence"],
    }


def replay(
    prep: Prepared,
    rule_set: RuleSet,
    n_per_label: int,
    *,
    config: MemoryConfig | None = None,
    review_share: float = 0.4,
    target_precision: float | None = None,
    min_examples: int = 10,
) -> dict[str, Any]:
    """One point of the learning curve (see the module docstring)."""
    memory = FewShotMemory(config)
    done: dict[str, int] = {}
    pairs: dict[str, list[tuple[float, bool]]] = {}
    online: dict[int, str | None] = {}
    for i, mail in enumerate(prep.mails):
        row = memory.blend(prep.zero_shot[i : i + 1], prep.vectors[i : i + 1], prep.names)[0]
        routed = route_scores([row], [prep.facts[i]], rule_set)[0]
        scores, decision = routed.scores, _checked(routed)
        proposed = decision.labels[0] if decision.labels else None
        if done.get(mail.gold, 0) < n_per_label:
            done[mail.gold] = done.get(mail.gold, 0) + 1
            memory.add(mail.gold, prep.vectors[i])
            if proposed is not None:
                pairs.setdefault(proposed, []).append((scores[proposed], proposed == mail.gold))
        else:
            online[i] = proposed
    held = sorted(online)
    if not held:
        raise ValueError(f"every mail was used as a correction at N={n_per_label}")
    final = memory.blend(prep.zero_shot, prep.vectors, prep.names)
    out: dict[str, Any] = {"n": n_per_label, "corrections": sum(done.values()), "evaluated": len(held)}
    out.update(_figures(prep, final, held, rule_set, review_share))
    out["online_accuracy"] = accuracy([prep.mails[i].gold for i in held], [online[i] for i in held])
    zero = _figures(prep, prep.zero_shot, held, rule_set, review_share)
    out.update({f"zero_shot_{k}": v for k, v in zero.items() if k != "f1"})
    if target_precision is not None:
        out["thresholds"] = _gated(prep, final, held, rule_set, pairs, target_precision, min_examples)
    return out


def _gated(
    prep: Prepared,
    final: np.ndarray,
    held: list[int],
    rule_set: RuleSet,
    pairs: dict[str, list[tuple[float, bool]]],
    target: float,
    min_examples: int,
) -> dict[str, Any]:
    """Learned thresholds from the corrections, and what gating the held-out mails by them gives."""
    learned = learn_thresholds(pairs, rule_set, min_examples=min_examples, target=target)
    auto = []
    for i, decision in zip(held, _routed(prep, final, held, rule_set), strict=True):
        scores = dict(zip(prep.names, map(float, final[i]), strict=True))
        gated = gate(decision, scores, learned)
        if not gated.needs_review and gated.labels:
            auto.append(gated.labels[0] == prep.mails[i].gold)
    return {
        "target_precision": target,
        "learned": {k: round(v.threshold, 4) for k, v in learned.items() if v.learned},
        "auto_share": len(auto) / len(held),
        "auto_accuracy": float(np.mean(auto)) if auto else 0.0,
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
    config: MemoryConfig | None = None,
    review_share: float = 0.4,
) -> dict[str, Any]:
    """``mailroute eval --simulate-review N``: the learning curve up to N corrections per label."""
    from worker.scoring.backends.embedding import EmbeddingScorer
    from worker.scoring.registry import mail_embedder

    embedder = mail_embedder(scorer) or EmbeddingScorer()
    prep = prepare(mails, scorer, embedder, rule_set, max_chars=max_chars)
    points = learning_curve(
        prep,
        rule_set,
        curve_for(n),
        config=config,
        review_share=review_share,
        target_precision=rule_set.policy.target_precision,
    )
    return {"rule_set": rule_set.name, "n": len(mails), "review_share": review_share, "curve": points}


def format_curve(report: dict[str, Any]) -> list[str]:
    """The curve as plain text lines, one per N."""
    share = report["review_share"]
    lines = [
        f"{report['rule_set']} on {report['n']} mails, replayed in time order; figures on the mails not "
        f"corrected; auto = accuracy of the {1 - share:.0%} with the widest top-2 margin",
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
