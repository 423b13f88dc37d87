"""SetFit trial: contrastive fine-tuning of the CPU model on the reviewed mails, against the frozen head.

The split is simulate.py's (``worker/evaluation/simulate.py``): mails in time order, the first N of
each gold label reviewed, every figure on the others. In one run, on the same reviewed mails:

* ``head``: a logistic regression on the frozen all-MiniLM-L6-v2 embeddings (the product's ONNX
  runtime), and ``product``: the product's learner (``worker.learning.classifier.fit``, via replay);
* ``setfit``: the same body fine-tuned by setfit's standard recipe (CosineSimilarityLoss on
  oversampled positive/negative pairs of reviewed mails, batch 16, one epoch, lr 2e-5, capped at
  ``--steps`` steps), then the same logistic regression on its embeddings; ``product_setfit``: the
  product's learner on them (label logits stay the frozen model's zero-shot ones).

Also: the seconds each takes to train, and the embedding rate of the fine-tuned body (torch, and the
same ONNX export the product uses) against the product's ONNX runtime on the frozen weights.

Needs setfit, which the project does not depend on; install it outside the venv, e.g.
``pip install --target /tmp/setfit/site-packages --no-deps setfit datasets evaluate accelerate pyarrow
pandas xxhash multiprocess`` and run with ``PYTHONPATH=/tmp/setfit/site-packages:.`` (the folder name
must contain ``site-packages``: dill pickles modules elsewhere by value, and datasets' fingerprint fails).

Usage: ``python bench/setfit_trial.py DATASET [--limit N] [--labels K] [--steps S]``; one RESULT line.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from learning import load  # noqa: E402  (bench/learning.py)

from worker.evaluation.labeled import LabeledMail, rule_set_for_labels  # noqa: E402
from worker.evaluation.metrics import accuracy, macro_f1  # noqa: E402
from worker.evaluation.prepared import Prepared, prepare  # noqa: E402
from worker.evaluation.simulate import replay, reviewed_first  # noqa: E402

N = 20
BATCH = 16


def pick_labels(mails: Sequence[LabeledMail], k: int | None) -> list[LabeledMail]:
    """The mails of the first ``k`` gold labels in sorted order (all of them for ``None``)."""
    if k is None:
        return list(mails)
    keep = set(sorted({m.gold for m in mails})[:k])
    return [m for m in mails if m.gold in keep]


def in_scope_split(gold: np.ndarray, k: int, n: int) -> tuple[list[int], list[int]]:
    """simulate.py's reviewed/held-out split, restricted to mails whose gold column is a category."""
    reviewed, held = reviewed_first(gold, n)
    return [i for i in reviewed if gold[i] < k], [i for i in held if gold[i] < k]


def lr_head(
    vectors: np.ndarray, gold: np.ndarray, names: Sequence[str], train: list[int], test: list[int]
) -> dict[str, float]:
    """figures.py's reference regression on ``vectors``: held-out accuracy, macro-F1, fit seconds."""
    from sklearn.linear_model import LogisticRegression

    started = time.perf_counter()
    model = LogisticRegression(max_iter=1000).fit(vectors[train], gold[train])
    seconds = time.perf_counter() - started
    truth = [names[c] for c in gold[test]]
    pred = [names[c] for c in model.predict(vectors[test])]
    labels = [name for name in names if name in set(truth)]
    return {"accuracy": accuracy(truth, pred), "macro_f1": macro_f1(truth, pred, labels), "fit_s": seconds}


def rate(encode: Callable[[list[str]], object], texts: list[str], rounds: int = 2) -> float:
    """Texts per second of ``encode``, the best of ``rounds`` (the machine is shared)."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        encode(texts)
        best = min(best, time.perf_counter() - started)
    return len(texts) / best


def fine_tune(texts: list[str], labels: list[int], steps: int) -> tuple[object, float]:
    """setfit's embedding phase on a fresh copy of the bundled body; (the body, seconds)."""
    from datasets import Dataset
    from setfit import SetFitModel, Trainer, TrainingArguments

    from worker.scoring.backends.embedding import load_sentence_model

    body = load_sentence_model()
    settings = TrainingArguments(
        batch_size=BATCH, num_epochs=1, max_steps=steps, sampling_strategy="oversampling", seed=13,
        report_to="none", save_strategy="no", show_progress_bar=False, output_dir=tempfile.mkdtemp(),
    )  # fmt: skip
    trainer = Trainer(
        model=SetFitModel(model_body=body),
        args=settings,
        train_dataset=Dataset.from_dict({"text": texts, "label": labels}),
    )
    started = time.perf_counter()
    trainer.train_embeddings(texts, labels, args=settings)
    return body, time.perf_counter() - started


