"""A backtest's outcome: the mails whose decision flipped, review rates and accuracy, old and new."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from rules import Decision as RuleDecision


@dataclass(frozen=True)
class Flip:
    key: str  # message id, or the labeled mail's key
    old_labels: tuple[str, ...]
    new_labels: tuple[str, ...]
    old_review: bool
    new_review: bool
    truth: tuple[str, ...] | None  # reviewed or gold labels, when known


@dataclass
class BacktestReport:
    rule_set: str
    rule_set_hash: str
    n: int = 0
    flips: list[Flip] = field(default_factory=list)
    review_old: int = 0
    review_new: int = 0
    labeled: int = 0
    correct_old: int = 0
    correct_new: int = 0

    def add(self, key: str, old: tuple[tuple[str, ...], bool], new: RuleDecision, truth: Any) -> None:
        self.n += 1
        self.review_old += old[1]
        self.review_new += new.needs_review
        known = tuple(truth) if truth is not None else None
        if known is not None:
            self.labeled += 1
            self.correct_old += set(old[0]) == set(known)
            self.correct_new += set(new.labels) == set(known)
        if (tuple(old[0]), old[1]) != (new.labels, new.needs_review):
            self.flips.append(Flip(key, tuple(old[0]), new.labels, old[1], new.needs_review, known))

    def to_dict(self) -> dict[str, Any]:
        share = (lambda k: k / self.n) if self.n else (lambda k: 0.0)
        right = (lambda k: k / self.labeled) if self.labeled else (lambda k: None)
        return {
            "rule_set": self.rule_set,
            "rule_set_hash": self.rule_set_hash,
            "n": self.n,
            "flipped": len(self.flips),
            "label_flips": sum(f.old_labels != f.new_labels for f in self.flips),
            "review_rate": {"old": share(self.review_old), "new": share(self.review_new)},
            "accuracy": {"n": self.labeled, "old": right(self.correct_old), "new": right(self.correct_new)},
            "flips": [asdict(f) for f in self.flips],
        }
