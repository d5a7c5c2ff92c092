"""A jupyter_client kernel provisioner that starts every kernel in its own container.

Registered as ``workbench-docker-provisioner`` (entry point group
``jupyter_client.kernel_provisioners``); a kernelspec selects it with::

    "metadata": {"kernel_provisioner": {"provisioner_name": "workbench-docker-provisioner",
                 "config": {"image": "workbench-kernel:0.1.0", "mem_limit": "2g", "cpus": 1.0, "gpus": 0}}}

(:func:`workbench_kernels.kernelspecs.write_kernelspecs` writes such specs). What the
kernelspec says is the image's default; the server refines it per user through the
launch environment it gives ``KernelManager.start_kernel(env=...)``:

=============================  =================================================================
``WORKBENCH_KERNEL_OWNER``      user name, in the container's ``workbench.owner`` label
``WORKBENCH_KERNEL_TEAMS``      the owner's teams, comma-separated
``JUPYTER_SERVER_ROOT``         the server's root: ``users/<owner>`` and ``teams/<team>`` under it are
                                mounted at the same paths under /home/jovyan/work (so a notebook's
                                relative paths work alike in the file browser and the kernel)
``WORKBENCH_KERNEL_WORKSPACE``  instead: one host directory mounted at /home/jovyan/work
``WORKBENCH_KERNEL_MOUNTS``     more mounts, JSON: ``[{"source", "target", "read_only"}]``
``WORKBENCH_KERNEL_IMAGE``      another image than the kernelspec's
``WORKBENCH_KERNEL_MEM_LIMIT``  ``"4g"``; ``WORKBENCH_KERNEL_CPUS`` ``"2"``; ``WORKBENCH_KERNEL_GPUS`` ``"1"``
``WORKBENCH_KERNEL_SERVER_ID`` the container's ``workbench.server`` label (over ``server_id``)
``WORKBENCH_URL``, ``_TOKEN``   passed into the kernel (the SDK's server and the user's token)
=============================  =================================================================

Nothing else of the server's environment reaches the kernel (no database URL, no
server secrets). The container runtime is pluggable (``runtime_class``): Docker here,
Kubernetes later (docs/kubernetes.md).
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import re
import secrets
import shutil
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from jupyter_client.connect import KernelConnectionInfo, LocalPortCache
from jupyter_client.provisioning import KernelProvisionerBase
from traitlets import Bool, Float, Int, List, TraitError, Type, Unicode, validate

from workbench_kernels import images
from workbench_kernels.engine import prepare_workspace, shared_runtime
from workbench_kernels.errors import ImageMissing
from workbench_kernels.runtime import (
    LABEL_KERNEL_ID,
    LABEL_MANAGED,
    LABEL_OWNER,
    LABEL_SERVER,
    ContainerRuntime,
    KernelContainerSpec,
    Mount,
)

ENV_OWNER = "WORKBENCH_KERNEL_OWNER"
ENV_WORKSPACE = "WORKBENCH_KERNEL_WORKSPACE"
ENV_MOUNTS = "WORKBENCH_KERNEL_MOUNTS"
ENV_TEAMS = "WORKBENCH_KERNEL_TEAMS"
ENV_SERVER_ROOT = "JUPYTER_SERVER_ROOT"
ENV_IMAGE = "WORKBENCH_KERNEL_IMAGE"
ENV_MEM_LIMIT = "WORKBENCH_KERNEL_MEM_LIMIT"
ENV_CPUS = "WORKBENCH_KERNEL_CPUS"
ENV_GPUS = "WORKBENCH_KERNEL_GPUS"
ENV_SERVER_ID = "WORKBENCH_KERNEL_SERVER_ID"
CONNECTION_DIR = "/connection"
_PORTS = ("shell_port", "iopub_port", "stdin_port", "hb_port", "control_port")


@dataclass
class _Launch:
    """What one (re)start of the kernel runs with, after the launch environment's overrides."""

    image: str
    mem_limit: str | None
    cpus: float | None
    gpus: int
    owner: str
    mounts: list[Mount] = field(default_factory=list)
    server_id: str = ""


