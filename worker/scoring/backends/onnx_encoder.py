"""ONNX Runtime encoder for the bundled all-MiniLM-L6-v2: the same embeddings, faster on a CPU.

The transformer is exported locally from the bundled weights with ``torch.onnx.export`` (nothing is
downloaded) into ``cache_dir`` the first time, and optionally quantized to int8 weights
(``onnxruntime.quantization.quantize_dynamic``); later loads reuse the files. Encoding matches
sentence-transformers: the model's tokenizer, truncation at its ``max_seq_length``, mean pooling over
the attention mask, L2 normalisation. Batches are formed from length-sorted texts, each padded only to
its own longest member, so little compute goes to padding.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from worker.core.errors import BackendError

INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def onnx_cache_dir(model_path: Path) -> Path:
    """Where the export of ``model_path`` lives: per model folder, under MAILROUTE_ONNX_CACHE or ~/.cache."""
    import hashlib

    root = Path(os.environ.get("MAILROUTE_ONNX_CACHE") or Path.home() / ".cache" / "mailroute" / "onnx")
    weights = sorted(model_path.glob("*.safetensors")) + sorted(model_path.glob("*.bin"))
    stamp = f"{model_path.resolve()}|" + "|".join(f"{w.name}:{w.stat().st_size}" for w in weights)
    return root / hashlib.sha256(stamp.encode()).hexdigest()[:16]


def export_onnx(model: Any, out: Path, *, quantize: bool) -> Path:
    """Write the sentence model's transformer as ONNX (and its int8 twin); returns the file to load."""
    import torch

    fp32 = out / "model.onnx"
    if not fp32.exists():
        out.mkdir(parents=True, exist_ok=True)
        transformer = hidden_state_module(model[0].auto_model.eval())
        sample = model.tokenizer(["a sample sentence"], return_tensors="pt")
        tmp = out / f"model.{os.getpid()}.onnx"
        with torch.no_grad():
            torch.onnx.export(
                transformer,
                tuple(sample[name] for name in INPUTS),
                str(tmp),
                input_names=list(INPUTS),
                output_names=["last_hidden_state"],
                dynamic_axes={name: {0: "batch", 1: "tokens"} for name in [*INPUTS, "last_hidden_state"]},
                opset_version=17,
                dynamo=False,
            )
        tmp.replace(fp32)  # atomic: a concurrent worker never loads a half-written file
    if not quantize:
        return fp32
    int8 = out / "model.int8.onnx"
    if not int8.exists():
        from onnxruntime.quantization import QuantType, quantize_dynamic

        tmp = out / f"model.int8.{os.getpid()}.onnx"
        quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8)
        tmp.replace(int8)
    return int8


def hidden_state_module(transformer: Any) -> Any:
    """The transformer called with keyword inputs, returning only ``last_hidden_state``."""
    import torch

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = transformer

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    return Hidden()


class OnnxEncoder:
    """``encode(texts) -> unit vectors`` on ONNX Runtime; tokenizer and pooling as sentence-transformers."""

    def __init__(self, model: Any, cache_dir: Path, *, quantize: bool, threads: int | None = None) -> None:
        try:
            import onnxruntime as ort
        except ImportError as e:
            raise BackendError("embedding_runtime onnx needs the package onnxruntime") from e
        path = export_onnx(model, cache_dir, quantize=quantize)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or int(os.environ.get("OMP_NUM_THREADS", "0") or 0)
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = model.tokenizer
        self.max_length = int(model.max_seq_length)
        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dim = int(dimension())

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encoded = self.tokenizer(list(texts), truncation=True, max_length=self.max_length)["input_ids"]
        order = np.argsort([len(ids) for ids in encoded], kind="stable")
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            width = max(len(encoded[i]) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for j, i in enumerate(rows):
                ids[j, : len(encoded[i])] = encoded[i]
                mask[j, : len(encoded[i])] = 1
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self.session.run(None, feeds)[0]
            summed = (hidden * mask[..., None]).sum(axis=1)
            pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
            out[rows] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out
