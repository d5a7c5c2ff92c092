"""Slowing down password guessing: a small in-memory limiter of failed log-ins.

Failures are counted per key (the user name tried, the client's address); once
a key has ``max_failures`` within ``window_s`` it must wait, and each further
failure doubles the wait, up to ``max_delay_s``. In memory on purpose: one
server process, and a restart forgetting the counts costs an attacker a
restart they cannot trigger.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Hashable


class LoginThrottle:
    """Counts failed log-ins per key and says how long a key must wait.

    Example:
        >>> t = LoginThrottle(max_failures=2, window_s=60, delay_s=10, clock=lambda: 0.0)
        >>> t.failure("user:alice"); t.failure("user:alice")
        >>> t.retry_after("user:alice")
        10
    """

    def __init__(self, *, max_failures: int = 5, window_s: float = 300.0, delay_s: float = 30.0,
                 max_delay_s: float = 900.0, max_keys: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self.max_failures = max_failures
        self.window_s = window_s
        self.delay_s = delay_s
        self.max_delay_s = max_delay_s
        self.max_keys = max_keys
        self.clock = clock
        self._failures: dict[Hashable, deque[float]] = {}

    def _recent(self, key: Hashable, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and now - times[0] > self.window_s:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def retry_after(self, *keys: Hashable) -> int:
        """Whole seconds until every one of ``keys`` may try again; 0 when they may now."""
        now = self.clock()
        wait = 0.0
        for key in keys:
            times = self._recent(key, now)
            extra = len(times) - self.max_failures
            if extra >= 0:
                delay = min(self.delay_s * 2**extra, self.max_delay_s)
                wait = max(wait, times[-1] + delay - now)
        return math.ceil(wait) if wait > 0 else 0

    def failure(self, *keys: Hashable) -> None:
        """Record one failed attempt against each of ``keys``."""
        now = self.clock()
        for key in keys:
            times = self._failures.setdefault(key, deque())
            times.append(now)
            while len(times) > self.max_failures + 16:  # enough to reach max_delay_s; bounds memory
                times.popleft()
        if len(self._failures) > self.max_keys:
            self._forget_old(now)

    def success(self, key: Hashable) -> None:
        """Forget ``key``'s failures (the user got in)."""
        self._failures.pop(key, None)

    def _forget_old(self, now: float) -> None:
        # Many keys (addresses sprayed by a bot): drop the quiet ones first, then the oldest.
        for key in list(self._failures):
            self._recent(key, now)
        if len(self._failures) > self.max_keys:
            by_age = sorted(self._failures, key=lambda k: self._failures[k][-1])
            for key in by_age[: len(by_age) - self.max_keys]:
                del self._failures[key]
