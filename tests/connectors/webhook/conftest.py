"""The webhook tests' shared fixture: an endpoints file and settings pointing at it."""

from tests.connectors.webhook.test_delivery import configure  # noqa: F401 - a fixture for every module here
