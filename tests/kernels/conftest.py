"""Fixtures for container kernels: a real Docker engine, the real kernel image, real kernelspecs.

The engine and the image fixtures (``docker_runtime``, ``kernel_image``) live in
tests/conftest.py: multi-user server tests use them too.
"""

from __future__ import annotations

import os
import sys
import uuid
from contextlib import contextmanager

import pytest
from workbench_kernels.engine import prepare_workspace
from workbench_kernels.images import build_image
from workbench_kernels.kernelspecs import ImageSpec, default_specs, write_kernelspecs


@pytest.fixture(scope="session")
def kernel_specs(kernel_image, tmp_path_factory):
    """A kernels dir with the default specs plus ``workbench-small`` (256m, half a CPU)."""
    folder = tmp_path_factory.mktemp("kernelspecs")
    small = ImageSpec("workbench-small", "Python 3 (256 MB)", kernel_image.tag, mem_limit="256m", cpus=0.5)
    write_kernelspecs(folder, default_specs() + [small])
    return folder


@pytest.fixture
def workspace(tmp_path):
    folder = prepare_workspace(tmp_path / "alice")  # writable by the kernel's uid
    (folder / "hello.txt").write_text("hello from the workspace\n")
    return folder


@pytest.fixture
def start_kernel(kernel_specs):
    """Start kernels through jupyter_client's own KernelManager; all are shut down afterwards."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    started = []

    def start(name="workbench-python", *, env=None, cwd=None):
        km = KernelManager(kernel_name=name, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernel_specs)]))
        km.start_kernel(env={**os.environ, **(env or {})}, cwd=cwd)
        kc = km.client()
        started.append((km, kc))
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        return km, kc

    yield start
    for km, kc in started:
        kc.stop_channels()
        if km.has_kernel:
            km.shutdown_kernel(now=True)


@contextmanager
def kernel_container(runtime, image, *, server_id, kernel_id=None):
    """A container labelled as a kernel of server ``server_id`` (as if a server had crashed)."""
    kernel_id = kernel_id or str(uuid.uuid4())
    container = runtime.client().containers.run(
        image, ["python", "-c", "import time; time.sleep(300)"], detach=True, network_mode="none",
        name=f"workbench-kernel-{kernel_id}",
        labels={"workbench.managed": "true", "workbench.kernel_id": kernel_id, "workbench.owner": "nobody",
                "workbench.server": server_id},
    )
    try:
        yield container
    finally:
        runtime.remove(container.id)


@pytest.fixture(scope="session")
def torch_image(kernel_image):
    """``workbench-kernel-torch``: torch on top of the kernel image (a CPU build on CPU-only machines)."""
    return build_image(gpu=True, progress=lambda line: print(f"[torch image] {line}", file=sys.stderr, flush=True))
