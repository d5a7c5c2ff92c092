"""The kernel image's base: ``debootstrap --variant=minbase`` into a temp dir, set up, ``docker import``.

Needs root (debootstrap, chroot) and Debian's ``debootstrap`` package; the mirror and its
keyring come from this machine's apt sources (:mod:`workbench_kernels.apt`).
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from workbench_kernels._steps import Progress, run, step
from workbench_kernels.apt import debian_mirror
from workbench_kernels.errors import ImageBuildError


def bootstrap(client, *, suite: str, packages: list[str], setup_script: str, tag: str, changes: list[str],
              python_label: str, say: Progress) -> str:
    """Make the rootfs, run ``setup_script`` in it, import it as ``tag``; return its Python version.

    ``changes`` are Dockerfile instructions for the import (ENV, LABEL, CMD, ...); a
    ``LABEL <python_label>=<version>`` is added to them.
    """
    if shutil.which("debootstrap") is None:
        raise ImageBuildError("debootstrap is not installed: `apt-get install debootstrap`, then build again.")
    if os.geteuid() != 0:
        raise ImageBuildError(
            "Building the base image runs debootstrap, which needs root: run `sudo workbench images build` "
            "once (later builds reuse the base image and need no root)."
        )
    mirror = debian_mirror(suite)
    with tempfile.TemporaryDirectory(prefix="workbench-rootfs-", dir=_big_tmp()) as tmp:
        rootfs = Path(tmp) / "rootfs"
        try:
            cmd = ["debootstrap", "--variant=minbase", f"--include={','.join(packages)}"]
            if mirror.signed_by and Path(mirror.signed_by).is_file():
                cmd.append(f"--keyring={mirror.signed_by}")
            cmd += [suite, str(rootfs), mirror.uri]
            step(say, f"debootstrap --variant=minbase {suite} from {mirror.uri} (about a minute)",
                 lambda: run(cmd, say, "debootstrap", keep=_debootstrap_line))
            setup_file = rootfs / "tmp/setup-rootfs.sh"
            setup_file.write_text(setup_script)
            step(say, "user jovyan (uid 1000), venv /opt/workbench, cleanup",
                 lambda: run(["chroot", str(rootfs), "/bin/sh", "/tmp/setup-rootfs.sh"], say, "setup-rootfs.sh"))
            setup_file.unlink()
            python = _chroot_python_version(rootfs)
            tarball = Path(tmp) / "rootfs.tar"
            step(say, f"docker import (Python {python})",
                 lambda: _import(client, rootfs, tarball, tag, [*changes, f"LABEL {python_label}={python}"]))
        finally:
            _remove_rootfs(rootfs)
    return python


def architecture() -> str:
    """This machine's Debian architecture (``amd64``): part of the base image's inputs."""
    try:
        return subprocess.run(
            ["dpkg", "--print-architecture"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        return platform.machine()


def _debootstrap_line(line: str) -> bool:
    # One line per phase, not one per package.
    return line.startswith(("I:", "W:", "E:")) and not re.match(
        r"^I: (Retrieving|Validating|Extracting|Unpacking|Configuring) \S+( \S+)?$", line
    )


def _chroot_python_version(rootfs: Path) -> str:
    out = subprocess.run(
        ["chroot", str(rootfs), "python3", "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
        capture_output=True, text=True, check=False,
    )
    if out.returncode != 0:
        raise ImageBuildError(f"python3 does not run in the new rootfs: {out.stderr[-1000:]}")
    return out.stdout.strip()


def _import(client, rootfs: Path, tarball: Path, tag: str, changes: list[str]) -> None:
    run(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(tarball), "."], None, "tar")
    repository, _, version = tag.rpartition(":")
    client.api.import_image_from_file(str(tarball), repository=repository, tag=version, changes=changes)
    tarball.unlink()


def _remove_rootfs(rootfs: Path) -> None:
    # debootstrap unmounts what it mounted, but never delete through a mount that is left.
    if not rootfs.exists():
        return
    prefix = str(rootfs.resolve()) + "/"
    for point in sorted((m for m in _mount_points() if m.startswith(prefix)), reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)
    if any(m.startswith(prefix) for m in _mount_points()):
        raise ImageBuildError(f"{rootfs} still has mounts under it; unmount them and delete it by hand.")
    shutil.rmtree(rootfs, ignore_errors=True)


def _mount_points() -> list[str]:
    try:
        return [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    except OSError:
        return []


def _big_tmp() -> str | None:
    # /tmp may be a small tmpfs; a rootfs is a few hundred MB. /var/tmp is on disk.
    return os.environ.get("TMPDIR") or ("/var/tmp" if os.path.isdir("/var/tmp") else None)
