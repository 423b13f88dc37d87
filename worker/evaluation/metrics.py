"""Classification metrics over plain lists: accuracy, per-label and macro F1, coverage at review cut-offs.

Small and dependency-free (numpy only) so that ``mailroute eval`` and the benchmarks compute the
same figures the same way. A prediction of ``None`` (no label chosen) is always wrong. Macro-F1
averages over the *gold* label universe given by the caller, so a rule set with an extra category
(a fallback, say) is judged on the categories the labeled set can tell apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_COVERAGES = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)
NO_LABEL = "(none)"


def _ratio(num: float, den: float) -> float:
    return float(num) / den if den else 0.0


def per_label(gold: Sequence[str], pred: Sequence[str | None], labels: Sequence[str]) -> dict[str, dict]:
    """Precision, recall, F1 and support (gold count) of each label."""
    out: dict[str, dict] = {}
    for label in labels:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p == label)
        predicted = sum(1 for p in pred if p == label)
        support = sum(1 for g in gold if g == label)
        precision, recall = _ratio(tp, predicted), _ratio(tp, support)
        f1 = _ratio(2 * precision * recall, precision + recall)
        out[label] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
    return out


def accuracy(gold: Sequence[str], pred: Sequence[str | None]) -> float:
    return _ratio(sum(1 for g, p in zip(gold, pred, strict=True) if g == p), len(gold))


def macro_f1(gold: Sequence[str], pred: Sequence[str | None], labels: Sequence[str]) -> float:
    """Unweighted mean of the labels' F1 (sklearn's ``f1_score(average="macro", labels=labels)``)."""
    table = per_label(gold, pred, labels)
    return _ratio(sum(row["f1"] for row in table.values()), len(labels))


def set_accuracy(gold_sets: Sequence[Sequence[str]], pred: Sequence[str | None]) -> float:
    """Multi-label reading: a prediction is right when it is any of the mail's gold labels."""
    return _ratio(sum(1 for gs, p in zip(gold_sets, pred, strict=True) if p in gs), len(gold_sets))


def coverage_table(
    correct: Sequence[bool], confidence: Sequence[float], coverages: Sequence[float] = DEFAULT_COVERAGES
) -> list[dict[str, float]]:
    """Accuracy of the most confident ``coverage`` share of mails, and the confidence cut-off to use.

    Mails are sorted by ``confidence`` (e.g. the top-1 minus top-2 score margin), most confident
    first; routing automatically those at or above ``min_confidence`` and sending the rest to review
    gives the listed coverage and accuracy.
    """
    n = len(correct)
    order = np.argsort(-np.asarray(confidence, dtype=float), kind="stable")
    hits = np.asarray(correct, dtype=bool)[order]
    conf = np.asarray(confidence, dtype=float)[order]
    rows = []
    for coverage in coverages:
        k = max(1, round(coverage * n)) if n else 0
        rows.append(
            {
                "coverage": float(coverage),
                "n": int(k),
                "accuracy": float(hits[:k].mean()) if k else 0.0,
                "min_confidence": float(conf[k - 1]) if k else 0.0,
            }
        )
    return rows


def confusion_matrix(
    gold: Sequence[str], pred: Sequence[str | None], labels: Sequence[str]
) -> list[list[int]]:
    """Rows: gold label; columns: predicted label, then one column for anything else (or none)."""
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels) + 1), dtype=int)
    for g, p in zip(gold, pred, strict=True):
        if g in index:
            matrix[index[g], index.get(p, len(labels)) if p is not None else len(labels)] += 1
    return matrix.tolist()


def classification_report(
    gold: Sequence[str],
    pred: Sequence[str | None],
    labels: Sequence[str],
    *,
    gold_sets: Sequence[Sequence[str]] | None = None,
    confidence: Sequence[float] | None = None,
) -> dict[str, Any]:
    """Every figure ``mailroute eval`` reports, as JSON-able data."""
    report: dict[str, Any] = {
        "n": len(gold),
        "accuracy": accuracy(gold, pred),
        "macro_f1": macro_f1(gold, pred, labels),
        "labels": list(labels),
        "per_label": per_label(gold, pred, labels),
        "confusion": {
            "rows": list(labels),
            "columns": [*labels, NO_LABEL],
            "matrix": confusion_matrix(gold, pred, labels),
        },
    }
    if gold_sets is not None:
        report["multi_label_accuracy"] = set_accuracy(gold_sets, pred)
    if confidence is not None:
        correct = [g == p for g, p in zip(gold, pred, strict=True)]
        report["coverage"] = coverage_table(correct, confidence)
    return report


def plot_confusion(report: dict[str, Any], path: Path, *, title: str = "mailroute eval") -> None:
    """Write the report's confusion matrix as a PNG (matplotlib, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    confusion = report["confusion"]
    matrix = np.asarray(confusion["matrix"])
    fig, ax = plt.subplots(figsize=(1.2 + 0.8 * matrix.shape[1], 1.2 + 0.8 * matrix.shape[0]))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(matrix.shape[1]), confusion["columns"], rotation=45, ha="right")
    ax.set_yticks(range(matrix.shape[0]), confusion["rows"])
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(f"{title}: accuracy {report['accuracy']:.3f}, macro-F1 {report['macro_f1']:.3f}")
    threshold = matrix.max() / 2 if matrix.size else 0
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, str(value), ha="center", va="center", color="white" if value > threshold else "black")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
