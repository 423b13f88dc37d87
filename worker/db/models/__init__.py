"""SQLAlchemy 2.0 models: the ledger of every mail, its scores, decision, actions and reviews.

Status columns make every step restartable: a message row exists before its cursor advances, a
decision is unique per message, an action row is unique per (message, kind, target), and a failed
row keeps its error and stays retryable.

The tables live in one module per concept (:mod:`.base`, :mod:`.messages`, :mod:`.outbox`,
:mod:`.learning`, :mod:`.polling`, :mod:`.people`); every name is re-exported here, so
``from worker.db.models import X`` is the one import path (Alembic's ``env.py`` reads ``Base.metadata``).
"""

from worker.db.models.base import DEFAULT_PROFILE, Base, new_key, utcnow
from worker.db.models.learning import Correction, LearnedModelRow, MailVector, RuleSetVersion
from worker.db.models.messages import Decision, Message, MessageStatus, Score
from worker.db.models.outbox import Action, ActionAttempt, ActionStatus
from worker.db.models.people import ApiToken, AuditEvent, Role, User
from worker.db.models.polling import Lease, PollCursor

__all__ = [
    "DEFAULT_PROFILE",
    "Action",
    "ActionAttempt",
    "ActionStatus",
    "ApiToken",
    "AuditEvent",
    "Base",
    "Correction",
    "Decision",
    "LearnedModelRow",
    "Lease",
    "MailVector",
    "Message",
    "MessageStatus",
    "PollCursor",
    "Role",
    "RuleSetVersion",
    "Score",
    "User",
    "new_key",
    "utcnow",
]
