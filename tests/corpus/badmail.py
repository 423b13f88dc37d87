"""The bad-input corpus: hostile and broken mail, generated on the spot (nothing large is committed).

``bad_mails()`` yields (name, raw bytes) for ~230 cases in families: malformed MIME boundaries,
missing or lying Content-Type, invalid charsets and transfer encodings, 8-bit headers, encoded-word
bombs, deep nesting (to 1,000 levels), a 50 MB attachment, zip bombs, HTML with 10^5 nested tags,
null bytes, extremely long lines, empty messages and bytes that are not mail at all. Deterministic
(seeded); ``heavy=False`` leaves out the cases over 5 MB.
"""

from __future__ import annotations

import base64
import gzip
import io
import random
import zipfile
from collections.abc import Iterator

HEAD = (
    b"From: Mallory <mallory@example.com>\r\nTo: team@example.com\r\n"
    b"Date: Mon, 3 Mar 2025 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
)


def mail(name: str, headers: bytes, body: bytes, *, subject: bytes | None = None) -> tuple[str, bytes]:
    subj = subject if subject is not None else f"Corpus case {name}".encode()
    mid = f"<corpus-{name}@example.com>".encode()
    return name, HEAD + b"Subject: " + subj + b"\r\nMessage-ID: " + mid + b"\r\n" + headers + b"\r\n" + body


def multipart(boundary: bytes, parts: list[bytes], *, close: bool = True) -> bytes:
    out = b"".join(b"--" + boundary + b"\r\n" + p + b"\r\n" for p in parts)
    return out + (b"--" + boundary + b"--\r\n" if close else b"")


TEXT_PART = b"Content-Type: text/plain; charset=utf-8\r\n\r\nThe invoice is attached; please pay by Friday."


def boundaries() -> Iterator[tuple[str, bytes]]:
    ct = b"Content-Type: multipart/mixed; boundary="
    yield mail("boundary-missing-param", b"Content-Type: multipart/mixed\r\n", multipart(b"b1", [TEXT_PART]))
    yield mail("boundary-mismatch", ct + b'"aaa"\r\n', multipart(b"bbb", [TEXT_PART]))
    yield mail("boundary-unterminated", ct + b'"b1"\r\n', multipart(b"b1", [TEXT_PART], close=False))
    yield mail("boundary-empty", ct + b'""\r\n', multipart(b"", [TEXT_PART]))
    yield mail("boundary-long", ct + b'"' + b"x" * 5000 + b'"\r\n', multipart(b"x" * 5000, [TEXT_PART]))
    yield mail(
        "boundary-in-body", ct + b'"b1"\r\n', multipart(b"b1", [TEXT_PART + b"\r\n--b1 not really\r\n"])
    )
    yield mail("boundary-no-parts", ct + b'"b1"\r\n', b"--b1--\r\n")
    yield mail("boundary-only-preamble", ct + b'"b1"\r\n', b"just a preamble, no delimiter at all\r\n")
    yield mail("boundary-spaces", ct + b'"a b c  "\r\n', multipart(b"a b c  ", [TEXT_PART]))
    yield mail("boundary-unquoted-specials", ct + b"a;b=c\r\n", multipart(b"a;b=c", [TEXT_PART]))
    yield mail(
        "boundary-nested-same",
        ct + b'"s"\r\n',
        multipart(b"s", [ct + b'"s"\r\n\r\n' + multipart(b"s", [TEXT_PART])]),
    )
    yield mail("boundary-lf-only", ct + b'"b1"\r\n', multipart(b"b1", [TEXT_PART]).replace(b"\r\n", b"\n"))
    yield mail("boundary-cr-only", ct + b'"b1"\r\n', multipart(b"b1", [TEXT_PART]).replace(b"\r\n", b"\r"))
    yield mail("boundary-two-params", ct + b'"b1"; boundary="b2"\r\n', multipart(b"b2", [TEXT_PART]))
    yield mail("boundary-part-no-headers", ct + b'"b1"\r\n', multipart(b"b1", [b"no header block here"]))
    yield mail("boundary-thousand-parts", ct + b'"b1"\r\n', multipart(b"b1", [TEXT_PART] * 1000))
    yield mail("boundary-thousand-empty", ct + b'"b1"\r\n', b"--b1\r\n" * 1000 + b"--b1--\r\n")
    yield mail(
        "boundary-digest-garbage",
        b"Content-Type: multipart/digest; boundary=d\r\n",
        multipart(b"d", [b"garbage without blank line"]),
    )
    yield mail("boundary-nul", ct + b'"b\x001"\r\n', multipart(b"b\x001", [TEXT_PART]))
    yield mail("boundary-8bit", ct + b'"b\xe91"\r\n', multipart(b"b\xe91", [TEXT_PART]))


