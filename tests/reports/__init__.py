"""Tests of the compare views (issue 5). ``log_run`` logs a run through the real Tracking service."""

from __future__ import annotations

from workbench import models

T0 = 1_700_000_000_000


def log_run(tracking, user, experiment: str, name: str, *, params=None, tags=None, metrics=None,
            start_time: int = T0, step_ms: int = 1000):
    """A finished run of ``user`` in ``experiment`` (created if new). ``metrics`` maps a key to its
    values by step (0, 1, 2, ...), or to a list of (step, value) pairs; point ``i`` is logged
    ``i * step_ms`` after ``start_time``."""
    exp = tracking.create_experiment(user, experiment, exist_ok=True)
    run = tracking.create_run(user, models.RunCreate(experiment_id=exp.id, name=name, start_time=start_time))
    points = []
    for key, values in (metrics or {}).items():
        pairs = [(i, v) for i, v in enumerate(values)] if values and not isinstance(values[0], tuple) else values
        points += [(key, float(v), int(st), start_time + i * step_ms) for i, (st, v) in enumerate(pairs)]
    batch = models.PointBatch(metrics=points, params=list((params or {}).items()), tags=list((tags or {}).items()),
                              end=(models.RunStatus.FINISHED, start_time + 10 ** 6))
    tracking.log_points(user, run.info.run_id, batch)
    return run.info.run_id
