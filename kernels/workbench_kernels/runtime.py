"""What the provisioner needs from a container runtime, and nothing more.

The provisioner (``workbench_kernels.provisioner``) decides *what* a kernel container
is: image, command, mounts, limits, labels, environment. A :class:`ContainerRuntime`
decides *how* to run one: :class:`~workbench_kernels.docker_runtime.DockerRuntime`
on one machine, a Kubernetes runtime (a pod per kernel) when a team outgrows it (see
docs/kubernetes.md). Everything crossing this line is a plain dataclass.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field

# Labels every kernel container carries; reap_orphans and the GPU table read them back.
LABEL_MANAGED = "workbench.managed"
LABEL_OWNER = "workbench.owner"
LABEL_KERNEL_ID = "workbench.kernel_id"
LABEL_SERVER = "workbench.server"
LABEL_GPUS = "workbench.gpus"


@dataclass(frozen=True)
class Mount:
    """A host directory (or file) seen inside the container at ``target``."""

    source: str
    target: str
    read_only: bool = False


@dataclass(frozen=True)
class KernelContainerSpec:
    """Everything a runtime needs to start one kernel container.

    ``mem_limit`` uses Docker's notation (``"2g"``, ``"512m"``); ``cpus`` is a number
    of CPUs (``0.5`` = half of one); ``gpus`` how many GPUs this kernel asks for, each
    its own unless ``share_gpus``.
    """

    name: str
    image: str
    command: list[str]
    user: str
    working_dir: str
    env: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    mounts: list[Mount] = field(default_factory=list)
    mem_limit: str | None = None
    cpus: float | None = None
    gpus: int = 0
    share_gpus: bool = False


@dataclass(frozen=True)
class ContainerState:
    """A container as the runtime last saw it. ``exit_code`` is None while it runs."""

    id: str
    name: str
    labels: dict[str, str]
    running: bool
    exit_code: int | None = None
    oom_killed: bool = False
    gpus: tuple[str, ...] = ()


class ContainerRuntime(abc.ABC):
    """A place to run kernel containers. Methods block; the provisioner calls them in a thread.

    ``bind_ip`` is the address the kernel listens on inside its container, written into
    its connection file; ``start`` returns the address the server connects to. With
    Docker's host networking both are 127.0.0.1; in Kubernetes the kernel listens on
    0.0.0.0 and the server connects to the pod's IP.
    """

    bind_ip = "127.0.0.1"

    @abc.abstractmethod
    def describe(self) -> str:
        """Where this runtime runs containers, for messages (``unix:///var/run/docker.sock``)."""

    @abc.abstractmethod
    def ping(self) -> None:
        """Return when the engine answers; raise ``errors.EngineUnavailable`` quickly when not."""

    @abc.abstractmethod
    def has_image(self, image: str) -> bool:
        """Whether ``image`` can be started without pulling anything."""

    @abc.abstractmethod
    def start(self, spec: KernelContainerSpec) -> tuple[ContainerState, str]:
        """Create and start the container; return its state and the IP to connect to."""

    @abc.abstractmethod
    def state(self, container_id: str) -> ContainerState | None:
        """The container's current state, or None when it no longer exists."""

    @abc.abstractmethod
    def signal(self, container_id: str, signum: int) -> None:
        """Send ``signum`` to the container's main process (the kernel's process group)."""

    @abc.abstractmethod
    def remove(self, container_id: str) -> None:
        """Stop (SIGKILL) and delete the container; no error when it is already gone."""

    @abc.abstractmethod
    def list_managed(self, server_id: str | None = None) -> list[ContainerState]:
        """Containers labelled ``workbench.managed=true`` (and ``workbench.server=server_id``)."""

    def logs(self, container_id: str, tail: int = 20) -> str:
        """The container's last output lines, for error messages (best effort)."""
        return ""
