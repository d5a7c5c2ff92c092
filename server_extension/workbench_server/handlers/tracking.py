"""Experiments, runs, logging, search, artifacts and datasets over REST."""

from __future__ import annotations

import urllib.parse

from workbench import models
from workbench.reports import charts
from workbench_server.handlers.base import Op, WorkbenchHandler

_RUN = r"(?P<run_id>[^/]+)"


class MeHandler(WorkbenchHandler):
    ops = {"get": Op("The calling user", models.User, tags=("users",))}

    async def get(self):
        self.reply(await self.call(self.wb.tenancy.describe, self.principal))


class ExperimentsHandler(WorkbenchHandler):
    ops = {
        "get": Op("Experiments you can see, most recently active first", models.ExperimentList, tags=("experiments",)),
        "post": Op("Create an experiment (or get it, with exist_ok)", models.Experiment, models.ExperimentCreate,
                   status=201, tags=("experiments",)),
    }

    async def get(self):
        exps = await self.call(self.wb.tracking.list_experiments, self.principal)
        self.reply(models.ExperimentList(experiments=exps))

    async def post(self):
        spec = self.parse(models.ExperimentCreate)
        exp = await self.call(self.wb.tracking.create_experiment, self.principal, spec.name, exist_ok=spec.exist_ok)
        self.reply(exp, 201)


class ExperimentHandler(WorkbenchHandler):
    ops = {
        "get": Op("One experiment with its run counts", models.Experiment, tags=("experiments",)),
        "delete": Op("Delete an experiment you own, with all its runs", status=204, tags=("experiments",)),
    }

    async def get(self, experiment_id):
        exp_id = self.int_arg(experiment_id, "experiment id")
        self.reply(await self.call(self.wb.tracking.get_experiment, self.principal, exp_id))

    async def delete(self, experiment_id):
        exp_id = self.int_arg(experiment_id, "experiment id")
        await self.call(self.wb.tracking.delete_experiment, self.principal, exp_id)
        self.reply(None, 204)


class RunsHandler(WorkbenchHandler):
    ops = {"post": Op("Start a run", models.Run, models.RunCreate, status=201, tags=("runs",))}

    async def post(self):
        self.reply(await self.call(self.wb.tracking.create_run, self.principal, self.parse(models.RunCreate)), 201)


class RunHandler(WorkbenchHandler):
    ops = {
        "get": Op("A run with params, latest metrics, tags and datasets", models.Run, tags=("runs",)),
        "patch": Op("End or rename a run", models.RunInfo, models.RunUpdate, tags=("runs",)),
        "delete": Op("Delete a run", status=204, tags=("runs",)),
    }

    async def get(self, run_id):
        self.reply(await self.call(self.wb.tracking.get_run, self.principal, run_id))

    async def patch(self, run_id):
        change = self.parse(models.RunUpdate)
        self.reply(await self.call(self.wb.tracking.update_run, self.principal, run_id, change))

    async def delete(self, run_id):
        await self.call(self.wb.tracking.delete_run, self.principal, run_id)
        self.reply(None, 204)


class LogBatchHandler(WorkbenchHandler):
    ops = {"post": Op("Store params, tags and metric points of a run atomically", body=models.LogBatch,
                      status=204, tags=("runs",))}

    async def post(self, run_id):
        await self.call(self.wb.tracking.log_batch, self.principal, run_id, self.parse(models.LogBatch))
        self.reply(None, 204)


class EnvironmentHandler(WorkbenchHandler):
    ops = {"get": Op("Packages, git commit and notebook snapshot of a run", models.RunEnvironment, tags=("runs",))}

    async def get(self, run_id):
        self.reply(await self.call(self.wb.tracking.get_environment, self.principal, run_id))


class MetricHistoryHandler(WorkbenchHandler):
    ops = {"get": Op("Every point of one metric, in step order", models.MetricHistory,
                     query=(("key", "metric key", True),), tags=("runs",))}

    async def get(self, run_id):
        key = self.get_query_argument("key")
        self.reply(await self.call(self.wb.tracking.get_metric_history, self.principal, run_id, key))


