"""SDK transport: HTTP to a Workbench server, or embedded straight on the store.

Both transports offer the same methods and raise the same
``workbench.errors`` exceptions, so notebook code and tests cannot tell them
apart. ``get_client()`` picks one from the settings: HTTP when
``WORKBENCH_URL`` is set (inside JupyterLab the kernel gets it), else embedded.
"""

from __future__ import annotations

import threading
import urllib.parse
from typing import Protocol

from pydantic import BaseModel

from workbench import config, models
from workbench.errors import ERRORS_BY_CODE, InvalidArgument, WorkbenchError

API_PREFIX = "workbench/api/v1"


class ServerUnavailable(WorkbenchError):
    """The server could not be reached or answered 5xx; the call may be retried."""

    code = "unavailable"


class Transport(Protocol):
    description: str

    def me(self) -> models.User: ...
    def create_experiment(self, name: str, *, exist_ok: bool = False) -> models.Experiment: ...
    def get_experiment(self, experiment_id: int) -> models.Experiment: ...
    def list_experiments(self) -> list[models.Experiment]: ...
    def create_run(self, spec: models.RunCreate) -> models.Run: ...
    def get_run(self, run_id: str) -> models.Run: ...
    def update_run(self, run_id: str, change: models.RunUpdate) -> models.RunInfo: ...
    def delete_run(self, run_id: str) -> None: ...
    def log_batch(self, run_id: str, batch: models.PointBatch) -> None: ...
    def search_runs(self, query: models.RunsQuery) -> models.RunsPage: ...
    def get_metric_history(self, run_id: str, key: str) -> models.MetricHistory: ...
    def get_metric_histories(self, run_ids: list[str], keys: list[str]) -> list[models.MetricSeries]: ...
    def get_environment(self, run_id: str) -> models.RunEnvironment: ...
    def put_artifact(self, run_id: str, path: str, data: bytes) -> models.Artifact: ...
    def list_artifacts(self, run_id: str) -> list[models.Artifact]: ...
    def get_artifact(self, run_id: str, path: str) -> bytes: ...
    def log_dataset(self, run_id: str, spec: models.DatasetLog) -> models.DatasetInput: ...
    # comparison views (issue 5, compare)
    def compare(self, request: models.CompareRequest) -> models.CompareView: ...
    # saved reports and share links (issue 5)
    def create_report(self, spec: models.ReportCreate) -> models.Report: ...
    def list_reports(self) -> list[models.ReportSummary]: ...
    def get_report(self, report_id: str) -> models.Report: ...
    def update_report(self, report_id: str, change: models.ReportUpdate) -> models.Report: ...
    def delete_report(self, report_id: str) -> None: ...
    def create_share(self, spec: models.ShareCreate) -> models.ShareLink: ...
    def list_shares(self) -> list[models.ShareLink]: ...
    def revoke_share(self, share: str) -> None: ...


