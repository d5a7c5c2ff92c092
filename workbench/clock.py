"""Time in the one unit Workbench stores: integer milliseconds since the epoch."""

import time


def now_ms() -> int:
    return time.time_ns() // 1_000_000
