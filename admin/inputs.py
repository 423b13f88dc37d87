"""User text that no query can hold is refused at the door: ``reject_nul`` answers 400.

PostgreSQL text cannot contain a NUL character, so a search, a filter, a review note or a label with
one would fail deep inside a query (a 500). The app runs ``reject_nul`` before every route: a NUL in
any query parameter (name or value), form field or JSON string (key or value) answers 400 with a
one-line message naming the field, whatever the route does with it. The body it reads is cached on
the request, so the route still gets it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from fastapi import HTTPException, Request
from starlette.datastructures import UploadFile

NUL = "\x00"


def _message(where: str, name: str) -> str:
    return f"bad input: {where} {name[:40]!r} contains a NUL character (\\x00), which is not allowed"


def _json_strings(value: object, path: str = "body") -> Iterator[tuple[str, str]]:
    """Every (field path, string) in a parsed JSON document, keys included."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield path, str(key)
            yield from _json_strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_strings(item, f"{path}[{index}]")


async def find_nul(request: Request) -> str | None:
    """The one-line complaint about the first NUL in the request's user text, or None."""
    for name, value in request.query_params.multi_items():
        if NUL in name or NUL in value:
            return _message("query parameter", name.replace(NUL, ""))
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        for name, field in form.multi_items():
            if NUL in name or (not isinstance(field, UploadFile) and NUL in field):
                return _message("form field", name.replace(NUL, ""))
    elif content_type == "application/json" or content_type.endswith("+json"):
        body = await request.body()
        try:
            document = json.loads(body)
        except ValueError:
            return None  # not JSON: the route's own validation answers
        for path, text in _json_strings(document):
            if NUL in text:
                return _message("JSON field", path.replace(NUL, ""))
    return None


async def reject_nul(request: Request) -> None:
    """App-wide dependency: 400 for a request that carries a NUL character in its user text."""
    problem = await find_nul(request)
    if problem is not None:
        raise HTTPException(status_code=400, detail=problem)
