"""Background sending of logged params, tags and metrics.

``log_metric`` and friends only append to an in-memory queue (microseconds); one
daemon thread drains it in batches, one request per run per round. When the
server is unreachable the thread warns once, keeps everything in order and
retries with back-off. ``flush`` (called by ``end_run`` and at exit) waits until
every queued item is stored. If the server is still down when the process
exits, what is left is written to a spool file in the data dir and sent by the
next process that logs (or ``workbench sync``): nothing acknowledged is lost.
"""

from __future__ import annotations

import json
import os
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable
from pathlib import Path

from workbench import models
from workbench.errors import WorkbenchError

MAX_POINTS_PER_REQUEST = 20_000
HEARTBEAT_EVERY_S = 30.0


class LoggingWarning(UserWarning):
    """Logging is delayed (server unreachable) or was spooled to disk."""


def _warn(message: str) -> None:
    # The sender thread must survive whatever the warning filters do (e.g. "error").
    try:
        warnings.warn(message, LoggingWarning, stacklevel=2)
    except Warning:
        pass


class Batcher:
    def __init__(self, transport_factory: Callable[[], object], spool_dir: Path | Callable[[], Path], *,
                 interval_s: float = 0.1):
        self._transport_factory = transport_factory
        self._spool_dir_of = spool_dir if callable(spool_dir) else (lambda: spool_dir)
        self._interval = interval_s
        self._cond = threading.Condition()
        self._queue: deque[tuple[str, str, tuple]] = deque()  # (run_id, kind, payload)
        self._in_flight = 0
        self._errors: dict[str, WorkbenchError] = {}
        self._active_runs: set[str] = set()
        self._last_sent: dict[str, float] = {}
        self._outage_since: float | None = None
        self._stop = False
        self._thread: threading.Thread | None = None

    # --- called by the notebook's thread(s) ---------------------------------------------------

    def add(self, run_id: str, kind: str, payload: tuple) -> None:
        # deque.append is atomic: no lock on the hot path. The sender wakes every interval,
        # or at once when a full request's worth is waiting.
        self._queue.append((run_id, kind, payload))
        if self._thread is None or len(self._queue) >= MAX_POINTS_PER_REQUEST:
            with self._cond:
                self._ensure_thread()
                self._cond.notify()

    def watch(self, run_id: str) -> None:
        """Send heartbeats for ``run_id`` until ``unwatch`` (so a dead kernel's run is marked failed)."""
        with self._cond:
            self._active_runs.add(run_id)
            self._last_sent[run_id] = time.monotonic()
            self._ensure_thread()

    def unwatch(self, run_id: str) -> None:
        with self._cond:
            self._active_runs.discard(run_id)
            self._last_sent.pop(run_id, None)

    def flush(self, run_id: str | None = None, *, timeout: float | None = None) -> None:
        """Wait until everything queued so far is stored; raise a server's rejection of it."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            self._cond.notify_all()
            while self._queue or self._in_flight:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise TimeoutError(f"{len(self._queue)} logged items are still waiting for the server.")
                self._cond.wait(remaining if remaining is not None else 1.0)
            error = self._errors.pop(run_id, None) if run_id else (self._errors.popitem()[1] if self._errors else None)
        if error is not None:
            raise error

    def pending(self) -> int:
        with self._cond:
            return len(self._queue) + self._in_flight

    def close(self, *, timeout: float = 10.0) -> None:
        """At exit: flush for up to ``timeout`` seconds, spool the rest to disk."""
        try:
            self.flush(timeout=timeout)
        except TimeoutError:
            self._spool_remaining()
        except WorkbenchError:
            pass
        with self._cond:
            self._stop = True
            self._cond.notify_all()

    # --- the sender thread ----------------------------------------------------------------------

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="workbench-logger", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        self._replay_spool()
        backoff = 0.5
        while True:
            with self._cond:
                if not self._queue and not self._stop:
                    self._cond.wait(self._interval)
                if self._stop and not self._queue:
                    return
                items = []
                while self._queue and len(items) < MAX_POINTS_PER_REQUEST:
                    items.append(self._queue.popleft())
                self._in_flight = len(items)
                heartbeats = [r for r in self._active_runs
                              if time.monotonic() - self._last_sent.get(r, 0) > HEARTBEAT_EVERY_S]
            batches = _group(items)
            for run_id in heartbeats:
                batches.setdefault(run_id, models.PointBatch()).heartbeat = True
            try:
                self._send(batches)
                backoff = 0.5
                unsent, failed = [], False
            except _Retry as retry:
                unsent, failed = [it for it in items if it[0] not in retry.stored], True
            except Exception as exc:  # noqa: BLE001 - the sender must outlive any one bad round
                _warn(f"Workbench logging hit an unexpected error ({exc!r}); retrying.")
                unsent, failed = items, True
            with self._cond:
                # Put what was not stored back in front, in order, and wait before retrying.
                self._queue.extendleft(reversed(unsent))
                self._in_flight = 0
                self._cond.notify_all()
            if failed:
                time.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    def _send(self, batches: dict[str, models.PointBatch]) -> None:
        from workbench.client import ServerUnavailable

        if not batches:
            return
        transport = self._transport_factory()
        sent = []
        for run_id, batch in batches.items():
            try:
                transport.log_batch(run_id, batch)
            except ServerUnavailable as exc:
                if self._outage_since is None:
                    self._outage_since = time.monotonic()
                    _warn(f"Workbench logging is delayed: {exc}. Logged values are kept and retried; "
                          "nothing is lost.")
                # Batches already stored must not be sent twice.
                raise _Retry(set(sent)) from exc
            except WorkbenchError as exc:  # rejected for good: report it at the run's next flush
                with self._cond:
                    self._errors[run_id] = exc
            sent.append(run_id)
            self._last_sent[run_id] = time.monotonic()
        if self._outage_since is not None:
            _warn("Workbench logging resumed; every delayed value was stored.")
            self._outage_since = None

    # --- spool ------------------------------------------------------------------------------------

    def _spool_remaining(self) -> None:
        with self._cond:
            items = list(self._queue)
            self._queue.clear()
        if not items:
            return
        spool_dir = self._spool_dir_of()
        spool_dir.mkdir(parents=True, exist_ok=True)
        path = spool_dir / f"{time.time_ns()}-{os.getpid()}.json"
        batches = {rid: json.loads(b.to_json()) for rid, b in _group(items).items()}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(batches))
        os.replace(tmp, path)
        _warn(f"Workbench server unreachable at exit: {len(items)} logged values saved to {path}; "
              "they are sent the next time you log, or with `workbench sync`.")

    def _replay_spool(self) -> None:
        try:
            replay_spool(self._spool_dir_of(), self._transport_factory, quiet=True)
        except Exception as exc:  # noqa: BLE001 - a bad spool file must not stop live logging
            _warn(f"Could not replay spooled logging ({exc!r}); `workbench sync` retries it.")


def replay_spool(spool_dir: Path, transport_factory: Callable[[], object], *, quiet: bool = False) -> int:
    """Send spooled batches; delete each file once stored. Returns the number of files sent."""
    if not spool_dir.is_dir():
        return 0
    sent = 0
    for path in sorted(spool_dir.glob("*.json")):
        try:
            batches = json.loads(path.read_text())
            transport = transport_factory()
            for run_id, batch in batches.items():
                transport.log_batch(run_id, models.PointBatch.from_model(models.LogBatch.model_validate(batch)))
        except WorkbenchError:
            if quiet:
                return sent
            raise
        path.unlink()
        sent += 1
    return sent


class _Retry(Exception):
    def __init__(self, stored: set[str]):
        super().__init__()
        self.stored = stored


def _group(items: list[tuple[str, str, tuple]]) -> dict[str, models.PointBatch]:
    batches: dict[str, models.PointBatch] = {}
    for run_id, kind, payload in items:
        batch = batches.get(run_id)
        if batch is None:
            batch = batches[run_id] = models.PointBatch()
        if kind == "metric":
            batch.metrics.append(payload)
        elif kind == "param":
            batch.params.append(payload)
        elif kind == "tag":
            batch.tags.append(payload)
        elif kind == "create":  # always the first item of its run
            batch.create = payload
        else:  # "end": the run's final status, stored after everything queued before it
            batch.end = payload
    return batches
