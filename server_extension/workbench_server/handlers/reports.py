"""Saved reports and their share links over REST, and the share page itself.

The share page (``/workbench/share/<token>``) is the one route of Workbench that
needs no login: it is a plain tornado handler, outside Jupyter's authentication,
that shows the one report its token names, read-only, and nothing else.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import urllib.parse
from functools import cache

from jupyter_server.utils import url_path_join
from tornado import web

from workbench import models
from workbench.errors import NotFound
from workbench.reports.render import PAGE_CSP, page_html
from workbench.tenancy.sharing import SHARE_PATH
from workbench_server.handlers.base import Op, WorkbenchHandler

_REPORT = r"(?P<report_id>[^/]+)"


def public_base_url(handler) -> str:
    """The server's URL as share links give it: ``WorkbenchApp.public_url``, else the request's own."""
    configured = handler.settings.get("workbench_public_url")
    if configured:
        return configured
    return f"{handler.request.protocol}://{handler.request.host}{handler.settings.get('base_url', '/')}"


def static_prefix(handler) -> str:
    return url_path_join(handler.settings.get("base_url", "/"), "workbench/static/bokeh/")


@cache
def share_page_csp() -> str:
    """The shared page's policy: scripts from this server and the page's own embed script only.

    The page's one inline script (the call that draws the view) is the same on every page, so
    its hash is taken from a page made of no data at all: nothing a report holds can add a
    script that runs. ``'unsafe-eval'`` stays because Bokeh compiles CustomJS callbacks.
    """
    blank = page_html({}, title="")
    scripts = re.findall(r"<script(?![^>]*\b(?:src|type)=)[^>]*>(.*?)</script>", blank, re.DOTALL)
    hashes = " ".join("'sha256-" + base64.b64encode(hashlib.sha256(js.encode()).digest()).decode() + "'"
                      for js in scripts)
    directives = [d.strip() for d in PAGE_CSP.split(";")]
    directives = [f"script-src 'self' {hashes} 'unsafe-eval'" if d.startswith("script-src") else d
                  for d in directives]
    return "; ".join([*directives, "frame-ancestors 'self'"])


class ReportsHandler(WorkbenchHandler):
    ops = {
        "get": Op("Your saved reports, most recently changed first", models.ReportList, tags=("reports",)),
        "post": Op("Save runs you can read as a report (title, Markdown notes)", models.Report, models.ReportCreate,
                   status=201, tags=("reports",)),
    }

    async def get(self):
        self.reply(models.ReportList(reports=await self.call(self.wb.reports.list, self.principal)))

    async def post(self):
        spec = self.parse(models.ReportCreate)
        self.reply(await self.call(self.wb.reports.create, self.principal, spec), 201)


class ReportHandler(WorkbenchHandler):
    ops = {
        "get": Op("One of your reports", models.Report, tags=("reports",)),
        "patch": Op("Change a report's title, notes or runs", models.Report, models.ReportUpdate, tags=("reports",)),
        "delete": Op("Delete a report; its share links stop working", status=204, tags=("reports",)),
    }

    async def get(self, report_id):
        self.reply(await self.call(self.wb.reports.get, self.principal, report_id))

    async def patch(self, report_id):
        change = self.parse(models.ReportUpdate)
        self.reply(await self.call(self.wb.reports.update, self.principal, report_id, change))

    async def delete(self, report_id):
        await self.call(self.wb.reports.delete, self.principal, report_id)
        self.reply(None, 204)


class ReportHtmlHandler(WorkbenchHandler):
    ops = {"get": Op("The report as one HTML file that works offline (BokehJS inline), as an attachment",
                     raw_response="text/html", tags=("reports",))}

    async def get(self, report_id):
        report = await self.call(self.wb.reports.get, self.principal, report_id)
        page = await self.call(self.wb.reports.html, self.principal, report, bokeh_js="inline",
                               footer=f"Exported from Workbench by {self.principal.name}.")
        name = re.sub(r"[^\w.-]+", "-", report.title).strip("-")[:80] or "report"
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Content-Disposition", f"attachment; filename*=UTF-8''{urllib.parse.quote(name)}.html")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.finish(page)


class SharesHandler(WorkbenchHandler):
    ops = {
        "get": Op("Your share links, newest first, with their views", models.ShareList, tags=("shares",)),
        "post": Op("A read-only link to one of your reports that opens without logging in", models.ShareLink,
                   models.ShareCreate, status=201, tags=("shares",)),
    }

    async def get(self):
        shares = await self.call(self.wb.shares.list, self.principal, base_url=public_base_url(self))
        self.reply(models.ShareList(shares=shares))

    async def post(self):
        spec = self.parse(models.ShareCreate)
        link = await self.call(self.wb.shares.create, self.principal, spec.report_id, expires_in=spec.expires_in,
                               base_url=public_base_url(self))
        self.reply(link, 201)


class ShareHandler(WorkbenchHandler):
    ops = {"delete": Op("Revoke a share link (by id, or its URL's token)", status=204, tags=("shares",))}

    async def delete(self, share_id):
        await self.call(self.wb.shares.revoke, self.principal, share_id)
        self.reply(None, 204)


class SharePageHandler(web.RequestHandler):
    """``GET /workbench/share/<token>``: the shared report, to anyone holding the link."""

    _NOT_FOUND_PAGE = ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found</title>"
                       "</head><body><h1>Not found</h1></body></html>")

    def set_default_headers(self):
        self.set_header("Referrer-Policy", "no-referrer")  # the token never leaks through links it holds
        self.set_header("X-Robots-Tag", "noindex, nofollow")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "no-store")
        self.set_header("Content-Security-Policy", share_page_csp())

    def check_xsrf_cookie(self):
        pass  # GET only, and no cookies are read or set

    async def get(self, token):
        ctx = self.settings["workbench"]
        try:
            page = await asyncio.to_thread(self._page, ctx, token)
        except NotFound:
            # Tampered, expired, revoked or gone: the same answer, so trying tokens teaches nothing.
            self.set_status(404)
            self.finish(self._NOT_FOUND_PAGE)
            return
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(page)

    def _page(self, ctx, token: str) -> str:
        opened = ctx.shares.open(token)
        owner = ctx.tenancy.find_user_by_id(opened.owner_id)
        if owner is None:
            raise NotFound("gone")
        report = ctx.reports.get(owner, opened.report_id)
        page = ctx.reports.html(owner, report, bokeh_js="server", static_prefix=static_prefix(self),
                                footer=f"Shared by {owner.name} from Workbench: a read-only view.")
        ctx.shares.record_view(opened)
        return page

    def write_error(self, status_code, **kwargs):
        self.finish(self._NOT_FOUND_PAGE if status_code == 404 else "<!DOCTYPE html><h1>Something went wrong</h1>")


handlers = [
    (r"/reports", ReportsHandler),
    (rf"/reports/{_REPORT}", ReportHandler),
    (rf"/reports/{_REPORT}/html", ReportHtmlHandler),
    (r"/shares", SharesHandler),
    (r"/shares/(?P<share_id>[^/]+)", ShareHandler),
]

page_handlers = [
    (r"/" + SHARE_PATH + r"(?P<token>[A-Za-z0-9_.=-]+)", SharePageHandler),
]
