"""Experiments, runs and what is logged to them.

Every method takes the acting ``Principal`` and checks it itself: a user sees
the experiments they own and those of their teams, and a run is visible when
its experiment is. Anything else is reported as not found, so names of other
people's things never leak.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workbench import models
from workbench.clock import now_ms
from workbench.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from workbench.store import Store
from workbench.store.tables import (
    ArtifactRow,
    DatasetRow,
    ExperimentKeyRow,
    ExperimentRow,
    LatestMetricRow,
    MetricRow,
    ParamRow,
    RunDatasetRow,
    RunRow,
    TagRow,
    UserRow,
    metric_from_db,
    metric_to_db,
)
from workbench.store.upsert import bulk_insert, insert_ignore, upsert
from workbench.tenancy import Principal
from workbench.tracking import names, search, validation

_TERMINAL = {models.RunStatus.FINISHED, models.RunStatus.FAILED, models.RunStatus.KILLED}




class Tracking:
    """The tracking service. Stateless apart from the store it works on."""

    def __init__(self, store: Store):
        self.store = store

    # --- experiments -------------------------------------------------------------------------

    def _experiment_row(self, s: Session, user: Principal, experiment_id: int) -> ExperimentRow:
        row = s.get(ExperimentRow, experiment_id) if isinstance(experiment_id, int) else None
        if row is None or not user.can_see(row.owner_id, row.team_id):
            raise NotFound(f"No experiment with id {experiment_id!r} that you can see.")
        return row

    def _visible_experiment_ids(self, s: Session, user: Principal) -> list[int]:
        cond = ExperimentRow.owner_id == user.id
        if user.team_ids:
            cond = or_(cond, ExperimentRow.team_id.in_(user.team_ids))
        return list(s.scalars(select(ExperimentRow.id).where(cond)))

    def _experiment_model(self, s: Session, row: ExperimentRow, counts: tuple | None = None,
                          owner: str | None = None) -> models.Experiment:
        if counts is None:
            counts = s.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(case((RunRow.status == "RUNNING", 1), else_=0)), 0),
                    func.max(RunRow.start_time),
                ).where(RunRow.experiment_id == row.id)
            ).one()
        if owner is None:
            owner = s.scalar(select(UserRow.name).where(UserRow.id == row.owner_id)) or "?"
        return models.Experiment(
            id=row.id,
            name=row.name,
            owner=owner,
            created_at=row.created_at,
            run_count=int(counts[0] or 0),
            active_run_count=int(counts[1] or 0),
            last_run_at=counts[2],
        )

    def create_experiment(self, user: Principal, name: str, *, exist_ok: bool = False) -> models.Experiment:
        name = validation.check_name("experiment", name)
        with self.store.session() as s:
            existing = s.scalar(select(ExperimentRow).where(ExperimentRow.owner_id == user.id, ExperimentRow.name == name))
            if existing is not None:
                if exist_ok:
                    return self._experiment_model(s, existing)
                raise AlreadyExists(f"You already have an experiment named {name!r}.")
        try:
            with self.store.session() as s:
                row = ExperimentRow(name=name, owner_id=user.id, created_at=now_ms())
                s.add(row)
                s.flush()
                return self._experiment_model(s, row, (0, 0, None))
        except IntegrityError:
            if exist_ok:  # another process created it between our check and insert
                return self.get_experiment_by_name(user, name)
            raise AlreadyExists(f"You already have an experiment named {name!r}.") from None

    def get_experiment(self, user: Principal, experiment_id: int) -> models.Experiment:
        with self.store.session() as s:
            return self._experiment_model(s, self._experiment_row(s, user, experiment_id))

    def get_experiment_by_name(self, user: Principal, name: str) -> models.Experiment:
        with self.store.session() as s:
            row = s.scalar(select(ExperimentRow).where(ExperimentRow.owner_id == user.id, ExperimentRow.name == name))
            if row is None:
                raise NotFound(f"You have no experiment named {name!r}.")
            return self._experiment_model(s, row)

    def list_experiments(self, user: Principal) -> list[models.Experiment]:
        """Visible experiments, most recently active first."""
        with self.store.session() as s:
            ids = self._visible_experiment_ids(s, user)
            if not ids:
                return []
            counts = {
                eid: (n, active, last)
                for eid, n, active, last in s.execute(
                    select(
                        RunRow.experiment_id,
                        func.count(),
                        func.sum(case((RunRow.status == "RUNNING", 1), else_=0)),
                        func.max(RunRow.start_time),
                    )
                    .where(RunRow.experiment_id.in_(ids))
                    .group_by(RunRow.experiment_id)
                )
            }
            rows = s.scalars(select(ExperimentRow).where(ExperimentRow.id.in_(ids))).all()
            owners = dict(s.execute(select(UserRow.id, UserRow.name).where(
                UserRow.id.in_({r.owner_id for r in rows}))).all())
            result = [self._experiment_model(s, r, counts.get(r.id, (0, 0, None)), owners.get(r.owner_id, "?"))
                      for r in rows]
        result.sort(key=lambda e: (e.last_run_at or e.created_at), reverse=True)
        return result

    def delete_experiment(self, user: Principal, experiment_id: int) -> None:
        with self.store.session() as s:
            row = self._experiment_row(s, user, experiment_id)
            if row.owner_id != user.id:
                raise NotFound(f"No experiment with id {experiment_id!r} that you own.")
            run_ids = select(RunRow.id).where(RunRow.experiment_id == row.id).scalar_subquery()
            # Explicit deletes: SQLite only cascades with foreign_keys on, and bulk is faster anyway.
            for table in (MetricRow, LatestMetricRow, ParamRow, TagRow, RunDatasetRow, ArtifactRow):
                s.execute(delete(table).where(table.run_id.in_(run_ids)))
            s.execute(delete(RunRow).where(RunRow.experiment_id == row.id))
            s.execute(delete(ExperimentKeyRow).where(ExperimentKeyRow.experiment_id == row.id))
            s.delete(row)

    # --- runs --------------------------------------------------------------------------------

    def _run_row(self, s: Session, user: Principal, run_id: str) -> RunRow:
        row = s.get(RunRow, run_id) if isinstance(run_id, str) and len(run_id) <= 32 else None
        if row is not None:
            exp = s.get(ExperimentRow, row.experiment_id)
            if exp is not None and user.can_see(exp.owner_id, exp.team_id):
                return row
        raise NotFound(f"No run with id {run_id!r} that you can see.")

    def check_run(self, user: Principal, run_id: str) -> str:
        """``run_id`` if ``user`` can see that run; NotFound otherwise."""
        with self.store.session() as s:
            return self._run_row(s, user, run_id).id

    def create_run(self, user: Principal, spec: models.RunCreate) -> models.Run:
        """Start a run. With a client-chosen ``run_id``, creating it again returns it unchanged."""
        with self.store.session() as s:
            row = self._insert_run(s, user, spec)
            tags = dict(s.execute(select(TagRow.key, TagRow.value).where(TagRow.run_id == row.id)).all())
            return models.Run(info=self._info(row, user.name if row.owner_id == user.id else None, s),
                              data=models.RunData(tags=tags))

    def _insert_run(self, s: Session, user: Principal, spec: models.RunCreate) -> RunRow:
        tags = {validation.check_key("tag", k): validation.stringify("tag", k, v, validation.MAX_TAG_VALUE)
                for k, v in spec.tags.items()}
        exp = self._experiment_row(s, user, spec.experiment_id)
        if spec.run_id is not None:
            existing = s.get(RunRow, spec.run_id)
            if existing is not None:
                if existing.owner_id != user.id or existing.experiment_id != exp.id:
                    raise Conflict(f"Run id {spec.run_id} is already taken; let the SDK choose one.")
                return existing  # a retried create (its reply was lost): nothing to do
        env = spec.environment or models.RunEnvironment()
        now = now_ms()
        row = RunRow(
            id=spec.run_id or uuid.uuid4().hex,
            experiment_id=exp.id,
            owner_id=user.id,
            name=validation.check_name("run", spec.name) if spec.name else names.run_name(secrets.randbelow),
            status=models.RunStatus.RUNNING.value,
            start_time=spec.start_time or now,
            heartbeat_at=now,
            kernel_id=spec.kernel_id,
            notebook_path=env.notebook_path,
            git_commit=env.git_commit,
            python_version=env.python_version,
            packages=json.dumps(env.packages, sort_keys=True) if env.packages else None,
            source=env.source,
        )
        s.add(row)
        s.flush()
        if tags:
            s.execute(TagRow.__table__.insert(),
                      [{"run_id": row.id, "key": k, "value": v, "experiment_id": exp.id} for k, v in tags.items()])
            self._remember_keys(s, exp.id, "tag", tags)
        return row

    def _info(self, row: RunRow, user_name: str | None, s: Session) -> models.RunInfo:
        if user_name is None:
            user_name = s.scalar(select(UserRow.name).where(UserRow.id == row.owner_id)) or "?"
        return search.run_info(row, user_name)

    def get_run(self, user: Principal, run_id: str) -> models.Run:
        with self.store.session() as s:
            row = self._run_row(s, user, run_id)
            run = search.assemble_runs(s, [row])[0]
            run.datasets = self._datasets(s, row.id)
            return run

    def update_run(self, user: Principal, run_id: str, change: models.RunUpdate) -> models.RunInfo:
        with self.store.session() as s:
            row = self._run_row(s, user, run_id)
            self._apply_update(row, change)
            return self._info(row, None, s)

    @staticmethod
    def _apply_update(row: RunRow, change: models.RunUpdate) -> None:
        if change.name is not None:
            row.name = validation.check_name("run", change.name)
        if change.status is not None:
            row.status = change.status.value
            if change.status in _TERMINAL:
                row.end_time = next(t for t in (change.end_time, row.end_time, now_ms()) if t is not None)
            else:
                row.end_time = None
                row.heartbeat_at = now_ms()
        elif change.end_time is not None:
            row.end_time = change.end_time
        if row.end_time is not None and row.end_time < row.start_time:
            raise InvalidArgument(f"end_time {row.end_time} is before the run's start_time {row.start_time}.")

    def delete_run(self, user: Principal, run_id: str) -> None:
        with self.store.session() as s:
            row = self._run_row(s, user, run_id)
            for table in (MetricRow, LatestMetricRow, ParamRow, TagRow, RunDatasetRow, ArtifactRow):
                s.execute(delete(table).where(table.run_id == row.id))
            s.delete(row)

    def get_environment(self, user: Principal, run_id: str) -> models.RunEnvironment:
        with self.store.session() as s:
            row = self._run_row(s, user, run_id)
            return models.RunEnvironment(
                notebook_path=row.notebook_path,
                git_commit=row.git_commit,
                python_version=row.python_version,
                packages=json.loads(row.packages) if row.packages else {},
                source=row.source,
            )

    # --- logging -----------------------------------------------------------------------------

    def log_batch(self, user: Principal, run_id: str, batch: models.LogBatch) -> None:
        """Store a batch atomically: all of it or, on any error, none of it."""
        self.log_points(user, run_id, models.PointBatch.from_model(batch))

    def log_points(self, user: Principal, run_id: str, batch: models.PointBatch) -> None:
        """``log_batch`` on the in-process form: checked per key and per value, stored in bulk."""
        params: dict[str, str] = {}
        for key, value in batch.params:
            validation.check_key("param", key)
            value = validation.stringify("param", key, value, validation.MAX_PARAM_VALUE)
            if params.get(key, value) != value:
                raise Conflict(f"Param {key!r} is given two values in one batch ({params[key]!r}, {value!r}).")
            params[key] = value
        tags = {validation.check_key("tag", k): validation.stringify("tag", k, v, validation.MAX_TAG_VALUE)
                for k, v in batch.tags}
        keys_seen: set[str] = set()
        for key, value, step, ts in batch.metrics:
            if key not in keys_seen:  # a batch repeats few keys many times: check each once
                validation.check_key("metric", key)
                keys_seen.add(key)
            if type(value) is not float:
                validation.check_metric_value(key, value)
            if type(step) is not int or not -(2**63) < step < 2**63:
                validation.check_step(key, step)
            if type(ts) is not int or ts < 0:
                validation.check_timestamp(key, ts)

        if batch.create is not None and batch.create.run_id != run_id:
            raise InvalidArgument(f"This batch creates run {batch.create.run_id!r} but is sent to run {run_id!r}.")
        with self.store.session() as s:
            row = self._insert_run(s, user, batch.create) if batch.create else self._run_row(s, user, run_id)
            exp_id = row.experiment_id
            if params:
                self._log_params(s, row.id, exp_id, params)
            if tags:
                upsert(s, TagRow.__table__, [{"run_id": row.id, "key": k, "value": v, "experiment_id": exp_id}
                                             for k, v in tags.items()], ("run_id", "key"), ("value",))
                self._remember_keys(s, exp_id, "tag", tags)
            if batch.metrics:
                self._log_metrics(s, row.id, exp_id, batch.metrics)
            if batch.heartbeat or batch.metrics or params or tags:
                row.heartbeat_at = now_ms()
            if batch.end is not None:
                self._apply_update(row, models.RunUpdate(status=batch.end[0], end_time=batch.end[1]))

    def _log_params(self, s: Session, run_id: str, exp_id: int, params: dict[str, str]) -> None:
        existing = dict(s.execute(select(ParamRow.key, ParamRow.value).where(
            ParamRow.run_id == run_id, ParamRow.key.in_(params))).all())
        for key, value in params.items():
            if key in existing and existing[key] != value:
                raise Conflict(
                    f"Param {key!r} of run {run_id} is already {existing[key]!r}; params cannot change. "
                    "Start a new run, or record changing values as a tag or a metric."
                )
        new = [{"run_id": run_id, "key": k, "value": v, "experiment_id": exp_id}
               for k, v in params.items() if k not in existing]
        if new:
            s.execute(ParamRow.__table__.insert(), new)
            self._remember_keys(s, exp_id, "param", params)

    def _log_metrics(self, s: Session, run_id: str, exp_id: int, points: list[tuple[str, float, int, int]]) -> None:
        bulk_insert(s, MetricRow.__table__, ("run_id", "key", "value", "step", "timestamp"),
                    [(run_id, k, metric_to_db(v), st, ts) for k, v, st, ts in points])
        latest: dict[str, tuple[str, float, int, int]] = {}
        for p in points:
            best = latest.get(p[0])
            if best is None or (p[2], p[3]) >= (best[2], best[3]):
                latest[p[0]] = p
        table = LatestMetricRow.__table__
        upsert(
            s,
            table,
            [{"run_id": run_id, "key": k, "value": metric_to_db(v), "step": st, "timestamp": ts, "experiment_id": exp_id}
             for k, v, st, ts in latest.values()],
            ("run_id", "key"),
            ("value", "step", "timestamp"),
            # Only move forward: a late batch of old steps must not replace a newer value.
            only_if=lambda excluded: or_(
                excluded.step > table.c.step,
                (excluded.step == table.c.step) & (excluded.timestamp >= table.c.timestamp),
            ),
        )
        self._remember_keys(s, exp_id, "metric", latest)

    def _remember_keys(self, s: Session, exp_id: int, kind: str, keys: Iterable[str]) -> None:
        insert_ignore(s, ExperimentKeyRow.__table__,
                      [{"experiment_id": exp_id, "kind": kind, "key": k} for k in keys])

    def get_metric_history(self, user: Principal, run_id: str, key: str) -> models.MetricHistory:
        with self.store.session() as s:
            row = self._run_row(s, user, run_id)
            points = s.execute(
                select(MetricRow.value, MetricRow.step, MetricRow.timestamp)
                .where(MetricRow.run_id == row.id, MetricRow.key == key)
                .order_by(MetricRow.step, MetricRow.timestamp, MetricRow.id)
            ).all()
        return models.MetricHistory(
            run_id=run_id,
            key=key,
            points=[models.MetricPoint(key=key, value=metric_from_db(v), step=st, timestamp=ts) for v, st, ts in points],
        )

    def _visible_run_ids(self, s: Session, user: Principal, run_ids: Sequence[str]) -> list[str]:
        """``run_ids`` (deduplicated, in order) after one permission query; NotFound names the first unseen."""
        wanted = list(dict.fromkeys(run_ids))
        seen = set(self._readable(s, user, wanted))
        missing = next((r for r in wanted if r not in seen), None)
        if missing is not None:
            raise NotFound(f"No run with id {missing!r} that you can see.")
        return wanted

    @staticmethod
    def _readable(s: Session, user: Principal, wanted: list[str]) -> list[str]:
        cond = ExperimentRow.owner_id == user.id
        if user.team_ids:
            cond = or_(cond, ExperimentRow.team_id.in_(user.team_ids))
        seen: set[str] = set()
        for start in range(0, len(wanted), 900):
            seen.update(s.scalars(select(RunRow.id).join(ExperimentRow, ExperimentRow.id == RunRow.experiment_id)
                                  .where(RunRow.id.in_(wanted[start:start + 900]), cond)))
        return [r for r in wanted if r in seen]

    def readable_run_ids(self, user: Principal, run_ids: Sequence[str]) -> list[str]:
        """The runs of ``run_ids`` that ``user`` can read (deduplicated, in order); the others are
        dropped silently (a saved report whose runs were deleted or are no longer shared)."""
        with self.store.session() as s:
            return self._readable(s, user, list(dict.fromkeys(run_ids)))

    def get_metric_histories(self, user: Principal, run_ids: Sequence[str],
                             keys: Sequence[str] | None = None) -> list[models.MetricSeries]:
        """Histories of many runs in one go, as columns (compare views, ``wb.get_metric_history([...])``)."""
        out: dict[tuple[str, str], tuple[list, list, list]] = {}
        with self.store.session() as s:
            visible = self._visible_run_ids(s, user, run_ids)
            for chunk_start in range(0, len(visible), 500):
                chunk = visible[chunk_start:chunk_start + 500]
                stmt = select(MetricRow.run_id, MetricRow.key, MetricRow.value, MetricRow.step,
                              MetricRow.timestamp).where(MetricRow.run_id.in_(chunk))
                if keys:
                    stmt = stmt.where(MetricRow.key.in_(list(keys)))
                stmt = stmt.order_by(MetricRow.run_id, MetricRow.key, MetricRow.step, MetricRow.timestamp, MetricRow.id)
                for rid, key, v, st, ts in s.execute(stmt):
                    cols = out.get((rid, key))
                    if cols is None:
                        cols = out[(rid, key)] = ([], [], [])
                    cols[0].append(st)
                    cols[1].append(metric_from_db(v))
                    cols[2].append(ts)
        order = {rid: i for i, rid in enumerate(visible)}
        return [models.MetricSeries.model_construct(run_id=rid, key=key, steps=c[0], values=c[1], timestamps=c[2])
                for (rid, key), c in sorted(out.items(), key=lambda item: (order[item[0][0]], item[0][1]))]


    # --- many runs at once (compare views, issue 5) ---------------------------------------------

    THIN_ABOVE = 3
    """``get_metric_columns`` reads every point up to this many times ``thin_to`` (fast enough to let
    the caller keep each bucket's extremes), and thins in the database beyond."""

    def get_runs(self, user: Principal, run_ids: Sequence[str]) -> list[models.Run]:
        """Runs with their params, latest metrics and tags, in the order given (repeats dropped).

        Four queries per 900 runs, read straight off the cursor (10,000 runs in a compare view);
        NotFound names the first id ``user`` cannot see.

        Example:
            >>> [r.info.name for r in tracking.get_runs(alice, [run_a, run_b])]
        """
        with self.store.session() as s:
            visible = self._visible_run_ids(s, user, run_ids)
            rows: dict[str, tuple] = {}
            data = {rid: models.RunData.model_construct(params={}, metrics={}, tags={}) for rid in visible}
            for start in range(0, len(visible), 900):
                chunk = visible[start:start + 900]
                rows.update((r[0], r) for r in _raw_rows(s, select(
                    RunRow.id, RunRow.experiment_id, RunRow.name, RunRow.status, RunRow.start_time, RunRow.end_time,
                    RunRow.owner_id, RunRow.notebook_path, RunRow.git_commit, RunRow.kernel_id,
                ).where(RunRow.id.in_(chunk))))
                for rid, k, v in _raw_rows(s, select(ParamRow.run_id, ParamRow.key, ParamRow.value)
                                           .where(ParamRow.run_id.in_(chunk))):
                    data[rid].params[k] = v
                for rid, k, v in _raw_rows(s, select(LatestMetricRow.run_id, LatestMetricRow.key, LatestMetricRow.value)
                                           .where(LatestMetricRow.run_id.in_(chunk))):
                    data[rid].metrics[k] = metric_from_db(v)
                for rid, k, v in _raw_rows(s, select(TagRow.run_id, TagRow.key, TagRow.value)
                                           .where(TagRow.run_id.in_(chunk))):
                    data[rid].tags[k] = v
            owners = dict(s.execute(select(UserRow.id, UserRow.name)
                                    .where(UserRow.id.in_({r[6] for r in rows.values()}))).all())
        out = []
        for rid in visible:
            _, exp_id, name, status, start, end, owner, notebook, commit, kernel = rows[rid]
            info = models.RunInfo.model_construct(
                run_id=rid, experiment_id=exp_id, name=name, status=models.RunStatus(status), start_time=start,
                end_time=end, user=owners.get(owner, "?"), notebook_path=notebook, git_commit=commit, kernel_id=kernel)
            out.append(models.Run.model_construct(info=info, data=data[rid], datasets=[]))
        return out

    def get_metric_columns(self, user: Principal, run_ids: Sequence[str], keys: Sequence[str], *,
                           thin_to: int | None = None) -> models.MetricColumns:
        """The points of metrics ``keys`` of many runs as flat columns, curve by curve in the order of
        ``run_ids``, steps ascending.

        Millions of points (10,000 runs x 3 metrics x 100 steps) are read straight off the database
        cursor, a few queries per 500 runs: no object per point. With ``thin_to``, when the curves
        hold more than ``THIN_ABOVE`` times that many points, each curve longer than its share
        (``thin_to`` / number of curves) is thinned in the database to about its share, evenly by
        step, its first and last points kept. Below that every point comes back, and the caller
        downsamples keeping extremes (``workbench.reports.compare`` does).

        Example:
            >>> cols = tracking.get_metric_columns(alice, run_ids, ["loss"], thin_to=300_000)
            >>> cols.curves[0], cols.total_points
            (('9f1c...', 'loss', 100), 100)
        """
        out = models.MetricColumns()
        if not keys:
            return out
        key_list = sorted(set(keys))
        with self.store.session() as s:
            visible = self._visible_run_ids(s, user, run_ids)
            order = {rid: i for i, rid in enumerate(visible)}
            chunks = [visible[i:i + 500] for i in range(0, len(visible), 500)]
            # (run_id, key, points, first step, last step) of each curve, read from the index alone.
            stats = [_raw_rows(s, select(MetricRow.run_id, MetricRow.key, func.count(), func.min(MetricRow.step),
                                         func.max(MetricRow.step))
                               .where(MetricRow.run_id.in_(chunk), MetricRow.key.in_(key_list))
                               .group_by(MetricRow.run_id, MetricRow.key).order_by(MetricRow.run_id, MetricRow.key))
                     for chunk in chunks]
            out.total_points = sum(c[2] for curves in stats for c in curves)
            share = None
            if thin_to is not None and out.total_points > self.THIN_ABOVE * thin_to:
                share = max(2, thin_to // max(1, sum(map(len, stats))))
            for chunk, curves in zip(chunks, stats, strict=True):
                if share is not None and any(c[2] > share for c in curves):
                    found = self._thinned_curves(s, curves, share)
                    curves = [(rid, key, len(found[(rid, key)])) for rid, key, *_ in curves]
                    points = [p for rid, key, _n in curves for p in found[(rid, key)]]
                else:
                    # In the order of the stats, read from the (run_id, key, step) index without a sort.
                    points = _raw_rows(s, select(MetricRow.step, MetricRow.value, MetricRow.timestamp)
                                       .where(MetricRow.run_id.in_(chunk), MetricRow.key.in_(key_list))
                                       .order_by(MetricRow.run_id, MetricRow.key, MetricRow.step))
                # Curves come back sorted by run id: put them in the caller's order, their points along.
                offsets, at = [], 0
                for c in curves:
                    offsets.append(at)
                    at += c[2]
                for i in sorted(range(len(curves)), key=lambda i: order[curves[i][0]]):
                    rid, key, n = curves[i][:3]
                    out.curves.append((rid, key, n))
                    out.points.extend(points[offsets[i]:offsets[i] + n])
        return out

    @staticmethod
    def _thinned_curves(s: Session, curves: list[tuple], share: int) -> dict[tuple[str, str], list[tuple]]:
        """Points of these curves, those longer than ``share`` thinned to every k-th step, first and last kept."""
        whole: dict[str, list[str]] = {}
        strided: dict[tuple[str, int, int, int], list[str]] = {}
        for rid, key, n, first, last in curves:
            span = last - first
            if n <= share or n < 2 or span % (n - 1):
                whole.setdefault(key, []).append(rid)  # short, or steps not evenly spaced
            else:
                every = -(-(n - 1) // (share - 1))  # ceil: at most ``share`` points
                strided.setdefault((key, first, last, every * (span // (n - 1))), []).append(rid)
        conds = [(MetricRow.key == key) & MetricRow.run_id.in_(rids) for key, rids in whole.items()]
        conds += [(MetricRow.key == key) & MetricRow.run_id.in_(rids)
                  & (((MetricRow.step - first) % stride == 0) | (MetricRow.step == last))
                  for (key, first, last, stride), rids in strided.items()]
        found: dict[tuple[str, str], list[tuple]] = {(c[0], c[1]): [] for c in curves}
        for rid, key, st, v, ts in _raw_rows(s, select(MetricRow.run_id, MetricRow.key, MetricRow.step, MetricRow.value,
                                                        MetricRow.timestamp).where(or_(*conds))):
            found[(rid, key)].append((st, v, ts))
        for points in found.values():
            points.sort(key=lambda p: p[0])
        return found

    # --- search ------------------------------------------------------------------------------

    def search_runs(self, user: Principal, query: models.RunsQuery) -> models.RunsPage:
        """A page of runs (the runs table, ``wb.search_runs``): see ``workbench.tracking.search``."""
        with self.store.session() as s:
            if query.experiment_ids:
                exp_ids = [self._experiment_row(s, user, e).id for e in dict.fromkeys(query.experiment_ids)]
            else:
                exp_ids = self._visible_experiment_ids(s, user)
        return search.search_runs(self.store, exp_ids, query)

    # --- datasets ----------------------------------------------------------------------------

    def log_dataset(self, user: Principal, run_id: str, spec: models.DatasetLog) -> models.DatasetInput:
        name = validation.check_name("dataset", spec.name)
        if not spec.digest or len(spec.digest) > 64:
            raise InvalidArgument("A dataset digest is 1-64 characters (the SDK computes it from the content).")
        with self.store.session() as s:
            run = self._run_row(s, user, run_id)
            ds = s.scalar(select(DatasetRow).where(
                DatasetRow.owner_id == run.owner_id, DatasetRow.name == name, DatasetRow.digest == spec.digest))
            if ds is None:
                version = (s.scalar(select(func.max(DatasetRow.version)).where(
                    DatasetRow.owner_id == run.owner_id, DatasetRow.name == name)) or 0) + 1
                ds = DatasetRow(owner_id=run.owner_id, name=name, digest=spec.digest, version=version,
                                num_rows=spec.num_rows, num_columns=spec.num_columns,
                                schema_json=json.dumps(spec.schema_), source=spec.source, created_at=now_ms())
                s.add(ds)
                s.flush()
            context = spec.context or ""
            if s.get(RunDatasetRow, (run.id, ds.id, context)) is None:
                s.add(RunDatasetRow(run_id=run.id, dataset_id=ds.id, context=context))
            return self._dataset_model(ds, context)

    @staticmethod
    def _dataset_model(ds: DatasetRow, context: str) -> models.DatasetInput:
        return models.DatasetInput(name=ds.name, digest=ds.digest, version=ds.version, num_rows=ds.num_rows,
                                   num_columns=ds.num_columns, schema=json.loads(ds.schema_json), source=ds.source,
                                   context=context or None)

    def _datasets(self, s: Session, run_id: str) -> list[models.DatasetInput]:
        rows = s.execute(select(DatasetRow, RunDatasetRow.context).join(
            RunDatasetRow, RunDatasetRow.dataset_id == DatasetRow.id).where(RunDatasetRow.run_id == run_id)
            .order_by(DatasetRow.name, DatasetRow.version)).all()
        return [self._dataset_model(ds, ctx) for ds, ctx in rows]

    # --- liveness ----------------------------------------------------------------------------

    def fail_stale_runs(self, *, timeout_ms: int) -> int:
        """Mark RUNNING runs that stopped sending heartbeats as FAILED (their kernel died)."""
        cutoff = now_ms() - timeout_ms
        with self.store.session() as s:
            result = s.execute(
                update(RunRow)
                .where(RunRow.status == "RUNNING", func.coalesce(RunRow.heartbeat_at, RunRow.start_time) < cutoff)
                .values(status="FAILED", end_time=func.coalesce(RunRow.heartbeat_at, RunRow.start_time))
            )
            return result.rowcount or 0

    def fail_kernel_runs(self, kernel_id: str) -> int:
        """Mark the RUNNING runs of a kernel that died, restarted or shut down as FAILED."""
        with self.store.session() as s:
            result = s.execute(
                update(RunRow)
                .where(RunRow.status == "RUNNING", RunRow.kernel_id == kernel_id)
                .values(status="FAILED", end_time=now_ms())
            )
            return result.rowcount or 0


def _raw_rows(s: Session, stmt) -> list[tuple]:
    """The rows of a Core SELECT as plain tuples from the DBAPI cursor, in this session's transaction.

    For millions of metric points: SQLAlchemy's per-row processing would triple the time.
    """
    conn = s.connection()
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup)
    cursor = conn.connection.cursor()
    try:
        cursor.execute(compiled.string, params)
        return cursor.fetchall()
    finally:
        cursor.close()
