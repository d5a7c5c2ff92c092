"""What the caller's kernels are doing while they start (the notebook's start-up progress)."""

from __future__ import annotations

from workbench import models
from workbench_server.handlers.base import Op, WorkbenchHandler


class KernelStartsHandler(WorkbenchHandler):
    ops = {"get": Op("Your kernels that are starting, with what each is doing now", models.KernelStarts,
                     tags=("kernels",))}

    async def get(self):
        km = self.serverapp.kernel_manager
        starting = km.starting_kernels(self.principal) if hasattr(km, "starting_kernels") else []
        self.reply(models.KernelStarts(kernels=[models.KernelStart(**k) for k in starting]))


handlers = [
    (r"/kernels/starting", KernelStartsHandler),
]
