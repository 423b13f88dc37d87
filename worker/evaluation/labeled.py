"""A labeled mail, the unit every evaluation reads, and how a labeled set meets a rule set.

A :class:`LabeledMail` is a raw RFC 822 mail with its gold label (the primary one) and its gold set
(every label it carries, for the multi-label figure); the loaders of :mod:`worker.evaluation.datasets`
make them. An empty gold label is gold "no label" (:data:`NO_LABEL`): a mail that fits no category
(out of scope). Here too: :func:`sample` (a fixed spread over the set), :func:`gold_labels` (the gold
labels checked against a rule set's categories) and :func:`rule_set_for_labels` (a plain rule set
for a data set that comes with labels only).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rules import RuleSet
from worker.core.errors import InputError

log = logging.getLogger(__name__)

NO_LABEL = ""  # the gold label of a mail that fits no category


@dataclass(frozen=True)
class LabeledMail:
    key: str  # where it came from, relative to the dataset root
    raw: bytes
    gold: str
    gold_set: tuple[str, ...]


def sample(mails: Sequence[LabeledMail], n: int | None) -> list[LabeledMail]:
    """``n`` mails spread over the whole set (a fixed hash order, so every run picks the same)."""
    if n is None or n >= len(mails):
        return list(mails)
    return sorted(mails, key=lambda mail: hashlib.sha256(mail.key.encode()).digest())[:n]


def gold_labels(mails: Iterable[LabeledMail], rule_set: RuleSet) -> list[str]:
    """The primary gold labels in rule-set category order; refuses labels the rule set lacks."""
    seen = {mail.gold for mail in mails} - {NO_LABEL}  # secondary gold labels may lie outside (Enron's 1.7)
    names = rule_set.category_names()
    missing = sorted(seen - set(names))
    if missing:
        raise InputError(
            f"gold labels {', '.join(missing)} are not categories of rule set {rule_set.name!r} "
            f"(its categories: {', '.join(names)})"
        )
    extra = [name for name in names if name not in seen]
    if extra:
        log.warning("rule-set categories never in the gold labels: %s", ", ".join(extra))
    return [name for name in names if name in seen]


def rule_set_for_labels(labels: Sequence[str], *, name: str = "labels") -> RuleSet:
    """A plain argmax rule set with one category per label, described by the label's words."""
    import json

    from rules import parse_rule_set

    categories = [
        {"name": label, "description": " ".join(label.replace("_", " ").replace("-", " ").split())}
        for label in labels
    ]
    text = json.dumps({"name": name, "policy": {"mode": "top_k", "top_k": 1}, "categories": categories})
    return parse_rule_set(text, source=f"<labels of {name}>")
