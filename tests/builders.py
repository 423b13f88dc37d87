"""``MessageBuilder``: RFC 822 bytes for tests, well-formed or deliberately broken.

The stdlib generator refuses to write the mail that parsers must survive (lying charsets, raw 8-bit
headers, missing boundaries), so this builder writes bytes itself. Every call returns the builder::

    raw = (
        MessageBuilder()
        .subject("Server down")                      # non-ASCII is RFC 2047-encoded (B) by default
        .sender("Alice Example <alice@example.com>")
        .to("ops@example.com", "Bob <bob@example.com>")
        .text("The VPN is down.")                    # text/plain, UTF-8, 8bit
        .html("<p>The VPN is <b>down</b>.</p>")      # with .text(): multipart/alternative
        .attach("report.pdf", b"%PDF-1.4 ...", "application/pdf")  # then multipart/mixed
        .build()
    )

Defaults: From ``sender@example.com``, To ``recipient@example.com``, Subject ``Test message``, a
fixed Date and a Message-ID derived from the subject; override each, or drop one with
``.without("Date")``. Bodies take ``charset`` (how the text is encoded), ``declared`` (the charset
the header claims; set it differently to lie) and ``encoding`` (``8bit``, ``7bit``, ``base64``,
``quoted-printable``). ``.raw_header(name, bytes)`` writes 8-bit bytes as they are,
``.body_bytes(...)`` any payload, ``.forward(other)`` attaches another builder's mail as
``message/rfc822``, and ``.nest(n)`` wraps the body in ``n`` levels of ``multipart/mixed``.
"""

from __future__ import annotations

import base64
import quopri
from dataclasses import dataclass, field
from hashlib import sha256

__all__ = ["MessageBuilder", "Part", "encode_word"]


def encode_word(text: str, *, charset: str = "utf-8", encoding: str = "B") -> str:
    """One RFC 2047 encoded word for ``text``, e.g. ``=?utf-8?B?...?=`` (Q: ``=?utf-8?Q?...?=``)."""
    data = text.encode(charset)
    if encoding.upper() == "B":
        return f"=?{charset}?B?{base64.b64encode(data).decode('ascii')}?="
    quoted = "".join(chr(b) if b < 128 and chr(b).isalnum() else f"={b:02X}" for b in data).replace(
        "=20", "_"
    )
    return f"=?{charset}?Q?{quoted}?="


@dataclass
class Part:
    """A MIME part: headers plus either a payload (leaf) or children (multipart)."""

    content_type: str
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    payload: bytes = b""
    children: list[Part] = field(default_factory=list)
    boundary: str = ""

    def render(self, eol: bytes) -> bytes:
        """Headers, blank line, payload or boundary-delimited children, with ``eol`` line ends."""
        content_type = self.content_type
        if self.children:
            content_type += f'; boundary="{self.boundary}"'
        lines = [n.encode() + b": " + v for n, v in self.headers]
        if content_type:  # "" leaves the part without a Content-Type header
            lines.insert(0, f"Content-Type: {content_type}".encode())
        head = eol.join(lines) + eol + eol
        if not self.children:
            return head + self.payload.replace(b"\r\n", b"\n").replace(b"\n", eol)
        marker = b"--" + self.boundary.encode()
        body = b"".join(marker + eol + child.render(eol) + eol for child in self.children)
        return head + body + marker + b"--" + eol