def content_types() -> Iterator[tuple[str, bytes]]:
    html = b"<html><body><p>Please pay the <b>invoice</b></p></body></html>"
    yield mail("ct-missing", b"", b"no content type at all: plain text assumed")
    yield mail("ct-html-as-plain", b"Content-Type: text/plain\r\n", html)
    yield mail("ct-plain-as-html", b"Content-Type: text/html\r\n", b"plain <not a tag & stray ampersand")
    yield mail("ct-garbage", b"Content-Type: foo\r\n", b"body")
    yield mail("ct-empty", b"Content-Type: \r\n", b"body")
    yield mail("ct-only-semicolons", b"Content-Type: ;;;;\r\n", b"body")
    yield mail("ct-image-with-text", b"Content-Type: image/png\r\n", b"this is not a png at all")
    yield mail("ct-octet-text", b"Content-Type: application/octet-stream\r\n", b"readable text")
    yield mail("ct-multipart-no-body", b"Content-Type: multipart/alternative; boundary=x\r\n", b"")
    yield mail("ct-message-rfc822-empty", b"Content-Type: message/rfc822\r\n", b"")
    yield mail("ct-message-rfc822-garbage", b"Content-Type: message/rfc822\r\n", bytes(range(256)) * 4)
    yield mail(
        "ct-lying-base64",
        b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n",
        b"This is not base64 at all!!! ***",
    )
    yield mail(
        "ct-lying-qp",
        b"Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n",
        b"=ZZ=Q=\r\n=4" + b"=" * 100,
    )
    yield mail(
        "ct-unknown-cte", b"Content-Type: text/plain\r\nContent-Transfer-Encoding: x-rot13\r\n", b"uryyb"
    )
    yield mail(
        "ct-uuencode",
        b"Content-Type: text/plain\r\nContent-Transfer-Encoding: x-uuencode\r\n",
        b"begin 644 a.txt\r\n#86)C\r\n`\r\nend\r\n",
    )
    yield mail("ct-duplicate", b"Content-Type: text/html\r\nContent-Type: image/gif\r\n", b"<p>x</p>")
    yield mail(
        "ct-params-bomb",
        b"Content-Type: text/plain; " + b"; ".join(b"p%d=v" % i for i in range(5000)) + b"\r\n",
        b"body",
    )
    yield mail(
        "ct-rfc2231-broken", b"Content-Type: text/plain; charset*=''%ZZ; name*0*=utf-8''%E2%28\r\n", b"b"
    )
    yield mail(
        "ct-pdf-lying", b"Content-Type: application/pdf\r\nContent-Disposition: inline\r\n", b"%PDF-1.4 x"
    )
    yield mail(
        "ct-text-base64-binary",
        b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n",
        base64.encodebytes(bytes(range(256)) * 64),
    )


def charsets() -> Iterator[tuple[str, bytes]]:
    names = [
        b"x-unknown",
        b"utf-7",
        b"utf-16",
        b"utf-32",
        b"",
        b'"',
        b"utf-8\x00",
        b"../../etc/passwd",
        b"iso-8859-99",
        b"big5-hkscs-bogus",
        b"cp1252",
        b"koi8-r",
        b"shift_jis",
        b"euc-kr",
        b"gb18030",
        b"x" * 500,
        b"unicode-1-1-utf-7",
        b"utf8",
        b"UTF-8;;",
        b"us-ascii",
    ]
    bodies = [b"Invoice \xff\xfe\xfd caf\xe9 \xe2\x82", "Rechnung für März €".encode("latin-1", "replace")]
    for i, name in enumerate(names):
        for j, body in enumerate(bodies):
            yield mail(f"charset-{i}-{j}", b'Content-Type: text/plain; charset="' + name + b'"\r\n', body)
    yield mail(
        "charset-html-meta-lie", b"Content-Type: text/html\r\n", b'<meta charset="utf-16"><p>caf\xe9 \xff</p>'
    )
    yield mail(
        "charset-utf16-bom-body",
        b"Content-Type: text/plain; charset=utf-8\r\n",
        "\ufeffinvoice".encode("utf-16"),
    )
    yield mail(
        "charset-qp-invalid-utf8",
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n",
        b"=C3=28=A0=A1=F0=28=8C=BC caf=E9",
    )
    yield mail(
        "charset-base64-bad-padding",
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n",
        b"SW52b2ljZQ=\r\n===\r\nSW52b2l\r\n",
    )


