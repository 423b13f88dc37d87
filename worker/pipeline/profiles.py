"""Live rule sets per routing profile, read from the published versions in the database.

:class:`ProfileSource` is a :class:`~worker.pipeline.rulesource.RuleSetSource` for one profile:
``__call__() -> RuleSet`` and ``.error``, plus ``.version`` (the published version it routes with) and
:meth:`ProfileSource.current` (rule set and version together). Each call checks the profile's live
version number — one indexed ``max()`` — and parses the YAML only when it changed, so a version
published from the CLI or the admin routes the next batch, with no restart. A version that fails to
load (or a database that does not answer) keeps the last good one routing, with the error kept.

Bootstrap and the rules file: a profile with no published version and a bootstrap file (the default
profile's is ``MAILROUTE_RULES_PATH``) records that file as version 1 on first use. The file stays a
way to publish: when its content changes to a valid rule set never published from the file, that
content becomes the next version (author ``file``) — so an edit of the rules file still goes live
without a restart, and a version published from the admin or ``mailroute rules push`` is not undone by
a worker that merely starts. An invalid edit never becomes a version: the last good one keeps
routing and the file's error is kept in ``.error`` (admin banner, metric, healthcheck).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from rules import RuleSet, parse_rule_set
from worker.core.errors import MailrouteError, RuleSetError
from worker.db.models import DEFAULT_PROFILE
from worker.store import rulesets

log = logging.getLogger(__name__)
FILE_AUTHOR = "file"  # the author of versions published from the bootstrap file


@dataclass(frozen=True)
class Versioned:
    """A profile's rule set and the published version it came from."""

    profile: str
    rule_set: RuleSet
    version: int | None


class ProfileSource:
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

    def _follow_file(self, session: Session) -> None:
        """Publish the bootstrap file's content when it changed to a valid, never-published rule set."""
        assert self.bootstrap is not None
        try:
            mtime = self.bootstrap.stat().st_mtime
        except OSError:
            return  # a file gone (or a deploy without it): the published versions route
        if mtime == self._file_seen:
            return
        self._file_seen = mtime
        try:
            text = self.bootstrap.read_text()
            rule_set = parse_rule_set(text, source=str(self.bootstrap))
        except (OSError, UnicodeDecodeError, RuleSetError) as e:
            error = str(e) if isinstance(e, RuleSetError) else f"{self.bootstrap}: cannot read: {e}"
            if self._file_error != error:
                log.error(
                    "rules file %s is invalid; still routing with the last good one (profile %s v%s): %s",
                    self.bootstrap,
                    self.profile,
                    self.version,
                    error,
                )
            self._file_error = error
            return
        self._file_error = None
        if rulesets.published_from_file(session, self.profile, rule_set.digest):
            return
        with self.sessions() as own:
            try:
                row = rulesets.publish(
                    own, self.profile, text, author=FILE_AUTHOR, message=f"from {self.bootstrap}"
                )
                own.commit()
                log.info("profile %s: rules file changed; published as version %s", self.profile, row.version)
            except IntegrityError:  # another process published the same edit first
                own.rollback()

    def _bootstrap(self, session: Session) -> tuple[int, str]:
        if self.bootstrap is None:
            raise RuleSetError("no published rule set (push one with `mailroute rules push FILE --profile`)")
        try:
            text = self.bootstrap.read_text()
        except OSError as e:
            raise RuleSetError(f"{self.bootstrap}: cannot read: {e.strerror or e}") from e
        try:
            row = rulesets.publish(
                session, self.profile, text, author="bootstrap", message=f"from {self.bootstrap}"
            )
            session.commit()
            return row.version, text
        except IntegrityError:  # another process bootstrapped it first
            session.rollback()
            return 1, rulesets.get_version(session, self.profile, 1).yaml

    def _fallback(self, error: RuleSetError) -> Versioned:
        if self._current is None:
            raise error
        if self._version_error != str(error):
            log.error("profile %s: %s; still routing with version %s", self.profile, error, self.version)
        self._version_error = str(error)
        return self._current


def _one_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


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


@dataclass(frozen=True)
class ProfileHealth:
    """Whether a profile's live version loads, and which version routes when it does not."""

    profile: str
    head: int
    routing: int | None  # the newest version that loads (what a worker falls back to)
    error: str | None


def check_profiles(session: Session) -> list[ProfileHealth]:
    """Every profile's live version, loaded as a worker would; the error when it does not load."""
    out = []
    for profile, head in sorted(rulesets.heads(session).items()):
        error, routing = None, None
        for row in rulesets.history(session, profile):
            try:
                parse_rule_set(row.yaml, source=f"{profile} v{row.version}")
            except RuleSetError as e:
                error = error or str(e)
                continue
            routing = row.version
            break
        out.append(ProfileHealth(profile, head, routing, error))
    return out