class MessageBuilder:
    """Fluent builder of mail bytes; see the module docstring for a tour."""

    def __init__(self) -> None:
        self._headers: dict[str, list[bytes]] = {
            "From": [b"sender@example.com"],
            "To": [b"recipient@example.com"],
            "Subject": [b"Test message"],
            "Date": [b"Mon, 01 Jan 2024 10:00:00 +0000"],
        }
        self._bodies: list[Part] = []
        self._attachments: list[Part] = []
        self._nesting = 0

    # -- headers -------------------------------------------------------------------------------
    def header(
        self, name: str, value: str, *, encoding: str | None = None, charset: str = "utf-8"
    ) -> MessageBuilder:
        """Set ``name`` (replacing earlier values). Non-ASCII values become encoded words (``B``) unless
        ``encoding`` says ``"Q"``, ``"B"`` or ``"raw"`` (raw: the ``charset`` bytes, unencoded)."""
        self._headers[name] = [self._encode_header(value, encoding, charset)]
        return self

    def add_header(self, name: str, value: str) -> MessageBuilder:
        """Add one more value of ``name`` (e.g. a second Received)."""
        self._headers.setdefault(name, []).append(self._encode_header(value, None, "utf-8"))
        return self

    def raw_header(self, name: str, value: bytes) -> MessageBuilder:
        """Set ``name`` to exactly these bytes (8-bit headers, broken encoded words)."""
        self._headers[name] = [value]
        return self

    def without(self, *names: str) -> MessageBuilder:
        """Drop default or earlier headers, e.g. ``.without("From", "Date")``."""
        for name in names:
            self._headers.pop(name, None)
        return self

    def subject(self, value: str, *, encoding: str | None = None, charset: str = "utf-8") -> MessageBuilder:
        return self.header("Subject", value, encoding=encoding, charset=charset)

    def sender(self, value: str, *, encoding: str | None = None) -> MessageBuilder:
        """The From header; a non-ASCII display name is encoded, the address kept readable."""
        return self.header("From", value, encoding=encoding)

    def to(self, *addresses: str) -> MessageBuilder:
        return self.header("To", ", ".join(addresses))

    def cc(self, *addresses: str) -> MessageBuilder:
        return self.header("Cc", ", ".join(addresses))

    def date(self, value: str) -> MessageBuilder:
        return self.header("Date", value)

    def message_id(self, value: str) -> MessageBuilder:
        """Message-ID; angle brackets are added when missing."""
        return self.header("Message-ID", value if value.startswith("<") else f"<{value}>")

    def list_id(self, value: str) -> MessageBuilder:
        return self.header("List-Id", value)

    # -- bodies --------------------------------------------------------------------------------
    def text(self, body: str, **options: str) -> MessageBuilder:
        """Add a text/plain body part; options: ``charset``, ``declared``, ``encoding``."""
        self._bodies.append(self._text_part("text/plain", body, **options))
        return self

    def html(self, body: str, **options: str) -> MessageBuilder:
        """Add a text/html body part; options as for :meth:`text`."""
        self._bodies.append(self._text_part("text/html", body, **options))
        return self

    def body_bytes(self, payload: bytes, content_type: str = "text/plain", **headers: str) -> MessageBuilder:
        """Add a body part with these exact payload bytes; ``headers`` are written as given
        (``Content_Transfer_Encoding="base64"`` → ``Content-Transfer-Encoding: base64``); an empty
        ``content_type`` writes no Content-Type header at all."""
        part = Part(content_type, [(k.replace("_", "-"), v.encode()) for k, v in headers.items()], payload)
        self._bodies.append(part)
        return self

    def attach(
        self,
        filename: str | None,
        data: bytes,
        content_type: str = "application/octet-stream",
        *,
        inline: bool = False,
    ) -> MessageBuilder:
        """Add a base64 attachment (``inline`` for an inline image); ``filename`` may be None."""
        disposition = "inline" if inline else "attachment"
        if filename:
            disposition += f'; filename="{filename}"'
        headers = [("Content-Disposition", disposition.encode()), ("Content-Transfer-Encoding", b"base64")]
        self._attachments.append(Part(content_type, headers, base64.encodebytes(data)))
        return self

    def forward(self, other: MessageBuilder, *, as_attachment: bool = False) -> MessageBuilder:
        """Attach ``other``'s mail as message/rfc822 (how clients forward "as attachment")."""
        headers = [("Content-Disposition", b"attachment" if as_attachment else b"inline")]
        self._attachments.append(Part("message/rfc822", headers, other.build(crlf=False)))
        return self

    def nest(self, depth: int) -> MessageBuilder:
        """Wrap the body in ``depth`` levels of multipart/mixed (hostile-nesting tests)."""
        self._nesting = depth
        return self

    # -- output --------------------------------------------------------------------------------
    def build(self, *, crlf: bool = True) -> bytes:
        """The mail as bytes, with CRLF line ends unless ``crlf`` is False."""
        eol = b"\r\n" if crlf else b"\n"
        root = self._structure()
        headers = dict(self._headers)
        if "Message-ID" not in headers:
            digest = sha256(b"".join(headers.get("Subject", [b""])) + root.payload[:64]).hexdigest()[:16]
            headers["Message-ID"] = [f"<{digest}@test.example.com>".encode()]
        lines = [n.encode() + b": " + v for n, values in headers.items() for v in values]
        body = root.render(eol)
        for level in range(self._nesting):  # a loop, not Part recursion: 1,000 levels must build
            marker = f"--nest{level}".encode()
            head = f'Content-Type: multipart/mixed; boundary="nest{level}"'.encode()
            body = head + eol + eol + marker + eol + body + eol + marker + b"--" + eol
        return eol.join([*lines, b"MIME-Version: 1.0"]) + eol + body

    def __bytes__(self) -> bytes:
        return self.build()

    def _structure(self) -> Part:
        bodies = self._bodies or [self._text_part("text/plain", "")]
        body = (
            bodies[0] if len(bodies) == 1 else Part("multipart/alternative", children=bodies, boundary="alt")
        )
        if self._attachments:
            body = Part("multipart/mixed", children=[body, *self._attachments], boundary="mixed")
        return body

    @staticmethod
    def _text_part(
        content_type: str,
        body: str,
        *,
        charset: str = "utf-8",
        declared: str | None = None,
        encoding: str = "8bit",
    ) -> Part:
        data = body.encode(charset, "replace")
        payload = {"base64": base64.encodebytes, "quoted-printable": quopri.encodestring}.get(
            encoding, bytes
        )(data)
        label = charset if declared is None else declared
        full_type = f"{content_type}; charset={label}" if label else content_type
        return Part(full_type, [("Content-Transfer-Encoding", encoding.encode())], payload)

    @staticmethod
    def _encode_header(value: str, encoding: str | None, charset: str) -> bytes:
        if encoding == "raw" or (encoding is None and value.isascii()):
            return value.encode(charset)
        if "<" in value and value.rstrip().endswith(">"):  # "Name <addr>": encode only the name
            name, _, address = value.rpartition("<")
            return (
                f"{encode_word(name.strip(), charset=charset, encoding=encoding or 'B')} <{address}".encode()
            )
        return encode_word(value, charset=charset, encoding=encoding or "B").encode()
