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

from worker.core.errors import BackendError

# moved out: the forward passes the scorer inherits
from worker.scoring.backends.reranker_passes import RerankerPasses
from worker.scoring.base import ScoreMatrix, check_matrix, empty_matrix
from worker.scoring.qwen_prompt import PromptTokenizer

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


class TransformersRerankerScorer(RerankerPasses):
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
