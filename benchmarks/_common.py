"""Helpers shared by the benchmark scripts: a live Workbench server, worker
subprocesses, timing and the printed table.

Benchmarks run each backend's workload in a fresh subprocess of the script
itself, so module state, caches and background threads never leak from one
backend into the next; the parent only starts things and prints.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHONPATH = os.pathsep.join(str(REPO / p) for p in ("", "server_extension", "kernels"))
WORKER_TIMEOUT_S = 900


def bench_env(**overrides: str | None) -> dict[str, str]:
    """This process's environment with the repository importable, without any Workbench
    settings of the caller's own (those would point the SDK at the user's real data)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    inherited = os.environ.get("PYTHONPATH")
    env["PYTHONPATH"] = PYTHONPATH + (os.pathsep + inherited if inherited else "")
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class WorkbenchServer:
    """A real Jupyter server with the Workbench extension on a free port, Jupyter token auth on."""

    def __init__(self, root: Path, home: Path):
        self.root = root
        self.home = home
        self.port = free_port()
        self.token = secrets.token_hex(24)
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = root / "jupyter-server.log"
        self._proc: subprocess.Popen | None = None

    def start(self, *, timeout_s: float = 120.0) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable, "-m", "jupyter", "server", "--allow-root", "--no-browser",
            f"--port={self.port}", "--ServerApp.ip=127.0.0.1",
            "--ServerApp.jpserver_extensions={'workbench_server': True}",
            "--ServerApp.identity_provider_class=workbench_server.auth.WorkbenchIdentityProvider",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
        ]
        env = bench_env(WORKBENCH_HOME=str(self.home), JUPYTER_CONFIG_DIR=str(self.root / "jupyter-config"),
                        JUPYTER_RUNTIME_DIR=str(self.root / "jupyter-runtime"))
        log = self.log_path.open("wb")
        self._proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.root)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"Jupyter server exited with {self._proc.returncode}; see {self.log_path}")
            try:
                req = urllib.request.Request(self.url + "workbench/api/v1/me",
                                             headers={"Authorization": f"token {self.token}"})
                with urllib.request.urlopen(req, timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"Jupyter server did not answer within {timeout_s:.0f} s; see {self.log_path}")

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.home / 'workbench.db'}"

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None


def run_worker(script: Path, args: Sequence[str], env: dict[str, str], out: Path, *, cwd: Path) -> dict:
    """Run ``script --worker ...`` in a fresh interpreter; its JSON result, or an error record."""
    cmd = [sys.executable, str(script), *args, "--out", str(out)]
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=WORKER_TIMEOUT_S, cwd=cwd,
                          check=False)
    wall = time.perf_counter() - started
    if proc.returncode != 0 or not out.exists():
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-15:]
        return {"error": f"worker {' '.join(args)} failed ({proc.returncode}):\n  " + "\n  ".join(tail),
                "wall_s": wall}
    result = json.loads(out.read_text())
    result["wall_s"] = wall
    return result


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def repeat(
    fn: Callable[[], object], *, times: int, warmup: int = 0, budget_s: float | None = None
) -> tuple[list[float], object]:
    """Seconds of each of ``times`` calls after ``warmup`` untimed ones, and the last call's value.

    Past ``budget_s`` of calls it stops early; a warm-up call that alone takes longer than the
    budget is kept as the only sample (at that scale warming up changes nothing)."""
    value: object = None
    for _ in range(warmup):
        seconds, value = timed(fn)
        if budget_s is not None and seconds > budget_s:
            return [seconds], value
    samples: list[float] = []
    for _ in range(times):
        seconds, value = timed(fn)
        samples.append(seconds)
        if budget_s is not None and sum(samples) > budget_s:
            break
    return samples, value


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms" if seconds < 0.1 else f"{seconds * 1e3:.0f} ms"
    return f"{seconds * 1e6:.1f} µs"


def fmt_ratio(reference: float | None, ours: float | None) -> str:
    if not reference or not ours:
        return "-"
    ratio = reference / ours
    return f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:.1f}x"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table (readable as printed text too)."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    sep = "| " + " | ".join("-" * w for w in widths) + " |"
    return "\n".join([line(header), sep, *(line(r) for r in rows)])


def print_outcome(text: str, check_lines: Sequence[str], goals: Sequence[tuple[str, str, bool | None]],
                  started: float) -> float:
    """Print the results table, the data checks and the goals (PASS/MISS); return the run's seconds."""
    print()
    print(text)
    print()
    for line in check_lines:
        print(line)
    print()
    print("Goals:")
    for label, measured, ok in goals:
        verdict = "n/a" if ok is None else ("PASS" if ok else "MISS")
        print(f"  {verdict:<4}  {label}: {measured}")
    elapsed = time.perf_counter() - started
    print(f"\nWhole benchmark: {elapsed:.0f} s")
    return elapsed


def goals_record(goals: Sequence[tuple[str, str, bool | None]]) -> list[dict]:
    """The goals as JSON-ready records (for ``--json``)."""
    return [{"goal": g, "measured": m, "pass": ok} for g, m, ok in goals]
