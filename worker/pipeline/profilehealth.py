"""The health of the routing profiles: whether each profile's live version loads, as a worker would.

:func:`check_profiles` is what ``mailroute healthcheck rules`` and the admin's Rules page show: per
profile, the live (head) version, the newest version that loads (what a worker routes with when the
head does not), and the head's error.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from rules import parse_rule_set
from worker.core.errors import RuleSetError
from worker.store import rulesets


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
