"""Learning from reviewers: the simulated-review learning curve, the product against a reference.

The labeled set is replayed in time order through the product's learner (``worker/learning``, the
code the retrain task runs) with the ``embedding`` backend; the first N mails of each gold label are
the reviewed mails, the learned probabilities are pooled with the mails before each one as the live
worker pools them (``worker/evaluation/pooled.py``), and every figure is measured on the other mails
(``worker/evaluation/simulate.py``).
In the same run and on the same reviewed mails: the zero-shot prior, and a scikit-learn logistic
regression on the reviewed mails' MiniLM embeddings (``lr``).

Data sets: a Berkeley Enron tree (``rules/examples/enron-genre.yaml``), or a CSV export with columns
``text,label[,subject]`` such as ../shared/datasets/hwu64/hwu64.csv (one category per label, described
by the label's words). A CSV set with at least 16 labels is also run a second time with 8 of its labels
(every len/8-th in sorted order) left out of the rule set: their mails are out of scope, gold "no label";
N mails of each left-out label are reviewed as "none" (20 corrections per label of the data set: the
reviewers see out-of-scope mails as often as the traffic brings them, 8 × N in all).

Figures at N = 20: accuracy, macro-F1, ``acc_at_50pct`` (accuracy of the 50% most confident mails,
confidence = calibrated top probability), ``ece`` (of all in-scope held-out mails); out of scope:
``inscope_auto_share``/``oos_labeled_share`` at the gate that auto-routes 80% of in-scope mails and
``ece_auto`` for the mails that gate auto-routes.

Usage: ``python bench/learning.py [DATASET] [--limit N]``. Ends with one ``RESULT`` line.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rules import RuleSet, load_rule_set  # noqa: E402
from worker.evaluation.datasets import load_csv, load_enron_berkeley  # noqa: E402
from worker.evaluation.labeled import NO_LABEL, LabeledMail, rule_set_for_labels, sample  # noqa: E402
from worker.evaluation.prepared import Prepared, prepare  # noqa: E402
from worker.evaluation.simulate import CURVE, learning_curve  # noqa: E402

DEFAULT_DATASET = REPO / ".." / "shared" / "datasets" / "enron-berkeley"
ENRON_RULES = REPO / "rules" / "examples" / "enron-genre.yaml"
OOS_LABELS = 8


def load(dataset: Path, limit: int | None) -> tuple[list[LabeledMail], RuleSet]:
    if dataset.is_dir():
        return sample(load_enron_berkeley(dataset), limit), load_rule_set(ENRON_RULES)
    mails = sample(load_csv(dataset), limit)
    labels = sorted({m.gold for m in mails} - {NO_LABEL})
    return mails, rule_set_for_labels(labels, name=dataset.stem)


def out_of_scope(prep: Prepared, rule_set: RuleSet) -> tuple[Prepared, RuleSet, list[str]]:
    """The same prepared set with every len/8-th label left out of the rule set."""
    names = sorted(rule_set.category_names())
    left = names[:: len(names) // OOS_LABELS][:OOS_LABELS]
    keep = [i for i, name in enumerate(prep.names) if name not in left]
    kept = rule_set_for_labels([prep.names[i] for i in keep], name=f"{rule_set.name}-oos")
    mails = [m if m.gold not in left else LabeledMail(m.key, m.raw, NO_LABEL, ()) for m in prep.mails]
    groups = prep.gold_columns()  # reviewed per label of the data set: 20 of each left-out label too
    reduced = Prepared(
        mails, kept.category_names(), prep.facts, prep.zero_shot[:, keep], prep.vectors, groups
    )
    return reduced, kept, left


def table(title: str, curve: list[dict]) -> None:
    print(f"\n{title}")
    print(
        f"{'N':>3} {'rev':>5} {'eval':>5} | {'acc':>6} {'F1':>6} {'acc50':>6} {'ece':>6} {'lr acc':>6} | "
        f"{'zs acc':>6} {'zs F1':>6} {'zs a50':>6} {'zs ece':>6} | {'oos lab':>7} {'zs oos':>6} | w/T/C cv"
    )
    for p in curve:
        lr = f"{p['lr_accuracy']:6.3f}" if p["lr_accuracy"] is not None else "     -"
        oos = (
            f"{p['oos_labeled_share']:7.3f} {p['zero_shot_oos_labeled_share']:6.3f}"
            if "gate" in p
            else " " * 14
        )
        m = p["model"]
        print(
            f"{p['n']:>3} {p['corrections']:>5} {p['evaluated']:>5} | "
            f"{p['accuracy']:6.3f} {p['macro_f1']:6.3f} {p['auto_accuracy']:6.3f} {p['ece']:6.3f} {lr} | "
            f"{p['zero_shot_accuracy']:6.3f} "
            f"{p['zero_shot_macro_f1']:6.3f} {p['zero_shot_auto_accuracy']:6.3f} {p['zero_shot_ece']:6.3f} | "
            f"{oos} | {m['weight']}/{m['temperature']:.2f}/{m['c']} {m['cv_accuracy']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", nargs="?", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--limit", type=int, default=None, help="use N mails spread over the set")
    args = parser.parse_args()
    from worker.scoring.backends.embedding import EmbeddingScorer

    mails, rule_set = load(args.dataset.resolve(), args.limit)
    print(f"{len(mails)} mails of {args.dataset}, {len(rule_set.categories)} categories")
    scorer = EmbeddingScorer()
    started = time.perf_counter()
    prep = prepare(mails, scorer, scorer, rule_set, max_chars=4000)
    print(f"scored and embedded in {time.perf_counter() - started:.0f}s")
    started = time.perf_counter()
    curve = learning_curve(prep, rule_set, CURVE, review_share=0.5)
    table("all labels in the rule set", curve)
    n20 = next(p for p in curve if p["n"] == 20)
    result = {
        "zero_shot_accuracy": n20["zero_shot_accuracy"],
        "n5_accuracy": curve[1]["accuracy"],
        "n10_accuracy": curve[2]["accuracy"],
        "n20_accuracy": n20["accuracy"],
        "lr_n20_accuracy": n20["lr_accuracy"],
        "zero_shot_macro_f1": n20["zero_shot_macro_f1"],
        "n20_macro_f1": n20["macro_f1"],
        "macro_f1_gain": n20["macro_f1"] - n20["zero_shot_macro_f1"],
        "acc_at_50pct": n20["auto_accuracy"],
        "zero_shot_acc_at_50pct": n20["zero_shot_auto_accuracy"],
        "n20_ece_all": n20["ece"],
        "zero_shot_ece_all": n20["zero_shot_ece"],
    }
    if not args.dataset.is_dir() and len(rule_set.categories) >= 2 * OOS_LABELS:
        reduced, kept, left = out_of_scope(prep, rule_set)
        oos = learning_curve(reduced, kept, (0, 20), review_share=0.5)
        table(f"{len(left)} labels out of scope ({', '.join(left)})", oos)
        o20 = oos[-1]
        result.update(
            inscope_auto_share=o20["inscope_auto_share"],
            oos_labeled_share=o20["oos_labeled_share"],
            zero_shot_oos_labeled_share=o20["zero_shot_oos_labeled_share"],
            ece=o20["ece_auto"],
            zero_shot_ece=o20["zero_shot_ece_auto"],
            oos_n20_accuracy=o20["accuracy"],
        )
    else:
        result["ece"] = n20["ece"]
    print(f"\nlearning curve computed in {time.perf_counter() - started:.0f}s")
    ratio = (n20["accuracy"] / n20["lr_accuracy"]) if n20["lr_accuracy"] else float("nan")
    print(f"n20 / lr_n20 = {ratio:.3f}; n20 - zero_shot = {n20['accuracy'] - n20['zero_shot_accuracy']:+.3f}")
    fields = " ".join(f"{k}={v:.4f}" for k, v in result.items() if v is not None)
    print(f"RESULT {fields} n20_evaluated={n20['evaluated']} n={len(mails)}")


if __name__ == "__main__":
    main()