class MetricHistoriesHandler(WorkbenchHandler):
    ops = {"post": Op("Metric histories of many runs in one request", models.MetricHistories,
                      models.MetricHistoriesQuery, tags=("runs",))}

    async def post(self):
        q = self.parse(models.MetricHistoriesQuery)
        series = await self.call(self.wb.tracking.get_metric_histories, self.principal, q.run_ids, q.keys)
        self.reply(models.MetricHistories.model_construct(series=series))


class SearchRunsHandler(WorkbenchHandler):
    ops = {"post": Op("A page of runs: filter (MLflow syntax), order, offset", models.RunsPage, models.RunsQuery,
                      tags=("runs",))}

    async def post(self):
        self.reply(await self.call(self.wb.tracking.search_runs, self.principal, self.parse(models.RunsQuery)))


class ArtifactsHandler(WorkbenchHandler):
    ops = {"get": Op("Files stored with a run", models.ArtifactList, tags=("artifacts",))}

    async def get(self, run_id):
        items = await self.call(self.wb.artifacts.list, self.principal, run_id)
        self.reply(models.ArtifactList(artifacts=items))


class ArtifactHandler(WorkbenchHandler):
    ops = {
        "get": Op("Download one artifact (?download=1 for an attachment)", raw_response="application/octet-stream",
                  query=(("download", "send as an attachment", False),), tags=("artifacts",)),
        "put": Op("Upload one artifact (raw bytes)", models.Artifact, raw_body="application/octet-stream",
                  status=201, tags=("artifacts",)),
    }

    async def get(self, run_id, path):
        # Tornado has already URL-decoded path arguments.
        file, media = await self.call(self.wb.artifacts.open, self.principal, run_id, path)
        self.set_header("Content-Type", media if not media.startswith("text/") else f"{media}; charset=utf-8")
        # Artifacts are user content: never let the browser sniff them into HTML or script.
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Security-Policy", "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'")
        if self.get_query_argument("download", ""):
            name = urllib.parse.quote(file.name)
            self.set_header("Content-Disposition", f"attachment; filename*=UTF-8''{name}")
        with file.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                self.write(chunk)
                await self.flush()
        self.finish()

    async def put(self, run_id, path):
        art = await self.call(self.wb.artifacts.put, self.principal, run_id, path, self.request.body)
        self.reply(art, 201)


class DatasetsHandler(WorkbenchHandler):
    ops = {"post": Op("Record a dataset a run used (by content digest)", models.DatasetInput, models.DatasetLog,
                      status=201, tags=("runs",))}

    async def post(self, run_id):
        spec = self.parse(models.DatasetLog)
        self.reply(await self.call(self.wb.tracking.log_dataset, self.principal, run_id, spec), 201)


class MetricsChartHandler(WorkbenchHandler):
    ops = {"get": Op("A Bokeh json_item drawing metrics of a run by step", raw_response="application/json",
                     query=(("key", "metric key; repeat for several", False),), tags=("charts",))}

    async def get(self, run_id):
        keys = self.get_query_arguments("key")
        item = await self.call(charts.run_metrics_item, self.wb.tracking, self.principal, run_id, keys)
        self.set_header("Content-Type", "application/json")
        self.finish(item)


handlers = [
    (r"/me", MeHandler),
    (r"/experiments", ExperimentsHandler),
    (r"/experiments/(?P<experiment_id>[^/]+)", ExperimentHandler),
    (r"/runs", RunsHandler),
    (r"/runs/search", SearchRunsHandler),
    (r"/runs/metric-histories", MetricHistoriesHandler),
    (rf"/runs/{_RUN}", RunHandler),
    (rf"/runs/{_RUN}/log-batch", LogBatchHandler),
    (rf"/runs/{_RUN}/environment", EnvironmentHandler),
    (rf"/runs/{_RUN}/metric-history", MetricHistoryHandler),
    (rf"/runs/{_RUN}/datasets", DatasetsHandler),
    (rf"/runs/{_RUN}/charts/metrics", MetricsChartHandler),
    (rf"/runs/{_RUN}/artifacts", ArtifactsHandler),
    (rf"/runs/{_RUN}/artifacts/(?P<path>.+)", ArtifactHandler),
]
