"""Webhook delivery: the versioned JSON payload, its HMAC signature and the ``webhook`` executor.

One POST per attempt, on this process's pooled keep-alive client (connectors.webhook.client). The
body is canonical JSON rebuilt from the stored decision, so a retry sends the same bytes unless a
reviewer changed the decision meanwhile; a fresh timestamp and signatures (mailroute's and Standard
Webhooks', connectors.webhook.signing) go in the headers, and ``Idempotency-Key`` (the action's key)
stays the same across retries and redeliveries so a receiver can drop duplicates. The answer maps
onto run_action's signals (connectors.webhook.answer). A batch (``apply_many``) reads its documents
in two queries and POSTs concurrently (connectors.webhook.batch). After a reviewer's correction, an
endpoint that got the original receives a ``decision.corrected`` document (with ``wanted: false``
when its category no longer applies) — so a ticketing system can re-route.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from connectors.webhook.answer import answer
from connectors.webhook.batch import Request, post_all
from connectors.webhook.client import PostError, Reply, http_client
from connectors.webhook.endpoints import Endpoint, configured_endpoints
from connectors.webhook.origin import InvalidTarget
from connectors.webhook.payload import SCHEMA, build_payload, build_payloads, delivered_before, encode
from connectors.webhook.signing import sign, standard_headers
from worker.core.errors import ConfigError, ConnectorError, InputError, TransientError
from worker.core.settings import get_settings
from worker.db.models import Action, ActionStatus, Message
from worker.outbox.registry import Applied, NotApplicable, register

SIGNATURE_HEADER = "X-Mailroute-Signature"
TIMESTAMP_HEADER = "X-Mailroute-Timestamp"
USER_AGENT = "mailroute-webhook/1"
REDELIVERABLE = (ActionStatus.DEAD, ActionStatus.FAILED, ActionStatus.DONE)

log = logging.getLogger(__name__)
BatchResults = dict[int, BaseException | Applied | None]


class WebhookExecutor:
    """Registered for ``kind: webhook``; ``clock`` and ``post`` are seams for tests."""

    def __init__(
        self, *, clock: Callable[[], float] = time.time, post: Callable[..., Reply] | None = None
    ) -> None:
        self.clock = clock
        self.post = post or self._post

    @staticmethod
    def _post(url: str, *, content: bytes, headers: dict[str, str], timeout: float) -> Reply:
        return http_client().post(url, content=content, headers=headers, timeout=timeout)

    def request(
        self, session: Session, action: Action, message: Message, payload: dict[str, Any] | None = None
    ) -> Request:
        """The signed POST for this try (``payload``: the document when the caller built it already)."""
        if action.desired == "absent" and not delivered_before(action):
            raise NotApplicable("this webhook was never delivered: nothing to correct")
        endpoint = find_endpoint(action.target)
        if payload is None:
            payload = build_payload(session, action, message, admin_url=get_settings().admin_url)
        body = encode(payload)
        timestamp = int(self.clock())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Idempotency-Key": action.key,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(endpoint.secret, timestamp, body),
            "X-Mailroute-Schema": SCHEMA,
            "X-Mailroute-Attempt": str((action.attempts or 0) + 1),
            **standard_headers(endpoint.secret, action.key, timestamp, body),
        }
        return Request(endpoint, body, headers)

    def apply(self, session: Session, action: Action, message: Message) -> int | None:
        request = self.request(session, action, message)
        try:
            response: Reply | Exception = self.post(
                request.endpoint.url,
                content=request.body,
                headers=request.headers,
                timeout=request.endpoint.timeout_s,
            )
        except (PostError, InvalidTarget) as e:
            response = e
        return answer(action, request.endpoint, response, now=self.clock())

    def apply_many(self, session: Session, items: Sequence[tuple[Action, Message]]) -> BatchResults:
        """A batch: documents read in two queries, POSTs concurrent (connectors.webhook.batch)."""
        payloads = build_payloads(session, items, admin_url=get_settings().admin_url)
        results: BatchResults = {}
        requests: dict[int, Request] = {}
        for action, message in items:
            try:
                requests[action.id] = self.request(session, action, message, payloads[action.id])
            except (NotApplicable, ConnectorError) as e:
                results[action.id] = e
        sent = post_all(requests, self.post, limit=get_settings().webhook_concurrency)
        for action, _ in items:
            if action.id not in requests:
                continue
            response, duration_ms = sent[action.id]
            try:
                code = answer(action, requests[action.id].endpoint, response, now=self.clock())
            except (TransientError, ConnectorError) as e:
                results[action.id] = e
            else:
                results[action.id] = Applied(code, duration_ms)
        return results


def find_endpoint(name: str) -> Endpoint:
    """The configured endpoint, or ConnectorError: a typo should dead-letter visibly, not skip quietly."""
    try:
        endpoints = configured_endpoints()
    except ConfigError as e:
        raise ConnectorError(f"webhook endpoint {name!r}: {e}") from e
    if name not in endpoints:
        where = get_settings().webhooks_file or "nowhere (MAILROUTE_WEBHOOKS_FILE is unset)"
        raise ConnectorError(f"webhook endpoint {name!r} is not configured in {where}")
    return endpoints[name]


def redeliver(session: Session, action_id: int) -> list[int]:
    """Reset a dead, failed or done webhook to pending with the SAME key; returns the ids to queue.

    The caller queues them after its commit (``worker.tasks.enqueue_actions``): queued earlier, a worker
    would still read the old row. ``attempts`` restarts at 0 for a full new round of tries; the
    ActionAttempt log keeps the earlier rounds.
    """
    action = session.get(Action, action_id, with_for_update=True)
    if action is None or action.kind != "webhook":
        raise InputError(f"no webhook action with id {action_id}")
    if action.status not in REDELIVERABLE:
        raise InputError(
            f"webhook action {action_id} is {action.status}; only dead, failed or done ones are redelivered"
        )
    action.status, action.attempts = ActionStatus.PENDING, 0
    action.last_error = action.next_attempt_at = action.done_at = None
    session.flush()
    log.info("webhook action %s reset for redelivery", action_id, extra={"message_id": action.message_id})
    return [action.id]


register("webhook", WebhookExecutor())
