"""The signature under a mail's own words: a ``-- `` delimiter, a "Sent from my phone" line, a sign-off."""

from __future__ import annotations

import re

_MOBILE_RE = re.compile(
    r"^(?:sent from my\b|sent from (?:mail|outlook|yahoo mail) for\b|get outlook for\b|enviado desde mi\b"
    r"|von meinem\b.*gesendet|envoy[ée] de mon\b|发自我的|从我的).{0,60}$",
    re.IGNORECASE,
)
_SIGNOFF_RE = re.compile(
    r"^(?:(?:best|kind|warm|warmest|many|with) ?(?:regards|wishes|thanks)|regards|best|cheers|thanks"
    r"|thanks (?:again|a lot|so much)|thank you(?: (?:very much|again))?|sincerely|all the best|talk soon"
    r"|yours(?: (?:truly|sincerely|faithfully))?|saludos(?: cordiales)?|un saludo|atentamente|gracias"
    r"|muchas gracias|cordialement|mit freundlichen gr[üu](?:ß|ss)en|(?:viele|beste|liebe) gr[üu](?:ß|ss)e"
    r"|此致|敬礼|此致敬礼|谢谢|祝好|顺祝商祺)"
    r" ?(?:[,.!！，。]+ ?(?:[^\W\d_][\w .'-]{0,40})?)?$",
    re.IGNORECASE,
)


def strip_signature(text: str) -> str:
    """Cut at a ``-- `` delimiter, a "Sent from my phone" line, or a sign-off followed by a short block."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if line in ("--", "-- ") or _MOBILE_RE.match(line):
            lines = lines[:index]
            break
    for index in range(max(0, len(lines) - 10), len(lines)):
        if _SIGNOFF_RE.match(lines[index]) and _is_signature_block(lines[index + 1 :]):
            lines = lines[:index]
            break
    return "\n".join(lines).strip()


def _is_signature_block(lines: list[str]) -> bool:
    """At most six short lines (name, title, phone), not a sentence carried on from the sign-off."""
    block = [line for line in lines if line]
    if block and block[0][0].islower():  # "Thanks\nto everyone who helped..." is prose
        return False
    return len(block) <= 6 and all(len(line) <= 72 for line in block)
