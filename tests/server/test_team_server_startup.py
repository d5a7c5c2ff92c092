"""A multi-user server's start-up with container kernels: the engine check, the admin's
kernel menu and limits, and no container outliving its server (graceful stop or crash).
"""

from __future__ import annotations

import json
import signal

import pytest
import requests

from tests.live_server import LiveServer
from workbench.store.engine import open_store
from workbench.tenancy import Tenancy

pytestmark = [pytest.mark.slow, pytest.mark.docker]


def _kernels_of(runtime) -> list:
    """Kernel containers of carol's (she exists only in this module's servers)."""
    return [c for c in runtime.client().containers.list(all=True, filters={"label": "workbench.managed=true"})
            if c.labels.get("workbench.owner") == "carol"]


def _server(home, **kwargs) -> LiveServer:
    return LiveServer(home, f"sqlite:///{home / 'workbench.db'}", multi_user=True, root_dir=home / "workspace",
                      **kwargs)


@pytest.fixture
def carol(tmp_path):
    tenancy = Tenancy(open_store(f"sqlite:///{tmp_path / 'workbench.db'}"))
    user = tenancy.create_user("carol", password="carol-password")
    return tenancy.create_token(user, name="test").token


def _start_kernel(server: LiveServer, token: str) -> str:
    resp = requests.post(server.url + "api/kernels", json={}, headers={"Authorization": f"token {token}"},
                         timeout=60)
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def test_the_admins_kernel_menu_and_no_orphans_after_a_crash(tmp_path, carol, kernel_image, docker_runtime):
    team_config = tmp_path / "team.json"  # as an admin would write it (docs/multi-user.md)
    team_config.write_text(json.dumps({"WorkbenchApp": {"default_kernel": "small", "kernel_images": [
        {"name": "small", "display_name": "Python (small)", "image": kernel_image.tag, "mem_limit": "300m",
         "cpus": 0.5},
        {"name": "big", "image": kernel_image.tag, "mem_limit": "1g", "cpus": 1}]}}))
    args = [f"--config={team_config}"]
    server = _server(tmp_path, extra_args=args).start()
    try:
        specs = requests.get(server.url + "api/kernelspecs", headers={"Authorization": f"token {carol}"},
                             timeout=30).json()
        assert (specs["default"], sorted(specs["kernelspecs"])) == ("small", ["big", "small"])
        kernel_id = _start_kernel(server, carol)
        [container] = _kernels_of(docker_runtime)
        assert container.labels["workbench.kernel_id"] == kernel_id
        assert (container.attrs["HostConfig"]["Memory"], container.attrs["HostConfig"]["NanoCpus"]) == (
            300 * 1024**2, 5 * 10**8)  # the default kernel, with the admin's limits
        server.proc.send_signal(signal.SIGKILL)  # a crash: nobody shuts the kernel down
        server.proc.wait(30)
        assert [c.id for c in _kernels_of(docker_runtime)] == [container.id]
    finally:
        server.stop()

    again = _server(tmp_path, extra_args=args).start()  # same root: same server id
    try:
        assert _kernels_of(docker_runtime) == []
        assert "removed 1 kernel containers left by an earlier run" in again.log()
        _start_kernel(again, carol)
        assert len(_kernels_of(docker_runtime)) == 1
    finally:
        again.stop()  # a graceful stop shuts its kernels down
    assert _kernels_of(docker_runtime) == []


def test_no_engine_is_a_clear_error_at_start_up(tmp_path, carol):
    server = _server(tmp_path, extra_env={"DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"})
    with pytest.raises(RuntimeError) as failed:
        server.start(timeout=60)
    assert "runs every kernel in a container" in str(failed.value)
    assert "no-engine.sock" in str(failed.value)


def test_a_kernel_menu_that_does_not_add_up_is_refused(tmp_path, carol, docker_runtime):
    server = _server(tmp_path, extra_args=["--WorkbenchApp.default_kernel=nope"])
    with pytest.raises(RuntimeError) as failed:
        server.start(timeout=60)
    assert "WorkbenchApp.default_kernel is 'nope'" in str(failed.value)
