"""Checks on names and values, shared by the SDK (so a bad call fails at once in
the notebook, even though logging is sent in the background) and the service
(which never trusts the wire)."""

from __future__ import annotations

import math
import numbers
import re

from workbench.errors import InvalidArgument

MAX_KEY = 250
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
MAX_NAME = 256
# Letters, digits and the punctuation people use in metric names ("val/loss", "f1-macro", "top 5").
_KEY = re.compile(r"^[\w\-./: ]+$")


def check_key(kind: str, key: object) -> str:
    if not isinstance(key, str) or not key or len(key) > MAX_KEY or not _KEY.match(key) or key != key.strip():
        raise InvalidArgument(
            f"Invalid {kind} key {key!r}: use 1-{MAX_KEY} letters, digits, spaces or '_ - . / :' "
            "(no leading or trailing space)."
        )
    if "//" in key or key.startswith("/"):
        raise InvalidArgument(f"Invalid {kind} key {key!r}: no leading '/' and no '//'.")
    return key


def check_metric_value(key: str, value: object) -> float:
    # bool is an int subclass; a logged True is almost always a bug.
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidArgument(
            f"Metric {key!r} must be a number, got {type(value).__name__} {value!r}; "
            "log text as a tag or a param instead."
        )
    return float(value)


def check_step(key: str, step: object) -> int:
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise InvalidArgument(f"The step of metric {key!r} must be an integer, got {step!r}.")
    step = int(step)
    if abs(step) >= 2**63:
        raise InvalidArgument(f"The step of metric {key!r} is out of range: {step}.")
    return step


def check_timestamp(key: str, timestamp: object) -> int:
    if isinstance(timestamp, bool) or not isinstance(timestamp, numbers.Integral) or timestamp < 0:
        raise InvalidArgument(f"The timestamp of metric {key!r} must be milliseconds since the epoch, got {timestamp!r}.")
    return int(timestamp)


def stringify(kind: str, key: str, value: object, limit: int) -> str:
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        raise InvalidArgument(f"The value of {kind} {key!r} has {len(text)} characters; the limit is {limit}.")
    return text


def check_name(kind: str, name: object) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise InvalidArgument(f"Invalid {kind} name {name!r}: give 1-{MAX_NAME} characters.")
    return name.strip()


def is_nan(value: float) -> bool:
    return isinstance(value, float) and math.isnan(value)
