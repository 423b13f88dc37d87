"""Review-queue alerts to a webhook endpoint: event ``review.queue_alert``, signed like every delivery.

Contract: :func:`alert_review_queues` (run by the poller's periodic sweep) finds the profiles whose
review queue is over its limits (``worker.review.queue``), POSTs one document per profile to
``MAILROUTE_REVIEW_ALERT_ENDPOINT`` with the same headers and HMAC signature as mail webhooks, and
records each alert sent as an audit event (``review.alert``), which also spaces alerts out. A failed
POST is logged and tried again at the next sweep; it never stops the caller.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from connectors.webhook.client import PostError, Reply, http_client
from connectors.webhook.delivery import SIGNATURE_HEADER, TIMESTAMP_HEADER, USER_AGENT, find_endpoint, sign
from connectors.webhook.origin import InvalidTarget
from connectors.webhook.payload import SCHEMA, encode
from worker.core.errors import MailrouteError
from worker.core.settings import Settings
from worker.db import audit
from worker.review.queue import ALERT_ACTION, QueueState, due, review_queues

EVENT = "review.queue_alert"
log = logging.getLogger(__name__)


def document(state: QueueState, settings: Settings) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "event": EVENT,
        "delivery_id": uuid.uuid4().hex,
        "profile": state.profile,
        "pending": state.pending,
        "oldest_wait_s": round(state.oldest_wait_s),
        "reasons": state.reasons,
        "limits": {"queue": settings.review_alert_queue, "wait_s": settings.review_alert_wait_s},
        "links": {"admin": settings.admin_url.rstrip("/") + "/review"},
    }


def send(endpoint_name: str, payload: dict[str, Any], *, post: Callable[..., Reply] | None = None) -> int:
    """POST ``payload`` signed to the endpoint; its HTTP status (raises MailrouteError on failure)."""
    endpoint = find_endpoint(endpoint_name)
    body, stamp = encode(payload), int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Idempotency-Key": payload["delivery_id"],
        TIMESTAMP_HEADER: str(stamp),
        SIGNATURE_HEADER: sign(endpoint.secret, stamp, body),
        "X-Mailroute-Schema": SCHEMA,
    }
    try:
        response = (post or http_client().post)(
            endpoint.url, content=body, headers=headers, timeout=endpoint.timeout_s
        )
    except (PostError, InvalidTarget) as e:
        raise MailrouteError(f"webhook endpoint {endpoint.name!r}: {type(e).__name__}") from None
    if not 200 <= response.status_code < 300:
        raise MailrouteError(f"webhook endpoint {endpoint.name!r}: HTTP {response.status_code}")
    return response.status_code


def alert_review_queues(session: Session, settings: Settings, *, now: datetime | None = None) -> list[str]:
    """Alert the endpoint of every over-limit queue not alerted lately; returns the profiles alerted."""
    if not settings.review_alert_endpoint:
        return []
    now = now or datetime.now(UTC)
    states = review_queues(
        session, max_size=settings.review_alert_queue, max_wait_s=settings.review_alert_wait_s, now=now
    )
    sent = []
    for state in due(session, states, every_s=settings.review_alert_every_s, now=now):
        try:
            send(settings.review_alert_endpoint, document(state, settings))
        except MailrouteError as e:
            log.warning("review alert for profile %s not sent: %s", state.profile, e)
            continue
        after = {
            "pending": state.pending,
            "oldest_wait_s": round(state.oldest_wait_s),
            "reasons": state.reasons,
        }
        audit.record(
            session,
            actor="mailroute",
            action=ALERT_ACTION,
            subject=f"profile:{state.profile}",
            after=after,
            at=now,
        )
        sent.append(state.profile)
    session.flush()
    return sent
