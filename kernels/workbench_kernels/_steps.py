"""Running a build step: one line when it starts, its time when it ends, never silent for long."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from workbench_kernels.errors import ImageBuildError

Progress = Callable[[str], None]


def step(say: Progress, what: str, action: Callable):
    """Say ``what``, do ``action()``, say how long it took; return its result."""
    say(f"- {what}")
    started = time.monotonic()
    result = action()
    say(f"  done in {time.monotonic() - started:.1f}s")
    return result


class Heartbeat:
    """Says the latest interesting line at most every 10 s, so a long step is never silent."""

    def __init__(self, say: Progress, what: str, every: float = 10.0):
        self.say, self.what, self.every = say, what, every
        self.latest = ""
        self._done = threading.Event()
        self._started = time.monotonic()

    def saw(self, line: str) -> None:
        self.latest = line

    def __enter__(self):
        threading.Thread(target=self._loop, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._done.set()

    def _loop(self):
        while not self._done.wait(self.every):
            elapsed = time.monotonic() - self._started
            self.say(f"    … {self.what}, {elapsed:.0f}s" + (f": {self.latest}" if self.latest else ""))


def run(cmd: list[str], say: Progress | None, what: str, *, keep: Callable[[str], bool] | None = None,
         heartbeat_only: bool = False) -> None:
    """Run ``cmd``; pass the lines ``keep`` selects to ``say``; on failure raise with the output's tail."""
    tail: list[str] = []
    with maybe_heartbeat(say, what) as beat, subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip()
            tail = (tail + [line])[-40:]
            if say and keep and keep(line):
                if heartbeat_only and beat:
                    beat.saw(line[:120])
                else:
                    say(f"    {line}")
        code = proc.wait()
    if code != 0:
        raise ImageBuildError(f"{what} failed (exit {code}); its output ends with:\n" + "\n".join(tail))


@contextmanager
def maybe_heartbeat(say: Progress | None, what: str) -> Iterator[Heartbeat | None]:
    if say is None:
        yield None
        return
    with Heartbeat(say, what) as beat:
        yield beat
