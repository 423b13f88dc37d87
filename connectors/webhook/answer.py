"""What a receiver's answer means for the outbox: its 2xx code, or a retry (TransientError) or dead letter.

2xx is done; timeouts, connection errors, 429 and 5xx are retried (a Retry-After sets the row's
``next_attempt_at``); anything else — a 4xx, a 3xx (redirects are never followed), an invalid URL —
is dead at once. Error texts name the endpoint, never its URL or secret.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from connectors.webhook.client import PostError, PostTimeout, Reply
from connectors.webhook.endpoints import Endpoint
from connectors.webhook.origin import InvalidTarget
from worker.core.errors import ConnectorError, MailrouteError, TransientError
from worker.db.models import Action


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None when absent/bad."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def is_retryable(status_code: int) -> bool:
    """429 and 5xx may succeed later; other 4xx (and 3xx, never followed) will not."""
    return status_code == 429 or status_code >= 500


def answer(action: Action, endpoint: Endpoint, response: Reply | Exception, *, now: float) -> int:
    """The receiver's answer as run_action's signals: its 2xx code, or TransientError/ConnectorError."""
    action.next_attempt_at = None  # set below only when the receiver asks for a pause
    where = f"webhook endpoint {endpoint.name!r}"
    if isinstance(response, InvalidTarget):
        raise ConnectorError(redact(f"{where}: invalid URL: {response}", endpoint)) from None
    if isinstance(response, PostTimeout):
        raise TransientError(f"{where}: timed out after {endpoint.timeout_s:g}s") from response
    if isinstance(response, PostError):
        raise TransientError(redact(f"{where}: {response}", endpoint)) from response
    if isinstance(response, Exception):  # not the network: a bug, raised as it was
        raise response
    code = response.status_code
    if 200 <= code < 300:
        return code
    detail = redact(" ".join(response.text[:200].split()), endpoint)
    problem = f"{where}: HTTP {code}" + (f": {detail}" if detail else "")
    if is_retryable(code):
        when = datetime.fromtimestamp(now, UTC)
        wait = parse_retry_after(response.headers.get("Retry-After"), now=when)
        if wait is not None:
            action.next_attempt_at = when + timedelta(seconds=wait)
            problem += f" (Retry-After {wait:g}s)"
        raise with_status(TransientError(problem), code)
    raise with_status(ConnectorError(problem + " (not retried)"), code)


def redact(text: str, endpoint: Endpoint) -> str:
    """Belt and braces: a library message or a receiver's echo must not carry the secret or URL out."""
    secret = endpoint.secret.decode(errors="replace")
    return text.replace(secret, "***").replace(endpoint.url, f"<{endpoint.name}>")


def with_status(error: MailrouteError, code: int) -> MailrouteError:
    """Attach the HTTP status to an error so the attempt log records it."""
    error.status_code = code  # type: ignore[attr-defined]
    return error