class DockerKernelProvisioner(KernelProvisionerBase):
    """Starts, signals and removes one kernel container per kernel.

    Every trait can be set in the kernelspec's ``kernel_provisioner.config`` (per image)
    or in Jupyter config as ``DockerKernelProvisioner.<trait>`` (for all images).
    """

    image = Unicode(
        "", config=True, help="Kernel image (default: workbench-kernel:<version>, from `workbench images build`)."
    )
    mem_limit = Unicode(
        "2g", allow_none=True, config=True,
        help="Memory limit in Docker's notation ('2g', '512m'); the kernel is killed beyond it. Empty: none.",
    )
    cpus = Float(1.0, config=True, help="CPUs the kernel may use (0.5 = half of one); 0: no limit.")
    gpus = Int(0, config=True, help="GPUs the kernel asks for; ignored (with a warning) on hosts without GPUs.")
    share_gpus = Bool(
        False, config=True,
        help="Let kernels share GPUs. By default each kernel that asks for GPUs gets its own, "
        "and a start is refused when none is free.",
    )
    kernel_user = Unicode(
        images.KERNEL_USER, config=True,
        help="uid:gid the kernel runs as (never root). Files it writes belong to this uid on the host too: "
        "on a shared machine pick one no host account uses.",
    )
    workdir = Unicode(images.KERNEL_WORKDIR, config=True, help="Where the user's workspace is mounted.")
    prepare_workspaces = Bool(
        True, config=True,
        help="When the server runs as root, give root-owned workspace folders (not their contents) to "
        "kernel_user, so that the kernel can write in them.",
    )
    env_passthrough = List(
        Unicode(),
        default_value=["WORKBENCH_URL", "WORKBENCH_TOKEN", "WORKBENCH_USER", "WORKBENCH_FLUSH_TIMEOUT"],
        config=True,
        help="Variables of the launch environment passed into the kernel (besides the kernelspec's env).",
    )
    server_id = Unicode(
        "", config=True, help="Written as the workbench.server label; reap_orphans(server_id=...) only "
        "touches containers with it (several servers on one engine).",
    )
    encrypt_transport = Bool(
        True, config=True,
        help="Encrypt the ZeroMQ channels with CurveZMQ. With host networking every container can reach "
        "every kernel's ports on 127.0.0.1; encryption keeps one user's kernel traffic from another's.",
    )
    runtime_class = Type(
        default_value="workbench_kernels.docker_runtime.DockerRuntime", klass=ContainerRuntime, config=True,
        help="Where containers run: a ContainerRuntime subclass (Docker here; Kubernetes: docs/kubernetes.md).",
    )

    @validate("kernel_user")
    def _valid_kernel_user(self, proposal):
        uid, _, gid = proposal["value"].partition(":")
        if not uid.isdigit() or int(uid) == 0 or (gid and not gid.isdigit()):
            raise TraitError(f"kernel_user must be a non-root numeric uid[:gid], not {proposal['value']!r}")
        return proposal["value"]

    container_id: str | None = None
    container_name: str | None = None
    connection_dir: str | None = None
    ports_cached = False
    _waited = False
    _stopping = False
    _exit_code: int | None = None
    _launch: _Launch | None = None
    stage: str = ""
    """What the current start is doing, in words, for the notebook's progress display."""
    stage_since: float = 0.0
    """``time.time()`` when :attr:`stage` began."""

    # -- state ----------------------------------------------------------------------------------

    @property
    def has_process(self) -> bool:
        return self.container_id is not None and not self._waited

    @property
    def runtime(self) -> ContainerRuntime:
        """The runtime instance, shared by every provisioner of this process (one engine connection)."""
        return shared_runtime(self.runtime_class)

    # -- start ----------------------------------------------------------------------------------

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        """Check the engine and the image, pick ports, write the kernel's connection file.

        Called by ``KernelManager.pre_start_kernel`` on every start and restart. A missing
        engine or image fails here, in seconds, with the command that fixes it.
        """
        km = self.parent
        if km is None or km.transport != "tcp":
            raise RuntimeError("DockerKernelProvisioner needs a KernelManager with the tcp transport.")
        launch = self._resolve(kwargs.get("env") or os.environ)
        runtime = self.runtime
        self._set_stage(f"Checking the container engine at {runtime.describe()}")
        await asyncio.to_thread(runtime.ping)
        self._set_stage(f"Checking the image {launch.image}")
        if not await asyncio.to_thread(runtime.has_image, launch.image):
            torch = launch.image.startswith(images.TORCH_REPOSITORY + ":")
            raise ImageMissing(
                f"Kernel image {launch.image} is not on the Docker engine at {runtime.describe()}: "
                f"build it with `workbench images build{' --gpu' if torch else ''}`."
            )
        if km.cache_ports and not self.ports_cached:
            cache = LocalPortCache.instance()
            for name in _PORTS:
                setattr(km, name, cache.find_available_port(km.ip))
            self.ports_cached = True
        if self.encrypt_transport and _curve_available(km, self.kernel_spec) and km.curve_publickey is None:
            # Only for kernelspecs that declare it (metadata.supported_encryption): an image
            # whose ipykernel predates CurveZMQ would never answer an encrypted client.
            import zmq

            km.curve_publickey, km.curve_secretkey = zmq.curve_keypair()
        env = kwargs.get("env") or {}
        km.write_connection_file(jupyter_session=env.get("JPY_SESSION_NAME", ""))
        self.connection_info = km.get_connection_info()
        container_file = await asyncio.to_thread(self._write_kernel_connection_file, km.connection_file)
        self._launch = launch
        argv = list(self.kernel_spec.argv) if self.kernel_spec and self.kernel_spec.argv else images.KERNEL_COMMAND
        cmd = [arg.replace("{connection_file}", container_file) for arg in argv]
        cmd += kwargs.pop("extra_arguments", [])
        return await super().pre_launch(cmd=cmd, **kwargs)

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        """Start the kernel's container; return the connection info the server connects with.

        Called by ``KernelManager._launch_kernel`` right after :meth:`pre_launch`.
        """
        launch = self._launch
        assert launch is not None and self.connection_dir is not None, "pre_launch comes first"
        env = kwargs.get("env") or {}
        # Read-write: ipykernel rewrites its connection file on start (it always does with CurveZMQ).
        mounts = [Mount(self.connection_dir, CONNECTION_DIR), *launch.mounts]
        self.container_name = f"workbench-kernel-{_safe(self.kernel_id)}"
        labels = {LABEL_MANAGED: "true", LABEL_OWNER: launch.owner, LABEL_KERNEL_ID: str(self.kernel_id)}
        if launch.server_id:
            labels[LABEL_SERVER] = launch.server_id
        spec = KernelContainerSpec(
            name=self.container_name,
            image=launch.image,
            command=cmd,
            user=self.kernel_user,
            working_dir=_to_container(kwargs.get("cwd"), launch.mounts) or self.workdir,
            env=self._container_env(env, launch.mounts),
            labels=labels,
            mounts=mounts,
            mem_limit=launch.mem_limit,
            cpus=launch.cpus,
            gpus=launch.gpus,
            share_gpus=self.share_gpus,
        )
        limits = f"memory {launch.mem_limit or 'unlimited'}, cpus {launch.cpus or 'unlimited'}, gpus {launch.gpus}"
        self._set_stage(f"Starting a container from {launch.image} ({limits})")
        started = time.monotonic()
        state, connect_ip = await asyncio.to_thread(self.runtime.start, spec)
        self.container_id, self._waited, self._stopping, self._exit_code = state.id, False, False, None
        self.log.info(
            "Kernel %s: container %s for %s started in %.1fs%s", self.kernel_id, state.id[:12], launch.owner,
            time.monotonic() - started, f" on GPU {','.join(state.gpus)}" if state.gpus else "",
        )
        self._set_stage("Container started; waiting for the kernel to answer")
        if launch.gpus and not state.gpus:
            self.log.warning("Kernel %s asked for %d GPU(s) but this host has none: it runs on CPU.",
                             self.kernel_id, launch.gpus)
        if self.connection_info.get("ip") != connect_ip:
            self.connection_info["ip"] = connect_ip
        return self.connection_info

    # -- running --------------------------------------------------------------------------------

    async def poll(self) -> int | None:
        """None while the container runs, else its exit code. Called by ``KernelManager.is_alive``."""
        if self.container_id is None:
            return self._exit_code if self._exit_code is not None else 0
        if self._exit_code is not None:
            return self._exit_code
        state = await asyncio.to_thread(self.runtime.state, self.container_id)
        if state is not None and state.running:
            return None
        self._exit_code = -1 if state is None else (state.exit_code if state.exit_code is not None else -1)
        await self._report_exit(state)
        return self._exit_code

    async def wait(self) -> int | None:
        """Wait until the container has exited. Called while shutting a kernel down."""
        while (code := await self.poll()) is None:
            await asyncio.sleep(0.1)
        self._waited = True
        return code

    async def send_signal(self, signum: int) -> None:
        """Signal the container's main process; tini passes it on to the kernel's process group.

        Interrupts arrive here as SIGINT (``KernelManager.interrupt_kernel``).
        """
        if self.container_id is not None and signum:
            await asyncio.to_thread(self.runtime.signal, self.container_id, signum)

    async def shutdown_requested(self, restart: bool = False) -> None:
        """The kernel was asked to shut down: its exit is expected, not worth a warning."""
        self._stopping = True

    async def kill(self, restart: bool = False) -> None:
        """SIGKILL the kernel (``KernelManager`` gave up on a graceful shutdown, or was told to be quick)."""
        self._stopping = True
        await self.send_signal(signal.SIGKILL)

    async def terminate(self, restart: bool = False) -> None:
        """SIGTERM the kernel (graceful shutdown took too long)."""
        self._stopping = True
        await self.send_signal(signal.SIGTERM)

    async def cleanup(self, restart: bool = False) -> None:
        """Remove the container; unless restarting, also the connection file and the cached ports."""
        if self.container_id is not None:
            await asyncio.to_thread(self.runtime.remove, self.container_id)
            self.container_id = None
        self._waited, self._exit_code = False, None
        if restart:
            return
        if self.connection_dir:
            shutil.rmtree(self.connection_dir, ignore_errors=True)
            self.connection_dir = None
        if self.ports_cached:
            cache = LocalPortCache.instance()
            for name in _PORTS:
                port = self.connection_info.get(name)
                if isinstance(port, int):
                    cache.return_port(port)
            self.ports_cached = False

    # -- persistence, paths -------------------------------------------------------------------

    async def get_provisioner_info(self) -> dict[str, Any]:
        """What a later server process needs to manage this kernel's container again."""
        info = await super().get_provisioner_info()
        launch = self._launch
        info.update(
            container_id=self.container_id,
            container_name=self.container_name,
            connection_dir=self.connection_dir,
            ports_cached=self.ports_cached,
            launch=None if launch is None else {
                "image": launch.image, "mem_limit": launch.mem_limit, "cpus": launch.cpus, "gpus": launch.gpus,
                "owner": launch.owner, "mounts": [vars(m) for m in launch.mounts], "server_id": launch.server_id,
            },
        )
        return info

    async def load_provisioner_info(self, provisioner_info: dict) -> None:
        """The inverse of :meth:`get_provisioner_info`."""
        await super().load_provisioner_info(provisioner_info)
        self.container_id = provisioner_info.get("container_id")
        self.container_name = provisioner_info.get("container_name")
        self.connection_dir = provisioner_info.get("connection_dir")
        self.ports_cached = bool(provisioner_info.get("ports_cached"))
        launch = provisioner_info.get("launch")
        if launch:
            self._launch = _Launch(**{**launch, "mounts": [Mount(**m) for m in launch.get("mounts", [])]})

    def resolve_path(self, path: str) -> str | None:
        """A path as the kernel sees it (``/home/jovyan/work/x.py``), on the host; None outside mounts."""
        if self._launch is None:
            return None
        posix = PurePosixPath(path)
        if not posix.is_absolute():
            posix = PurePosixPath(self.workdir) / posix
        for mount in self._launch.mounts:
            try:
                rel = posix.relative_to(mount.target)
            except ValueError:
                continue
            host = Path(mount.source, *rel.parts)
            return str(host) if host.exists() else None
        return None

    # -- helpers ----------------------------------------------------------------------------------

    def _set_stage(self, stage: str) -> None:
        self.stage, self.stage_since = stage, time.time()
        self.log.info("Kernel %s: %s", self.kernel_id, stage)

    def _resolve(self, env: Any) -> _Launch:
        """The trait values, overridden by the launch environment where the server set them."""
        image = env.get(ENV_IMAGE) or self.image or images.default_image(self.gpus > 0)
        mem_limit = env.get(ENV_MEM_LIMIT) or self.mem_limit or None
        cpus = _number(env, ENV_CPUS, float, self.cpus)
        gpus = _number(env, ENV_GPUS, int, self.gpus)
        owner = env.get(ENV_OWNER) or getpass.getuser()
        mounts = []
        workspace = env.get(ENV_WORKSPACE)
        if workspace:
            if not os.path.isdir(workspace):
                raise RuntimeError(f"The kernel's workspace {workspace} ({ENV_WORKSPACE}) is not a directory.")
            mounts.append(Mount(os.path.realpath(workspace), self.workdir))
        elif env.get(ENV_SERVER_ROOT) and env.get(ENV_OWNER) and not env.get(ENV_MOUNTS):
            mounts += self._server_root_mounts(env[ENV_SERVER_ROOT], owner, env.get(ENV_TEAMS, ""))
        if env.get(ENV_MOUNTS):
            try:
                extra = json.loads(env[ENV_MOUNTS])
                mounts += [Mount(os.path.realpath(m["source"]), m["target"], bool(m.get("read_only"))) for m in extra]
            except (ValueError, KeyError, TypeError) as e:
                raise RuntimeError(
                    f'{ENV_MOUNTS} must be a JSON list of {{"source", "target", "read_only"}}: {e}'
                ) from None
        if self.prepare_workspaces:
            for mount in mounts:
                if not mount.read_only and os.path.isdir(mount.source):
                    prepare_workspace(mount.source, kernel_user=self.kernel_user)
        return _Launch(image=image, mem_limit=mem_limit, cpus=cpus or None, gpus=max(gpus, 0), owner=owner,
                       mounts=mounts, server_id=env.get(ENV_SERVER_ID) or self.server_id)

    def _server_root_mounts(self, root: str, owner: str, teams: str) -> list[Mount]:
        """``users/<owner>`` and ``teams/<team>`` of the server's root, at the same paths under workdir."""
        folders = [("users", owner)] + [("teams", team.strip()) for team in teams.split(",") if team.strip()]
        mounts = []
        for area, name in folders:
            if "/" in name or name.startswith("."):
                continue  # not a folder name the server makes
            host = os.path.join(os.path.realpath(root), area, name)
            if os.path.isdir(host):
                mounts.append(Mount(host, f"{self.workdir}/{area}/{name}"))
        return mounts

    def _write_kernel_connection_file(self, host_file: str) -> str:
        """A copy of the connection file for the kernel's user, in a directory of its own.

        The directory is mounted at /connection, and only in this kernel's container; the
        file is named kernel-<id>.json, which the SDK reads the kernel id from.
        """
        if self.connection_dir is None:
            parent = os.path.dirname(host_file)
            self.connection_dir = os.path.join(parent, f"workbench-{_safe(self.kernel_id)}-{secrets.token_hex(4)}")
            os.makedirs(self.connection_dir, mode=0o700, exist_ok=True)
        info = json.loads(Path(host_file).read_text())
        info["ip"] = self.runtime.bind_ip
        name = f"kernel-{_safe(self.kernel_id)}.json"  # whatever the host's is called (KernelManager's: tmp*.json)
        target = os.path.join(self.connection_dir, name)
        for old in os.listdir(self.connection_dir):
            os.unlink(os.path.join(self.connection_dir, old))
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(info, f)
        uid, _, gid = self.kernel_user.partition(":")
        if os.geteuid() == 0:
            for path in (self.connection_dir, target):
                os.chown(path, int(uid), int(gid or uid))
        elif os.geteuid() != int(uid):
            # Not ours to give away: open it up. Its parent, Jupyter's runtime dir, is 0700,
            # so only this kernel's container (which mounts it) can reach it.
            os.chmod(self.connection_dir, 0o777)
            os.chmod(target, 0o666)
        return f"{CONNECTION_DIR}/{name}"

    def _container_env(self, env: Any, mounts: list[Mount]) -> dict[str, str]:
        passed = {name: env[name] for name in self.env_passthrough if env.get(name)}
        if self.kernel_spec:
            passed.update({name: env[name] for name in self.kernel_spec.env if name in env})
        session = _to_container(env.get("JPY_SESSION_NAME"), mounts)
        if session:
            passed["JPY_SESSION_NAME"] = session
        return passed

    async def _report_exit(self, state) -> None:
        launch = self._launch
        if state is not None and state.oom_killed:
            self.log.warning(
                "Kernel %s was killed: it needed more memory than its limit (%s). Use less memory in it, "
                "or ask an admin for a larger limit.", self.kernel_id, launch.mem_limit if launch else "?",
            )
        elif state is not None and state.exit_code not in (0, None) and not self._stopping:
            tail = await asyncio.to_thread(self.runtime.logs, state.id, 15)
            self.log.warning("Kernel %s: container exited with code %s%s", self.kernel_id, state.exit_code,
                             f"; its output ends with:\n{tail}" if tail.strip() else "")


