"""Which HTML a reader cannot see: the ``hidden`` attribute, CSS that hides an element (inline or
through a class of a top-level ``<style>`` rule), and text too small to read.

Hidden text is how instructions get smuggled past a human; :mod:`worker.parsing.htmltext` drops
whatever this module calls hidden.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup
from bs4.element import Tag

_COMMENT_RE = re.compile(r"/\*.*?\*/", re.S)
_HIDING_RE = re.compile(
    r"display:none|visibility:(?:hidden|collapse)|opacity:0(?:\.0*)?(?:[;!]|$)"
    r"|(?:^|;)(?:max-)?(?:height|width):0(?:px|pt|em|rem|%)?(?:[;!]|$)(?=.*overflow:hidden)"
    r"|overflow:hidden(?=.*(?:^|;)(?:max-)?(?:height|width):0(?:px|pt|em|rem|%)?(?:[;!]|$))"
)
_FONT_SIZE_RE = re.compile(r"(?:^|;)font(?:-size)?:([0-9.]+)(px|pt|em|rem|%)?")
_MEDIA_RE = re.compile(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}")
_CLASS_RULE_RE = re.compile(r"\.([A-Za-z_][\w-]*)\s*\{([^{}]*)\}")


def _style(tag: Tag) -> str:
    style = tag.get("style")
    if not isinstance(style, str) or not style:
        return ""
    return _COMMENT_RE.sub("", style).lower().replace(" ", "").replace("\n", "").replace("\t", "")


def _is_hidden(tag: Tag, hidden_classes: frozenset[str]) -> bool:
    if "hidden" in tag.attrs or (tag.get("type") == "hidden"):
        return True
    style = _style(tag)
    if style and _HIDING_RE.search(style):
        return True
    classes = tag.get("class")
    return bool(hidden_classes and isinstance(classes, list) and hidden_classes.intersection(classes))


def _tiny_font(tag: Tag, *, inherited: bool) -> bool:
    """Whether text under ``tag`` renders at an unreadable size (CSS inheritance: a child may reset it).

    ``font-size:0`` on a wrapper with readable children is a common layout trick in mail templates,
    so a descendant that sets a readable size makes its text visible again, as in a browser.
    """
    match = _FONT_SIZE_RE.search(_style(tag))
    if match is None:
        return inherited
    try:
        size = float(match.group(1))
    except ValueError:
        return inherited
    unit = match.group(2) or "px"
    return size < {"em": 0.2, "rem": 0.2, "%": 20.0}.get(unit, 2.0)


def _hidden_classes(soup: BeautifulSoup) -> frozenset[str]:
    """Classes that a top-level ``<style>`` rule hides for every screen (media queries are skipped)."""
    names: set[str] = set()
    for style in soup.find_all("style"):
        css = _MEDIA_RE.sub("", _COMMENT_RE.sub("", style.get_text()))
        for match in _CLASS_RULE_RE.finditer(css):
            body = match.group(2).lower().replace(" ", "")
            size = _FONT_SIZE_RE.search(";" + body)
            if _HIDING_RE.search(body) or (size is not None and size.group(1) == "0"):
                names.add(match.group(1))
    return frozenset(names)
