"""Standard Webhooks signatures, checked with the off-the-shelf ``standardwebhooks`` library."""

from __future__ import annotations

import base64
import json

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from connectors.webhook.endpoints import Endpoint
from connectors.webhook.signing import standard_headers, standard_key, standard_secret
from tests.connectors.receiver import Reply, receiver
from tests.connectors.webhook.test_delivery import SECRET, Configure, attempt, make_webhook_action

WHSEC = "whsec_" + base64.b64encode(b"sixteen byte key").decode()


@pytest.mark.parametrize("secret", [WHSEC, SECRET], ids=["whsec", "plain"])
def test_delivery_verifies_with_the_standardwebhooks_library(
    configure: Configure, sqlite_url: str, secret: str
) -> None:
    with receiver(Reply(200)) as server:
        configure(hook={"url": server.url, "secret": secret})
        action_id = make_webhook_action(sqlite_url)
        assert attempt(sqlite_url, action_id).status == "done"
    [request] = server.requests
    verifier = Webhook(secret if secret.startswith("whsec_") else standard_secret(secret))
    payload = verifier.verify(request.body, request.headers)
    assert payload == json.loads(request.body)
    assert request.headers["webhook-id"] == request.headers["idempotency-key"] == payload["delivery_id"]
    assert request.headers["webhook-timestamp"] == request.headers["x-mailroute-timestamp"]
    with pytest.raises(WebhookVerificationError):
        verifier.verify(request.body + b" ", request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(standard_secret(b"another key")).verify(request.body, request.headers)


def test_whsec_key_is_the_base64_after_the_prefix() -> None:
    assert standard_key(WHSEC) == b"sixteen byte key"
    assert standard_key("plain secret") == b"plain secret"
    assert standard_secret(WHSEC) == WHSEC
    headers = standard_headers(WHSEC, "msg_1", 1700000000, b'{"a":1}')
    assert headers["webhook-signature"].startswith("v1,")


def test_a_whsec_secret_that_is_not_base64_fails_at_load() -> None:
    with pytest.raises(ValueError, match="base64 after the prefix"):
        Endpoint(name="x", url="https://x.example/hook", secret=b"whsec_not*base64!")
