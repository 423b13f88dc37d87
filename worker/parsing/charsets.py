"""Bytes to text for mail, whatever charset the sender claimed.

Mail lies about its charset all the time: ``iso-8859-1`` labels on UTF-8 bodies, ``gb2312`` labels on
GBK text, made-up names such as ``x-unknown``. A wrong guess must cost a few odd characters, never the
mail, so :func:`decode_bytes` always returns text and says in a warning when it had to repair.
"""

from __future__ import annotations

import codecs

# Labels that are routinely used for their superset; decoding with the superset loses nothing.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc_kr": "cp949",
    "shift_jis": "cp932",
    "big5": "big5hkscs",
    "iso8859-1": "cp1252",  # as browsers do (WHATWG): "latin-1" mail is nearly always Windows-1252
}
# Labels mail clients write that Python's codec registry does not know (WHATWG and Outlook names).
_ALIASES = {
    "chinesebig5": "big5",
    "cn-big5": "big5",
    "x-x-big5": "big5",
    "gb2312_charset": "gb2312",
    "gb_2312-80": "gb2312",
    "x-gbk": "gbk",
    "x-sjis": "shift_jis",
    "windows-874": "cp874",
    "x-mac-chinesesimp": "gb2312",
    "x-mac-chinesetrad": "big5",
}
# Labels too weak to trust over valid UTF-8: non-ASCII bytes that form valid UTF-8 are UTF-8.
_WEAK = frozenset({"ascii", "cp1252", "iso8859-15", "utf-8"})
_ERRORS = "mailroute-cp1252"
# Declared charsets whose broken bytes say nothing about the rest (a wrong label, not a stray byte).
_NOT_LENIENT = ("utf-16", "utf-32", "utf-7")


def _cp1252_fallback(err: UnicodeError) -> tuple[str, int]:
    """Codec error handler: read undecodable bytes as Windows-1252 (the commonest mislabelled charset)."""
    if not isinstance(err, UnicodeDecodeError):
        raise err
    return err.object[err.start : err.end].decode("cp1252", "replace"), err.end


codecs.register_error(_ERRORS, _cp1252_fallback)


def normalize_charset(charset: str | None) -> str | None:
    """The Python codec to use for a declared charset; None when absent or unknown to Python."""
    if not charset:
        return None
    label = charset.strip().strip("\"'").split("*", 1)[0].lower()  # RFC 2231 "utf-8*en" language tail
    label = _ALIASES.get(label, label)
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True):  # base64, zlib, rot13...: not a charset at all
        return None
    return _SUPERSETS.get(info.name, info.name)


def decode_bytes(data: bytes, charset: str | None, *, truncated: bool = False) -> tuple[str, str | None]:
    """Decode ``data`` as ``charset``, then UTF-8, then Windows-1252 byte by byte; never raises.

    A declared charset that is not UTF-8 in disguise wins over the fallbacks even when some bytes do not
    fit it: one stray byte in a gb2312 or big5 body costs one U+FFFD, not the whole text.
    Returns the text and a human-readable warning when the declared charset was unknown or wrong.
    ``truncated`` says the bytes were cut by a size cap, so a multibyte character split at the very end
    is dropped instead of being blamed on the charset.
    """
    if not data:
        return "", None
    if data.isascii():
        return data.decode("ascii"), None
    codec = normalize_charset(charset)
    warning = f"unknown charset {charset!r}; decoded as UTF-8/Windows-1252" if charset and not codec else None
    if codec is None or codec in _WEAK:
        text = _strict(data, "utf-8", truncated=truncated)
        if text is not None:
            if codec not in (None, "utf-8", "ascii"):
                warning = f"charset {charset!r} declared but content is UTF-8"
            return text, warning
    if codec is not None and codec != "utf-8":
        text = _strict(data, codec, truncated=truncated)
        if text is not None:
            return text, warning
        lenient = codec not in _WEAK and not codec.startswith(_NOT_LENIENT)
        if lenient and _strict(data, "utf-8", truncated=truncated) is None:
            repaired = _lenient(data, codec, truncated=truncated)
            if repaired is not None:
                return repaired, f"content is not valid {charset}; undecodable bytes replaced"
    if warning is None:
        warning = f"content is not valid {charset or 'UTF-8'}; repaired as UTF-8/Windows-1252"
    return data.decode("utf-8", _ERRORS), warning


def _lenient(data: bytes, codec: str, *, truncated: bool) -> str | None:
    """Decode as ``codec`` with U+FFFD for bytes that do not fit; None when the codec cannot decode."""
    if truncated:  # a character cut at the end by the size cap is dropped, not replaced
        data = data[: len(data) - _cut_tail(data, codec)]
    try:
        return data.decode(codec, "replace")
    except (LookupError, ValueError):
        return None


def _cut_tail(data: bytes, codec: str) -> int:
    """How many trailing bytes (0-3) form an incomplete character of ``codec``."""
    decoder = codecs.getincrementaldecoder(codec)("replace")
    try:
        decoder.decode(data, final=False)
        return len(decoder.getstate()[0])
    except (LookupError, ValueError):
        return 0


def _strict(data: bytes, codec: str, *, truncated: bool) -> str | None:
    """Strict decode; with ``truncated``, forgive an incomplete character at the very end."""
    try:
        return data.decode(codec)
    except UnicodeDecodeError as e:
        if truncated and e.end >= len(data) - 1 and e.start >= len(data) - 4:
            return _strict(data[: e.start], codec, truncated=False)
        return None
    except (LookupError, ValueError):  # a codec that exists but cannot decode this input at all
        return None
