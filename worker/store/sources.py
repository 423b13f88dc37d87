"""Local mail sources for ``mailroute ingest``: a folder of .eml files, an mbox file, or a Maildir.

Each source yields ``(folder, raw_bytes)``; the folder names where the mail came from so that the
same mail imported twice from the same place is stored once.
"""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from pathlib import Path

from worker.core.errors import InputError

EML_SUFFIXES = {".eml", ".msg", ".txt"}


def detect_format(path: Path) -> str:
    """'maildir', 'mbox', 'eml' (one file) or 'folder' (a tree of .eml files)."""
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.is_dir():
        if (path / "cur").is_dir() and (path / "new").is_dir():
            return "maildir"
        return "folder"
    with path.open("rb") as handle:
        head = handle.read(5)
    return "mbox" if head == b"From " else "eml"


def count_messages(path: Path) -> int | None:
    """How many mails a source holds, for a progress bar (None when counting would cost a scan)."""
    kind = detect_format(path)
    if kind == "eml":
        return 1
    if kind == "folder":
        return sum(1 for p in path.rglob("*") if p.is_file() and p.suffix.lower() in EML_SUFFIXES)
    if kind == "maildir":
        return sum(1 for sub in ("cur", "new") for p in (path / sub).iterdir() if p.is_file())
    return None


def iter_messages(path: Path) -> Iterator[tuple[str, bytes]]:
    """Yield ``(folder, raw)`` for every mail under ``path``, in a stable order."""
    kind = detect_format(path)
    resolved = str(path.resolve())
    if kind == "eml":
        yield resolved, path.read_bytes()
    elif kind == "folder":
        for file in sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in EML_SUFFIXES):
            yield str(file.parent.resolve()), file.read_bytes()
    elif kind == "maildir":
        box = mailbox.Maildir(str(path), factory=None, create=False)
        for key in sorted(box.keys()):
            with box.get_file(key) as handle:
                yield resolved, handle.read()
    else:
        box_m = mailbox.mbox(str(path), create=False)
        for key in box_m.iterkeys():
            yield resolved, box_m.get_bytes(key)
