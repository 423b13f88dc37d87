#!/usr/bin/env bash
# GPU readiness in one command (under 8 minutes on one lent GPU): the vllm backend (the transformers one where
# vLLM is not installed), random Qwen3-Reranker-4B shape, 512 mails of ~500 tokens at K = 1 and 10; prints
# mails/s, the prefix-cache hit rate (vllm) or the speed-up of sharing (transformers), FLOP-bound ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 VLLM_ENABLE_V1_MULTIPROCESSING=0
PYTHON=${PYTHON:-python3}
exec timeout 480 "$PYTHON" bench/gpu_score.py --shape 4b --mails "${MAILS:-512}" "$@"
