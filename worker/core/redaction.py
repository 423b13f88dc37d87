"""Secrets kept out of what mailroute writes: passwords and tokens in text and URLs replaced by ***."""

from __future__ import annotations

import logging
import re

_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@]*:)[^\s@/]+@")
_KEY_VALUE = re.compile(  # password=…, db_password='…' (DSNs, query strings); not "secret: missing"
    r"(?P<key>(?<![A-Za-z0-9])(?:password|passwd|pwd|secret|token|api_key|apikey)=)(?P<q>['\"]?)[^\s'\",;&]+",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?P<head>\b(?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=\-]{8,}")


def redact(text: str) -> str:
    """``text`` with URL passwords, ``password=…``-style values and bearer tokens replaced by ***."""
    text = _URL_PASSWORD.sub(r"\g<head>***@", text)
    text = _KEY_VALUE.sub(r"\g<key>\g<q>***", text)
    return _BEARER.sub(r"\g<head>***", text)


class RedactFilter(logging.Filter):
    """Redacts secrets in the rendered message (for handlers whose formatter is not ours)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            rendered = record.getMessage()
        except Exception:  # a malformed call: leave it to the handler's usual "Logging error" report
            return True
        clean = redact(rendered)
        if clean != rendered:
            record.msg, record.args = clean, None
        return True


def redact_url(url: str | None) -> str:
    """A URL fit for logs and output: any password replaced by ***."""
    if not url:
        return ""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url
