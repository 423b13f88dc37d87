"""The admin's route table as (method, path) pairs, on every FastAPI version the project meets.

FastAPI up to 0.13x copies an included router's routes into ``app.routes`` as ``APIRoute`` objects;
newer releases keep one lazy ``_IncludedRouter`` entry per ``include_router`` call instead, so a loop
over ``app.routes`` that looks for ``APIRoute`` finds nothing and a test over it silently checks
nothing. :func:`endpoints` expands included routers with ``fastapi.routing.iter_route_contexts``
where it exists and fails loudly when it finds no route at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import fastapi.routing
from fastapi import FastAPI
from fastapi.routing import APIRoute


@dataclass(frozen=True)
class Endpoint:
    path: str
    methods: frozenset[str]
    route: APIRoute


def endpoints(app: FastAPI) -> list[Endpoint]:
    """Every API route of ``app`` (pages and JSON alike); never empty."""
    expand = getattr(fastapi.routing, "iter_route_contexts", None)
    entries: list[Any] = list(expand(app.routes)) if expand else list(app.routes)
    found = []
    for entry in entries:
        route = getattr(entry, "original_route", entry)
        if isinstance(route, APIRoute):
            path = getattr(entry, "path", None) or route.path
            found.append(Endpoint(path, frozenset(getattr(entry, "methods", None) or route.methods), route))
    assert found, f"no APIRoute found in the route table of FastAPI {fastapi.__version__}: {app.routes!r}"
    return found
