"""Evaluate a rule set on labeled mail: load a labeled set, run the real pipeline, measure.

Two labeled layouts are read in place (nothing is copied):

``enron-berkeley``
    The Berkeley Enron annotation: ``DIR/N/ID.txt`` (RFC 822) beside ``DIR/N/ID.cats``, whose lines
    are ``top,second,count``. The gold label of a mail is its primary coarse genre: the ``1.x`` line
    with the highest count (ties: the first listed); mails whose primary genre is not in
    :data:`ENRON_GENRES` (the empty-message genres 1.7 and 1.8) are left out. Every ``1.x`` genre of
    the mail is kept as its gold set, for the multi-label figure.
``csv``
    A ticket or intent export: a CSV file with a header holding ``text`` and ``label`` (and optionally
    ``subject``; other columns are ignored). Each row becomes a plain-text mail with that subject and
    body, parsed like any other. An empty label is gold "no label" (:data:`NO_LABEL`): a mail that fits
    no category (out of scope), reported as its own row.
``eml``
    A folder of ``.eml`` files and a labels file, one mail a line: ``filename,label[;label2...]``
    (CSV; ``filename`` relative to the folder; the first label is the primary one). Blank lines,
    ``#`` comments and a ``filename,label`` header line are skipped.

The pipeline per mail is the worker's: ``parse_message(raw, max_chars)`` → ``scoring_text`` → the
backend scores a batch against ``rule_set.label_texts()`` → :func:`rules.decide`. The prediction is
the decision's first label (``None`` when it chose none, which is right for a gold "no label" mail);
the confidence is the top score (a calibrated probability when learning is on), which orders mails
for the coverage table. Each prediction row carries the mail's parse warnings and scored text; a
boilerplate subject (:mod:`worker.store.boilerplate`, counted over the evaluated set) is left out of it
(``subject_kept``: false), as live classification leaves out a profile's boilerplate subject.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rules import RuleSet
from worker.core.errors import InputError
from worker.evaluation.metrics import classification_report
from worker.scoring.base import Scorer
from worker.store.boilerplate import DEFAULT_MIN_SHARED, keep_in_set

log = logging.getLogger(__name__)

ENRON_GENRES = ("1.1", "1.2", "1.3", "1.4", "1.5", "1.6")
FORMATS = ("enron-berkeley", "eml", "csv")
NO_LABEL = ""  # the gold label of a mail that fits no category
# Mails handed to the backend per score() call. Backends batch internally (``batch_size``) after
# sorting a call's mails by length, so a larger call pads less: 32 Enron mails per call pad to the
# longest of the 32, and encoding took 1.7x as long as one call of 256 on the same mails.
SCORE_CHUNK = 256


@dataclass(frozen=True)
class LabeledMail:
    key: str  # where it came from, relative to the dataset root
    raw: bytes
    gold: str
    gold_set: tuple[str, ...]


def _read_cats(path: Path) -> list[tuple[str, int]]:
    """The coarse genres (``1.x``) of one ``.cats`` file with their counts, in file order."""
    genres = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            top, second, count = (part.strip() for part in line.split(","))
            if top == "1":
                genres.append((f"1.{int(second)}", int(count)))
        except ValueError as e:
            raise InputError(f"{path}:{number}: expected 'top,second,count', got {line!r}") from e
    return genres


def load_enron_berkeley(root: Path, *, genres: Sequence[str] = ENRON_GENRES) -> list[LabeledMail]:
    """The mails of a Berkeley Enron tree whose primary genre is in ``genres``, sorted by path."""
    if not root.is_dir():
        raise InputError(f"{root}: not a directory")
    cats_files = sorted(root.glob("*/*.cats"), key=lambda p: (p.parent.name, p.name))
    if not cats_files:
        raise InputError(f"{root}: no N/ID.cats files: not a Berkeley Enron layout")
    mails = []
    for cats in cats_files:
        found = _read_cats(cats)
        if not found:
            continue
        primary = max(found, key=lambda genre: genre[1])[0]  # max() keeps the first of equals
        if primary not in genres:
            continue
        text = cats.with_suffix(".txt")
        if not text.is_file():
            raise InputError(f"{cats}: no message file {text.name} beside it")
        gold_set = tuple(dict.fromkeys(name for name, _ in found))
        mails.append(LabeledMail(str(text.relative_to(root)), text.read_bytes(), primary, gold_set))
    return mails


def load_eml_folder(root: Path, labels_file: Path) -> list[LabeledMail]:
    """The mails named in ``labels_file`` (``filename,label[;label2]``), read from ``root``."""
    if not root.is_dir():
        raise InputError(f"{root}: not a directory")
    if not labels_file.is_file():
        raise InputError(f"{labels_file}: labels file not found")
    mails = []
    with labels_file.open(newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.reader(handle), 1):
            if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                continue
            if number == 1 and [c.strip().lower() for c in row] == ["filename", "label"]:
                continue
            labels = [label.strip() for label in row[1].split(";")] if len(row) == 2 else []
            if len(row) != 2 or not row[0].strip() or not all(labels):
                raise InputError(f"{labels_file}:{number}: expected 'filename,label[;label2]', got {row!r}")
            path = root / row[0].strip()
            if not path.is_file():
                raise InputError(f"{labels_file}:{number}: {path} not found")
            mails.append(LabeledMail(row[0].strip(), path.read_bytes(), labels[0], tuple(labels)))
    if not mails:
        raise InputError(f"{labels_file}: no labeled mails")
    return mails


def csv_mail(text: str, subject: str = "") -> bytes:
    """A plain-text RFC 822 mail holding ``text`` under ``subject``."""
    from email.message import EmailMessage

    message = EmailMessage()
    if subject.strip():
        message["Subject"] = " ".join(subject.split())
    message.set_content(text)
    return bytes(message)


def load_csv(path: Path) -> list[LabeledMail]:
    """The rows of a ``text,label[,subject]`` CSV file (header required) as labeled mails."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"text", "label"} - set(reader.fieldnames or ())
        if missing:
            raise InputError(
                f"{path}: a CSV export needs the columns text,label[,subject]; missing {sorted(missing)}"
            )
        mails = []
        for number, row in enumerate(reader, 2):
            label = (row["label"] or "").strip()
            raw = csv_mail(row["text"] or "", row.get("subject") or "")
            mails.append(LabeledMail(f"{path.name}:{number}", raw, label, (label,) if label else ()))
    if not mails:
        raise InputError(f"{path}: no labeled rows")
    return mails


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


def load_labeled(path: Path, fmt: str, *, labels_file: Path | None = None) -> list[LabeledMail]:
    """Dispatch on ``fmt`` (one of :data:`FORMATS`)."""
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if fmt == "enron-berkeley":
        return load_enron_berkeley(path)
    if fmt == "csv":
        return load_csv(path)
    if fmt == "eml":
        if labels_file is None:
            raise InputError("--format eml needs --labels FILE (lines 'filename,label[;label2]')")
        return load_eml_folder(path, labels_file)
    raise InputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


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
