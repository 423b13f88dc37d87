"""The root of mailroute's exception hierarchy, at the bottom of the import graph.

``rules`` is the lowest layer (it imports nothing of ``worker``, ``connectors`` or ``admin``), so the
classes every layer needs to raise or catch live here and :mod:`worker.core.errors` re-exports them
beside the rest of the hierarchy. Everything the product raises on purpose derives from
:class:`MailrouteError`, so the CLI and the workers can turn it into one clear line.
"""

from __future__ import annotations


class MailrouteError(Exception):
    """Base class: an expected failure with a message fit for one line of output."""


class ConfigError(MailrouteError):
    """A setting is missing, malformed or contradicts another."""


class RuleSetError(ConfigError):
    """A rule-set file is invalid; the message names the file, line and key."""
