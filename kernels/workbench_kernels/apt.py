"""Where this machine installs Debian packages from: the mirror the kernel image's base comes from.

Read when a build runs, from ``/etc/apt/sources.list``, ``sources.list.d/*.list`` (one-line
format) and ``sources.list.d/*.sources`` (Deb822); no mirror is ever written in code.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from workbench_kernels.errors import ImageBuildError


@dataclass(frozen=True)
class AptSource:
    """One ``deb`` entry of the machine's apt sources."""

    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]
    signed_by: str | None = None


def apt_sources(etc_apt: str | os.PathLike = "/etc/apt") -> list[AptSource]:
    """The ``deb`` entries of ``sources.list``, ``sources.list.d/*.list`` and ``*.sources`` (Deb822)."""
    root = Path(etc_apt)
    files = [root / "sources.list"] + sorted((root / "sources.list.d").glob("*.list"))
    found: list[AptSource] = []
    for file in files:
        if file.is_file():
            found += _one_line_sources(file.read_text(errors="replace"))
    for file in sorted((root / "sources.list.d").glob("*.sources")):
        found += _deb822_sources(file.read_text(errors="replace"))
    return found


def debian_mirror(suite: str, etc_apt: str | os.PathLike = "/etc/apt") -> AptSource:
    """The apt source this machine installs ``suite``'s ``main`` packages from."""
    for source in apt_sources(etc_apt):
        if suite in source.suites and "main" in source.components and not source.uri.startswith("cdrom:"):
            return source
    raise ImageBuildError(
        f"No apt source for '{suite} main' in {etc_apt}/sources.list(.d): the kernel image's base is "
        f"bootstrapped from the same mirror as this machine; add one (e.g. a 'deb <mirror> {suite} main' line)."
    )


def host_release(os_release: str | os.PathLike = "/etc/os-release") -> str:
    """This machine's release codename (``bookworm``): the kernel image gets the same one."""
    try:
        text = Path(os_release).read_text()
    except OSError:
        text = ""
    fields = {k: v.strip().strip('"') for k, _, v in (line.partition("=") for line in text.splitlines()) if v}
    codename = fields.get("VERSION_CODENAME")
    if not codename:
        raise ImageBuildError(
            "Cannot tell this machine's release (no VERSION_CODENAME in /etc/os-release): "
            "kernel images are built on Debian (or a derivative) hosts."
        )
    return codename


def _one_line_sources(text: str) -> list[AptSource]:
    found = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line.startswith("deb "):
            continue
        rest = line[4:].strip()
        options = {}
        if rest.startswith("["):
            inside, _, rest = rest[1:].partition("]")
            options = dict(o.split("=", 1) for o in inside.split() if "=" in o)
        parts = rest.split()
        if len(parts) >= 2:
            found.append(AptSource(parts[0], (parts[1],), tuple(parts[2:]), options.get("signed-by")))
    return found


def _deb822_sources(text: str) -> list[AptSource]:
    found = []
    for paragraph in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = None
        for raw in paragraph.splitlines():
            if raw.startswith("#"):
                continue
            if raw[:1] in (" ", "\t") and key:  # continuation line (multi-line fields)
                fields[key] += " " + raw.strip()
                continue
            key, sep, value = raw.partition(":")
            if not sep:
                key = None
                continue
            key = key.strip().lower()
            fields[key] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes").lower() == "no":
            continue
        signed_by = fields.get("signed-by") or None
        if signed_by and not signed_by.startswith("/"):
            signed_by = None  # an inline key block: debootstrap wants a keyring file
        for uri in fields.get("uris", "").split():
            found.append(
                AptSource(uri, tuple(fields.get("suites", "").split()), tuple(fields.get("components", "").split()),
                          signed_by)
            )
    return found
