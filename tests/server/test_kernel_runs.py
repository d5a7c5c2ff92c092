"""A notebook kernel started by the server logs with no set-up, and its run fails when it dies."""

import os
import signal
import time

import pytest
import requests

from tests.live_server import execute, start_kernel
from workbench import models
from workbench.store.engine import open_store
from workbench.tenancy import Tenancy
from workbench.tracking.service import Tracking

pytestmark = pytest.mark.slow


def _run_status(db_url, run_id):
    store = open_store(db_url)
    return Tracking(store).get_run(Tenancy(store).get_user("alice"), run_id).info


def _wait_status(db_url, run_id, wanted, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = _run_status(db_url, run_id)
        if info.status == wanted:
            return info
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} stayed {info.status}, expected {wanted}")


def test_kernel_logs_with_no_setup_and_a_dead_kernel_fails_its_run(live_server, db_url):
    kernel_id = start_kernel(live_server)
    status, out = execute(live_server, kernel_id, (
        "import os, workbench as wb\n"
        "print(os.environ['WORKBENCH_URL'].endswith('/a%40b/'), os.environ['WORKBENCH_TOKEN'][:3])\n"
        "wb.set_experiment('from-kernel')\n"
        "with wb.start_run(name='done') as r:\n"
        "    wb.log_metric('auc', 0.9)\n"
        "print('RUN', r.id)\n"
        "active = wb.start_run(name='interrupted')\n"
        "wb.log_metric('loss', 0.5)\n"
        "wb.flush()\n"
        "print('ACTIVE', active.id, os.getpid())\n"))
    assert status == "ok", out
    assert "True wb_" in out
    done_id = out.split("RUN ")[1].split()[0]
    active_id, pid = out.split("ACTIVE ")[1].split()[:2]
    info = _run_status(db_url, done_id)
    assert info.status == models.RunStatus.FINISHED and info.kernel_id == kernel_id and info.user == "alice"
    assert _run_status(db_url, active_id).status == models.RunStatus.RUNNING

    os.kill(int(pid), signal.SIGKILL)  # the kernel dies (e.g. out of memory); Jupyter restarts it
    info = _wait_status(db_url, active_id, models.RunStatus.FAILED)
    assert info.end_time is not None
    requests.delete(live_server.url + f"api/kernels/{kernel_id}", headers=live_server.headers(), timeout=30)
