"""Kernel containers on one machine's Docker engine, through the ``docker`` SDK.

Containers use host networking (the kernel binds its ZeroMQ ports on 127.0.0.1, the
server connects there), run as a non-root user with every capability dropped, and get
GPUs through device requests: each kernel its own device unless sharing is allowed.
The GPU table is not kept in memory: it is read back from the ``workbench.gpus`` label
of the running containers, so it survives server restarts and is shared by every
process that starts kernels on the same engine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading

from workbench_kernels.errors import EngineUnavailable
from workbench_kernels.runtime import (
    LABEL_GPUS,
    LABEL_MANAGED,
    LABEL_SERVER,
    ContainerRuntime,
    ContainerState,
    KernelContainerSpec,
)

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"


class DockerRuntime(ContainerRuntime):
    """Runs kernel containers on the Docker engine named by ``DOCKER_HOST`` (or the default socket).

    Args:
        ping_timeout: seconds to wait for the engine's first answer; a missing engine
            fails within this time instead of hanging a kernel start.
        api_timeout: seconds for every later API call.
        gpu_ids: the host's GPUs (``["0", "1"]``); by default ``nvidia-smi`` is asked once.

    Example:
        >>> runtime = DockerRuntime()
        >>> runtime.ping()  # raises EngineUnavailable with the fix when no engine answers
    """

    # Held from reading the GPU table until the container that takes a GPU exists.
    _gpu_lock = threading.Lock()

    def __init__(self, *, ping_timeout: float = 3.0, api_timeout: float = 60.0, gpu_ids: list[str] | None = None):
        self.ping_timeout = ping_timeout
        self.api_timeout = api_timeout
        self._gpu_ids = gpu_ids
        self._client = None
        self._host: str | None = None
        self._ncpu: int | None = None
        self._lock = threading.Lock()

    def describe(self) -> str:
        return os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST

    # -- connection ---------------------------------------------------------------------------

    def _connect(self):
        import docker
        from docker.errors import DockerException

        with self._lock:
            if self._client is not None and self._host == self.describe():
                return self._client
            self._host = self.describe()  # DOCKER_HOST changed (tests do that): connect anew
            try:
                # A short timeout for the first contact (version probe + ping), a longer one after.
                probe = docker.from_env(timeout=self.ping_timeout)
                try:
                    probe.ping()
                    version = probe.api.api_version
                finally:
                    probe.close()
                self._client = docker.from_env(timeout=self.api_timeout, version=version)
            except DockerException as e:
                raise EngineUnavailable(
                    f"Docker engine not reachable at {self.describe()}: start it with "
                    "`sudo tools/dockerd.sh start` (or `sudo systemctl start docker`), or point "
                    f"DOCKER_HOST at a running engine. ({_short(e)})"
                ) from None
            return self._client

    def ping(self) -> None:
        from docker.errors import DockerException

        client = self._connect()
        try:
            client.ping()
        except DockerException as e:
            with self._lock:
                self._client = None
            raise EngineUnavailable(
                f"Docker engine at {self.describe()} stopped answering: restart it with "
                f"`sudo tools/dockerd.sh start`. ({_short(e)})"
            ) from None

    def close(self) -> None:
        """Close the engine connection (a later call connects again)."""
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def client(self):
        """The ``docker.DockerClient`` (connected, pinged) for callers that need more than this API."""
        return self._connect()

    # -- images -------------------------------------------------------------------------------

    def has_image(self, image: str) -> bool:
        from docker.errors import ImageNotFound

        try:
            self._connect().images.get(image)
            return True
        except ImageNotFound:
            return False

    # -- containers ---------------------------------------------------------------------------

    def start(self, spec: KernelContainerSpec) -> tuple[ContainerState, str]:
        import docker
        from docker.errors import NotFound

        client = self._connect()
        try:  # a container left by a crashed start of the same kernel would block the name
            old = client.containers.get(spec.name)
            if old.labels.get(LABEL_MANAGED) == "true":
                self.remove(old.id)
        except NotFound:
            pass
        kwargs = {
            "image": spec.image,
            "command": spec.command,
            "name": spec.name,
            "user": spec.user,
            "working_dir": spec.working_dir,
            "environment": spec.env,
            "labels": dict(spec.labels),
            "mounts": [
                docker.types.Mount(m.target, m.source, type="bind", read_only=m.read_only) for m in spec.mounts
            ],
            "network_mode": "host",
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "detach": True,
        }
        if spec.mem_limit:
            # No swap beyond the limit: a kernel over its memory is killed, not slowed to a crawl.
            kwargs.update(mem_limit=spec.mem_limit, memswap_limit=spec.mem_limit)
        if spec.cpus:
            # Docker refuses more CPUs than the host has; a 2-CPU image setting on a 1-CPU host means "all".
            kwargs["nano_cpus"] = int(min(spec.cpus, self._host_cpus()) * 1e9)
        if spec.gpus <= 0:
            container = client.containers.create(**kwargs)
        else:
            with self._gpu_lock:
                devices = self._allocate_gpus(spec.gpus, share=spec.share_gpus)
                if devices:
                    kwargs["labels"][LABEL_GPUS] = ",".join(devices)
                    kwargs["device_requests"] = [
                        docker.types.DeviceRequest(device_ids=list(devices), capabilities=[["gpu"]])
                    ]
                container = client.containers.create(**kwargs)
        try:
            container.start()
        except Exception:
            self.remove(container.id)
            raise
        return self.state(container.id) or _gone(container.id, spec.name), "127.0.0.1"

    def state(self, container_id: str) -> ContainerState | None:
        from docker.errors import NotFound

        try:
            attrs = self._connect().api.inspect_container(container_id)
        except NotFound:
            return None
        st = attrs.get("State") or {}
        labels = (attrs.get("Config") or {}).get("Labels") or {}
        running = bool(st.get("Running")) or st.get("Status") in ("created", "restarting")
        return ContainerState(
            id=attrs["Id"],
            name=attrs.get("Name", "").lstrip("/"),
            labels=labels,
            running=running,
            exit_code=None if running else int(st.get("ExitCode", 0)),
            oom_killed=bool(st.get("OOMKilled")),
            gpus=_gpu_label(labels),
        )

    def signal(self, container_id: str, signum: int) -> None:
        from docker.errors import APIError, NotFound

        try:
            self._connect().api.kill(container_id, signal=int(signum))
        except NotFound:
            pass
        except APIError as e:
            if e.status_code != 409:  # 409: not running any more, nothing to signal
                raise

    def remove(self, container_id: str) -> None:
        from docker.errors import APIError, NotFound

        try:
            self._connect().api.remove_container(container_id, force=True, v=True)  # and anonymous volumes
        except NotFound:
            pass
        except APIError as e:
            if e.status_code != 409:  # 409: removal already in progress
                raise

    def list_managed(self, server_id: str | None = None) -> list[ContainerState]:
        labels = [f"{LABEL_MANAGED}=true"] + ([f"{LABEL_SERVER}={server_id}"] if server_id else [])
        found = self._connect().api.containers(all=True, filters={"label": labels})
        return [
            ContainerState(
                id=c["Id"],
                name=(c.get("Names") or ["/"])[0].lstrip("/"),
                labels=c.get("Labels") or {},
                running=c.get("State") == "running",
                gpus=_gpu_label(c.get("Labels") or {}),
            )
            for c in found
        ]

    def logs(self, container_id: str, tail: int = 20) -> str:
        from docker.errors import DockerException

        try:
            return self._connect().api.logs(container_id, tail=tail).decode(errors="replace")
        except DockerException:
            return ""

    def _host_cpus(self) -> int:
        if self._ncpu is None:
            self._ncpu = int(self._connect().info().get("NCPU") or os.cpu_count() or 1)
        return self._ncpu

    # -- GPUs ---------------------------------------------------------------------------------

    def gpu_ids(self) -> list[str]:
        """The host's GPU indices, from ``nvidia-smi`` (asked once); empty without NVIDIA GPUs."""
        if self._gpu_ids is None:
            self._gpu_ids = _detect_gpus()
        return list(self._gpu_ids)

    def _allocate_gpus(self, count: int, *, share: bool) -> tuple[str, ...]:
        host = self.gpu_ids()
        if not host:
            return ()  # a CPU host: the kernel runs without GPUs (the provisioner says so)
        if count > len(host):
            raise RuntimeError(
                f"This kernel asks for {count} GPUs but the host has {len(host)}: "
                "lower `gpus` in the kernel's image settings."
            )
        use = {gpu: 0 for gpu in host}
        for c in self.list_managed():
            if c.running:
                for gpu in c.gpus:
                    if gpu in use:
                        use[gpu] += 1
        if share:
            return tuple(sorted(host, key=lambda g: (use[g], host.index(g)))[:count])
        free = [g for g in host if use[g] == 0]
        if len(free) < count:
            raise RuntimeError(
                f"All GPUs are in use by other kernels ({len(host) - len(free)} of {len(host)} taken, "
                f"this kernel asks for {count}): shut down a GPU kernel, or ask an admin to allow "
                "GPU sharing for this image."
            )
        return tuple(free[:count])


def _detect_gpus() -> list[str]:
    smi = shutil.which("nvidia-smi")
    if not smi:
        return []
    try:
        out = subprocess.run(
            [smi, "--query-gpu=index", "--format=csv,noheader"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.strip() for line in out.stdout.splitlines() if line.strip()] if out.returncode == 0 else []


def _gpu_label(labels: dict[str, str]) -> tuple[str, ...]:
    return tuple(g for g in (labels.get(LABEL_GPUS) or "").split(",") if g)


def _gone(container_id: str, name: str) -> ContainerState:
    return ContainerState(id=container_id, name=name, labels={}, running=False, exit_code=-1)


def _short(error: Exception) -> str:
    text = str(error)
    return text if len(text) < 300 else text[:300] + "…"
