"""Learning from reviewers on the Berkeley Enron genres 1.1-1.6: the simulated-review learning curve.

The labeled set is replayed in time order (numeric message id) through the default pipeline
(``rules/examples/enron-genre.yaml``, ``embedding`` backend) with the few-shot memory of
``worker.learning``; the first N mails of each gold label are corrected by a simulated reviewer and
every figure is measured on the other mails (see ``worker/evaluation/simulate.py``). The zero-shot
figures are the same mails without memory, in the same run.

Bars: with N = 20, macro-F1 at least 0.10 above zero-shot, and accuracy >= 0.80 on the mails routed
automatically when 40% go to review (the review band is a ``min_margin`` at the 40% quantile of the
top-1 minus top-2 margins of the evaluated mails).

Usage: ``python bench/learning.py [DATASET_DIR] [--limit N]``. Ends with one ``RESULT`` line.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rules import load_rule_set  # noqa: E402
from worker.evaluation.evaluate import ENRON_GENRES, load_enron_berkeley, sample  # noqa: E402
from worker.evaluation.simulate import CURVE, learning_curve, prepare  # noqa: E402
from worker.learning.memory import MemoryConfig  # noqa: E402

DEFAULT_DATASET = REPO / ".." / "shared" / "datasets" / "enron-berkeley"
RULES = REPO / "rules" / "examples" / "enron-genre.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", nargs="?", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--limit", type=int, default=None, help="use N mails spread over the set")
    parser.add_argument("--review-share", type=float, default=0.4)
    parser.add_argument("--target-precision", type=float, default=0.8, help="for the learned thresholds")
    parser.add_argument("--k", type=float, default=MemoryConfig.k, help="few-shot weight n / (n + k)")
    args = parser.parse_args()
    from worker.scoring.backends.embedding import EmbeddingScorer

    mails = sample(load_enron_berkeley(args.dataset.resolve()), args.limit)
    counts = {g: sum(m.gold == g for m in mails) for g in ENRON_GENRES}
    print(f"{len(mails)} mails of {args.dataset} (genres 1.1-1.6): {counts}")
    rule_set = load_rule_set(RULES)
    scorer = EmbeddingScorer()
    started = time.perf_counter()
    prep = prepare(mails, scorer, scorer, rule_set, max_chars=4000)
    print(f"scored and embedded in {time.perf_counter() - started:.0f}s")
    curve = learning_curve(
        prep,
        rule_set,
        CURVE,
        config=MemoryConfig(k=args.k),
        review_share=args.review_share,
        target_precision=args.target_precision,
    )
    coverage = f"auto@{1 - args.review_share:.0%}"
    print(
        f"{'N':>3} {'corr':>5} {'eval':>5} | {'acc':>6} {'macroF1':>7} {coverage:>9} {'online':>6} | "
        f"{'zs acc':>6} {'zs F1':>6} {'zs auto':>7} | "
        f"thresholds (target {args.target_precision}): auto share/acc"
    )
    for p in curve:
        t = p["thresholds"]
        print(
            f"{p['n']:>3} {p['corrections']:>5} {p['evaluated']:>5} | "
            f"{p['accuracy']:6.3f} {p['macro_f1']:7.3f} "
            f"{p['auto_accuracy']:9.3f} {p['online_accuracy']:6.3f} | {p['zero_shot_accuracy']:6.3f} "
            f"{p['zero_shot_macro_f1']:6.3f} {p['zero_shot_auto_accuracy']:7.3f} | "
            f"{t['auto_share']:.2f}/{t['auto_accuracy']:.3f} {t['learned']}"
        )
    n20 = next(p for p in curve if p["n"] == 20)
    gain = n20["macro_f1"] - n20["zero_shot_macro_f1"]
    print(f"N=20 F1 by genre: {'  '.join(f'{k}:{v:.2f}' for k, v in n20['f1'].items())}")
    print(
        f"bars: macro-F1 gain {gain:+.3f} (target >= +0.10: {'met' if gain >= 0.10 else 'NOT met'}); "
        f"auto accuracy at {coverage} {n20['auto_accuracy']:.3f} "
        f"(target >= 0.80: {'met' if n20['auto_accuracy'] >= 0.80 else 'NOT met'})"
    )
    print(
        f"RESULT zero_shot_macro_f1={n20['zero_shot_macro_f1']:.4f} n20_macro_f1={n20['macro_f1']:.4f} "
        f"macro_f1_gain={gain:.4f} zero_shot_accuracy={n20['zero_shot_accuracy']:.4f} "
        f"n20_accuracy={n20['accuracy']:.4f} n20_auto_accuracy_at_60pct_coverage={n20['auto_accuracy']:.4f} "
        f"zero_shot_auto_accuracy_at_60pct_coverage={n20['zero_shot_auto_accuracy']:.4f} "
        f"n20_evaluated={n20['evaluated']} n={len(mails)}"
    )


if __name__ == "__main__":
    main()
