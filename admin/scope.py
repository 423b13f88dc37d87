"""Who may see and do what: a request's :class:`Principal`, its role, and the profiles it is given.

Contract: roles are ordered viewer < reviewer < admin (``worker.db.models.Role``). A principal sees a
message only when it is given the message's profile (``*``: every profile); for any other message
the routes answer 404, as for a message that does not exist. The profile of a message is read in ONE
place, ``worker.db.profiles`` — until messages carry a ``profile`` column (issue 16) every message is
in profile ``default``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, false

from worker.db.models import Message, Role, User
from worker.db.profiles import DEFAULT_PROFILE, message_profile, profile_column

ALL_PROFILES = "*"
__all__ = ["DEFAULT_PROFILE", "Principal", "can_access", "message_profile", "visible_messages"]


@dataclass(frozen=True)
class Principal:
    """The person (or token) behind a request."""

    name: str
    role: str
    profiles: frozenset[str]

    def at_least(self, role: str) -> bool:
        return Role.ORDER.index(self.role) >= Role.ORDER.index(role)

    @property
    def all_profiles(self) -> bool:
        return ALL_PROFILES in self.profiles or self.role == Role.ADMIN


def principal_of(user: User) -> Principal:
    return Principal(name=user.username, role=user.role, profiles=frozenset(user.profiles or ()))


def visible_messages(query: Select, user: Principal) -> Select:
    """``query`` (over :class:`Message`) narrowed to the messages ``user`` may see."""
    if user.all_profiles:
        return query
    column = profile_column()
    if column is None:
        return query if DEFAULT_PROFILE in user.profiles else query.where(false())
    return query.where(column.in_(sorted(user.profiles)))


def can_access(user: Principal, message: Message) -> bool:
    return user.all_profiles or message_profile(message) in user.profiles
