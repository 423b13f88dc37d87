"""The bootstrap rules file of a routing profile: its first version, and its edits published as new ones.

A profile with no published version and a bootstrap file (the default profile's is
``MAILROUTE_RULES_PATH``) records that file as version 1 on first use. The file stays a way to
publish: when its content changes to a valid rule set never published from the file, that content
becomes the next version (author ``file``) — so an edit of the rules file still goes live without a
restart, and a version published from the admin or ``mailroute rules push`` is not undone by a worker
that merely starts. An invalid edit never becomes a version: the last good one keeps routing and the
file's error is kept in ``.error`` (admin banner, metric, healthcheck).

:class:`BootstrapFile` is that half of :class:`~worker.pipeline.profilesource.ProfileSource`, which calls
it from its refresh.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from rules import parse_rule_set
from worker.core.errors import RuleSetError
from worker.store import rulesets

log = logging.getLogger("worker.pipeline.profiles")  # the profile source's records keep their logger
FILE_AUTHOR = "file"  # the author of versions published from the bootstrap file


class BootstrapFile:
    """The bootstrap-file steps of a :class:`~worker.pipeline.profilesource.ProfileSource` (its state)."""

    profile: str
    sessions: sessionmaker[Session]
    bootstrap: Path | None
    _file_error: str | None
    _file_seen: float | None

    if TYPE_CHECKING:

        @property
        def version(self) -> int | None: ...

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
