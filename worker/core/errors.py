"""The small exception hierarchy of mailroute.

Every error the product raises on purpose derives from :class:`MailrouteError` (defined with
:class:`ConfigError` and :class:`RuleSetError` in :mod:`rules.errors`, the bottom layer), so the CLI and the
workers can turn it into one clear line. Wrap library errors with ``raise XError(...) from e``.
"""

from __future__ import annotations

from rules.errors import ConfigError, MailrouteError, RuleSetError

__all__ = [
    "BackendError",
    "ConfigError",
    "ConnectorError",
    "InputError",
    "MailrouteError",
    "RuleSetError",
    "TransientError",
]


class BackendError(MailrouteError):
    """A scoring backend cannot be created or failed to score."""


class TransientError(MailrouteError):
    """A failure worth retrying (network, broker, a server's 5xx); tasks retry on it with backoff."""


class ConnectorError(MailrouteError):
    """A mail source or sink (IMAP, webhook receiver) refused or failed an operation."""


class InputError(MailrouteError):
    """Input from a user or a file cannot be used (missing file, unknown format)."""
