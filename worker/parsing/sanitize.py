"""Make mail text safe to store and to score.

Three separate dangers, one small function each:

* control characters: NUL cannot be stored in a Postgres ``text`` column, and bidi overrides or
  zero-width characters hide what a human reviewer sees from what the model reads;
* ragged whitespace: HTML conversion and mail clients leave runs of blanks that only waste the budget;
* template markers: the reranker prompt is ``<Instruct>: … <Query>: … <Document>: …`` in a chat
  template (``<|im_start|>``, ``<think>``). Mail text is data, so a mail must not be able to write
  those markers and pose as the instruction. They are defused with look-alike angle brackets.
"""

from __future__ import annotations

import re

# C0/C1 controls except \t and \n, plus invisible format characters (soft hyphen, zero-width space,
# bidi embeddings/overrides/isolates, word joiner, BOM, interlinear annotations). ZWJ/ZWNJ stay:
# emoji sequences and Persian/Indic text need them.
_CONTROL_RE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u200b\u200e\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]"
)
_SPACE_RUN_RE = re.compile(r"[^\S\n]+")  # any whitespace but newline (tabs, NBSP, ideographic space)
_EDGE_SPACE_RE = re.compile(r" ?\n ?")
_BLANK_LINES_RE = re.compile(r"\n{3,}")
_MARKER_RE = re.compile(
    r"<(\s*/?\s*(?:instruct|query|document|think)\s*)>|<(\|[^|<>\s]{1,40}\|)>", re.IGNORECASE
)


def strip_controls(text: str) -> str:
    """Normalise line ends to ``\\n``, tabs to spaces, and drop control and invisible characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _CONTROL_RE.sub("", text)


def collapse_whitespace(text: str) -> str:
    """One space between words, no blanks at line edges, at most one empty line in a row."""
    text = _SPACE_RUN_RE.sub(" ", text)
    text = _EDGE_SPACE_RE.sub("\n", text)
    return _BLANK_LINES_RE.sub("\n\n", text).strip()


def clean_line(text: str) -> str:
    """A header value or file name: no controls, no line breaks, single spaces."""
    return " ".join(strip_controls(text).split())


def neutralize_markers(text: str) -> str:
    """Replace ``<`` and ``>`` of reranker/chat template markers with ``‹`` and ``›``."""
    return _MARKER_RE.sub(lambda m: f"‹{m.group(1) or m.group(2)}›", text)


def apply_budget(text: str, max_chars: int) -> tuple[str, bool]:
    """Cut ``text`` to at most ``max_chars``, at a word boundary when one is near; True when cut."""
    if len(text) <= max_chars:
        return text, False
    head = text[:max_chars]
    boundary = max(head.rfind(" "), head.rfind("\n"))
    if boundary >= max_chars * 0.8:
        head = head[:boundary]
    return head.rstrip(), True
