"""Fit the zero-shot prior's constants (``worker/learning/calibration.py``) on the dev sets together.

HWU64 (every 8th of its sorted labels left out of the rule set, out of scope; 3,000 of its texts in
a fixed hash order) and the Berkeley Enron genres weigh the same: the (temperature, none logit) with
the least mean negative log-likelihood of the two is printed, with each set's calibration error.

Usage: ``python scripts/fit_prior.py [HWU64_CSV] [ENRON_DIR]`` (defaults: ../shared/datasets/...).
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from learning import load, out_of_scope  # noqa: E402

from worker.evaluation.prepared import prepare  # noqa: E402
from worker.learning import calibration as cal  # noqa: E402

DATASETS = REPO / ".." / "shared" / "datasets"


def main() -> None:
    hwu = Path(sys.argv[1]) if len(sys.argv) > 1 else DATASETS / "hwu64" / "hwu64.csv"
    enron = Path(sys.argv[2]) if len(sys.argv) > 2 else DATASETS / "enron-berkeley"
    from worker.scoring.backends.embedding import EmbeddingScorer

    scorer = EmbeddingScorer()
    sets = []
    for path, limit in ((hwu, 3000), (enron, None)):
        mails, rule_set = load(path.resolve(), limit)
        prep = prepare(mails, scorer, scorer, rule_set, max_chars=4000)
        if not path.is_dir():
            prep, rule_set, _ = out_of_scope(prep, rule_set)
        sets.append((prep.zero_shot, prep.gold_columns()))
    temperature, none = cal.fit_prior(sets)
    print(f"PRIOR_TEMPERATURE = {temperature:.3f}, PRIOR_NONE = {none:.3f}")
    for (scores, y), name in zip(sets, ("hwu64 (8 labels out of scope)", "enron"), strict=True):
        probs = cal.prior(scores, temperature=temperature, none=none)
        k = probs.shape[1] - 1
        ece = cal.ece(probs[:, :k].max(axis=1), probs[:, :k].argmax(axis=1) == y)
        print(f"{name}: ECE of the top probability {ece:.3f}")


if __name__ == "__main__":
    main()