def compare(prep: Prepared, tuned: Prepared, rule_set: Any, train: list[int], test: list[int]) -> dict:
    """Accuracy, macro-F1 and fit seconds of the head and the product's learner, frozen and tuned."""
    gold = prep.gold_columns()
    figures = {"head": lr_head(prep.vectors, gold, prep.names, train, test)}
    figures["setfit"] = lr_head(tuned.vectors, gold, prep.names, train, test)
    for name, p in (("product", prep), ("product_setfit", tuned)):
        started = time.perf_counter()
        point = replay(p, rule_set, N)
        figures[name] = {"accuracy": point["accuracy"], "macro_f1": point["macro_f1"]}
        figures[name]["fit_s"] = time.perf_counter() - started  # fit() and scoring the held-out mails
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--limit", type=int, default=None, help="use N mails spread over the set")
    parser.add_argument("--labels", type=int, default=None, help="keep the first K labels (sorted)")
    parser.add_argument("--steps", type=int, default=320, help=f"fine-tuning steps of {BATCH} pairs")
    parser.add_argument("--rate-mails", type=int, default=512, help="held-out mails timed for the rate")
    args = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        import setfit  # noqa: F401
    except ImportError as e:
        sys.exit(f"setfit is not importable ({e}): install it outside the venv, see this file's docstring")
    from worker.parsing.message import parse_message
    from worker.scoring.backends.embedding import EmbeddingScorer
    from worker.scoring.backends.onnx_encoder import OnnxEncoder

    mails, rule_set = load(args.dataset.resolve(), args.limit)
    mails = pick_labels(mails, args.labels)
    if args.labels is not None and not args.dataset.is_dir():
        rule_set = rule_set_for_labels(sorted({m.gold for m in mails}), name=args.dataset.stem)
    scorer = EmbeddingScorer(runtime="onnx")
    prep = prepare(mails, scorer, scorer, rule_set, max_chars=4000)
    texts = [parse_message(m.raw, max_chars=4000).scoring_text for m in prep.mails]
    gold, k = prep.gold_columns(), len(prep.names)
    train, test = in_scope_split(gold, k, N)
    print(f"{len(mails)} mails of {args.dataset}, {k} labels; {len(train)} reviewed, {len(test)} held out")

    body, train_s = fine_tune([texts[i] for i in train], [int(gold[i]) for i in train], args.steps)
    tuned_onnx = OnnxEncoder(body, Path(tempfile.mkdtemp()), quantize=False)
    chunks = [tuned_onnx.encode(texts[i : i + 256]) for i in range(0, len(texts), 256)]
    tuned = replace(prep, vectors=np.vstack(chunks))
    figures = compare(prep, tuned, rule_set, train, test)
    sample = [texts[i] for i in test[: args.rate_mails]]
    rates = {
        "onnx_mails_per_s": rate(scorer.encode, sample),
        "tuned_onnx_mails_per_s": rate(tuned_onnx.encode, sample),
        "tuned_torch_mails_per_s": rate(lambda t: body.encode(t, normalize_embeddings=True), sample),  # type: ignore[attr-defined]
    }
    moved = float(np.mean(np.sum(prep.vectors * tuned.vectors, axis=1)))
    print(
        f"setfit: {args.steps} steps x {BATCH} pairs in {train_s:.0f}s; mean cos(frozen, tuned) {moved:.3f}"
    )
    for name, f in figures.items():
        print(f"{name:15s} accuracy {f['accuracy']:.4f}  macro-F1 {f['macro_f1']:.4f}  fit {f['fit_s']:.1f}s")
    print("mails/s: " + "  ".join(f"{name} {value:.1f}" for name, value in rates.items()))
    result = {f"{name}_{key}": f[key] for name, f in figures.items() for key in ("accuracy", "macro_f1")}
    result["gain"] = figures["setfit"]["accuracy"] - figures["head"]["accuracy"]
    result.update(train_s=train_s, s_per_step=train_s / args.steps, **rates)
    fields = " ".join(f"{key}={value:.4f}" for key, value in result.items())
    print(f"RESULT {fields} steps={args.steps} reviewed={len(train)} evaluated={len(test)} labels={k}")


if __name__ == "__main__":
    main()
