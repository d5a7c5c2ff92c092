"""A real Jupyter server with Workbench, in a subprocess, for tests that need one
over the network (SDK over HTTP, kernels, the browser)."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

# An awkward base URL, so every test catches URL-joining bugs.
BASE_URL = "/a%40b/"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, home: Path, db_url: str, *, app: str = "server", port: int | None = None,
                 user: str = "alice", extra_env: dict[str, str] | None = None, root_dir: Path | None = None,
                 multi_user: bool = False, extra_args: list[str] | None = None):
        """``multi_user``: started as ``workbench serve --multi-user`` starts it (log-in page, no
        shared token: authenticate with users' API tokens or log-in cookies)."""
        self.home = home
        self.multi_user = multi_user
        self.extra_args = extra_args or []
        self.db_url = db_url
        self.app = app
        self.port = port or free_port()
        self.user = user
        self.token = secrets.token_hex(16)
        self.root_dir = root_dir or home / "notebooks"
        self.extra_env = extra_env or {}
        self.proc: subprocess.Popen | None = None
        self.log_path = home / f"jupyter-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{BASE_URL}"

    @property
    def api(self) -> str:
        return self.url + "workbench/api/v1"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def start(self, timeout: float = 60) -> LiveServer:
        self.home.mkdir(parents=True, exist_ok=True)
        self.root_dir.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
        env.update(WORKBENCH_HOME=str(self.home), WORKBENCH_DB_URL=self.db_url, WORKBENCH_USER=self.user,
                   JUPYTER_PLATFORM_DIRS="1", PYTHONUNBUFFERED="1", **self.extra_env)
        cmd = [sys.executable, "-m", "jupyter", self.app, "--no-browser", "--allow-root",
               f"--port={self.port}", "--port-retries=0", "--ip=127.0.0.1", f"--ServerApp.base_url={BASE_URL}",
               "--ServerApp.jpserver_extensions={'workbench_server': True}"]
        if self.multi_user:
            from workbench.cli import multi_user_args

            cmd += multi_user_args(self.root_dir)
        else:
            cmd += [f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root_dir}",
                    "--ServerApp.identity_provider_class=workbench_server.auth.WorkbenchIdentityProvider"]
        cmd += self.extra_args
        if self.app == "lab":  # each server its own workspace and settings, so tests cannot leak UI state
            settings = self.home / "user-settings"
            news = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
            news.parent.mkdir(parents=True, exist_ok=True)
            news.write_text('{"fetchNews": "false"}')  # no "Jupyter news?" prompt over the screenshots
            cmd += [f"--LabApp.workspaces_dir={self.home / 'workspaces'}", f"--LabApp.user_settings_dir={settings}",
                    "--LabApp.expose_app_in_browser=True"]  # tests drive JupyterLab's own commands
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.root_dir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Jupyter exited with {self.proc.returncode}:\n{self.log()}")
            # Multi-user servers have no token to probe with: Jupyter's version endpoint is public.
            probe = (self.url + "api", {}) if self.multi_user else (self.api + "/me", self.headers())
            try:
                if requests.get(probe[0], headers=probe[1], timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"Jupyter did not answer within {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def log(self) -> str:
        try:
            return self.log_path.read_text()[-5000:]
        except OSError:
            return ""

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def execute(server: LiveServer, kernel_id: str, code: str, timeout: float = 60, *,
            token: str | None = None) -> tuple[str, str]:
    """Run ``code`` in a kernel over its channels websocket, as JupyterLab does: (status, output).
    ``token``: whose credentials (default: the server's own token)."""
    import json
    import uuid

    import websocket

    ws_url = server.url.replace("http://", "ws://") + f"api/kernels/{kernel_id}/channels"
    # A short socket timeout, so the deadline below is checked even while the server's pings
    # keep the connection busy.
    ws = websocket.create_connection(ws_url, header=[f"Authorization: token {token or server.token}"], timeout=1)
    session = uuid.uuid4().hex
    deadline = time.monotonic() + timeout

    def send(msg_type: str, content: dict) -> str:
        msg_id = uuid.uuid4().hex
        ws.send(json.dumps({"header": {"msg_id": msg_id, "msg_type": msg_type, "username": "test",
                                       "session": session, "version": "5.3"},
                            "parent_header": {}, "metadata": {}, "channel": "shell", "content": content}))
        return msg_id

    def messages():
        while time.monotonic() < deadline:
            try:
                yield json.loads(ws.recv())
            except websocket.WebSocketTimeoutException:
                continue
        raise TimeoutError(f"kernel {kernel_id} did not answer within {timeout}s")

    try:
        # IOPub drops what is published before its subscriber connects (ZMQ's slow joiner):
        # like JupyterLab, ask for kernel_info until an IOPub message for it arrives.
        iopub_ready = False
        while not iopub_ready:
            info_id = send("kernel_info_request", {})
            asked = time.monotonic()
            for msg in messages():
                if msg.get("parent_header", {}).get("msg_id") == info_id and msg.get("channel") == "iopub":
                    iopub_ready = True
                    break
                if time.monotonic() - asked > 2:
                    break
        msg_id = send("execute_request", {"code": code, "silent": False, "store_history": False,
                                           "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
        output, status, idle = [], None, False
        for msg in messages():
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "stream":
                output.append(msg["content"]["text"])
            elif kind == "error":
                output.append("\n".join(msg["content"]["traceback"]))
            elif kind == "execute_reply":
                status = msg["content"]["status"]
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                idle = True
            if status and idle:
                break
    finally:
        ws.close()
    return status or "timeout", "".join(output)


def start_kernel(server: LiveServer, *, token: str | None = None) -> str:
    resp = requests.post(server.url + "api/kernels", json={"name": "python3"},
                         headers={"Authorization": f"token {token or server.token}"}, timeout=60)
    resp.raise_for_status()
    return resp.json()["id"]
