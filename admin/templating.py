"""The pages' Jinja2 environment: autoescaped templates that fail on an undefined name, their globals
(the CSRF token, ``urlencode``, the rules-error banner) and filters (dates, review reasons, effects,
percentages)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates

from admin import csrf, effects

HERE = Path(__file__).resolve().parent


def _rules_error(request: Request) -> str | None:
    """The banner's text: why the rules file on disk is not the one routing (None when it loads)."""
    from admin.ops import rules_error

    return rules_error(request.app.state)


def templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.StrictUndefined
    )
    env.globals["csrf_token"] = csrf.request_token
    env.globals["urlencode"] = urlencode
    env.globals["rules_error"] = _rules_error
    env.filters["dt"] = lambda value: value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else "–"
    env.filters["review_reason"] = lambda reasons: next(
        (r for r in reasons or [] if "review" in r), (reasons or [""])[-1]
    )
    env.filters["effect"] = effects.describe
    env.filters["pct"] = lambda value: f"{100 * float(value or 0):.0f}%"
    return Jinja2Templates(env=env)
