"""What real senders get wrong, one test per defect: each once cost the scorer the mail's text."""

from __future__ import annotations

import base64

import pytest

from tests.builders import MessageBuilder
from worker.parsing.charsets import decode_bytes, normalize_charset
from worker.parsing.message import parse_message

ARTICLE = "<html><body>" + "".join(f"<p>Paragraph {i} of the quarterly report.</p>" for i in range(400))
CHINESE = "请查收本季度的项目进度报告，会议定于周五下午三点举行。"
KOREAN = "이번 분기 프로젝트 진행 보고서를 확인해 주세요."
TRADITIONAL = "請查收本季度的項目進度報告，會議定於週五下午三點舉行。"


def test_an_inline_html_body_with_a_filename_is_the_body() -> None:
    raw = (
        MessageBuilder()
        .body_bytes(
            ARTICLE.encode(),
            "text/html; charset=utf-8",
            Content_Disposition='inline; filename="message.html"',
        )
        .build()
    )
    mail = parse_message(raw, max_chars=100_000)
    assert mail.attachments == ()
    assert "Paragraph 399 of the quarterly report." in mail.body_text and len(mail.body_text) > 15_000


def test_a_content_type_without_the_semicolon_is_still_text() -> None:
    raw = MessageBuilder().body_bytes(b"Please call me back today.", "TEXT/PLAIN charset=US-ASCII").build()
    mail = parse_message(raw)
    assert mail.attachments == () and mail.text == "Please call me back today."


def test_the_charset_is_read_even_without_the_semicolon() -> None:
    raw = MessageBuilder().body_bytes(CHINESE.encode("gb2312"), "text/plain charset=gb2312").build()
    assert parse_message(raw).body_text == CHINESE


@pytest.mark.parametrize(
    ("declared", "codec", "text"),
    [("gb2312", "gb2312", CHINESE), ("ks_c_5601-1987", "cp949", KOREAN), ("big5", "big5", TRADITIONAL)],
)
def test_one_invalid_byte_in_a_cjk_body_costs_one_character(declared: str, codec: str, text: str) -> None:
    head, tail = text[:4].encode(codec), text[4:].encode(codec)
    broken = head + b"\xff" + tail
    raw = MessageBuilder().body_bytes(broken, f"text/plain; charset={declared}").build()
    mail = parse_message(raw)
    assert mail.body_text == text[:4] + "\ufffd" + text[4:]
    assert any("not valid" in w for w in mail.warnings)


def test_one_invalid_byte_in_a_cjk_encoded_word_costs_one_character() -> None:
    broken = CHINESE[:4].encode("gb2312") + b"\xff" + CHINESE[4:].encode("gb2312")
    word = f"=?gb2312?B?{base64.b64encode(broken).decode()}?="
    mail = parse_message(MessageBuilder().raw_header("Subject", word.encode()).text("hi").build())
    assert mail.subject == CHINESE[:4] + "\ufffd" + CHINESE[4:]


@pytest.mark.parametrize(
    ("alias", "codec", "text"), [("chinesebig5", "big5", TRADITIONAL), ("gb2312_charset", "gb2312", CHINESE)]
)
def test_outlook_charset_aliases_are_known(alias: str, codec: str, text: str) -> None:
    assert normalize_charset(alias) is not None
    assert decode_bytes(text.encode(codec), alias) == (text, None)
    raw = MessageBuilder().body_bytes(text.encode(codec), f"text/plain; charset={alias}").build()
    assert parse_message(raw).body_text == text


def test_raw_8bit_headers_are_read_in_the_body_charset() -> None:
    raw = (
        MessageBuilder()
        .raw_header("Subject", "項目進度報告".encode("big5"))
        .raw_header("From", "陳大文 <chan@example.hk>".encode("big5"))
        .text(TRADITIONAL, charset="big5")
        .build()
    )
    mail = parse_message(raw)
    assert mail.subject == "項目進度報告" and mail.sender == "陳大文 <chan@example.hk>"
    assert mail.body_text == TRADITIONAL


def test_raw_utf8_headers_stay_utf8_whatever_the_body_charset() -> None:
    raw = MessageBuilder().raw_header("Subject", "Grüße".encode()).text("Grüße", charset="iso-8859-1").build()
    assert parse_message(raw).subject == "Grüße"


def test_an_html_part_without_content_type_is_rendered_not_scored_as_source() -> None:
    html = (
        b"<!DOCTYPE html>\n<html><head><style>p {color: red}</style></head>"
        b"<body><p>Invoice 42 is due.</p></body></html>"
    )
    raw = MessageBuilder().body_bytes(html, "").build()
    assert b"Content-Type" not in raw
    mail = parse_message(raw)
    assert mail.text == "Invoice 42 is due." and "<" not in mail.body_text


def test_plain_text_without_content_type_stays_plain_text() -> None:
    raw = MessageBuilder().body_bytes(b"Use <b> for bold, see <html> docs.", "").build()
    assert parse_message(raw).text == "Use <b> for bold, see <html> docs."
