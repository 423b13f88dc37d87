"""Builders for admin test data: plain model rows (message, scores, decision, actions) in one call."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from rules import RuleSet, load_rule_set
from worker.db.models import Action, ActionAttempt, ActionStatus, Decision, Message, Score

REPO = Path(__file__).resolve().parents[2]
OFFICE_RULES = REPO / "rules" / "examples" / "office.yaml"
PASSWORD = "correct horse battery staple"
XSS_TEXT = "Hello <script>alert(1)</script> and <img src=x onerror=alert(1)> bye"


def office_rules() -> RuleSet:
    return load_rule_set(OFFICE_RULES)


@dataclass
class MailSpec:
    """One mail with its decision; defaults make a mail waiting in the review queue."""

    subject: str = "Quarterly numbers"
    sender: str = "Dana Reyes <dana@example.com>"
    text: str = "Hi team,\n\nplease find the numbers attached.\n\nDana"
    account: str = "work"
    folder: str = "INBOX"
    scores: Mapping[str, float] = field(
        default_factory=lambda: {"project progress": 0.62, "meeting notice": 0.58}
    )
    labels: Sequence[str] = ("project progress",)
    needs_review: bool = True
    received_at: datetime | None = None
    action_status: str = ActionStatus.DONE  # for mails not in review: their actions' status
    reasons: Sequence[str] = ()


def add_mail(
    session: Session, spec: MailSpec | None = None, *, rules: RuleSet | None = None, **overrides: object
) -> int:
    """Insert a decided mail (and, unless it needs review, its actions); returns the message id."""
    spec = spec or MailSpec()
    for key, value in overrides.items():
        setattr(spec, key, value)
    rules = rules or office_rules()
    received = spec.received_at or datetime.now(UTC) - timedelta(hours=1)
    uid = abs(hash((spec.subject, spec.sender, received))) % 10**9
    message = Message(
        account=spec.account,
        folder=spec.folder,
        uidvalidity=1,
        uid=uid,
        dedup_key=f"k{uid}",
        message_id=f"{uid}@example.com",
        message_id_hash=hashlib.sha256(f"{uid}@example.com".encode()).hexdigest(),
        content_hash=f"{uid:064d}",
        subject=spec.subject,
        sender=spec.sender,
        recipients=["team@example.com"],
        sent_at=received,
        headers={
            "from": spec.sender,
            "to": "team@example.com",
            "subject": spec.subject,
            "date": received.strftime("%a, %d %b %Y %H:%M:%S +0000"),
            "message-id": f"<{uid}@example.com>",
        },
        raw=f"Subject: {spec.subject}\n\n{spec.text}".encode(),
        size=len(spec.text),
        body_text=spec.text,
        clean_text=spec.text,
        status="decided",
        received_at=received,
        decided_at=received + timedelta(seconds=2),
    )
    session.add(message)
    session.flush()
    scores = {name: spec.scores.get(name, 0.05) for name in rules.category_names()}
    session.add_all(
        Score(
            message_id=message.id,
            label=name,
            score=value,
            model_id="constant",
            rule_set_hash=rules.digest,
            template_hash=rules.template_digest,
            created_at=received,
        )
        for name, value in scores.items()
    )
    ranked = sorted(scores.values(), reverse=True)
    reasons = list(spec.reasons) or engine_like_reasons(scores, spec.labels, rules, review=spec.needs_review)
    session.add(
        Decision(
            message_id=message.id,
            mode="live",
            rule_set_name=rules.name,
            rule_set_hash=rules.digest,
            model_id="constant",
            labels=list(spec.labels),
            needs_review=spec.needs_review,
            review_state="pending" if spec.needs_review else "none",
            top_score=ranked[0],
            margin=ranked[0] - ranked[1],
            reasons=reasons,
            created_at=received + timedelta(seconds=2),
        )
    )
    if not spec.needs_review:
        add_actions(session, message.id, spec.labels, rules, status=spec.action_status)
    session.flush()
    return message.id


def engine_like_reasons(
    scores: Mapping[str, float], labels: Sequence[str], rules: RuleSet, *, review: bool
) -> list[str]:
    """Reasons worded as the rule engine words them."""
    limit = {c.name: rules.policy.threshold_for(c.threshold) for c in rules.categories}
    reasons = [f"{label} scored {scores[label]:.2f} ≥ threshold {limit[label]:.2f}" for label in labels]
    ranked = sorted(scores, key=lambda name: -scores[name])
    best, second = ranked[0], ranked[1]
    if not labels:
        reasons.append(f"best category {best} scored {scores[best]:.2f} < threshold {limit[best]:.2f}")
    if review and scores[best] < 0.6:
        reasons.append(f"top score {scores[best]:.2f} inside review band [0.45, 0.60): sent to review")
    elif review:
        gap = scores[best] - scores[second]
        reasons.append(f"top two within margin {gap:.2f} < 0.10: sent to review")
    return reasons


def add_actions(
    session: Session, message_id: int, labels: Sequence[str], rules: RuleSet, *, status: str
) -> None:
    for label in labels:
        for spec in rules.category(label).actions:
            action = Action(
                message_id=message_id,
                kind=spec.kind,
                target=spec.target,
                params=dict(spec.params),
                category=label,
                status=status,
                attempts=1,
            )
            session.add(action)
            session.flush()
            outcome = "ok" if status == ActionStatus.DONE else status
            session.add(
                ActionAttempt(
                    action_id=action.id,
                    number=1,
                    outcome=outcome,
                    status_code=200 if spec.kind == "webhook" else None,
                    duration_ms=42.0,
                )
            )


DEMO_MAILS = (
    MailSpec(
        "Invoice 4471 overdue — please confirm payment date",
        "Accounts <billing@northwind.example>",
        "Hello,\n\nour invoice 4471 is now 14 days overdue. Could you confirm when payment will be made?\n\n"
        "Kind regards,\nNorthwind Billing",
        scores={"customer inquiry": 0.56, "urgent matters": 0.48},
        labels=(),
    ),
    MailSpec(
        "Weekly status: data platform migration",
        "Priya Nair <priya@example.com>",
        "Hi all,\n\nmilestone 3 is done; the ingestion jobs run on the new cluster.\nBlocker: the reporting "
        "views still read the old warehouse.\n\nPriya",
        scores={"project progress": 0.66, "meeting notice": 0.59},
    ),
    MailSpec(
        "Can we move tomorrow's sync to 3 pm?",
        "Marc Dubois <marc@example.com>",
        "Hi,\n\nsomething came up — could we push our sync to 3 pm? Same link.\n\nMarc",
        scores={"meeting notice": 0.58, "urgent matters": 0.51},
        labels=(),
    ),
    MailSpec(
        "Disk usage above 90% on db-02",
        "Monitoring <alerts@alerts.example.com>",
        "ALERT disk /var/lib/postgresql at 91% on db-02 for 15 minutes.",
        account="ops",
        scores={"system alert": 0.93},
        labels=("system alert",),
        needs_review=False,
    ),
    MailSpec(
        "Question about bulk pricing",
        "Lee Wong <lee@customer.example>",
        "Hello, do you offer a discount for 500 seats? We would like a quote this week.",
        scores={"customer inquiry": 0.88},
        labels=("customer inquiry",),
        needs_review=False,
    ),
    MailSpec(
        "Production checkout is down",
        "On-call <oncall@example.com>",
        "Checkout returns HTTP 500 for every customer since 09:12. Please join the bridge now.",
        scores={"urgent matters": 0.91, "system alert": 0.64},
        labels=("urgent matters", "system alert"),
        needs_review=False,
    ),
    MailSpec(
        "Lunch & learn: vector databases",
        "People Team <people@example.com>",
        "Join us Thursday at noon in room 4B for a lunch & learn on vector databases.",
        scores={"meeting notice": 0.49, "project progress": 0.12},
        labels=(),
    ),
)


def seed_demo(session: Session, *, days: int = 10) -> list[int]:
    """A realistic little mailbox over ``days`` days (for browser tests and screenshots)."""
    now = datetime.now(UTC)
    ids = []
    for i in range(days * 3):
        spec = DEMO_MAILS[i % len(DEMO_MAILS)]
        when = now - timedelta(days=days - 1 - i // 3, hours=i % 3 * 3 + 1)
        copy = MailSpec(
            **{
                **spec.__dict__,
                "received_at": when,
                "needs_review": spec.needs_review and i >= days * 3 - len(DEMO_MAILS),
            }
        )
        ids.append(add_mail(session, copy))
    return ids
