"""Without a Docker engine: a clear error in seconds, never a hang. Runs everywhere."""

from __future__ import annotations

import time

import pytest
from workbench_kernels.engine import check_engine
from workbench_kernels.errors import EngineUnavailable
from workbench_kernels.kernelspecs import write_kernelspecs


@pytest.fixture
def dead_engine(tmp_path, monkeypatch):
    socket = tmp_path / "docker.sock"  # nothing listens here
    monkeypatch.setenv("DOCKER_HOST", f"unix://{socket}")
    return f"unix://{socket}"


def test_a_missing_engine_fails_a_kernel_start_fast_with_the_fix(dead_engine, tmp_path):
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    write_kernelspecs(tmp_path / "specs")
    km = KernelManager(kernel_name="workbench-python",
                       kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(tmp_path / "specs")]))
    started = time.monotonic()
    with pytest.raises(EngineUnavailable) as error:
        km.start_kernel()
    assert time.monotonic() - started < 10
    message = str(error.value)
    assert f"Docker engine not reachable at {dead_engine}" in message and "tools/dockerd.sh start" in message


def test_check_engine_says_the_same_at_server_start(dead_engine):
    with pytest.raises(EngineUnavailable, match="Docker engine not reachable at unix://"):
        check_engine()


def test_the_provisioner_is_registered():
    from jupyter_client.provisioning import KernelProvisionerFactory

    entries = KernelProvisionerFactory.instance().get_provisioner_entries()
    assert entries.get("workbench-docker-provisioner") == "workbench_kernels.provisioner:DockerKernelProvisioner"


def test_workbench_kernels_stands_alone():
    import ast
    from pathlib import Path

    import workbench_kernels

    for file in Path(workbench_kernels.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else [])
            for name in names:
                assert name.split(".")[0] not in {"workbench", "workbench_server", "tornado", "jupyter_server"}, file
