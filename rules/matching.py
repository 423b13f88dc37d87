"""A mail's facts, and the header conditions that force or forbid categories when they match them."""

from __future__ import annotations

from dataclasses import dataclass

from rules.conditions import HeaderCondition
from rules.schema import RuleSet


@dataclass(frozen=True)
class MessageFacts:
    """The facts conditions match against (``sender`` is the decoded From header)."""

    sender: str = ""
    recipients: tuple[str, ...] = ()
    subject: str = ""
    list_id: str | None = None
    account: str = ""  # where the mail was received ("" when unknown, e.g. the playground)
    folder: str = ""
    attachments: tuple[tuple[str, str], ...] = ()  # (file name or "", content type) per attachment
    body: str = ""  # the readable text of the mail


def _matches(condition: HeaderCondition, facts: MessageFacts) -> bool:
    values = {
        "from": (facts.sender,),
        "to": facts.recipients,
        "subject": (facts.subject,),
        "list_id": () if facts.list_id is None else (facts.list_id,),
        "account": (facts.account,),
        "folder": (facts.folder,),
        "attachment_name": tuple(name for name, _ in facts.attachments if name),
        "attachment_type": tuple(kind for _, kind in facts.attachments),
        "body": (facts.body,),
    }[condition.field]
    return any(condition.regex.search(v) for v in values)


def _apply_conditions(
    facts: MessageFacts, rule_set: RuleSet, reasons: list[str]
) -> tuple[list[str], set[str]]:
    """Forced names in condition order, and forbidden names; force wins over forbid."""
    forced: list[str] = []
    forbidden: set[str] = set()
    for condition in rule_set.conditions:
        if not _matches(condition, facts):
            continue
        how = f"condition {condition.field} ~ '{condition.pattern}'"
        if condition.effect == "force" and condition.category not in forced:
            forced.append(condition.category)
            reasons.append(f"{condition.category} forced by {how}")
        elif condition.effect == "forbid":
            forbidden.add(condition.category)
            reasons.append(f"{condition.category} forbidden by {how}")
    for name in forbidden & set(forced):
        reasons.append(f"{name} is both forced and forbidden: forcing wins")
    return forced, forbidden - set(forced)