class EmbeddedTransport:
    """Calls the services in-process on the local store, as the local user."""

    def __init__(self, settings: config.Settings):
        from workbench.store.engine import open_store
        from workbench.tenancy import Tenancy
        from workbench.tracking.artifacts import Artifacts
        from workbench.tracking.service import Tracking

        self.settings = settings
        self.store = open_store(settings.db_url)
        self.user = Tenancy(self.store).local_user(settings.user)
        self.tracking = Tracking(self.store)
        self.artifacts = Artifacts(self.tracking, settings.artifact_root)
        self.description = f"embedded store {self.store.engine.url.render_as_string(hide_password=True)}"

    def me(self) -> models.User:
        from workbench.tenancy import Tenancy

        return Tenancy(self.store).describe(self.user)

    def create_experiment(self, name: str, *, exist_ok: bool = False) -> models.Experiment:
        return self.tracking.create_experiment(self.user, name, exist_ok=exist_ok)

    def get_experiment(self, experiment_id: int) -> models.Experiment:
        return self.tracking.get_experiment(self.user, experiment_id)

    def list_experiments(self) -> list[models.Experiment]:
        return self.tracking.list_experiments(self.user)

    def create_run(self, spec: models.RunCreate) -> models.Run:
        return self.tracking.create_run(self.user, spec)

    def get_run(self, run_id: str) -> models.Run:
        return self.tracking.get_run(self.user, run_id)

    def update_run(self, run_id: str, change: models.RunUpdate) -> models.RunInfo:
        return self.tracking.update_run(self.user, run_id, change)

    def delete_run(self, run_id: str) -> None:
        self.tracking.delete_run(self.user, run_id)

    def log_batch(self, run_id: str, batch: models.PointBatch) -> None:
        self.tracking.log_points(self.user, run_id, batch)

    def search_runs(self, query: models.RunsQuery) -> models.RunsPage:
        return self.tracking.search_runs(self.user, query)

    def get_metric_history(self, run_id: str, key: str) -> models.MetricHistory:
        return self.tracking.get_metric_history(self.user, run_id, key)

    def get_metric_histories(self, run_ids: list[str], keys: list[str]) -> list[models.MetricSeries]:
        return self.tracking.get_metric_histories(self.user, run_ids, keys)

    def get_environment(self, run_id: str) -> models.RunEnvironment:
        return self.tracking.get_environment(self.user, run_id)

    def put_artifact(self, run_id: str, path: str, data: bytes) -> models.Artifact:
        return self.artifacts.put(self.user, run_id, path, data)

    def list_artifacts(self, run_id: str) -> list[models.Artifact]:
        return self.artifacts.list(self.user, run_id)

    def get_artifact(self, run_id: str, path: str) -> bytes:
        file, _ = self.artifacts.open(self.user, run_id, path)
        return file.read_bytes()

    def log_dataset(self, run_id: str, spec: models.DatasetLog) -> models.DatasetInput:
        return self.tracking.log_dataset(self.user, run_id, spec)

    # --- comparison views (issue 5, compare) ---

    def compare(self, request: models.CompareRequest) -> models.CompareView:
        from workbench.reports.views import compare_payload

        return compare_payload(self.tracking, self.user, request)

    # --- saved reports and share links (issue 5) ---

    def _reports(self):
        from workbench.reports.service import Reports

        return Reports(self.store, self.tracking)

    def _shares(self):
        from workbench.tenancy.sharing import ShareLinks

        return ShareLinks(self.store, secret_path=self.settings.share_secret_path)

    def _public_url(self) -> str:
        if not self.settings.public_url:
            raise InvalidArgument("Share links need a Workbench server to open them: set WORKBENCH_PUBLIC_URL to "
                                  "the server's URL (one using this WORKBENCH_HOME), or share from a notebook "
                                  "running on the server.")
        return self.settings.public_url

    def create_report(self, spec: models.ReportCreate) -> models.Report:
        return self._reports().create(self.user, spec)

    def list_reports(self) -> list[models.ReportSummary]:
        return self._reports().list(self.user)

    def get_report(self, report_id: str) -> models.Report:
        return self._reports().get(self.user, report_id)

    def update_report(self, report_id: str, change: models.ReportUpdate) -> models.Report:
        return self._reports().update(self.user, report_id, change)

    def delete_report(self, report_id: str) -> None:
        self._reports().delete(self.user, report_id)

    def create_share(self, spec: models.ShareCreate) -> models.ShareLink:
        return self._shares().create(self.user, spec.report_id, expires_in=spec.expires_in,
                                     base_url=self._public_url())

    def list_shares(self) -> list[models.ShareLink]:
        return self._shares().list(self.user, base_url=self.settings.public_url or "/")

    def revoke_share(self, share: str) -> None:
        self._shares().revoke(self.user, share)


