"""Skip the middle of huge base64 blocks before the stdlib parser sees them.

``email``'s feed parser handles a message line by line in Python: a 20 MB attachment is ~360,000
lines and close to a second of CPU, all to learn the attachment's size. We only ever need the head of
a text part (see ``TEXT_MAX_BYTES`` in :mod:`worker.parsing.leafpart`) and the size of everything else, so
long runs of pure base64 lines are cut down to their first ``KEEP_CHARS`` characters plus a marker
line recording how many base64 characters were removed. Attachment sizes stay exact (the marker is
counted back in) and the content of attachments is still never decoded.
"""

from __future__ import annotations

import re

WINDOW = 64 * 1024
KEEP_CHARS = 1_400_000  # base64 characters kept per run: about 1 MB decoded, the text-part cap
_MIN_RUN = KEEP_CHARS + 4 * WINDOW
_BASE64_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\r\n"
MARKER = "[mailroute: base64 elided "
_MARKER_RE = re.compile(re.escape(MARKER) + r"(\d+)\]\r?\n?")


def elide_base64_runs(raw: bytes) -> tuple[bytes, int]:
    """Return ``raw`` with the middle of every base64 run over ~1.6 MB replaced by a marker line.

    Runs are found 64 KiB window by window with ``bytes.translate`` (C speed); only whole lines inside
    windows made purely of base64 characters are removed, so MIME boundaries are never touched.
    The second value is the number of base64 characters elided in all.
    """
    if len(raw) < _MIN_RUN:
        return raw, 0
    pure = [not raw[i : i + WINDOW].translate(None, _BASE64_BYTES) for i in range(0, len(raw), WINDOW)]
    pieces: list[bytes] = []
    done = 0
    elided_total = 0
    index = 0
    while index < len(pure):
        if not pure[index]:
            index += 1
            continue
        first = index
        while index < len(pure) and pure[index]:
            index += 1
        run_start, run_end = first * WINDOW, min(index * WINDOW, len(raw))
        if run_end - run_start < _MIN_RUN:
            continue
        start = raw.find(b"\n", run_start + KEEP_CHARS, run_end) + 1
        end = raw.rfind(b"\n", start, run_end) + 1
        if start <= 0 or end - start < WINDOW:
            continue
        region = raw[start:end]
        chars = len(region) - region.count(b"\n") - region.count(b"\r") - region.count(b"=")
        newline = b"\r\n" if raw[start - 2 : start] == b"\r\n" else b"\n"
        pieces += [raw[done:start], f"{MARKER}{chars}]".encode("ascii"), newline]
        done = end
        elided_total += chars
    if not pieces:
        return raw, 0
    pieces.append(raw[done:])
    return b"".join(pieces), elided_total


def split_elision(payload: str) -> tuple[str, str, int]:
    """Split a part's raw payload at an elision marker: (head, tail, elided base64 characters)."""
    match = _MARKER_RE.search(payload)
    if match is None:
        return payload, "", 0
    tail = payload[match.end() :]
    more = sum(int(m.group(1)) for m in _MARKER_RE.finditer(tail))
    return payload[: match.start()], _MARKER_RE.sub("", tail), int(match.group(1)) + more
