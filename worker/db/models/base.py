"""The declarative base every table shares, its column defaults (``utcnow``, ``new_key``) and the
default routing profile."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON
from sqlalchemy.orm import DeclarativeBase


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_key() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


DEFAULT_PROFILE = "default"  # the profile of mail no account/folder maps elsewhere (MAILROUTE_RULES_PATH)
