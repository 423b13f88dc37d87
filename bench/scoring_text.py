"""What the backends score: zero-shot accuracy of variants of a mail's scored text, one run.

Issue 13 item 5 asks whether a boilerplate subject drowns a short body. On a Berkeley Enron tree
(``rules/examples/enron-genre.yaml``) the calibrated zero-shot prior of the ``embedding`` backend is
measured for: ``current`` (``ParsedMail.scoring_text``: ``Subject\\n\\nbody``), ``body_only``,
``drop_repeated`` (the subject left out where ≥ 3 mails of the set share it, ignoring Re:/Fwd:) and
``body_then_subject``. A comparison is a difference of two variants in the same run.

Usage: ``python bench/scoring_text.py [ENRON_DIR]``. Ends with one ``RESULT`` line.
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rules import load_rule_set  # noqa: E402
from worker.evaluation.evaluate import load_enron_berkeley  # noqa: E402
from worker.evaluation.metrics import macro_f1  # noqa: E402
from worker.learning import calibration as cal  # noqa: E402
from worker.learning.vectors import zero_shot_from_vectors  # noqa: E402
from worker.parsing.message import ParsedMail, parse_message  # noqa: E402

DEFAULT_DATASET = REPO / ".." / "shared" / "datasets" / "enron-berkeley"
ENRON_RULES = REPO / "rules" / "examples" / "enron-genre.yaml"
REPEATED = 3
_REPLY = re.compile(r"^((re|fw|fwd):\s*)+")


def variants(parsed: list[ParsedMail]) -> dict[str, list[str]]:
    def norm(subject: str) -> str:
        return _REPLY.sub("", subject.strip().lower())

    shared = collections.Counter(norm(p.subject) for p in parsed)
    return {
        "current": [p.scoring_text for p in parsed],
        "body_only": [p.text or p.scoring_text for p in parsed],
        "drop_repeated": [
            (p.text or p.scoring_text) if shared[norm(p.subject)] >= REPEATED else p.scoring_text
            for p in parsed
        ],
        "body_then_subject": [f"{p.text}\n\n{p.subject}" if p.text else p.scoring_text for p in parsed],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", nargs="?", type=Path, default=DEFAULT_DATASET)
    args = parser.parse_args()
    from worker.scoring.backends.embedding import EmbeddingScorer

    mails = load_enron_berkeley(args.dataset.resolve())
    rule_set = load_rule_set(ENRON_RULES)
    names = rule_set.category_names()
    if not mails:
        raise SystemExit(f"no mails under {args.dataset}")
    gold = [m.gold for m in mails]
    parsed = [parse_message(m.raw, max_chars=4000) for m in mails]
    scorer = EmbeddingScorer()
    result = {}
    for name, texts in variants(parsed).items():
        vectors = np.vstack([scorer.encode(texts[i : i + 64]) for i in range(0, len(texts), 64)])
        zero_shot = zero_shot_from_vectors(scorer, vectors, rule_set.label_texts())
        assert zero_shot is not None, "the embedding backend scores from vectors"
        pred = [names[i] for i in cal.prior(zero_shot)[:, : len(names)].argmax(axis=1)]
        acc = float(np.mean([g == p for g, p in zip(gold, pred, strict=True)]))
        f1 = macro_f1(gold, pred, names)
        print(f"{name:18} accuracy {acc:.4f} macro-F1 {f1:.4f}", flush=True)
        result[f"{name}_accuracy"], result[f"{name}_macro_f1"] = acc, f1
    fields = " ".join(f"{k}={v:.4f}" for k, v in result.items())
    print(f"RESULT {fields} n={len(mails)}")


if __name__ == "__main__":
    main()