def _curve_available(km: Any, kernel_spec: Any) -> bool:
    import zmq

    declared = (getattr(kernel_spec, "metadata", None) or {}).get("supported_encryption") or []
    declared = [declared] if isinstance(declared, str) else declared
    return "curve" in declared and hasattr(km, "curve_publickey") and zmq.has("curve")


def _number(env: Any, name: str, kind: type, default: Any) -> Any:
    value = env.get(name)
    if value in (None, ""):
        return default
    try:
        return kind(value)
    except ValueError:
        raise RuntimeError(f"{name} must be a number, not {value!r}.") from None


def _safe(kernel_id: Any) -> str:
    # Kernel ids are UUIDs when Jupyter picks them, but a client may pick its own: keep names and paths tame.
    return re.sub(r"[^A-Za-z0-9_.-]", "_", str(kernel_id)).lstrip(".")[:128] or "kernel"


def _to_container(host_path: str | None, mounts: list[Mount]) -> str | None:
    """``host_path`` as the kernel sees it through ``mounts``; None when no mount shows it."""
    if not host_path:
        return None
    real = os.path.realpath(host_path)
    for mount in mounts:
        if real == mount.source or real.startswith(mount.source.rstrip("/") + "/"):
            return str(PurePosixPath(mount.target) / os.path.relpath(real, mount.source))
    return None


__all__ = ["DockerKernelProvisioner"]
