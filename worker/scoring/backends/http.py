"""Qwen3-Reranker on a remote ``vllm serve <model> --runner pooling --hf-overrides …`` server.

vLLM's ``/score`` and ``/v1/rerank`` score ``text_1 + text_2`` (no separator for LLM rerankers), so we
send the official template already split where the mail ends: ``text_1`` = system prompt + instruction
+ mail, ``text_2`` = label + closing suffix. With ``--enable-prefix-caching`` on the server the mail's
tokens are then shared by all its labels there too. A server tokenizes on its side, so a mail's literal
``<|…|>`` markers are defused here (``<|`` -> ``< |``) rather than by ``split_special_tokens``, and
the mail is cut by characters (``max_mail_chars``): the server could only truncate the whole prompt.

Failures: connection errors, timeouts and 5xx are retried with exponential backoff, then raised as
:class:`TransientError` (the task retries later); a 4xx is our bug or a wrong model and raises
:class:`BackendError` at once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import httpx

from worker.core.errors import BackendError, TransientError
from worker.scoring.base import ScoreMatrix, check_matrix, empty_matrix
from worker.scoring.qwen_prompt import PREFIX, SUFFIX, document_segment, query_segment

if TYPE_CHECKING:
    from worker.core.settings import Settings


def defuse_special_tokens(text: str) -> str:
    """Break ``<|im_end|>``-style markers so a server-side tokenizer reads them as plain text."""
    return text.replace("<|", "< |")


class HttpRerankerScorer:
    """Scorer over a remote vLLM pooling server; pairs are batched ``pairs_per_request`` at a time."""

    def __init__(
        self,
        base_url: str,
        *,
        model: str | None = None,
        api: Literal["score", "rerank"] = "score",
        timeout_s: float = 30.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        pairs_per_request: int = 64,
        max_mail_chars: int | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        if api not in ("score", "rerank"):
            raise BackendError(f"unknown http scoring api {api!r}: use score or rerank")
        self.base_url = base_url.rstrip("/")
        self.api = api
        self.retries = retries
        self.backoff_s = backoff_s
        self.pairs_per_request = max(1, pairs_per_request)
        self.max_mail_chars = max_mail_chars
        self.client = client or httpx.Client(timeout=httpx.Timeout(timeout_s))
        self.model_id = model or self._served_model()

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpRerankerScorer:
        if not settings.http_url:
            raise BackendError("backend http needs MAILROUTE_HTTP_URL (base URL of `vllm serve`)")
        return cls(
            settings.http_url,
            model=settings.model,
            timeout_s=settings.http_timeout_s,
            max_mail_chars=settings.max_chars,
        )

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        url = self.base_url + path
        for attempt in range(self.retries + 1):
            try:
                resp = self.client.request(method, url, json=body)
            except httpx.TransportError as e:  # connect, read, timeouts
                error: Exception = e
            else:
                if resp.status_code < 400:
                    return resp.json()
                if resp.status_code < 500:
                    raise BackendError(f"{method} {url}: HTTP {resp.status_code}: {resp.text[:300]}")
                error = httpx.HTTPStatusError(f"HTTP {resp.status_code}", request=resp.request, response=resp)
            if attempt < self.retries:
                time.sleep(self.backoff_s * 2**attempt)
        raise TransientError(f"{method} {url} failed after {self.retries + 1} tries: {error}") from error

    def _served_model(self) -> str:
        data = self._request("GET", "/v1/models").get("data") or []
        if not data:
            raise BackendError(f"{self.base_url} serves no model")
        return str(data[0]["id"])

    def score(
        self, mails: Sequence[str], labels: Sequence[str], *, instruction: str | None = None
    ) -> ScoreMatrix:
        n, k = len(mails), len(labels)
        out = empty_matrix(n, k)
        if not n or not k:
            return out
        docs = [document_segment(label) + SUFFIX for label in labels]
        queries = [PREFIX + query_segment(instruction, self._prepare(mail)) for mail in mails]
        if self.api == "rerank":  # one query per request: batch a mail's labels
            for i, query in enumerate(queries):
                for start in range(0, k, self.pairs_per_request):
                    docs_chunk = docs[start : start + self.pairs_per_request]
                    out[i, start : start + len(docs_chunk)] = self._rerank(query, docs_chunk)
            return check_matrix(out, n, k)
        pairs = [(i, j) for i in range(n) for j in range(k)]  # /score takes N-to-N: batch across mails
        for start in range(0, len(pairs), self.pairs_per_request):
            chunk = pairs[start : start + self.pairs_per_request]
            scores = self._score([queries[i] for i, _ in chunk], [docs[j] for _, j in chunk])
            for (i, j), value in zip(chunk, scores, strict=True):
                out[i, j] = value
        return check_matrix(out, n, k)

    def _prepare(self, mail: str) -> str:
        mail = defuse_special_tokens(mail)
        return mail[: self.max_mail_chars] if self.max_mail_chars else mail

    def _score(self, queries: list[str], docs: list[str]) -> list[float]:
        body = {"model": self.model_id, "text_1": queries, "text_2": docs}
        return self._by_index(self._request("POST", "/score", body)["data"], "score", len(docs))

    def _rerank(self, query: str, docs: list[str]) -> list[float]:
        body = {"model": self.model_id, "query": query, "documents": docs, "top_n": len(docs)}
        return self._by_index(
            self._request("POST", "/v1/rerank", body)["results"], "relevance_score", len(docs)
        )

    @staticmethod
    def _by_index(rows: list[dict[str, Any]], key: str, size: int) -> list[float]:
        """Responses carry each score's input index (rerank sorts by score): put them back in order."""
        scores = [0.0] * size
        for row in rows:
            scores[int(row["index"])] = float(row[key])
        return scores
