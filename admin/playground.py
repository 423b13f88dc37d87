"""The playground: score a pasted mail against label texts — the quick check for writing labels."""

from __future__ import annotations

from dataclasses import dataclass, field

from rules import MessageFacts, RuleSet
from worker.pipeline.route import route_scores
from worker.scoring.base import Scorer

MAX_LABELS = 50


@dataclass(frozen=True)
class RankedLabel:
    name: str
    text: str
    score: float
    threshold: float | None


@dataclass
class PlaygroundResult:
    ranked: list[RankedLabel]
    model_id: str
    labels: list[str] = field(default_factory=list)
    needs_review: bool | None = None
    reasons: list[str] = field(default_factory=list)


def custom_labels(text: str) -> list[str]:
    """One label text per non-empty line (``name: description`` reads best), repeats dropped."""
    lines = [line.strip() for line in text.splitlines()]
    return list(dict.fromkeys(line for line in lines if line))[:MAX_LABELS]


def run(
    scorer: Scorer,
    rule_set: RuleSet,
    *,
    subject: str,
    text: str,
    sender: str = "",
    labels_text: str = "",
    max_chars: int = 4000,
) -> PlaygroundResult:
    """Rank ``labels_text``'s labels for the mail, or the live rule set's (then also its decision)."""
    mail = f"{subject.strip()}\n\n{text.strip()}".strip()[:max_chars]
    custom = custom_labels(labels_text)
    if custom:
        matrix = scorer.score([mail], custom, instruction=rule_set.instruction)
        ranked = [
            RankedLabel(name=label.split(":", 1)[0].strip(), text=label, score=float(s), threshold=None)
            for label, s in zip(custom, matrix[0], strict=True)
        ]
        return PlaygroundResult(sorted(ranked, key=lambda r: -r.score), scorer.model_id)
    texts = rule_set.label_texts()
    matrix = scorer.score([mail], texts, instruction=rule_set.instruction)
    routed = route_scores(matrix, [MessageFacts(sender=sender, subject=subject)], rule_set)[0]
    scores = routed.scores
    ranked = [
        RankedLabel(c.name, t, scores[c.name], rule_set.policy.threshold_for(c.threshold))
        for c, t in zip(rule_set.categories, texts, strict=True)
    ]
    decision = routed.decision
    if decision is None:
        return PlaygroundResult(
            sorted(ranked, key=lambda r: -r.score), scorer.model_id, reasons=[routed.error or ""]
        )
    return PlaygroundResult(
        sorted(ranked, key=lambda r: -r.score),
        scorer.model_id,
        labels=list(decision.labels),
        needs_review=decision.needs_review,
        reasons=list(decision.reasons),
    )
