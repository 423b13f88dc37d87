"""The filters of the review queue, the decisions browser and the CSV export, parsed from query parameters.

Every value is user input: a value that cannot be used (an unparsable date, an unknown state or sort)
is ignored with a note, never an error, and every text is cut to the length its column holds.
:mod:`admin.queries` turns the filters into bound parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

SORTS = {"oldest": "oldest first", "uncertain": "least certain first", "newest": "newest first"}
REVIEW_STATES = ("none", "pending", "approved", "corrected")


@dataclass
class Filters:
    account: str = ""
    profile: str = ""
    category: str = ""
    since: date | None = None
    until: date | None = None
    q: str = ""
    state: str = ""
    sort: str = "oldest"
    page: int = 1
    notes: list[str] = field(default_factory=list)

    def query_string(self, **changes: Any) -> dict[str, str]:
        """The filters as query parameters (for links and the CSV export)."""
        values = {
            "account": self.account,
            "profile": self.profile,
            "category": self.category,
            "q": self.q,
            "state": self.state,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            "sort": self.sort,
            "page": str(self.page),
        }
        values.update({k: str(v) for k, v in changes.items()})
        return {k: v for k, v in values.items() if v}


def parse_filters(params: Mapping[str, str], *, default_sort: str = "oldest") -> Filters:
    filters = Filters(
        account=params.get("account", "")[:255],
        profile=params.get("profile", "")[:255],
        category=params.get("category", "")[:255],
        q=params.get("q", "")[:200],
        sort=params.get("sort") or default_sort,
    )
    for name in ("since", "until"):
        raw = params.get(name, "")
        if raw:
            try:
                setattr(filters, name, date.fromisoformat(raw))
            except ValueError:
                filters.notes.append(f"ignored {name}: {raw[:40]!r} is not a date (YYYY-MM-DD)")
    state = params.get("state", "")
    if state in REVIEW_STATES:
        filters.state = state
    elif state:
        filters.notes.append(f"ignored state: {state[:40]!r}")
    if filters.sort not in SORTS:
        filters.notes.append(f"ignored sort: {filters.sort[:40]!r}")
        filters.sort = default_sort
    raw_page = params.get("page", "1")
    filters.page = int(raw_page) if raw_page.isdigit() and 0 < int(raw_page) < 100_000 else 1
    return filters
