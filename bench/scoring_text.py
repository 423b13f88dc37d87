"""What the backends score: zero-shot accuracy of variants of a mail's scored text, one run.

Issue 13 item 5 asks whether a boilerplate subject drowns a short body. The calibrated zero-shot prior
of the ``embedding`` backend is measured for: ``current`` (``ParsedMail.scoring_text``:
``Subject\\n\\nbody``), ``body_only``, ``drop_repeated`` (the subject left out where ≥ 3 mails of
the set share it, ignoring Re:/Fwd:, case and whitespace; ``--repeated 3,10`` adds
``drop_repeated_10``) and ``boilerplate`` (the product's rule: ≥ 3 mails and ≥ 5% of the set,
:mod:`worker.store.boilerplate`). A comparison is a difference of two variants in the same run; each distinct
text is encoded once.

Data sets: a Berkeley Enron tree (``rules/examples/enron-genre.yaml``), or a CSV export with columns
``text,label[,subject]`` such as ../shared/datasets/hwu64/hwu64.csv (one category per label, described
by the label's words). ``--subject TEXT`` gives every mail that subject (a ticket export whose mails
all carry the same boilerplate subject, e.g. "Customer request").

Usage: ``python bench/scoring_text.py [DATASET] [--subject TEXT] [--repeated N,...] [--limit N]``.
Ends with one ``RESULT`` line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from email import message_from_bytes
from email.policy import compat32
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rules import RuleSet, load_rule_set  # noqa: E402
from worker.evaluation.datasets import load_csv, load_enron_berkeley  # noqa: E402
from worker.evaluation.labeled import NO_LABEL, LabeledMail, rule_set_for_labels, sample  # noqa: E402
from worker.evaluation.metrics import macro_f1  # noqa: E402
from worker.learning import calibration as cal  # noqa: E402
from worker.learning.vectors import zero_shot_from_vectors  # noqa: E402
from worker.parsing.message import ParsedMail, parse_message  # noqa: E402
from worker.store.boilerplate import DEFAULT_MIN_SHARED, MIN_SHARE, keep_in_set  # noqa: E402

DEFAULT_DATASET = REPO / ".." / "shared" / "datasets" / "enron-berkeley"
ENRON_RULES = REPO / "rules" / "examples" / "enron-genre.yaml"


def variants(parsed: Sequence[ParsedMail], repeated: Sequence[int] = (3,)) -> dict[str, list[str]]:
    """The scored texts of each variant: ``drop_repeated`` (any subject ``repeated[0]`` mails share;
    ``drop_repeated_N`` for the other thresholds) and ``boilerplate``, the product's rule
    (:func:`worker.store.boilerplate.keep_in_set`: ≥ 3 mails and ≥ 5% of the set)."""
    subjects = [p.subject for p in parsed]
    found = {
        "current": [p.scoring_text for p in parsed],
        "body_only": [p.scored_text(keep_subject=False) for p in parsed],
    }
    rules = {"drop_repeated" if i == 0 else f"drop_repeated_{n}": (n, 0.0) for i, n in enumerate(repeated)}
    rules["boilerplate"] = (DEFAULT_MIN_SHARED, MIN_SHARE)
    for name, (n, share) in rules.items():
        keep = keep_in_set(subjects, min_shared=n, min_share=share)
        found[name] = [p.scored_text(keep_subject=k) for p, k in zip(parsed, keep, strict=True)]
    return found


def with_subject(raw: bytes, subject: str) -> bytes:
    """``raw`` with its Subject header replaced by ``subject``."""
    message = message_from_bytes(raw, policy=compat32)
    del message["Subject"]
    message["Subject"] = subject
    return message.as_bytes()


def load(dataset: Path, limit: int | None) -> tuple[list[LabeledMail], RuleSet]:
    if dataset.is_dir():
        return sample(load_enron_berkeley(dataset), limit), load_rule_set(ENRON_RULES)
    mails = [m for m in sample(load_csv(dataset), limit) if m.gold != NO_LABEL]
    return mails, rule_set_for_labels(sorted({m.gold for m in mails}), name=dataset.stem)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", nargs="?", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--subject", default=None, help="give every mail this (boilerplate) subject")
    parser.add_argument("--repeated", default="3", help="thresholds of drop_repeated, e.g. 3,10")
    parser.add_argument("--limit", type=int, default=None, help="use N mails spread over the set")
    args = parser.parse_args()
    from worker.scoring.backends.embedding import EmbeddingScorer

    mails, rule_set = load(args.dataset.resolve(), args.limit)
    names = rule_set.category_names()
    if not mails:
        raise SystemExit(f"no mails in {args.dataset}")
    raws = [with_subject(m.raw, args.subject) if args.subject is not None else m.raw for m in mails]
    gold = [m.gold for m in mails]
    parsed = [parse_message(raw, max_chars=4000) for raw in raws]
    found = variants(parsed, [int(n) for n in args.repeated.split(",")])
    subject = f", subject {args.subject!r}" if args.subject is not None else ""
    print(f"{len(mails)} mails of {args.dataset}{subject}, {len(names)} categories", flush=True)
    scorer = EmbeddingScorer()
    distinct = sorted({text for texts in found.values() for text in texts}, key=len)
    encoded = np.vstack([scorer.encode(distinct[i : i + 256]) for i in range(0, len(distinct), 256)])
    row = {text: i for i, text in enumerate(distinct)}
    print(f"{len(distinct)} distinct texts encoded", flush=True)
    result = {}
    for name, texts in found.items():
        vectors = encoded[[row[text] for text in texts]]
        zero_shot = zero_shot_from_vectors(scorer, vectors, rule_set.label_texts())
        assert zero_shot is not None, "the embedding backend scores from vectors"
        pred = [names[i] for i in cal.prior(zero_shot)[:, : len(names)].argmax(axis=1)]
        acc = float(np.mean([g == p for g, p in zip(gold, pred, strict=True)]))
        f1 = macro_f1(gold, pred, names)
        dropped = sum(t != p.scoring_text for t, p in zip(texts, parsed, strict=True)) / len(texts)
        print(f"{name:18} accuracy {acc:.4f} macro-F1 {f1:.4f} subject left out {dropped:.3f}", flush=True)
        result[f"{name}_accuracy"], result[f"{name}_macro_f1"] = acc, f1
    fields = " ".join(f"{k}={v:.4f}" for k, v in result.items())
    print(f"RESULT {fields} n={len(mails)}")


if __name__ == "__main__":
    main()
