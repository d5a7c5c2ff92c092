"""Container kernels through jupyter_client's KernelManager, on a real Docker engine."""

from __future__ import annotations

import os
import queue
import shutil
import time
import uuid

import pytest
from workbench_kernels.engine import reap_orphans
from workbench_kernels.runtime import LABEL_KERNEL_ID

from tests.kernels.conftest import kernel_container

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def run(kc, code, timeout=60):
    """Execute ``code``; return the reply's status and everything it printed."""
    out = []

    def hook(msg):
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            out.append(msg["content"]["ename"])

    reply = kc.execute_interactive(code, output_hook=hook, timeout=timeout)
    return reply["content"]["status"], "".join(out)


def containers_of(runtime, kernel_id):
    return [c for c in runtime.list_managed() if c.labels.get(LABEL_KERNEL_ID) == kernel_id]


def test_kernel_runs_code_as_its_user_with_its_workspace_and_limits(start_kernel, workspace, docker_runtime):
    env = {
        "WORKBENCH_KERNEL_OWNER": "alice",
        "WORKBENCH_KERNEL_WORKSPACE": str(workspace),
        "WORKBENCH_URL": "http://127.0.0.1:1/",
        "WORKBENCH_TOKEN": "wb_alices_token",
        "WORKBENCH_DB_URL": "postgresql://secret@db/workbench",  # the server's: must not reach the kernel
    }
    km, kc = start_kernel(env=env, cwd=str(workspace))
    status, out = run(kc, (
        "import os, workbench, numpy, pandas, sklearn\n"
        "from workbench.tracking import environment\n"
        "print(os.getuid() != 0, os.getcwd(), open('hello.txt').read().strip())\n"
        "print(os.environ['WORKBENCH_TOKEN'], 'WORKBENCH_DB_URL' in os.environ, environment.kernel_id())\n"
        "open('made-in-kernel.txt', 'w').write('x')\n"
    ))
    assert status == "ok", out
    assert "True /home/jovyan/work hello from the workspace" in out
    assert f"wb_alices_token False {km.kernel_id}" in out
    assert (workspace / "made-in-kernel.txt").read_text() == "x"

    (container,) = containers_of(docker_runtime, km.kernel_id)
    assert container.labels["workbench.owner"] == "alice" and container.labels["workbench.managed"] == "true"
    host_config = docker_runtime.client().api.inspect_container(container.id)["HostConfig"]
    assert host_config["Memory"] == 2 * 1024**3 and host_config["NanoCpus"] == 10**9
    assert host_config["NetworkMode"] == "host" and host_config["CapDrop"] == ["ALL"]
    assert km.curve_publickey is not None  # host networking: the channels are encrypted


def test_a_multi_user_kernel_sees_its_own_and_its_teams_folders_only(start_kernel, tmp_path):
    # What the multi-user server passes: the owner, their teams, its root (users/<name>, teams/<team>).
    root = tmp_path / "root"
    for folder in ("users/alice/project", "users/bob", "teams/growth", "teams/risk"):
        (root / folder).mkdir(parents=True)
    (root / "teams/growth/data.csv").write_text("a,b\n1,2\n")
    (root / "users/bob/secret.txt").write_text("bob's")
    env = {"WORKBENCH_KERNEL_OWNER": "alice", "WORKBENCH_KERNEL_TEAMS": "growth", "JUPYTER_SERVER_ROOT": str(root)}
    _, kc = start_kernel(env=env, cwd=str(root / "users/alice/project"))
    status, out = run(kc, (
        "import os, pandas\n"
        "print(os.getcwd())\n"
        "print(pandas.read_csv('../../../teams/growth/data.csv').b.sum())\n"  # the same relative path as in the lab
        "print(sorted(os.listdir('/home/jovyan/work/users')), sorted(os.listdir('/home/jovyan/work/teams')))\n"
        "open('../notes.txt', 'w').write('mine')\n"
    ))
    assert status == "ok", out
    assert out.splitlines() == ["/home/jovyan/work/users/alice/project", "2", "['alice'] ['growth']"]
    assert (root / "users/alice/notes.txt").read_text() == "mine"


def test_interrupt_stops_the_running_cell_and_keeps_the_kernel(start_kernel):
    km, kc = start_kernel()
    msg_id = kc.execute("import time\nfor _ in range(600): time.sleep(0.1)\nprint('not interrupted')")
    _wait_for_state(kc, "busy", msg_id)
    time.sleep(0.5)
    km.interrupt_kernel()
    reply = kc.get_shell_msg(timeout=20)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
    assert run(kc, "print(6 * 7)") == ("ok", "42\n")


def test_restart_starts_a_fresh_container_for_the_same_kernel(start_kernel, docker_runtime):
    km, kc = start_kernel()
    assert run(kc, "x = 1; print(x)")[0] == "ok"
    (before,) = containers_of(docker_runtime, km.kernel_id)
    km.restart_kernel(now=False)
    kc.wait_for_ready(timeout=60)
    status, out = run(kc, "print('x' in globals())")
    assert (status, out) == ("ok", "False\n")
    (after,) = containers_of(docker_runtime, km.kernel_id)
    assert after.id != before.id and docker_runtime.state(before.id) is None


def test_shutdown_removes_the_container_and_its_connection_dir(start_kernel, docker_runtime):
    km, kc = start_kernel()
    assert len(containers_of(docker_runtime, km.kernel_id)) == 1
    connection_dir = km.provisioner.connection_dir
    assert os.path.isdir(connection_dir)
    kc.stop_channels()
    km.shutdown_kernel()
    assert containers_of(docker_runtime, km.kernel_id) == []
    assert not os.path.exists(connection_dir)


