"""Folder names as the server spells them: the personal NAMESPACE prefix and hierarchy delimiter.

Rules name folders with ``/`` between levels ("Archive/2024"). Servers whose personal folders live
under a prefix with another delimiter (Cyrus, Courier: prefix ``INBOX.``, delimiter ``.``) refuse to
create "Archive" at the top level ("create failed: Permission denied"). :func:`server_folder` maps
a rule's name to the server's: INBOX stays INBOX; a name that exists as written (LIST) is used as
is; otherwise ``/`` becomes the delimiter and the personal prefix is prepended unless already there.
The namespace is asked once per connection (NAMESPACE, RFC 2342; without it, LIST's delimiter).
"""

from __future__ import annotations

import contextlib
import imaplib
from weakref import WeakKeyDictionary

from imapclient import IMAPClient

_namespaces: WeakKeyDictionary[IMAPClient, tuple[str, str]] = WeakKeyDictionary()


def personal_namespace(client: IMAPClient) -> tuple[str, str]:
    """(prefix, delimiter) of the account's personal folders, e.g. ("", "/") or ("INBOX.", ".")."""
    cached = _namespaces.get(client)
    if cached is not None:
        return cached
    prefix, delimiter = "", "/"
    if client.has_capability("NAMESPACE"):
        personal = client.namespace().personal
        if personal:
            prefix, delimiter = personal[0][0] or "", personal[0][1] or ""
    else:
        listed = client.list_folders(pattern="INBOX")
        if listed and listed[0][1]:
            delimiter = listed[0][1].decode() if isinstance(listed[0][1], bytes) else str(listed[0][1])
    with contextlib.suppress(TypeError):  # a test double that cannot be weakly referenced
        _namespaces[client] = (prefix, delimiter)
    return prefix, delimiter


def server_folder(client: IMAPClient, name: str) -> str:
    """The server's name for the folder a rule calls ``name`` (see the module docstring)."""
    if name.upper() == "INBOX" or client.folder_exists(name):
        return "INBOX" if name.upper() == "INBOX" else name
    prefix, delimiter = personal_namespace(client)
    path = name.replace("/", delimiter) if delimiter and delimiter != "/" else name
    if prefix and not (path + delimiter).upper().startswith(prefix.upper()):
        path = prefix + path
    return path


def ensure_folder(client: IMAPClient, folder: str) -> None:
    """Create ``folder`` (a server name) and subscribe to it unless it exists; racing creators are fine."""
    if client.folder_exists(folder):
        return
    try:
        client.create_folder(folder)
    except imaplib.IMAP4.error:
        if not client.folder_exists(folder):
            raise
    with contextlib.suppress(imaplib.IMAP4.error):  # subscribing is a convenience for mail clients
        client.subscribe_folder(folder)
