"""The forward passes of :class:`~worker.scoring.backends.transformers.TransformersRerankerScorer`.

:meth:`RerankerPasses._score_shared` runs a batch of mails' prefixes once with their KV cache kept,
then every (mail, label) suffix against that cache; :meth:`RerankerPasses._score_naive` is the
official per-pair recipe (left-padded full prompts), the reference the shared path is tested against.
Both score p(yes) = sigmoid(h . (W_yes - W_no)) in fp32 from the last hidden state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from worker.scoring.qwen_prompt import PromptTokens

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel


class RerankerPasses:
    """The batched passes of a loaded reranker (its model, device, padding and the yes-no head row)."""

    model: PreTrainedModel
    device: torch.device
    pad_id: int
    pairs_per_batch: int
    _yes_minus_no: torch.Tensor

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
