"""transformers backend: the official formula, and shared-prefix KV reuse equal to per-pair scoring."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.worker.scoring.conftest import INSTRUCTION, LABELS, MAILS
from worker.scoring.backends.transformers import TransformersRerankerScorer
from worker.scoring.base import Scorer


def official_scores(model, tokenizer, pairs, instruction):  # type: ignore[no-untyped-def]
    """The model card's recipe: logits at the last position, log_softmax over (no, yes), exp; pair by pair."""
    import torch

    prefix = (
        "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the "
        'Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n<|im_start|>user\n'
    )
    suffix = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
    prefix_tokens = tokenizer.encode(prefix, add_special_tokens=False)
    suffix_tokens = tokenizer.encode(suffix, add_special_tokens=False)
    token_true_id = tokenizer.convert_tokens_to_ids("yes")
    token_false_id = tokenizer.convert_tokens_to_ids("no")
    out = []
    with torch.no_grad():
        for query, doc in pairs:
            text = f"<Instruct>: {instruction}\n<Query>: {query}\n<Document>: {doc}"
            ids = prefix_tokens + tokenizer(text, add_special_tokens=False)["input_ids"] + suffix_tokens
            batch_scores = model(input_ids=torch.tensor([ids]), logits_to_keep=1).logits[:, -1, :]
            two = torch.stack([batch_scores[:, token_false_id], batch_scores[:, token_true_id]], dim=1)
            out.append(torch.nn.functional.log_softmax(two.float(), dim=1)[:, 1].exp().item())
    return np.array(out, dtype=np.float32)


@pytest.fixture(scope="module")
def scorer(tiny_qwen: Path) -> TransformersRerankerScorer:
    # Small batches so the tests cross batch and chunk boundaries.
    return TransformersRerankerScorer(str(tiny_qwen), max_length=512, mails_per_batch=2, pairs_per_batch=3)


def test_is_a_scorer(scorer: TransformersRerankerScorer) -> None:
    assert isinstance(scorer, Scorer)
    assert scorer.score([], LABELS).shape == (0, len(LABELS))
    assert scorer.score(MAILS, []).shape == (len(MAILS), 0)


def test_equals_the_official_recipe(scorer: TransformersRerankerScorer) -> None:
    got = scorer.score(MAILS, LABELS, instruction=INSTRUCTION)
    pairs = [(m, label) for m in MAILS for label in LABELS]
    want = official_scores(scorer.model, scorer.prompts.tokenizer, pairs, INSTRUCTION).reshape(got.shape)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert got.std() > 1e-3  # random weights, but not a constant


def test_shared_prefix_equals_naive_per_pair(scorer: TransformersRerankerScorer) -> None:
    mails = [*MAILS, "long mail line\n" * 60]  # mixed lengths: left padding inside a batch
    shared = scorer.score(mails, LABELS, instruction=INSTRUCTION)
    scorer.shared_prefix = False
    try:
        naive = scorer.score(mails, LABELS, instruction=INSTRUCTION)
    finally:
        scorer.shared_prefix = True
    np.testing.assert_allclose(shared, naive, atol=1e-4)


def test_truncated_mail_scores_in_both_modes(tiny_qwen: Path) -> None:
    small = TransformersRerankerScorer(str(tiny_qwen), max_length=96)
    mails = ["word " * 500, "short"]
    shared = small.score(mails, LABELS)
    small.shared_prefix = False
    np.testing.assert_allclose(shared, small.score(mails, LABELS), atol=1e-4)


def test_from_settings(tiny_qwen: Path) -> None:
    from worker.core.settings import Settings

    settings = Settings(backend="transformers", model=str(tiny_qwen), max_model_len=256)  # type: ignore[call-arg]
    scorer = TransformersRerankerScorer.from_settings(settings)
    assert scorer.model_id == f"transformers:{tiny_qwen}" and scorer.prompts.max_length == 256