def header_abuse() -> Iterator[tuple[str, bytes]]:
    rng = random.Random(8)
    yield mail(
        "hdr8-latin1-subject", b"", b"body", subject="Réunion à 10h — café".encode("latin-1", "replace")
    )
    yield mail("hdr8-utf8-subject", b"", b"body", subject="Réunion 会议 🚀".encode())
    yield mail(
        "hdr8-random-subject", b"", b"body", subject=bytes(rng.randrange(128, 256) for _ in range(300))
    )
    yield "hdr8-from", b"From: \xc0\xff\xfe <\xe9@ex\xe9.com>\r\nSubject: x\r\n\r\nbody"
    yield mail(
        "hdr8-to-many", b"To: " + b", ".join(b"u%d@\xe9xample.com" % i for i in range(3000)) + b"\r\n", b"b"
    )
    yield mail("hdr-10k-headers", b"".join(b"X-H%d: v\r\n" % i for i in range(10000)), b"body")
    yield mail("hdr-100k-line", b"X-Long: " + b"a" * 100_000 + b"\r\n", b"body")
    yield mail("hdr-folded-100k", b"X-Fold: a\r\n" + b" b\r\n" * 100_000, b"body")
    yield mail("hdr-no-colon", b"This header has no colon\r\nAnother one\r\n", b"body")
    yield mail("hdr-mid-huge", b"Message-ID: <" + b"m" * 50_000 + b"@example.com>\r\n", b"body")
    yield mail("hdr-date-garbage", b"Date: the day after tomorrow, 99:99\r\n", b"body")
    yield mail("hdr-date-overflow", b"Date: Mon, 1 Jan 99999999 00:00:00 +9999\r\n", b"body")
    yield mail("hdr-from-empty", b"From:\r\n", b"body")
    yield mail("hdr-from-weird", b'From: "\\"<>@,;:" <<<@>>>\r\n', b"body")
    yield mail("hdr-list-id-huge", b"List-Id: <" + b"l." * 20_000 + b"example.com>\r\n", b"body")
    yield mail("hdr-crlf-injection", b"X-A: a\rX-B: b\nX-C: c\r\n", b"body")
    yield mail("hdr-space-before-colon", b"Subject : spaced\r\n", b"body")
    yield mail("hdr-control-chars", b"X-Ctl: \x01\x02\x1b[31mred\x1b[0m\x7f\r\n", b"body")
    for i, word in enumerate(
        [
            b"=?utf-8?b?" + base64.b64encode("Zahlung fällig ".encode()) + b"?=",
            b"=?x-unknown?q?abc?=",
            b"=?utf-8?b?!!!notbase64!!!?=",
            b"=?utf-8?q?=ZZ=?=",
            b"=?utf-7?b?KwBBAC0-?=",
            b"=?iso-2022-jp?b?GyRCJUYlOSVIGyhC?=",
            b"=?utf-8*en?q?lang?=",
            b"=?utf-8?b??=",
            b"=?=?=?=?=?=?",
            b"=?utf-8?q?" + b"=41" * 20_000 + b"?=",
        ]
    ):
        yield mail(f"ew-single-{i}", b"", b"body", subject=word)
    for i, count in enumerate([1000, 10_000, 50_000]):  # encoded-word bombs
        yield mail(f"ew-bomb-{i}", b"", b"body", subject=b" ".join([b"=?utf-8?q?a?="] * count))
    yield (
        "ew-bomb-from",
        b"From: " + b" ".join([b"=?utf-8?b?QQ==?="] * 20_000) + b" <a@b.c>\r\nSubject: x\r\n\r\nb",
    )
    yield mail("ew-nested", b"", b"b", subject=b"=?utf-8?b?" + base64.b64encode(b"=?utf-8?b?" * 1000) + b"?=")


def nesting() -> Iterator[tuple[str, bytes]]:
    for depth in (10, 50, 100, 128, 129, 200, 1000):
        body = TEXT_PART
        for level in range(depth):
            b = b"n%d" % level
            body = b"Content-Type: multipart/mixed; boundary=" + b + b"\r\n\r\n" + multipart(b, [body])
        headers, _, rest = body.partition(b"\r\n\r\n")
        yield mail(f"nest-multipart-{depth}", headers + b"\r\n", rest)
    for depth in (10, 100, 300):
        inner = b"Subject: innermost\r\n\r\nthe deepest text"
        for _ in range(depth):
            inner = b"Content-Type: message/rfc822\r\n\r\n" + inner
        headers, _, rest = inner.partition(b"\r\n\r\n")
        yield mail(f"nest-rfc822-{depth}", headers + b"\r\n", rest)


