"""The Compare view over REST: runs side by side as a Bokeh document (issue 5)."""

from __future__ import annotations

from workbench import models
from workbench.reports import views
from workbench_server.handlers.base import Op, WorkbenchHandler


class CompareHandler(WorkbenchHandler):
    ops = {"post": Op("Compare runs: curves, parallel coordinates, scatter, diff table, best runs and groups, "
                      "as a Bokeh json_item (curves downsampled to max_points)", models.CompareView,
                      models.CompareRequest, tags=("compare",))}

    async def post(self):
        request = self.parse(models.CompareRequest)
        self.reply(await self.call(views.compare_payload, self.wb.tracking, self.principal, request))


handlers = [
    (r"/compare", CompareHandler),
]
