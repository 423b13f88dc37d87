"""The ONNX Runtime embedding runtime: exported locally, the same embeddings as sentence-transformers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from worker.scoring.backends.embedding import EmbeddingScorer

MAILS = [
    "Hi, the server is down again, please call me.",
    "Minutes of Thursday's meeting attached. " * 40,  # long: truncated at the model's max length
    "short",
]
LABELS = ["an outage\nsomething broke", "a meeting"]


@pytest.fixture(scope="module")
def torch_scorer() -> EmbeddingScorer:
    return EmbeddingScorer(runtime="torch")


@pytest.mark.slow
def test_onnx_embeddings_equal_torch_and_the_export_is_reused(
    torch_scorer: EmbeddingScorer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILROUTE_ONNX_CACHE", str(tmp_path))
    onnx = EmbeddingScorer(runtime="onnx")
    np.testing.assert_allclose(onnx.encode(MAILS), torch_scorer.encode(MAILS), atol=1e-5)
    np.testing.assert_allclose(onnx.score(MAILS, LABELS), torch_scorer.score(MAILS, LABELS), atol=1e-4)
    assert onnx.model_id == torch_scorer.model_id  # the same numbers: scores are shared
    [export] = tmp_path.glob("*/model.onnx")
    stamp = export.stat().st_mtime_ns
    EmbeddingScorer(runtime="onnx")
    assert export.stat().st_mtime_ns == stamp  # loaded, not exported again


@pytest.mark.slow
def test_int8_is_close_and_keeps_its_scores_apart(
    torch_scorer: EmbeddingScorer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILROUTE_ONNX_CACHE", str(tmp_path))
    int8 = EmbeddingScorer(runtime="onnx-int8")
    cosines = (int8.encode(MAILS) * torch_scorer.encode(MAILS)).sum(axis=1)
    assert cosines.min() > 0.8
    assert int8.model_id != torch_scorer.model_id


def test_an_unwritable_export_cache_falls_back_to_torch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MAILROUTE_ONNX_CACHE", str(blocker))
    scorer = EmbeddingScorer(runtime="onnx-int8")
    assert scorer.onnx is None and scorer.model_id.endswith("@bundled")
    assert "using torch" in caplog.text
    assert scorer.score(MAILS, LABELS).shape == (3, 2)