def attachment(filename: str, ctype: bytes, data: bytes) -> bytes:
    return (
        b"Content-Type: " + ctype + b"\r\nContent-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="'
        + filename.encode()
        + b'"\r\n\r\n'
        + base64.encodebytes(data)
    )


def with_attachment(name: str, filename: str, ctype: bytes, data: bytes) -> tuple[str, bytes]:
    return mail(
        name,
        b'Content-Type: multipart/mixed; boundary="att"\r\n',
        multipart(b"att", [TEXT_PART, attachment(filename, ctype, data)]),
    )


def zip_bomb(size: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\0" * size)
    return buffer.getvalue()


def bombs(*, heavy: bool) -> Iterator[tuple[str, bytes]]:
    yield with_attachment("zip-bomb-100m", "invoice.zip", b"application/zip", zip_bomb(100_000_000))
    inner = zip_bomb(10_000_000)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(16):
            archive.writestr(f"layer{i}.zip", inner)
    yield with_attachment("zip-bomb-nested", "nested.zip", b"application/zip", buffer.getvalue())
    yield with_attachment("gzip-bomb", "data.gz", b"application/gzip", gzip.compress(b"\0" * 50_000_000))
    yield with_attachment("zip-bomb-as-text", "a.txt", b"text/plain", zip_bomb(20_000_000))
    yield mail(
        "zip-bomb-inline",
        b"Content-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n",
        base64.encodebytes(zip_bomb(20_000_000)),
    )
    yield with_attachment(
        "attach-2mb", "report.pdf", b"application/pdf", random.Random(1).randbytes(2_000_000)
    )
    yield mail("text-4mb", b"Content-Type: text/plain\r\n", b"invoice payment due " * 200_000)
    if heavy:
        data = random.Random(2).randbytes(50 * 1024 * 1024)
        yield with_attachment("attach-50mb", "backup.bin", b"application/octet-stream", data)
        yield mail("text-30mb-one-part", b"Content-Type: text/plain\r\n", (b"word " * 16 + b"\r\n") * 370_000)


def html_cases() -> Iterator[tuple[str, bytes]]:
    ct = b"Content-Type: text/html; charset=utf-8\r\n"
    yield mail("html-nested-1e5", ct, b"<div>" * 100_000 + b"deep text" + b"</div>" * 100_000)
    yield mail("html-unclosed-1e5", ct, b"<b><i><span>" * 33_334 + b"open text")
    yield mail("html-table-1e5", ct, b"<table><tr><td>" * 33_334 + b"cell")
    yield mail(
        "html-script-style",
        ct,
        b"<script>"
        + b"var a=1;" * 50_000
        + b"</script><style>"
        + b"p{}" * 50_000
        + b"</style><p>visible</p>",
    )
    yield mail("html-attr-huge", ct, b'<p title="' + b"a" * 1_000_000 + b'">x</p>')
    yield mail("html-comment-bomb", ct, b"<!--" * 100_000 + b"text")
    yield mail("html-entities", ct, b"&amp;" * 100_000 + b"&#x110000;&#0;&#xD800;&bogus;" * 1000)
    yield mail("html-cdata", ct, b"<![CDATA[" * 10_000 + b"]]>")
    yield mail("html-not-closed-tag", ct, b"<p class='" + b"x" * 200_000)
    yield mail("html-svg-math", ct, b"<svg><math><mi><mglyph><svg>" * 10_000 + b"x")


def null_and_lines() -> Iterator[tuple[str, bytes]]:
    yield mail("nul-body", b"Content-Type: text/plain\r\n", b"invoice\x00paid\x00" * 1000)
    yield mail("nul-header", b"X-Null: a\x00b\r\n", b"body")
    yield mail("nul-subject", b"", b"body", subject=b"Pay\x00now")
    yield mail("nul-only-body", b"", b"\x00" * 100_000)
    yield mail("nul-everywhere", b"", b"\x00\r\n" * 10_000)
    yield "nul-in-header-name", HEAD + b"X-\x00Bad: v\r\nSubject: s\r\n\r\nbody"
    yield "nul-before-headers", b"\x00" * 64 + HEAD + b"Subject: s\r\n\r\nbody"
    yield mail("nul-qp", b"Content-Transfer-Encoding: quoted-printable\r\n", b"a=00b=00c")
    yield mail("nul-base64", b"Content-Transfer-Encoding: base64\r\n", base64.encodebytes(b"\x00" * 10_000))
    yield mail("nul-html", b"Content-Type: text/html\r\n", b"<p>a\x00b</p>" * 1000)
    yield mail("line-1mb", b"", b"x" * 1_000_000)
    yield mail("line-1mb-words", b"", b"invoice " * 130_000)
    yield mail("line-10k-lines", b"", b"short line\r\n" * 10_000)
    yield mail("line-cr-flood", b"", b"\r" * 500_000)
    yield mail("line-lf-flood", b"", b"\n" * 500_000)
    yield mail("line-tabs", b"", b"\t" * 500_000)
    yield mail(
        "line-unicode-spaces",
        b"Content-Type: text/plain; charset=utf-8\r\n",
        "\u2028\u00a0\u200b".encode() * 100_000,
    )
    yield mail(
        "line-rtl-override",
        b"Content-Type: text/plain; charset=utf-8\r\n",
        "\u202epay now\u202c".encode() * 100,
    )
    yield mail("line-quoted-flood", b"", b"> " * 100_000 + b"\r\n" + b"> quoted\r\n" * 50_000)
    yield mail("line-signature-flood", b"", b"hello\r\n" + b"-- \r\nsig\r\n" * 50_000)


def empty_and_non_mail() -> Iterator[tuple[str, bytes]]:
    rng = random.Random(3)
    yield "empty", b""
    yield "empty-newline", b"\n"
    yield "empty-crlf2", b"\r\n\r\n"
    yield "empty-headers-only", HEAD + b"Subject: only headers"
    yield "empty-body-only", b"\r\njust a body, no headers"
    yield "empty-whitespace", b"   \t  \r\n  "
    yield "empty-subject-only", b"Subject: \r\n\r\n"
    for size in (1, 7, 64, 1000, 65_536, 1_000_000):
        yield f"random-{size}", rng.randbytes(size)
    yield "png", b"\x89PNG\r\n\x1a\n" + rng.randbytes(5000)
    yield "pdf", b"%PDF-1.7\n" + rng.randbytes(5000) + b"\n%%EOF"
    yield "elf", b"\x7fELF\x02\x01\x01" + rng.randbytes(5000)
    yield "gzip", gzip.compress(b"not a mail " * 1000)
    yield (
        "json",
        b'{"subject": "invoice", "body": "pay now", "nested": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
    )
    yield "utf16-text", "From: a@b.c\r\nSubject: utf16\r\n\r\nbody".encode("utf-16")
    yield "http-request", b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
    yield (
        "mbox-from-line",
        b"From mallory@example.com Mon Jan  1 00:00:00 2025\n" + HEAD + b"Subject: mbox\n\nbody",
    )
    yield "only-colons", b":" * 10_000
    yield "only-dashes", b"--" * 50_000
    yield "all-bytes", bytes(range(256)) * 100
    yield (
        "xml-billion-laughs",
        (
            b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><l>&b;</l>'
        ),
    )
    yield "shell", b"#!/bin/sh\nrm -rf / # not mail\n"
    for i in range(10):
        yield (
            f"random-headerish-{i}",
            b"".join(
                rng.randbytes(rng.randrange(1, 40)) + b": " + rng.randbytes(30) + b"\r\n" for _ in range(50)
            )
            + b"\r\n"
            + rng.randbytes(500),
        )


def mixed_random(n: int = 20) -> Iterator[tuple[str, bytes]]:
    """Valid-looking mails with random corruptions (byte flips, truncation, splices) of a real one."""
    rng = random.Random(4)
    base = mail(
        "base",
        b'Content-Type: multipart/alternative; boundary="alt"\r\n',
        multipart(b"alt", [TEXT_PART, b"Content-Type: text/html\r\n\r\n<p>Please <b>pay</b></p>"]),
    )[1]
    for i in range(n):
        raw = bytearray(base)
        for _ in range(rng.randrange(1, 30)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        if i % 3 == 0:
            raw = raw[: rng.randrange(len(raw))]
        yield f"mutated-{i}", bytes(raw)


def bad_mails(*, heavy: bool = True) -> Iterator[tuple[str, bytes]]:
    for family in (
        boundaries(),
        content_types(),
        charsets(),
        header_abuse(),
        nesting(),
        bombs(heavy=heavy),
        html_cases(),
        null_and_lines(),
        empty_and_non_mail(),
        mixed_random(),
    ):
        yield from family
