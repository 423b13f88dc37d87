"""The labeled data-set layouts: read a labeled set in place (nothing is copied) as labeled mails.

``enron-berkeley``
    The Berkeley Enron annotation: ``DIR/N/ID.txt`` (RFC 822) beside ``DIR/N/ID.cats``, whose lines
    are ``top,second,count``. The gold label of a mail is its primary coarse genre: the ``1.x`` line
    with the highest count (ties: the first listed); mails whose primary genre is not in
    :data:`ENRON_GENRES` (the empty-message genres 1.7 and 1.8) are left out. Every ``1.x`` genre of
    the mail is kept as its gold set, for the multi-label figure.
``csv``
    A ticket or intent export: a CSV file with a header holding ``text`` and ``label`` (and optionally
    ``subject``; other columns are ignored). Each row becomes a plain-text mail with that subject and
    body, parsed like any other. An empty label is gold "no label"
    (:data:`worker.evaluation.labeled.NO_LABEL`): a mail that fits no category (out of scope),
    reported as its own row.
``eml``
    A folder of ``.eml`` files and a labels file, one mail a line: ``filename,label[;label2...]``
    (CSV; ``filename`` relative to the folder; the first label is the primary one). Blank lines,
    ``#`` comments and a ``filename,label`` header line are skipped.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from worker.core.errors import InputError
from worker.evaluation.labeled import LabeledMail

ENRON_GENRES = ("1.1", "1.2", "1.3", "1.4", "1.5", "1.6")
FORMATS = ("enron-berkeley", "eml", "csv")


def _read_cats(path: Path) -> list[tuple[str, int]]:
    """The coarse genres (``1.x``) of one ``.cats`` file with their counts, in file order."""
    genres = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            top, second, count = (part.strip() for part in line.split(","))
            if top == "1":
                genres.append((f"1.{int(second)}", int(count)))
        except ValueError as e:
            raise InputError(f"{path}:{number}: expected 'top,second,count', got {line!r}") from e
    return genres


def load_enron_berkeley(root: Path, *, genres: Sequence[str] = ENRON_GENRES) -> list[LabeledMail]:
    """The mails of a Berkeley Enron tree whose primary genre is in ``genres``, sorted by path."""
    if not root.is_dir():
        raise InputError(f"{root}: not a directory")
    cats_files = sorted(root.glob("*/*.cats"), key=lambda p: (p.parent.name, p.name))
    if not cats_files:
        raise InputError(f"{root}: no N/ID.cats files: not a Berkeley Enron layout")
    mails = []
    for cats in cats_files:
        found = _read_cats(cats)
        if not found:
            continue
        primary = max(found, key=lambda genre: genre[1])[0]  # max() keeps the first of equals
        if primary not in genres:
            continue
        text = cats.with_suffix(".txt")
        if not text.is_file():
            raise InputError(f"{cats}: no message file {text.name} beside it")
        gold_set = tuple(dict.fromkeys(name for name, _ in found))
        mails.append(LabeledMail(str(text.relative_to(root)), text.read_bytes(), primary, gold_set))
    return mails


def load_eml_folder(root: Path, labels_file: Path) -> list[LabeledMail]:
    """The mails named in ``labels_file`` (``filename,label[;label2]``), read from ``root``."""
    if not root.is_dir():
        raise InputError(f"{root}: not a directory")
    if not labels_file.is_file():
        raise InputError(f"{labels_file}: labels file not found")
    mails = []
    with labels_file.open(newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.reader(handle), 1):
            if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                continue
            if number == 1 and [c.strip().lower() for c in row] == ["filename", "label"]:
                continue
            labels = [label.strip() for label in row[1].split(";")] if len(row) == 2 else []
            if len(row) != 2 or not row[0].strip() or not all(labels):
                raise InputError(f"{labels_file}:{number}: expected 'filename,label[;label2]', got {row!r}")
            path = root / row[0].strip()
            if not path.is_file():
                raise InputError(f"{labels_file}:{number}: {path} not found")
            mails.append(LabeledMail(row[0].strip(), path.read_bytes(), labels[0], tuple(labels)))
    if not mails:
        raise InputError(f"{labels_file}: no labeled mails")
    return mails


def csv_mail(text: str, subject: str = "") -> bytes:
    """A plain-text RFC 822 mail holding ``text`` under ``subject``."""
    from email.message import EmailMessage

    message = EmailMessage()
    if subject.strip():
        message["Subject"] = " ".join(subject.split())
    message.set_content(text)
    return bytes(message)


def load_csv(path: Path) -> list[LabeledMail]:
    """The rows of a ``text,label[,subject]`` CSV file (header required) as labeled mails."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"text", "label"} - set(reader.fieldnames or ())
        if missing:
            raise InputError(
                f"{path}: a CSV export needs the columns text,label[,subject]; missing {sorted(missing)}"
            )
        mails = []
        for number, row in enumerate(reader, 2):
            label = (row["label"] or "").strip()
            raw = csv_mail(row["text"] or "", row.get("subject") or "")
            mails.append(LabeledMail(f"{path.name}:{number}", raw, label, (label,) if label else ()))
    if not mails:
        raise InputError(f"{path}: no labeled rows")
    return mails


def load_labeled(path: Path, fmt: str, *, labels_file: Path | None = None) -> list[LabeledMail]:
    """Dispatch on ``fmt`` (one of :data:`FORMATS`)."""
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if fmt == "enron-berkeley":
        return load_enron_berkeley(path)
    if fmt == "csv":
        return load_csv(path)
    if fmt == "eml":
        if labels_file is None:
            raise InputError("--format eml needs --labels FILE (lines 'filename,label[;label2]')")
        return load_eml_folder(path, labels_file)
    raise InputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
