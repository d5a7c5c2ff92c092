"""What a run records to be reproducible."""

import subprocess

from workbench.tracking import environment


def _git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def test_git_commit_follows_new_commits_and_is_none_outside_a_repo(tmp_path):
    repo = tmp_path / "repo"
    (repo / "nb").mkdir(parents=True)
    _git(repo, "init", "-q")
    notebook = repo / "nb" / "train.ipynb"
    notebook.write_text("{}")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "one")
    assert environment.git_commit(str(notebook)) == _git(repo, "rev-parse", "HEAD")
    notebook.write_text('{"cells": []}')
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qam", "two")
    assert environment.git_commit(str(notebook)) == _git(repo, "rev-parse", "HEAD")  # not a stale cache
    outside = tmp_path / "plain" / "x.ipynb"
    outside.parent.mkdir()
    outside.write_text("{}")
    assert environment.git_commit(str(outside)) is None


def test_capture_snapshots_the_notebook(tmp_path, monkeypatch):
    notebook = tmp_path / "a.ipynb"
    notebook.write_text('{"cells": ["x"]}')
    monkeypatch.setenv("JPY_SESSION_NAME", str(notebook))
    env = environment.capture()
    assert env.notebook_path == str(notebook) and env.source == '{"cells": ["x"]}'
    assert env.python_version and env.packages.get("sqlalchemy")
