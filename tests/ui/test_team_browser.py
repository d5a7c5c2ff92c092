"""A team server in Debian's Chromium: alice and bob log in side by side, each runs a
notebook in a container kernel, and each sees only their own files and runs.
Screenshots go to test-artifacts/ (team-<user>-notebook.png, team-<user>-runs.png)."""

from __future__ import annotations

import json

import pytest

from tests.live_server import LiveServer
from tests.ui.test_browser import SHOTS
from workbench.store.engine import open_store
from workbench.tenancy import Tenancy

pytestmark = [pytest.mark.browser, pytest.mark.docker, pytest.mark.slow]

USERS = {"alice": ("alice-password", "growth"), "bob": ("bob-password", "risk")}


def _notebook(user: str) -> dict:
    return {
        "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": (
            "import os, workbench as wb\n"
            f"wb.set_experiment('{user}-experiment')\n"
            f"with wb.start_run(name='{user}-run') as run:\n"
            "    for step in range(10):\n"
            "        wb.log_metric('loss', 1 / (step + 1), step=step)\n"
            "print('logged', run.id, 'as uid', os.getuid(), 'in', os.getcwd())\n")}],
        "metadata": {"kernelspec": {"name": "workbench-python", "display_name": "Python 3 (container)",
                                    "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }


@pytest.fixture
def team_lab(tmp_path, db_url, kernel_image):
    tenancy = Tenancy(open_store(db_url))
    for name, (password, team) in USERS.items():
        tenancy.create_team(team)
        tenancy.create_user(name, password=password)
        tenancy.add_member(team, name)
    root = tmp_path / "workspace"
    for name in USERS:
        folder = root / "users" / name
        folder.mkdir(parents=True)
        (folder / f"{name}-train.ipynb").write_text(json.dumps(_notebook(name)))
    server = LiveServer(tmp_path / "home", db_url, app="lab", root_dir=root, multi_user=True)
    server.start()
    yield server
    server.stop()


def _log_in(browser, pages, server: LiveServer, name: str):
    context = browser.new_context(viewport={"width": 1440, "height": 900})  # a browser of one's own
    page = context.new_page()
    page.set_default_timeout(60_000)
    pages.append(page)
    page.goto(f"{server.url}lab/tree/users/{name}/{name}-train.ipynb")
    page.fill("#username_input", name)
    page.fill("#password_input", USERS[name][0])
    page.click("#login_submit")
    page.wait_for_selector(".jp-Notebook .jp-Cell")
    return page


def _run_notebook(page) -> str:
    page.wait_for_function(
        "(() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
        " const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;"
        " return !!k && w.sessionContext.isReady && k.connectionStatus === 'connected' && k.status === 'idle'; })()",
        timeout=120_000)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    output = page.locator(".jp-OutputArea-output:has-text('logged')")
    output.wait_for(timeout=120_000)
    return output.inner_text()


def _listing(page, folder: str) -> list[str]:
    page.evaluate(f"window.jupyterapp.commands.execute('filebrowser:go-to-path', {{path: '{folder}'}})")
    page.wait_for_function(
        "(f) => { const c = document.querySelector('.jp-BreadCrumbs'); return !!c && c.innerText.includes(f); }",
        arg=folder.rstrip("/").split("/")[-1] or "/")
    items = page.locator(".jp-DirListing-content .jp-DirListing-itemText")
    items.first.wait_for()
    return sorted(items.all_inner_texts())


def test_two_users_each_see_only_their_own_files_and_runs(team_lab, browser):
    chromium, pages = browser
    alice = _log_in(chromium, pages, team_lab, "alice")
    bob = _log_in(chromium, pages, team_lab, "bob")
    for name, page in (("alice", alice), ("bob", bob)):
        out = _run_notebook(page)
        assert f"as uid 1000 in /home/jovyan/work/users/{name}" in out  # in a container, not as root
        page.screenshot(path=str(SHOTS / f"team-{name}-notebook.png"))

    for name, page in (("alice", alice), ("bob", bob)):
        other = "bob" if name == "alice" else "alice"
        assert _listing(page, "users") == [name]  # the file browser shows no one else's folder
        assert _listing(page, f"users/{name}") == [f"{name}-train.ipynb"]
        page.locator(".jp-SideBar .lm-TabBar-tab[data-id='workbench-sidebar']").click()
        sidebar = page.locator("[data-testid='wb-sidebar']")
        sidebar.locator(f"[data-testid='wb-experiment'][data-name='{name}-experiment']").wait_for()
        assert f"{other}-experiment" not in sidebar.inner_text()
        sidebar.locator(f"[data-testid='wb-experiment'][data-name='{name}-experiment']").click()
        page.locator("[data-testid='wb-run-row']", has_text=f"{name}-run").wait_for()
        page.locator(".jp-SideBar .lm-TabBar-tab[data-id='filebrowser']").click()
        page.screenshot(path=str(SHOTS / f"team-{name}-runs.png"))
