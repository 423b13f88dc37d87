"""Two small rule sets for two profiles (a helpdesk queue and a personal inbox), and a scorer."""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage

import numpy as np
from sqlalchemy import insert
from sqlalchemy.orm import Session

from worker.db.models import RuleSetVersion
from worker.scoring.base import ScoreMatrix

HELPDESK = """\
name: helpdesk-queue
policy: {mode: top_k, top_k: 1, threshold: 0.5}
categories:
  - name: refund
    description: refund asked by a customer
    actions:
      - {kind: webhook, target: tickets}
  - name: bug report
    description: bug reported by a customer
    actions:
      - {kind: imap_keyword, target: bug}
"""

PERSONAL = """\
name: personal-inbox
policy: {mode: top_k, top_k: 1, threshold: 0.5}
categories:
  - name: family
    description: family news from relatives
    actions:
      - {kind: imap_keyword, target: family}
  - name: newsletter
    description: newsletter or mailing
    actions:
      - {kind: imap_keyword, target: news}
"""


class WordScorer:
    """Scores a label 0.9 when its first word appears in the mail (case-insensitive), else 0.05."""

    model_id = "words"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def score(
        self, mails: Sequence[str], labels: Sequence[str], *, instruction: str | None = None
    ) -> ScoreMatrix:
        self.calls.append(list(labels))
        out = np.full((len(mails), len(labels)), 0.05, dtype=np.float32)
        for i, text in enumerate(mails):
            for j, label in enumerate(labels):
                if label.split()[0].lower() in text.lower():
                    out[i, j] = 0.9
        return out


def mail(i: int, subject: str, body: str = "Hello.") -> bytes:
    msg = EmailMessage()
    msg["From"] = "someone@example.com"
    msg["To"] = "me@example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<p{i}@example.com>"
    msg.set_content(body)
    return msg.as_bytes()


def record_unloadable_version(session: Session, profile: str, version: int) -> None:
    """A version row whose YAML does not load, written around ``rulesets.publish`` (which refuses it)."""
    row = {
        "profile": profile,
        "version": version,
        "name": "x",
        "digest": "",
        "yaml": "name: [",
        "author": "x",
    }
    session.execute(insert(RuleSetVersion).values(message="", **row))
