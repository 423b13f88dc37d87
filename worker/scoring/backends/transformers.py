"""Qwen3-Reranker in-process with transformers (CPU or GPU), all labels of a mail for about the cost of one.

Shared-prefix scoring: a batch of mails' prefixes (template + instruction + mail) runs once with its KV
cache kept; every (mail, label) pair then runs only its label suffix against that cache. Scores are the
official p(yes) = sigmoid(logit_yes - logit_no), computed in fp32 from the last hidden state and the two
lm_head rows (never the full 150k-vocab projection). ``shared_prefix=False`` runs the official per-pair
left-padded batches: the reference the shared path is tested against, and the bench's baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from worker.core.errors import BackendError
from worker.scoring.base import ScoreMatrix, check_matrix, empty_matrix
from worker.scoring.qwen_prompt import PromptTokenizer, PromptTokens

if TYPE_CHECKING:
    import torch

    from worker.core.settings import Settings

DEFAULT_MODEL = "Qwen/Qwen3-Reranker-4B"


def resolve_dtype(name: str, device: str) -> torch.dtype:
    """``auto`` is bf16 on a GPU and fp32 on CPU (CPU bf16 matmuls are slow without AMX)."""
    import torch

    if name == "auto":
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    try:
        return {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}[name]
    except KeyError as e:
        raise BackendError(f"unknown dtype {name!r}: use auto, float16, bfloat16 or float32") from e


class TransformersRerankerScorer:
    """Scorer over a Qwen3-Reranker checkpoint (or any Qwen3ForCausalLM) loaded with transformers."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        device: str = "cpu",
        dtype: str = "auto",
        max_length: int = 2048,
        mails_per_batch: int = 8,
        pairs_per_batch: int = 64,
        shared_prefix: bool = True,
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(model, padding_side="left")
            self.model = AutoModelForCausalLM.from_pretrained(model, dtype=resolve_dtype(dtype, device))
        except (OSError, ValueError) as e:
            raise BackendError(f"cannot load reranker {model!r}: {e}") from e
        self.model.to(device).eval()  # type: ignore[arg-type]  # transformers' .to stub wants a model
        self.model_id = f"transformers:{model}"
        self.device = torch.device(device)
        self.prompts = PromptTokenizer(tokenizer, max_length)
        self.pad_id = int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0)
        self.mails_per_batch = mails_per_batch
        self.pairs_per_batch = pairs_per_batch
        self.shared_prefix = shared_prefix
        head = self.model.get_output_embeddings().weight
        ids = [self.prompts.true_id, self.prompts.false_id]
        # logit_yes - logit_no = h . (W_yes - W_no): one fp32 vector instead of the full lm_head.
        self._yes_minus_no = (head[ids[0]].float() - head[ids[1]].float()).detach()

    @classmethod
    def from_settings(cls, settings: Settings) -> TransformersRerankerScorer:
        return cls(
            settings.model or DEFAULT_MODEL,
            device=settings.device,
            dtype=settings.dtype,
            max_length=settings.max_model_len,
        )

    def score(
        self, mails: Sequence[str], labels: Sequence[str], *, instruction: str | None = None
    ) -> ScoreMatrix:
        if not mails or not labels:
            return empty_matrix(len(mails), len(labels))
        import torch

        suffixes = self.prompts.label_suffixes(labels)
        prompts = [self.prompts.build_with_suffixes(m, suffixes, instruction) for m in mails]
        out = empty_matrix(len(mails), len(labels))
        # Similar lengths together: less padding per batch.
        order = sorted(range(len(mails)), key=lambda i: len(prompts[i].prefix))
        with torch.inference_mode():
            for start in range(0, len(order), self.mails_per_batch):
                rows = order[start : start + self.mails_per_batch]
                batch = [prompts[i] for i in rows]
                scores = self._score_shared(batch) if self.shared_prefix else self._score_naive(batch)
                out[rows] = scores
        return check_matrix(out, len(mails), len(labels))

    def _probability(self, hidden: torch.Tensor) -> np.ndarray:
        import torch

        diff = hidden.float() @ self._yes_minus_no
        return torch.sigmoid(diff).cpu().numpy().astype(np.float32)

    def _pad(self, seqs: list[list[int]], *, left: bool) -> tuple[torch.Tensor, torch.Tensor]:
        import torch

        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for r, s in enumerate(seqs):
            sl = slice(width - len(s), width) if left else slice(0, len(s))
            ids[r, sl] = torch.tensor(s, dtype=torch.long)
            mask[r, sl] = 1
        return ids.to(self.device), mask.to(self.device)

    def _score_naive(self, batch: list[PromptTokens]) -> np.ndarray:
        """The official recipe: every pair a full prompt, left-padded, last position scored."""
        seqs = [p.pair(j) for p in batch for j in range(len(p.suffixes))]
        scores: list[np.ndarray] = []
        for start in range(0, len(seqs), self.pairs_per_batch):
            ids, mask = self._pad(seqs[start : start + self.pairs_per_batch], left=True)
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            out = self.model.model(input_ids=ids, attention_mask=mask, position_ids=positions)
            scores.append(self._probability(out.last_hidden_state[:, -1]))
        return np.concatenate(scores).reshape(len(batch), -1)

    def _score_shared(self, batch: list[PromptTokens]) -> np.ndarray:
        """Prefixes once (left-padded, KV kept), then label suffixes (right-padded) against that cache."""
        import torch
        from transformers import DynamicCache

        ids, prefix_mask = self._pad([p.prefix for p in batch], left=True)
        positions = (prefix_mask.cumsum(-1) - 1).clamp(min=0)
        out = self.model.model(
            input_ids=ids, attention_mask=prefix_mask, position_ids=positions, use_cache=True
        )
        pad = (prefix_mask == 0)[:, None, :, None]
        # Padded slots are masked out later, but a NaN there would still poison 0 * NaN: zero them.
        kv = [
            (layer.keys.masked_fill(pad, 0.0), layer.values.masked_fill(pad, 0.0))
            for layer in out.past_key_values.layers
        ]
        prefix_len = prefix_mask.sum(-1)
        n_labels = len(batch[0].suffixes)
        pairs = [(r, j) for r in range(len(batch)) for j in range(n_labels)]
        scores: list[np.ndarray] = []
        for start in range(0, len(pairs), self.pairs_per_batch):
            chunk = pairs[start : start + self.pairs_per_batch]
            rows = torch.tensor([r for r, _ in chunk], device=self.device)
            suf_ids, suf_mask = self._pad([batch[r].suffixes[j] for r, j in chunk], left=False)
            cache = DynamicCache(ddp_cache_data=[(k[rows], v[rows]) for k, v in kv])
            width = suf_ids.shape[1]
            suf_pos = prefix_len[rows, None] + torch.arange(width, device=self.device)[None, :]
            out = self.model.model(
                input_ids=suf_ids,
                attention_mask=torch.cat([prefix_mask[rows], suf_mask], dim=1),
                position_ids=suf_pos,
                past_key_values=cache,
                use_cache=True,
            )
            last = suf_mask.sum(-1) - 1
            hidden = out.last_hidden_state[torch.arange(len(chunk), device=self.device), last]
            scores.append(self._probability(hidden))
        return np.concatenate(scores).reshape(len(batch), n_labels)
