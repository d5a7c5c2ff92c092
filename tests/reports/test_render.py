"""Standalone report pages: nothing a stranger reads can run script, and exports need no network."""

import json
from html.parser import HTMLParser

import pytest
from bokeh import __version__ as bokeh_version
from bokeh.embed import json_item

from tests.reports import log_run
from workbench.errors import InvalidArgument
from workbench.reports.compare import build_comparison
from workbench.reports.render import BOKEH_FILES, page_html, render_notes, report_html
from workbench.reports.views import compare_view

EVIL_NAME = "</script><script>window.pwned=1</script><img src=x onerror=alert(1)>"
EVIL_TITLE = "<script>alert('title')</script>"
EVIL_NOTES = ("# Findings\n\n**lr=0.01** wins. <script>alert('notes')</script> <img src=x onerror=alert(2)>\n\n"
              "[click](javascript:alert(3)) and [docs](https://example.com/x)")


class _Page(HTMLParser):
    """The page's script tags and the text of each."""

    def __init__(self, text):
        super().__init__()
        self.scripts: list[dict] = []
        self.tags: list[tuple[str, dict]] = []
        self._in_script = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = {"attrs": dict(attrs), "text": ""}
            self.scripts.append(self._in_script)

    def handle_data(self, data):
        if self._in_script is not None:
            self._in_script["text"] += data

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None


@pytest.fixture
def evil(tracking, alice):
    runs = [log_run(tracking, alice, "sweep", EVIL_NAME, params={"note": EVIL_NAME}, tags={"t": "<b>x</b>"},
                    metrics={"loss": [1.0, 0.5]}),
            log_run(tracking, alice, "sweep", "fine", params={"note": "ok"}, metrics={"loss": [1.0, 0.2]})]
    return build_comparison(tracking, alice, runs)


def test_title_notes_and_run_names_cannot_inject_script(evil):
    page = report_html(evil, title=EVIL_TITLE, notes_markdown=EVIL_NOTES, bokeh_js="server")
    parsed = _Page(page)
    # Only our own scripts: BokehJS, the view's JSON, and the line that embeds it.
    assert len(parsed.scripts) == len(BOKEH_FILES) + 2
    assert [s["attrs"].get("type") for s in parsed.scripts[-2:]] == ["application/json", None]
    assert "alert(" not in parsed.scripts[-1]["text"] and "pwned" not in parsed.scripts[-1]["text"]
    assert not [t for t, attrs in parsed.tags if t == "img" or "onerror" in attrs]
    assert "<script>alert('title')" not in page and "&lt;script&gt;alert(&#x27;title&#x27;)" in page
    assert "<script>alert('notes')" not in page and "&lt;script&gt;alert('notes')&lt;/script&gt;" in page
    assert "javascript:" not in page
    assert '<a href="https://example.com/x">docs</a>' in page and "<strong>lr=0.01</strong>" in page
    # The run name travels only inside the JSON, unable to close its script tag, and comes back intact.
    item = json.loads(parsed.scripts[-2]["text"])
    assert EVIL_NAME in json.dumps(item) and "</script>" not in parsed.scripts[-2]["text"]
    assert 'http-equiv="Content-Security-Policy"' in page and "connect-src 'none'" in page


def test_server_mode_loads_bokehjs_from_the_static_prefix(evil):
    page = report_html(evil, title="t", bokeh_js="server", static_prefix="/a%40b/workbench/static/bokeh/")
    srcs = [s["attrs"]["src"] for s in _Page(page).scripts if "src" in s["attrs"]]
    assert srcs == [f"/a%40b/workbench/static/bokeh/{name}?v={bokeh_version}" for name in BOKEH_FILES]


def test_inline_mode_has_no_external_script(evil):
    page = report_html(evil, title="offline", bokeh_js="inline")
    parsed = _Page(page)
    assert not [s for s in parsed.scripts if "src" in s["attrs"]]
    assert not [attrs for tag, attrs in parsed.tags if "src" in attrs or (tag == "link" and "href" in attrs)]
    assert "Bokeh.embed.embed_item" in page and len(parsed.scripts) == len(BOKEH_FILES) + 2
    assert "bokeh" in parsed.scripts[0]["text"].lower() and len(parsed.scripts[0]["text"]) > 100_000


def test_page_html_embeds_any_item_and_refuses_unknown_modes(evil):
    item = json_item(compare_view(evil))
    page = page_html(item, title="x", footer="<i>shared by alice</i>")
    assert json.loads(_Page(page).scripts[-2]["text"]) == json.loads(json.dumps(item))
    assert "&lt;i&gt;shared by alice&lt;/i&gt;" in page
    with pytest.raises(InvalidArgument, match="'server' or 'inline'"):
        page_html(item, title="x", bokeh_js="cdn")


def test_notes_are_markdown_with_html_escaped():
    assert render_notes("") == ""
    html = render_notes("A *b*\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<div onclick=x>hi</div>")
    assert "<em>b</em>" in html and "<table>" in html and "<div" not in html
