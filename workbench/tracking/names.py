"""Friendly default run names ("brave-otter-42"): easier to say and spot than a hex id."""

from collections.abc import Callable

_ADJECTIVES = (
    "amber", "bold", "brave", "bright", "calm", "clever", "crisp", "dapper", "eager", "fair", "fierce", "gentle",
    "glad", "grand", "happy", "keen", "kind", "lively", "lucky", "mellow", "merry", "nimble", "polite", "proud",
    "quick", "quiet", "rapid", "shy", "silent", "sleek", "smart", "snappy", "steady", "sunny", "swift", "tidy",
    "upbeat", "vivid", "warm", "wise", "witty", "zesty",
)
_ANIMALS = (
    "ant", "bat", "bear", "bee", "bison", "cat", "crab", "crane", "deer", "dove", "eel", "elk", "finch", "fox",
    "frog", "gnu", "hare", "hawk", "ibis", "koala", "lark", "lemur", "lynx", "mole", "moth", "newt", "orca", "otter",
    "owl", "panda", "puma", "quail", "ram", "seal", "shrew", "sloth", "snail", "swan", "tapir", "toad", "wolf", "yak",
)


def run_name(randbelow: Callable[[int], int]) -> str:
    return f"{_ADJECTIVES[randbelow(len(_ADJECTIVES))]}-{_ANIMALS[randbelow(len(_ANIMALS))]}-{randbelow(1000)}"
