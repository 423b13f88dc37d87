"""Two folders, two routing profiles, on real Dovecot + Postgres: one batch, each mail decided and
acted on by its own profile's categories and actions; a correction in one never touches the other."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from connectors.imap.client import session
from connectors.imap.folder_config import FolderConfig
from connectors.imap.poller import poll_folder_once
from tests.connectors.conftest import ImapEnv, append, imap, install_env, make_mail, teardown_env
from tests.connectors.dovecot import Dovecot
from tests.worker.profiles_fixtures import PERSONAL, WordScorer
from worker.db.models import Decision, Message
from worker.db.session import session_factory
from worker.learning.history import reviewed_mails
from worker.store import rulesets

pytestmark = pytest.mark.integration

SUPPORT = """\
name: support-queue
policy: {mode: top_k, top_k: 1, threshold: 0.5}
categories:
  - name: refund
    description: refund asked by a customer
    actions:
      - {kind: imap_keyword, target: refund}
  - name: bug
    description: bug reported by a customer
    actions:
      - {kind: imap_keyword, target: bug}
"""


@pytest.fixture
def profiles_env(
    dovecot: Dovecot, postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ImapEnv]:
    env = install_env(monkeypatch, dovecot, postgres_url, tmp_path, scorer=WordScorer())
    accounts = Path(env.settings.accounts_file or "")
    accounts.write_text(
        accounts.read_text().replace('folders: ["INBOX"]', 'folders: ["Support", "INBOX"]')
        + "    profile: personal\n    profiles: {Support: support}\n"
    )
    with session_factory(postgres_url).begin() as db:
        rulesets.publish(db, "support", SUPPORT, author="admin")
        rulesets.publish(db, "personal", PERSONAL, author="admin")
    yield env
    teardown_env()


def poll(env: ImapEnv, folder: str) -> list[int]:
    account = env.account()
    config = FolderConfig(account.name, folder, profile=account.profile_for(folder))
    with session(account, env.settings) as client:
        return poll_folder_once(client, session_factory(env.db_url), config).queued


def flags(env: ImapEnv, folder: str) -> dict[str, set[bytes]]:
    client = imap(env.server)
    try:
        client.select_folder(folder, readonly=True)
        data = client.fetch(client.search(["ALL"]), ["FLAGS", "BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
    finally:
        client.logout()
    return {
        item[b"BODY[HEADER.FIELDS (SUBJECT)]"].decode().split(":", 1)[1].strip(): set(item[b"FLAGS"])
        for item in data.values()
    }


def test_two_folders_are_routed_by_their_own_rule_sets_in_one_batch(profiles_env: ImapEnv) -> None:
    from worker.tasks.jobs import classify

    append(profiles_env.server, [make_mail(1, subject="Refund for order 7", tag="s")], folder="Support")
    append(profiles_env.server, [make_mail(2, subject="Family dinner Sunday", tag="p")], folder="INBOX")
    ids = poll(profiles_env, "Support") + poll(profiles_env, "INBOX")
    assert len(ids) == 2
    assert classify(ids) == {"decided": 2, "skipped": 0, "failed": 0}  # one batch, two profiles

    assert b"refund" in flags(profiles_env, "Support")["Refund for order 7"]
    inbox = flags(profiles_env, "INBOX")["Family dinner Sunday"]
    assert b"family" in inbox and b"refund" not in inbox
    with session_factory(profiles_env.db_url)() as db:
        rows = db.execute(
            select(Message.folder, Message.profile, Decision.rule_set_name, Decision.rule_set_version)
            .join(Decision, Decision.message_id == Message.id)
            .order_by(Message.folder)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("INBOX", "personal", "personal-inbox", 1),
        ("Support", "support", "support-queue", 1),
    ]


def test_a_correction_in_one_profile_never_changes_routing_in_the_other(profiles_env: ImapEnv) -> None:
    from worker.review.corrections import correct
    from worker.tasks.jobs import classify

    append(profiles_env.server, [make_mail(1, subject="Refund now", tag="s")], folder="Support")
    append(profiles_env.server, [make_mail(2, subject="Family news", tag="p")], folder="INBOX")
    classify(poll(profiles_env, "Support") + poll(profiles_env, "INBOX"))
    with session_factory(profiles_env.db_url).begin() as db:
        support_id = db.scalar(select(Message.id).where(Message.folder == "Support"))
        assert support_id is not None
        rules = rulesets.validate(rulesets.get_version(db, "support").yaml)
        correct(db, support_id, ["bug"], "reviewer", rule_set=rules)
    append(profiles_env.server, [make_mail(3, subject="Family photos", tag="p")], folder="INBOX")
    classify(poll(profiles_env, "INBOX"))
    with session_factory(profiles_env.db_url)() as db:
        assert reviewed_mails(db, rule_set_name="personal-inbox") == []
        latest = db.scalar(select(Decision).order_by(Decision.message_id.desc()))
        assert latest is not None and (latest.rule_set_name, latest.labels) == ("personal-inbox", ["family"])
    assert b"family" in flags(profiles_env, "INBOX")["Family photos"]
