"""html_to_text: visible text only, block structure kept, hostile markup survived."""

from __future__ import annotations

import pytest

from worker.parsing.htmltext import html_to_text


@pytest.mark.parametrize(
    "hidden",
    [
        '<div style="display:none">SECRET</div>',
        '<div style="DISPLAY : NONE">SECRET</div>',
        '<div style="display:/**/none">SECRET</div>',
        '<span style="visibility:hidden">SECRET</span>',
        '<span style="opacity:0">SECRET</span>',
        '<div style="max-height:0;overflow:hidden">SECRET</div>',
        '<div style="font-size:0">SECRET</div>',
        '<div style="font-size:0.5px">SECRET</div>',
        '<div style="font:0/0 a">SECRET</div>',
        "<p hidden>SECRET</p>",
        '<input type="hidden" value="SECRET">',
        "<script>SECRET</script>",
        "<style>.a{content:'SECRET'}</style>",
        "<noscript>SECRET</noscript>",
        "<template>SECRET</template>",
        "<!-- SECRET -->",
        "<style>.x { display: none }</style><div class='y x'>SECRET</div>",
        "<style>.x{font-size:0}</style><div class=x>SECRET</div>",
    ],
)
def test_hidden_text_is_dropped(hidden: str) -> None:
    text = html_to_text(f"<html><body><p>visible start</p>{hidden}<p>visible end</p></body></html>")
    assert "SECRET" not in text
    assert text.startswith("visible start") and text.endswith("visible end")


@pytest.mark.parametrize(
    "visible",
    [
        '<div style="font-size:0"><span style="font-size:14px">SHOWN</span></div>',  # mail layout trick
        "<style>@media (max-width:600px){.desktop{display:none}}</style><div class=desktop>SHOWN</div>",
        '<div style="height:0">SHOWN</div>',  # no overflow:hidden: content still overflows visibly
        '<div aria-hidden="true">SHOWN</div>',
    ],
)
def test_visible_text_is_kept(visible: str) -> None:
    assert "SHOWN" in html_to_text(f"<body>{visible}</body>")


def test_structure_becomes_lines() -> None:
    html = (
        "<h1>Title</h1><p>one   two\n three</p><ul><li>a</li><li>b</li></ul>"
        "<table><tr><td>x</td><td>y</td></tr></table>line<br>break<pre>pre\n  kept</pre>"
        "<blockquote>quoted <blockquote>twice</blockquote></blockquote>"
    )
    lines = [line for line in html_to_text(html).split("\n") if line]
    assert lines == [
        "Title",
        "one two three",
        "- a",
        "- b",
        "x y",
        "line",
        "break",
        "pre",
        "kept",
        "> quoted",
        "> > twice",
    ]


@pytest.mark.parametrize("depth", [300, 20_000])
def test_deep_markup_does_not_crash(depth: int) -> None:
    assert "deep" in html_to_text("<div>" * depth + "deep" + "</div>" * depth)


@pytest.mark.parametrize("junk", ["", "<", "</p></div>", "<p <b>x", "\x00<p>\x00</p>", "&#0;&#xD800;&bogus;"])
def test_junk_does_not_raise(junk: str) -> None:
    assert isinstance(html_to_text(junk), str)
