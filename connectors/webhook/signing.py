"""Webhook signatures: mailroute's own ``X-Mailroute-Signature`` and the Standard Webhooks one.

Two schemes over the same body, both HMAC-SHA256, so a receiver can use either:

* ``X-Mailroute-Signature: sha256=<hex>`` over ``"{timestamp}." + body``, keyed with the endpoint's
  secret bytes exactly as configured (unchanged since v1).
* Standard Webhooks (https://www.standardwebhooks.com): ``webhook-id`` (the delivery id),
  ``webhook-timestamp`` (Unix seconds) and ``webhook-signature: v1,<base64 HMAC>`` over
  ``"{id}.{timestamp}." + body``. The key is the base64 part of a ``whsec_…`` secret; any other secret
  is used as raw bytes, which off-the-shelf libraries accept as ``whsec_`` + base64(secret).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

WHSEC_PREFIX = "whsec_"


def sign(secret: bytes | str, timestamp: int | str, body: bytes) -> str:
    """``sha256=`` + hex HMAC over ``"{timestamp}." + body``: binding the time stops replays of old bodies."""
    key = secret.encode() if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def standard_key(secret: bytes | str) -> bytes:
    """The Standard Webhooks HMAC key: base64-decoded after ``whsec_``, else the secret's own bytes."""
    raw = secret.encode() if isinstance(secret, str) else secret
    if raw.startswith(WHSEC_PREFIX.encode()):
        encoded = raw[len(WHSEC_PREFIX) :]
        try:
            return base64.b64decode(encoded + b"=" * (-len(encoded) % 4), validate=True)
        except binascii.Error:
            raise ValueError("secret: a whsec_ secret must be base64 after the prefix") from None
    return raw


def standard_secret(secret: bytes | str) -> str:
    """The same key as a ``whsec_`` string, for receivers verifying with a Standard Webhooks library."""
    return WHSEC_PREFIX + base64.b64encode(standard_key(secret)).decode()


def standard_headers(secret: bytes | str, delivery_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` (``v1,<base64>``) for one attempt."""
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    mac = hmac.new(standard_key(secret), signed, hashlib.sha256).digest()
    return {
        "webhook-id": delivery_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": "v1," + base64.b64encode(mac).decode(),
    }