def test_a_kernel_over_its_memory_limit_dies_alone(start_kernel, docker_runtime):
    big_km, big_kc = start_kernel("workbench-small")  # 256m
    _, other_kc = start_kernel()
    assert run(other_kc, "data = list(range(10))")[0] == "ok"

    big_kc.execute("blob = b'x' * (1024 ** 3)")  # 1 GB, written: more than 256m
    deadline = time.monotonic() + 60
    while big_km.is_alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not big_km.is_alive()
    (dead,) = containers_of(docker_runtime, big_km.kernel_id)
    state = docker_runtime.state(dead.id)
    assert state.oom_killed and state.exit_code == 137, state

    assert run(other_kc, "print(sum(data))") == ("ok", "45\n")


def test_reap_orphans_removes_only_containers_no_server_knows(docker_runtime, kernel_image):
    server = f"test-{uuid.uuid4().hex[:8]}"  # other servers' (and other tests') containers stay untouched
    with kernel_container(docker_runtime, kernel_image.tag, server_id=server) as orphan, \
            kernel_container(docker_runtime, kernel_image.tag, server_id=server) as known, \
            kernel_container(docker_runtime, kernel_image.tag, server_id=server + "-other") as others:
        removed = reap_orphans([known.labels["workbench.kernel_id"]], server_id=server, runtime=docker_runtime)
        assert removed == [orphan.name]
        assert docker_runtime.state(orphan.id) is None
        assert docker_runtime.state(known.id).running and docker_runtime.state(others.id).running


def test_kernels_carry_the_server_id_reap_orphans_looks_for(kernel_specs, docker_runtime):
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from traitlets.config import Config

    config = Config({"DockerKernelProvisioner": {"server_id": "test-server-id"}})
    km = KernelManager(kernel_name="workbench-python", config=config,
                       kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernel_specs)]))
    km.start_kernel()
    try:
        (container,) = containers_of(docker_runtime, km.kernel_id)
        assert container.labels["workbench.server"] == "test-server-id"
    finally:
        km.shutdown_kernel(now=True)
    assert reap_orphans(server_id="test-server-id", runtime=docker_runtime) == []


def test_a_missing_image_is_a_clear_error(kernel_specs, docker_runtime, tmp_path):
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from workbench_kernels.errors import ImageMissing
    from workbench_kernels.kernelspecs import ImageSpec, write_kernelspecs

    write_kernelspecs(tmp_path, [ImageSpec("nowhere", "No image", "workbench-kernel-torch:0.0.0-missing")])
    km = KernelManager(kernel_name="nowhere", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(tmp_path)]))
    with pytest.raises(ImageMissing, match=r"workbench images build --gpu"):
        km.start_kernel()


def test_gpu_table_gives_each_kernel_its_own_device(docker_runtime, kernel_image):
    # The allocation table only (devices themselves need a GPU host: tests marked gpu).
    from workbench_kernels.docker_runtime import DockerRuntime

    runtime = DockerRuntime(gpu_ids=["0", "1"])
    client = docker_runtime.client()
    holders = [
        client.containers.run(kernel_image.tag, ["sleep", "300"], detach=True, network_mode="none",
                              labels={"workbench.managed": "true", "workbench.kernel_id": f"gpu-test-{i}",
                                      "workbench.gpus": gpu})
        for i, gpu in enumerate(["0"])
    ]
    try:
        assert runtime._allocate_gpus(1, share=False) == ("1",)
        with pytest.raises(RuntimeError, match="asks for 3 GPUs but the host has 2"):
            runtime._allocate_gpus(3, share=False)
        with pytest.raises(RuntimeError, match="All GPUs are in use"):
            runtime._allocate_gpus(2, share=False)
        assert runtime._allocate_gpus(2, share=True) == ("1", "0")
    finally:
        for c in holders:
            docker_runtime.remove(c.id)


def _wait_for_state(kc, wanted, msg_id, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        if (msg["msg_type"] == "status" and msg["content"]["execution_state"] == wanted
                and msg["parent_header"].get("msg_id") == msg_id):
            return
    raise AssertionError(f"kernel never went {wanted}")


def test_the_torch_kernel_runs_torch_and_says_when_there_is_no_gpu(torch_image, start_kernel, docker_runtime,
                                                                   caplog):
    _, kc = start_kernel("workbench-torch")  # asks for 1 GPU
    status, out = run(kc, "import torch, workbench\nprint(torch.tensor([1.0, 2.0]).sum().item())")
    assert (status, out) == ("ok", "3.0\n")
    if not docker_runtime.gpu_ids():
        assert "asked for 1 GPU(s) but this host has none: it runs on CPU" in caplog.text


@pytest.mark.gpu
@pytest.mark.skipif(not (shutil.which("nvidia-smi") and shutil.which("nvidia-container-cli")),
                    reason="needs an NVIDIA GPU and nvidia-container-toolkit (Docker's GPU device requests)")
def test_a_gpu_kernel_gets_its_own_gpu(torch_image, start_kernel, docker_runtime):
    km, kc = start_kernel("workbench-torch")
    status, out = run(kc, "import torch\nprint(torch.cuda.is_available(), torch.cuda.device_count())")
    assert status == "ok", out
    (container,) = containers_of(docker_runtime, km.kernel_id)
    assert len(container.gpus) == 1
    assert out.split()[1] == "1"  # the kernel sees its one device, not the host's others
