"""Standalone HTML pages of compare views: shared reports, exported files, notebook outputs.

A page is the compare view's Bokeh ``json_item`` embedded with BokehJS, under a title and
notes written in Markdown. BokehJS comes either from the Workbench server
(``bokeh_js="server"``: ``<script src>`` under ``static_prefix``, which the server serves
from the installed bokeh package without authentication, never from a CDN) or inline
(``bokeh_js="inline"``: the page works offline, as an exported file).

Shared pages are read by strangers, so nothing in them is trusted: the title is escaped,
notes are Markdown with raw HTML escaped and harmful links defused, the view's JSON cannot
close its script tag, and a Content-Security-Policy keeps the page from loading or sending
anything elsewhere.
"""

from __future__ import annotations

import html
import json
from functools import cache
from pathlib import Path

from bokeh import __version__ as bokeh_version
from bokeh.embed import json_item
from bokeh.util.paths import static_path

from workbench.errors import InvalidArgument
from workbench.reports.views import compare_view

STATIC_PREFIX = "/workbench/static/bokeh/"
"""Where a Workbench server at the root URL serves BokehJS (prefix it with the server's base URL)."""
BOKEH_FILES = ("bokeh.min.js", "bokeh-gl.min.js", "bokeh-widgets.min.js", "bokeh-tables.min.js")
"""The BokehJS bundles a compare page loads, in order (bokeh's own names, in its static/js dir)."""

# CustomJS callbacks compile their code with `new Function`: hence 'unsafe-eval'.
PAGE_CSP = ("default-src 'none'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'none'; base-uri 'none'; form-action 'none'")

_STYLE = """
body { font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0;
       color: #1f2328; background: #ffffff; }
main { max-width: 1400px; margin: 0 auto; padding: 16px 24px 32px; }
h1.wb-title { font-size: 1.6em; margin: 0.2em 0 0.4em; }
.wb-notes { max-width: 60em; line-height: 1.5; margin-bottom: 1em; }
.wb-notes pre { background: #f6f8fa; padding: 8px; overflow: auto; }
.wb-notes table { border-collapse: collapse; }
.wb-notes td, .wb-notes th { border: 1px solid #d0d7de; padding: 2px 8px; }
.wb-footer { color: #6e7781; font-size: 0.85em; margin-top: 1.5em; }
"""


def render_notes(markdown: str) -> str:
    """Notes in Markdown as HTML, raw HTML escaped and ``javascript:``-style links defused.

    Example:
        >>> render_notes("**Best:** lr=0.01 <script>alert(1)</script>")
        '<p><strong>Best:</strong> lr=0.01 &lt;script&gt;alert(1)&lt;/script&gt;</p>\\n'
    """
    if not markdown:
        return ""
    return _markdown()(markdown)


@cache
def _markdown():
    import mistune

    return mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])


def bokeh_scripts(bokeh_js: str = "server", *, static_prefix: str = STATIC_PREFIX) -> str:
    """The ``<script>`` tags that load BokehJS: from ``static_prefix`` or inline.

    Example:
        >>> print(bokeh_scripts(static_prefix="/a%40b/workbench/static/bokeh/").splitlines()[0])
        <script src="/a%40b/workbench/static/bokeh/bokeh.min.js?v=3.9.2"></script>
    """
    if bokeh_js == "server":
        prefix = static_prefix if static_prefix.endswith("/") else static_prefix + "/"
        return "\n".join(f'<script src="{html.escape(prefix + name)}?v={bokeh_version}"></script>'
                         for name in BOKEH_FILES)
    if bokeh_js == "inline":
        return "\n".join(f"<script>\n{_inline_js(name)}\n</script>" for name in BOKEH_FILES)
    raise InvalidArgument(f"bokeh_js is 'server' or 'inline', not {bokeh_js!r}.")


@cache
def _inline_js(name: str) -> str:
    text = (Path(static_path()) / "js" / name).read_text(encoding="utf-8")
    return text.replace("</script", "<\\/script")


def _json_for_script(item: dict) -> str:
    # Inside <script type="application/json">: no '<', '>' or '&' may close the tag or open a comment.
    text = json.dumps(item, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def page_html(item: dict, *, title: str, notes_markdown: str = "", bokeh_js: str = "server",
              static_prefix: str = STATIC_PREFIX, footer: str = "") -> str:
    """A standalone page showing a Bokeh ``json_item`` (e.g. ``CompareView.item``) under a title
    and Markdown notes. ``footer`` is plain text.

    Example:
        >>> page = page_html(view.item, title="lr sweep", notes_markdown="Best: **lr=0.01**", bokeh_js="inline")
    """
    body_title = html.escape(title or "Comparison")
    notes = render_notes(notes_markdown)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{PAGE_CSP}">
<meta name="referrer" content="no-referrer">
<title>{body_title}</title>
<style>{_STYLE}</style>
{bokeh_scripts(bokeh_js, static_prefix=static_prefix)}
</head>
<body>
<main>
<h1 class="wb-title">{body_title}</h1>
{f'<section class="wb-notes">{notes}</section>' if notes else ''}
<div id="wb-view"></div>
{f'<p class="wb-footer">{html.escape(footer)}</p>' if footer else ''}
</main>
<script type="application/json" id="wb-item">{_json_for_script(item)}</script>
<script>
(function () {{
  var item = JSON.parse(document.getElementById("wb-item").textContent);
  Bokeh.embed.embed_item(item, "wb-view");
}})();
</script>
</body>
</html>
"""


def report_html(comparison, *, title: str, notes_markdown: str = "", bokeh_js: str = "server",
                static_prefix: str = STATIC_PREFIX, footer: str = "") -> str:
    """A comparison as a standalone HTML page: title, Markdown notes, then every compare view.

    ``bokeh_js="server"`` loads BokehJS from ``static_prefix`` (the Workbench server's
    ``<base_url>workbench/static/bokeh/``); ``"inline"`` puts it in the page, which then works
    offline (exports).

    Example:
        >>> cmp = build_comparison(tracking, alice, run_ids)
        >>> Path("sweep.html").write_text(report_html(cmp, title="lr sweep", bokeh_js="inline"))
    """
    return page_html(json_item(compare_view(comparison)), title=title, notes_markdown=notes_markdown,
                     bokeh_js=bokeh_js, static_prefix=static_prefix, footer=footer)
