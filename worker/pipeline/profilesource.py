"""One profile's live rule set: its published version, re-read when it changes; the last good one kept."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from rules import RuleSet, parse_rule_set
from worker.core.errors import MailrouteError, RuleSetError
from worker.pipeline.rulesfile import BootstrapFile
from worker.store import rulesets

log = logging.getLogger("worker.pipeline.profiles")  # the profile source's records keep their logger


@dataclass(frozen=True)
class Versioned:
    """A profile's rule set and the published version it came from."""

    profile: str
    rule_set: RuleSet
    version: int | None


class ProfileSource(BootstrapFile):
    """The live rule set of ``profile``; the last good one kept when a new version fails to load."""

    def __init__(self, profile: str, sessions: sessionmaker[Session], *, bootstrap: Path | None = None):
        self.profile, self.sessions, self.bootstrap = profile, sessions, bootstrap
        self._lock = threading.Lock()
        self._current: Versioned | None = None
        self._tried: int | None = None  # the last version number looked at (good or broken)
        self._version_error: str | None = None  # the live version does not load
        self._file_error: str | None = None  # the bootstrap file was edited into something invalid
        self._file_seen: float | None = None  # the file's mtime when last looked at

    @property
    def error(self) -> str | None:
        """Why the profile does not route with what was last published or written, if it does not."""
        return self._file_error or self._version_error

    @property
    def version(self) -> int | None:
        return self._current.version if self._current is not None else None

    def __call__(self) -> RuleSet:
        return self.current().rule_set

    def current(self, session: Session | None = None) -> Versioned:
        """The live rule set with its version (raises only when there never was a good one).

        With ``session`` (the caller's transaction, e.g. a classify batch's) the version check is
        one query on it, no connection of its own; a bootstrap always commits in its own session.
        """
        with self._lock:
            try:
                if session is not None:
                    return self._refresh(session)
                with self.sessions() as own:
                    return self._refresh(own)
            except (SQLAlchemyError, MailrouteError) as e:  # MailrouteError: RuleSetError, UnknownVersion
                return self._fallback(RuleSetError(f"profile {self.profile}: {_one_line(e)}"))

    def _refresh(self, session: Session) -> Versioned:
        if self.bootstrap is not None and rulesets.head(session, self.profile) is not None:
            self._follow_file(session)
        number, text = rulesets.head(session, self.profile), None
        if number is None:  # (the caller's transaction may not see the bootstrap's commit: keep its text)
            with self.sessions() as own:
                number, text = self._bootstrap(own)
        if number == self._tried and self._current is not None:
            return self._current
        self._tried = number
        if text is None:
            text = rulesets.get_version(session, self.profile, number).yaml
        try:
            rule_set = parse_rule_set(text, source=f"{self.profile} v{number}")
        except RuleSetError as e:
            return self._fallback(e)
        if self._version_error is not None:
            log.warning("profile %s: version %s loads; routing with it", self.profile, number)
        self._current, self._version_error = Versioned(self.profile, rule_set, number), None
        return self._current

    def _fallback(self, error: RuleSetError) -> Versioned:
        if self._current is None:
            raise error
        if self._version_error != str(error):
            log.error("profile %s: %s; still routing with version %s", self.profile, error, self.version)
        self._version_error = str(error)
        return self._current


def _one_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__
