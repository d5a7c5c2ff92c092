"""A real multi-user server: log-in, throttling, and one user against another's
files, kernels, sessions, runs and experiments.

Every kernel of a multi-user server runs in a container, so these tests need the
Docker engine and the kernel image (they run on both database backends).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
import websocket

from tests.conftest import BACKENDS, drop_pg_database, fresh_pg_database
from tests.live_server import BASE_URL, LiveServer, execute, free_port
from workbench.store.engine import open_store
from workbench.tenancy import Tenancy
from workbench.tracking.service import Tracking

pytestmark = [pytest.mark.slow, pytest.mark.docker, pytest.mark.multi_user]

PASSWORDS = {"alice": "alice-password", "bob": "bob-password"}
# Words of bob's that must never show up in what alice is told.
BOBS_WORDS = ("bob", "secret-plan", "risk", "bobs-experiment", "bobs-run")


@pytest.fixture(scope="module", params=BACKENDS)
def mu(request, tmp_path_factory, kernel_image):
    """One multi-user server per backend: alice (team growth) and bob (team risk), with tokens."""
    home = tmp_path_factory.mktemp(f"multi-user-{request.param}")
    url = f"sqlite:///{home / 'workbench.db'}" if request.param == "sqlite" else fresh_pg_database("wbmu")
    tenancy = Tenancy(open_store(url))
    tokens = {}
    for name, team in (("alice", "growth"), ("bob", "risk")):
        tenancy.create_team(team)
        tenancy.create_user(name, password=PASSWORDS[name])
        tenancy.add_member(team, name)
        tokens[name] = tenancy.create_token(tenancy.get_user(name), name="test").token
    server = LiveServer(home, url, multi_user=True, extra_args=[
        "--WorkbenchKernelManager.user_kernel_limits={'alice': {'mem_limit': '1g', 'cpus': 2}}"]).start()
    yield SimpleNamespace(server=server, tenancy=tenancy, tokens=tokens, root=server.root_dir, db_url=url,
                          as_alice=_session(tokens["alice"]), as_bob=_session(tokens["bob"]))
    server.stop()
    if request.param != "sqlite":
        drop_pg_database(url)


def _session(token: str) -> requests.Session:
    s = requests.Session()
    s.headers["Authorization"] = f"token {token}"
    return s


def login(server: LiveServer, name: str, password: str) -> tuple[requests.Response, requests.Session]:
    s = requests.Session()
    page = s.get(server.url + "login", timeout=30)
    assert page.status_code == 200 and 'name="username"' in page.text and 'name="password"' in page.text
    resp = s.post(server.url + "login", timeout=30, allow_redirects=False,
                  data={"username": name, "password": password, "_xsrf": s.cookies.get("_xsrf"),
                        "next": BASE_URL + "lab"})
    return resp, s


def names(resp: requests.Response) -> list[str]:
    assert resp.status_code == 200, resp.text
    return sorted(entry["name"] for entry in resp.json()["content"])


def assert_refused(resp: requests.Response, *statuses: int) -> None:
    assert resp.status_code in (statuses or (403, 404)), (resp.request.method, resp.url, resp.status_code, resp.text)
    for word in BOBS_WORDS:
        assert word not in resp.text, (resp.request.method, resp.url, word, resp.text)


def wait_until(condition, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached")


# --- log-in ---------------------------------------------------------------------------------------

def test_login_with_the_right_password_only(mu):
    server = mu.server
    wrong, s = login(server, "alice", "not-her-password")
    assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text
    assert s.get(server.url + "api/contents", timeout=30).status_code == 403
    assert login(server, "nobody", "alice-password")[0].status_code == 401

    ok, s = login(server, "Alice", PASSWORDS["alice"])  # names are case-insensitive
    assert ok.status_code == 302 and ok.headers["Location"] == BASE_URL + "lab"
    cookie = next(c for c in s.cookies if c.name.startswith("username-"))
    signed_value = cookie.value.strip('"').split("|")[4].split(":", 1)[1]  # tornado's v2 signed format
    content = json.loads(base64.b64decode(signed_value))
    assert content == {"workbench_user": "alice", "stamp": mu.tenancy.password_stamp("alice")}  # no secret in it
    assert PASSWORDS["alice"] not in signed_value and len(content["stamp"]) == 24
    assert s.get(server.api + "/me", timeout=30).json()["name"] == "alice"
    assert names(s.get(server.url + "api/contents", timeout=30)) == ["teams", "users"]
    assert (mu.root / "users" / "alice").is_dir()
    # A cookie session must send the XSRF token with changes, as in JupyterLab.
    body = {"type": "file", "format": "text", "content": "hi"}
    assert s.put(server.url + "api/contents/users/alice/by-cookie.txt", json=body, timeout=30).status_code == 403
    xsrf = {"X-XSRFToken": s.cookies.get("_xsrf")}
    assert s.put(server.url + "api/contents/users/alice/by-cookie.txt", json=body, headers=xsrf,
                 timeout=30).status_code == 201


def test_repeated_failed_logins_are_throttled(mu):
    server = mu.server
    name = f"victim{uuid.uuid4().hex[:6]}"
    mu.tenancy.create_user(name, password="victim-password")
    for _ in range(5):
        assert login(server, name, "guess-password")[0].status_code == 401
    locked, _ = login(server, name, "victim-password")  # even the right password waits now
    assert locked.status_code == 429, locked.text
    assert "Too many failed log-ins. Try again in" in locked.text and int(locked.headers["Retry-After"]) > 0
    assert login(server, "bob", PASSWORDS["bob"])[0].status_code == 302  # other users are not locked out


def test_a_removed_user_is_out_at_once(mu):
    server = mu.server
    name = f"leaver{uuid.uuid4().hex[:6]}"
    user = mu.tenancy.create_user(name, password="leaver-password")
    token = mu.tenancy.create_token(user).token
    ok, s = login(server, name, "leaver-password")
    assert ok.status_code == 302 and s.get(server.url + "api/contents", timeout=30).status_code == 200
    mu.tenancy.remove_user(name)
    assert s.get(server.url + "api/contents", timeout=30).status_code == 403
    assert s.get(server.api + "/me", timeout=30).status_code in (401, 403)
    assert _session(token).get(server.api + "/me", timeout=30).status_code == 401
    assert login(server, name, "leaver-password")[0].status_code == 401


def test_a_password_change_logs_out_the_other_browsers(mu):
    server = mu.server
    name = f"changer{uuid.uuid4().hex[:6]}"
    mu.tenancy.create_user(name, password="first-password")
    _, laptop = login(server, name, "first-password")
    _, desktop = login(server, name, "first-password")
    assert laptop.get(server.api + "/me", timeout=30).json()["name"] == name
    mu.tenancy.set_password(name, "second-password")
    for browser in (laptop, desktop):
        assert browser.get(server.url + "api/contents", timeout=30).status_code == 403
    ok, fresh = login(server, name, "second-password")
    assert ok.status_code == 302 and fresh.get(server.api + "/me", timeout=30).json()["name"] == name


# --- files ----------------------------------------------------------------------------------------

NOTEBOOK = {"type": "notebook", "content": {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}}


def test_each_user_sees_only_their_folders(mu):
    url = mu.server.url + "api/contents"
    for who, team in (("alice", "growth"), ("bob", "risk")):
        s = getattr(mu, f"as_{who}")
        assert names(s.get(url, timeout=30)) == ["teams", "users"]
        assert names(s.get(url + "/users", timeout=30)) == [who]
        assert names(s.get(url + "/teams", timeout=30)) == [team]
    (mu.root / "stray.txt").write_text("left at the root by an admin")
    assert names(mu.as_alice.get(url, timeout=30)) == ["teams", "users"]
    assert_refused(mu.as_alice.get(url + "/stray.txt", timeout=30), 404)
    assert mu.as_alice.put(url + "/teams/growth/shared.txt", json={"type": "file", "format": "text",
                                                                     "content": "team notes"}, timeout=30).ok
    assert_refused(mu.as_alice.put(url + "/notes.txt", json={"type": "file", "format": "text", "content": "x"},
                                   timeout=30), 403)


def test_another_users_files_are_refused(mu):
    base = mu.server.url
    assert mu.as_bob.put(base + "api/contents/users/bob/secret-plan.ipynb", json=NOTEBOOK, timeout=30).status_code == 201
    assert mu.as_bob.put(base + "api/contents/teams/risk/model.txt",
                         json={"type": "file", "format": "text", "content": "risk"}, timeout=30).status_code == 201
    assert mu.as_alice.put(base + "api/contents/users/alice/mine.txt",
                           json={"type": "file", "format": "text", "content": "mine"}, timeout=30).status_code == 201
    os.symlink(mu.root / "users" / "bob", mu.root / "users" / "alice" / "peek")  # as a kernel could
    bobs_before = _tree(mu.root / "users" / "bob")
    a = mu.as_alice
    secret = "users/bob/secret-plan.ipynb"
    attempts = [
        a.get(base + f"api/contents/{secret}", timeout=30),
        a.get(base + "api/contents/users/bob", timeout=30),
        a.get(base + "api/contents/teams/risk", timeout=30),
        a.get(base + "api/contents/teams/risk/model.txt", timeout=30),
        a.get(base + "api/contents/users/alice/%2E%2E/bob/secret-plan.ipynb", timeout=30),
        a.get(base + "api/contents/users/alice/peek", timeout=30),
        a.get(base + "api/contents/users/alice/peek/secret-plan.ipynb", timeout=30),
        a.put(base + f"api/contents/{secret}", json=NOTEBOOK, timeout=30),
        a.put(base + "api/contents/users/bob/planted.txt", json={"type": "file", "format": "text", "content": "x"},
              timeout=30),
        a.patch(base + f"api/contents/{secret}", json={"path": "users/alice/stolen.ipynb"}, timeout=30),
        a.patch(base + "api/contents/users/alice/mine.txt", json={"path": "users/bob/mine.txt"}, timeout=30),
        a.post(base + "api/contents/users/alice", json={"copy_from": secret}, timeout=30),
        a.post(base + "api/contents/users/bob", json={"type": "notebook"}, timeout=30),
        a.delete(base + f"api/contents/{secret}", timeout=30),
        a.get(base + f"api/contents/{secret}/checkpoints", timeout=30),
        a.post(base + f"api/contents/{secret}/checkpoints", timeout=30),
        a.get(base + f"files/{secret}", timeout=30),
        a.get(base + "files/users/alice/peek/secret-plan.ipynb", timeout=30),
        a.get(base + f"view/{secret}", timeout=30),
        a.get(base + f"nbconvert/html/{secret}", timeout=30),
    ]
    for resp in attempts:
        assert_refused(resp, 404)
    assert _tree(mu.root / "users" / "bob") == bobs_before
    assert mu.as_bob.get(base + f"api/contents/{secret}", timeout=30).json()["content"] == NOTEBOOK["content"]
    assert not (mu.root / "users" / "alice" / "stolen.ipynb").exists()


def _tree(folder) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(folder)), p.stat().st_mtime_ns) for p in folder.rglob("*"))


# --- kernels and sessions -------------------------------------------------------------------------

def _start_session(s: requests.Session, server: LiveServer, path: str) -> dict:
    resp = s.post(server.url + "api/sessions", timeout=60,
                  json={"path": path, "type": "notebook", "name": "", "kernel": {}})  # the default kernel
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_another_users_kernels_and_sessions_are_refused(mu):
    server, a, b = mu.server, mu.as_alice, mu.as_bob
    session = _start_session(b, server, "users/bob/secret-plan.ipynb")
    kernel_id, session_id = session["kernel"]["id"], session["id"]
    k = server.url + f"api/kernels/{kernel_id}"
    try:
        assert kernel_id not in [x["id"] for x in a.get(server.url + "api/kernels", timeout=30).json()]
        assert session_id not in [x["id"] for x in a.get(server.url + "api/sessions", timeout=30).json()]
        for resp in (a.get(k, timeout=30), a.post(k + "/interrupt", timeout=30), a.post(k + "/restart", timeout=30),
                     a.delete(k, timeout=30), a.post(server.url + "api/kernels", json={"kernel_id": kernel_id},
                                                     timeout=30),
                     a.get(server.url + f"api/sessions/{session_id}", timeout=30),
                     a.patch(server.url + f"api/sessions/{session_id}", json={"path": "users/alice/x.ipynb"},
                             timeout=30),
                     a.delete(server.url + f"api/sessions/{session_id}", timeout=30),
                     a.post(server.url + "api/sessions", timeout=30, json={
                         "path": "users/alice/attach.ipynb", "type": "notebook", "kernel": {"id": kernel_id}}),
                     a.post(server.url + "api/sessions", timeout=30, json={
                         "path": "users/bob/secret-plan.ipynb", "type": "notebook", "kernel": {"name": "python3"}})):
            assert_refused(resp, 404)
        ws_url = server.url.replace("http://", "ws://") + f"api/kernels/{kernel_id}/channels"
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(ws_url, header=[f"Authorization: token {mu.tokens['alice']}"], timeout=30)
        assert refused.value.status_code == 404
        # bob's kernel went on as if nothing happened
        assert b.get(k, timeout=30).json()["execution_state"] != "dead"
        assert session_id in [x["id"] for x in b.get(server.url + "api/sessions", timeout=30).json()]
        status, out = execute(server, kernel_id, "print(6 * 7)", token=mu.tokens["bob"])
        assert (status, out.strip()) == ("ok", "42")
    finally:
        b.delete(server.url + f"api/sessions/{session_id}", timeout=30)


def test_a_kernel_runs_as_its_owner_and_logs_their_runs(mu):
    server, a, b = mu.server, mu.as_alice, mu.as_bob
    session = _start_session(b, server, "users/bob/train.ipynb")
    bob_kernel = session["kernel"]["id"]
    status, out = execute(server, bob_kernel, (
        "import os, workbench as wb\n"
        "print('OWNER', os.getuid(), os.getcwd(), sorted(k for k in os.environ if k.startswith('WORKBENCH_')))\n"
        "wb.set_experiment('bobs-experiment')\n"
        "with wb.start_run(name='bobs-run') as r:\n"
        "    wb.log_metric('auc', 0.9)\n"
        "print('RUN', r.id, os.environ['WORKBENCH_TOKEN'])\n"), token=mu.tokens["bob"])
    assert status == "ok", out
    # in its container: not root, in bob's folder, with his token and nothing else of the server's
    assert "OWNER 1000 /home/jovyan/work/users/bob ['WORKBENCH_TOKEN', 'WORKBENCH_URL']" in out
    run_id, kernel_token = out.split("RUN ")[1].split()[:2]
    store = open_store(mu.db_url)
    run = Tracking(store).get_run(mu.tenancy.get_user("bob"), run_id)
    assert run.info.user == "bob" and run.info.kernel_id == bob_kernel
    assert mu.tenancy.authenticate_token(kernel_token).name == "bob"

    api = server.api
    assert_refused(a.get(api + f"/runs/{run_id}", timeout=30), 404)
    assert_refused(a.get(api + f"/experiments/{run.info.experiment_id}", timeout=30), 404)
    assert_refused(a.post(api + f"/runs/{run_id}/log-batch", json={}, timeout=30), 404)
    assert_refused(a.get(api + "/experiments", timeout=30), 200)
    assert_refused(a.post(api + "/runs/search", json={}, timeout=30), 200)
    assert a.post(api + "/runs/search", json={}, timeout=30).json()["runs"] == []

    assert b.delete(server.url + f"api/sessions/{session['id']}", timeout=30).status_code == 204
    wait_until(lambda: mu.tenancy.authenticate_token(kernel_token) is None)  # the kernel's token went with it


def test_kernels_started_in_team_folders_are_still_their_owners(mu, docker_runtime):
    server, a = mu.server, mu.as_alice
    session = _start_session(a, server, "teams/growth/shared.ipynb")
    kernel_id = session["kernel"]["id"]
    try:
        status, out = execute(server, kernel_id, "import os; print(os.getcwd())", token=mu.tokens["alice"])
        assert (status, out.strip()) == ("ok", "/home/jovyan/work/teams/growth")
        container = _kernel_container(docker_runtime, kernel_id)
        assert container.labels["workbench.owner"] == "alice"
        host = container.attrs["HostConfig"]
        assert (host["Memory"], host["NanoCpus"]) == (1024**3, 2 * 10**9)  # her limits, not the image's
        assert sorted(m["Destination"] for m in container.attrs["Mounts"] if m["Destination"] != "/connection") == [
            "/home/jovyan/work/teams/growth", "/home/jovyan/work/users/alice"]  # nothing of bob's
        assert session["id"] not in [x["id"] for x in mu.as_bob.get(server.url + "api/sessions", timeout=30).json()]
    finally:
        a.delete(server.url + f"api/sessions/{session['id']}", timeout=30)


def _kernel_container(runtime, kernel_id: str):
    found = runtime.client().containers.list(all=True, filters={"label": f"workbench.kernel_id={kernel_id}"})
    assert len(found) == 1, found
    return found[0]


def test_only_the_vetted_container_kernels_are_offered(mu):
    server, a = mu.server, mu.as_alice
    specs = a.get(server.url + "api/kernelspecs", timeout=30).json()
    assert specs["default"] == "workbench-python"
    assert sorted(specs["kernelspecs"]) == ["workbench-python", "workbench-torch"]  # no local python3
    refused = a.post(server.url + "api/kernels", json={"name": "python3"}, timeout=30)
    assert refused.status_code == 404 and "pick one of ['workbench-python', 'workbench-torch']" in refused.text
    resp = a.post(server.url + "api/sessions", timeout=30, json={
        "path": "users/alice/local.ipynb", "type": "notebook", "kernel": {"name": "python3"}})
    assert resp.status_code == 501 and "python3" in resp.json()["message"]


def test_a_starting_kernel_reports_what_it_is_doing(mu):
    server, a = mu.server, mu.as_alice
    seen: list[dict] = []
    done = threading.Event()

    def watch():
        while not done.is_set():
            seen.extend(a.get(server.api + "/kernels/starting", timeout=30).json()["kernels"])

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        session = _start_session(a, server, "users/alice/progress.ipynb")
    finally:
        done.set()
        watcher.join()
    try:
        stages = [k["stage"] for k in seen if k["kernel_id"] == session["kernel"]["id"]]
        assert stages and all(k["display_name"] == "Python 3 (container)" for k in seen)
        assert any(s.startswith(("Checking", "Starting a container", "Container started", "Preparing"))
                   for s in stages), stages
        assert mu.as_bob.get(server.api + "/kernels/starting", timeout=30).json() == {"kernels": []}
    finally:
        a.delete(server.url + f"api/sessions/{session['id']}", timeout=30)


def test_terminals_events_and_shutdown_are_not_for_users(mu):
    server, a = mu.server, mu.as_alice
    assert a.post(server.url + "api/terminals", timeout=30).status_code in (403, 404)
    assert a.post(server.url + "api/shutdown", timeout=30).status_code == 403
    ws_url = server.url.replace("http://", "ws://") + "api/events/subscribe"
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(ws_url, header=[f"Authorization: token {mu.tokens['alice']}"], timeout=30)
    assert refused.value.status_code == 403
    assert a.get(server.url + "api/status", timeout=30).status_code == 200


# --- start-up -------------------------------------------------------------------------------------

def test_multi_user_mode_refuses_to_start_half_configured(tmp_path):
    server = LiveServer(tmp_path, f"sqlite:///{tmp_path / 'workbench.db'}",
                        extra_args=["--WorkbenchApp.multi_user=True"])
    with pytest.raises(RuntimeError) as failed:
        server.start()
    assert "multi-user mode needs" in str(failed.value)
    assert "--ServerApp.authorizer_class=workbench_server.authorizer.WorkbenchAuthorizer" in str(failed.value)


def test_workbench_serve_multi_user(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env.update(WORKBENCH_HOME=str(tmp_path / "home"), JUPYTER_PLATFORM_DIRS="1")
    port = free_port()
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "workbench.cli", "serve", "--multi-user", "--port", str(port),
                                 "--cull-idle-after", "30m", "--", "--ServerApp.base_url=/team/", "--allow-root"],
                                env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/team/"
        wait_until(lambda: proc.poll() is not None or _answers(url + "api"), timeout=90)
        assert proc.poll() is None, log_path.read_text()
        assert 'name="username"' in requests.get(url + "login", timeout=30).text
        assert requests.get(url + "api/contents", timeout=30).status_code == 403
        assert (tmp_path / "home" / "workspace").is_dir()
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode().split("\0")
        assert "--MappingKernelManager.cull_idle_timeout=1800" in cmdline  # idle kernels get culled
    finally:
        proc.terminate()
        proc.wait(30)
    log_text = log_path.read_text()
    assert "No users yet" in log_text
    assert "kernels run in containers" in log_text


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_jupyterlab_layouts_are_per_user(mu):
    url = mu.server.url + "lab/api/workspaces"
    layout = {"data": {"layout-restorer:data": {"main": {"current": "notebook:users/bob/secret-plan.ipynb"}}},
              "metadata": {"id": "default"}}
    assert mu.as_bob.put(url + "/default", data=json.dumps(layout), timeout=30).status_code == 204
    assert "secret-plan" in mu.as_bob.get(url + "/default", timeout=30).text
    assert_refused(mu.as_alice.get(url + "/default", timeout=30), 200)
    assert_refused(mu.as_alice.get(url, timeout=30), 200)


def test_jupyterlab_settings_are_per_user(mu):
    url = mu.server.url + "lab/api/settings/@jupyterlab/apputils-extension:themes"
    dark = json.dumps({"raw": json.dumps({"theme": "JupyterLab Dark"})})
    assert mu.as_bob.put(url, data=dark, timeout=30).status_code == 204
    assert "JupyterLab Dark" in mu.as_bob.get(url, timeout=30).json()["raw"]
    alices = mu.as_alice.get(url, timeout=30)
    assert alices.status_code == 200 and "JupyterLab Dark" not in alices.json()["raw"]  # bob's theme is his own
