"""Mail the server announced on its own: new mail reported while a pass runs, or after it.

New mail announced while the pass runs (an untagged EXISTS in a SEARCH/FETCH answer) is never
announced again, and mail that arrives after the pass's last command (while its batch is classified
in-process) is not reported when IDLE starts: :func:`has_news` (a NOOP, then the announcements)
tells the watcher to poll again instead of idling.
"""

from __future__ import annotations

from collections.abc import Sequence

from imapclient import IMAPClient


def take_announcements(client: IMAPClient) -> bool:
    """True when the server announced new mail (untagged EXISTS/RECENT) since the last call; clears them.

    imaplib keeps untagged responses that no command asked for in ``untagged_responses``; a mail
    reported there is not reported again by the next IDLE, so it would wait for the safety poll.
    """
    untagged = getattr(getattr(client, "_imap", None), "untagged_responses", None)
    if not isinstance(untagged, dict):
        return False
    exists = untagged.pop("EXISTS", None)
    recent = untagged.pop("RECENT", None)
    return bool(exists or recent)


def has_news(client: IMAPClient) -> bool:
    """True when mail arrived since the pass: announced during it, or reported by a NOOP now."""
    if take_announcements(client):
        return True
    _, responses = client.noop()  # the server syncs the mailbox and reports what it has not told yet
    announced = take_announcements(client)
    return announced or any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses)


def announces_mail(responses: Sequence[tuple[object, ...]]) -> bool:
    return any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses)