def _quote(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")


class HttpTransport:
    """Calls the REST API of a Workbench server with an API token."""

    def __init__(self, url: str, token: str | None, *, timeout: float = 30.0):
        import requests

        self.base = url.rstrip("/") + "/" + API_PREFIX
        self.timeout = timeout
        self.http = requests.Session()
        if token:
            self.http.headers["Authorization"] = f"token {token}"
        self.description = f"server {url}"

    def _call(self, method: str, path: str, body: BaseModel | None = None, *, data: bytes | None = None,
              params: dict | None = None, json_body: bool = False):
        import requests

        headers = {"Content-Type": "application/json"} if json_body else {}
        if body is not None:
            data = body.model_dump_json(by_alias=True).encode()
            headers["Content-Type"] = "application/json"
        try:
            resp = self.http.request(method, self.base + path, data=data, params=params, headers=headers,
                                     timeout=self.timeout)
        except requests.RequestException as exc:
            raise ServerUnavailable(f"Workbench server at {self.base} is unreachable: {exc}") from exc
        if resp.status_code >= 500:
            raise ServerUnavailable(f"Workbench server answered {resp.status_code}: {resp.text[:200]}")
        if resp.status_code >= 400:
            try:
                err = resp.json()
                cls = ERRORS_BY_CODE.get(err.get("error"), WorkbenchError)
                raise cls(err.get("message") or resp.reason)
            except ValueError:
                raise WorkbenchError(f"HTTP {resp.status_code}: {resp.text[:200]}") from None
        return resp

    def me(self) -> models.User:
        return models.User.model_validate_json(self._call("GET", "/me").content)

    def create_experiment(self, name: str, *, exist_ok: bool = False) -> models.Experiment:
        resp = self._call("POST", "/experiments", models.ExperimentCreate(name=name, exist_ok=exist_ok))
        return models.Experiment.model_validate_json(resp.content)

    def get_experiment(self, experiment_id: int) -> models.Experiment:
        return models.Experiment.model_validate_json(self._call("GET", f"/experiments/{int(experiment_id)}").content)

    def list_experiments(self) -> list[models.Experiment]:
        data = self._call("GET", "/experiments").json()
        return [models.Experiment.model_validate(e) for e in data["experiments"]]

    def create_run(self, spec: models.RunCreate) -> models.Run:
        return models.Run.model_validate_json(self._call("POST", "/runs", spec).content)

    def get_run(self, run_id: str) -> models.Run:
        return models.Run.model_validate_json(self._call("GET", f"/runs/{_quote(run_id)}").content)

    def update_run(self, run_id: str, change: models.RunUpdate) -> models.RunInfo:
        return models.RunInfo.model_validate_json(self._call("PATCH", f"/runs/{_quote(run_id)}", change).content)

    def delete_run(self, run_id: str) -> None:
        self._call("DELETE", f"/runs/{_quote(run_id)}")

    def log_batch(self, run_id: str, batch: models.PointBatch) -> None:
        self._call("POST", f"/runs/{_quote(run_id)}/log-batch", data=batch.to_json().encode(), json_body=True)

    def search_runs(self, query: models.RunsQuery) -> models.RunsPage:
        return models.RunsPage.model_validate_json(self._call("POST", "/runs/search", query).content)

    def get_metric_history(self, run_id: str, key: str) -> models.MetricHistory:
        resp = self._call("GET", f"/runs/{_quote(run_id)}/metric-history", params={"key": key})
        return models.MetricHistory.model_validate_json(resp.content)

    def get_metric_histories(self, run_ids: list[str], keys: list[str]) -> list[models.MetricSeries]:
        query = models.MetricHistoriesQuery(run_ids=run_ids, keys=keys)
        return models.MetricHistories.model_validate_json(self._call("POST", "/runs/metric-histories", query).content).series

    def get_environment(self, run_id: str) -> models.RunEnvironment:
        return models.RunEnvironment.model_validate_json(self._call("GET", f"/runs/{_quote(run_id)}/environment").content)

    def put_artifact(self, run_id: str, path: str, data: bytes) -> models.Artifact:
        quoted = "/".join(_quote(p) for p in path.split("/"))
        return models.Artifact.model_validate_json(self._call("PUT", f"/runs/{_quote(run_id)}/artifacts/{quoted}", data=data).content)

    def list_artifacts(self, run_id: str) -> list[models.Artifact]:
        data = self._call("GET", f"/runs/{_quote(run_id)}/artifacts").json()
        return [models.Artifact.model_validate(a) for a in data["artifacts"]]

    def get_artifact(self, run_id: str, path: str) -> bytes:
        quoted = "/".join(_quote(p) for p in path.split("/"))
        return self._call("GET", f"/runs/{_quote(run_id)}/artifacts/{quoted}").content

    def log_dataset(self, run_id: str, spec: models.DatasetLog) -> models.DatasetInput:
        return models.DatasetInput.model_validate_json(self._call("POST", f"/runs/{_quote(run_id)}/datasets", spec).content)

    # --- comparison views (issue 5, compare) ---

    def compare(self, request: models.CompareRequest) -> models.CompareView:
        return models.CompareView.model_validate_json(self._call("POST", "/compare", request).content)

    # --- saved reports and share links (issue 5) ---

    def create_report(self, spec: models.ReportCreate) -> models.Report:
        return models.Report.model_validate_json(self._call("POST", "/reports", spec).content)

    def list_reports(self) -> list[models.ReportSummary]:
        return models.ReportList.model_validate_json(self._call("GET", "/reports").content).reports

    def get_report(self, report_id: str) -> models.Report:
        return models.Report.model_validate_json(self._call("GET", f"/reports/{_quote(report_id)}").content)

    def update_report(self, report_id: str, change: models.ReportUpdate) -> models.Report:
        return models.Report.model_validate_json(self._call("PATCH", f"/reports/{_quote(report_id)}", change).content)

    def delete_report(self, report_id: str) -> None:
        self._call("DELETE", f"/reports/{_quote(report_id)}")

    def create_share(self, spec: models.ShareCreate) -> models.ShareLink:
        return models.ShareLink.model_validate_json(self._call("POST", "/shares", spec).content)

    def list_shares(self) -> list[models.ShareLink]:
        return models.ShareList.model_validate_json(self._call("GET", "/shares").content).shares

    def revoke_share(self, share: str) -> None:
        self._call("DELETE", f"/shares/{_quote(share)}")


_client: tuple[tuple, Transport] | None = None
_client_lock = threading.Lock()


def get_client() -> Transport:
    """The transport for the current settings (re-created when the settings change)."""
    global _client
    s = config.settings()
    key = (s.server_url, s.token) if s.server_url else (s.db_url, s.user, str(s.home))
    with _client_lock:
        if _client is None or _client[0] != key:
            transport: Transport = HttpTransport(s.server_url, s.token) if s.server_url else EmbeddedTransport(s)
            _client = (key, transport)
        return _client[1]


def reset_client() -> None:
    global _client
    with _client_lock:
        _client = None

