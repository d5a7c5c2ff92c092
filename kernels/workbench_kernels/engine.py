"""Engine-wide housekeeping for the server: is the engine there, which containers are orphans,
can the kernel's user write to a workspace.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from workbench_kernels.images import KERNEL_USER
from workbench_kernels.runtime import LABEL_KERNEL_ID, ContainerRuntime

_RUNTIMES: dict[type, ContainerRuntime] = {}


def shared_runtime(runtime_class: type[ContainerRuntime] | None = None) -> ContainerRuntime:
    """One runtime instance (one engine connection) per class for the whole process; Docker by default."""
    if runtime_class is None:
        from workbench_kernels.docker_runtime import DockerRuntime

        runtime_class = DockerRuntime
    runtime = _RUNTIMES.get(runtime_class)
    if runtime is None:
        runtime = _RUNTIMES.setdefault(runtime_class, runtime_class())
    return runtime


def check_engine(runtime: ContainerRuntime | None = None) -> str:
    """Ping the container engine; return where it is. For the server's start-up in multi-user mode.

    Raises:
        EngineUnavailable: within seconds, with the command that starts an engine.

    Example:
        >>> check_engine()
        'unix:///var/run/docker.sock'
    """
    runtime = runtime or shared_runtime()
    runtime.ping()
    return runtime.describe()


def reap_orphans(known_kernel_ids: Iterable[str] = (), *, server_id: str | None = None,
                 runtime: ContainerRuntime | None = None) -> list[str]:
    """Remove kernel containers no kernel manager knows; return their names. Blocking.

    Call at server start-up (with the ids of kernels the server still manages, usually
    none) so that a crash or restart leaves no container behind.

    Example:
        >>> reap_orphans(known_kernel_ids=[], server_id="")
        ['workbench-kernel-2c6c…']
    """
    runtime = runtime or shared_runtime()
    known = set(known_kernel_ids)
    removed = []
    for container in runtime.list_managed(server_id=server_id or None):
        if container.labels.get(LABEL_KERNEL_ID) not in known:
            runtime.remove(container.id)
            removed.append(container.name)
    return removed


def prepare_workspace(path: str | os.PathLike, *, kernel_user: str = KERNEL_USER) -> Path:
    """Create a user's workspace directory so that the kernel's (non-root) user can write to it.

    When the server runs as root the directory is given to the kernel's uid:gid; otherwise
    it must already be writable by that uid (run the server as uid 1000, or set
    ``DockerKernelProvisioner.kernel_user`` to the server's own uid:gid).
    """
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    uid, _, gid = kernel_user.partition(":")
    if os.geteuid() == 0 and folder.stat().st_uid == 0:
        os.chown(folder, int(uid), int(gid or uid))
    return folder
