"""Live rule sets per routing profile, read from the published versions in the database.

:class:`ProfileSource` (:mod:`worker.pipeline.profilesource`) is a
:class:`~worker.pipeline.rulesource.RuleSetSource` for one profile: ``__call__() -> RuleSet`` and
``.error``, plus ``.version`` (the published version it routes with) and :meth:`ProfileSource.current`
(rule set and version together). Each call checks the profile's live version number — one indexed
``max()`` — and parses the YAML only when it changed, so a version published from the CLI or the admin
routes the next batch, with no restart. A version that fails to load (or a database that does not
answer) keeps the last good one routing, with the error kept. :class:`ProfileSources` holds one per
profile, made on first use.

The bootstrap rules file (version 1 of a profile, and its edits published as new versions) is
:mod:`worker.pipeline.rulesfile`; the healthcheck of every profile, :mod:`worker.pipeline.profilehealth`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from worker.db.models import DEFAULT_PROFILE

# re-exported (moved out, still imported from here): ProfileHealth, check_profiles, ProfileSource, Versioned,
# FILE_AUTHOR
from worker.pipeline.profilehealth import ProfileHealth as ProfileHealth
from worker.pipeline.profilehealth import check_profiles as check_profiles
from worker.pipeline.profilesource import ProfileSource as ProfileSource
from worker.pipeline.profilesource import Versioned as Versioned
from worker.pipeline.rulesfile import FILE_AUTHOR as FILE_AUTHOR


class ProfileSources:
    """Every profile's source, made on first use; the default profile bootstraps from ``rules_path``."""

    def __init__(
        self, sessions: sessionmaker[Session], *, rules_path: Path | None, bootstraps: Mapping[str, Path] = {}
    ):
        self.sessions = sessions
        self.bootstraps = {**({DEFAULT_PROFILE: rules_path} if rules_path is not None else {}), **bootstraps}
        self._sources: dict[str, ProfileSource] = {}
        self._lock = threading.Lock()

    def source(self, profile: str) -> ProfileSource:
        with self._lock:
            found = self._sources.get(profile)
            if found is None:
                bootstrap = self.bootstraps.get(profile)
                found = self._sources[profile] = ProfileSource(profile, self.sessions, bootstrap=bootstrap)
            return found

    def __call__(self, profile: str, session: Session | None = None) -> Versioned:
        return self.source(profile).current(session)

    def errors(self) -> dict[str, str]:
        """The profiles not routing with their live version, and why."""
        with self._lock:
            return {name: s.error for name, s in self._sources.items() if s.error is not None}


class ProfileResolver(Protocol):
    """What routing per profile needs: a profile's live rule set (checked on ``session`` if given)."""

    def __call__(self, profile: str, session: Session | None = None) -> Versioned: ...
