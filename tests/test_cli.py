"""The `workbench` command line, run as a user would."""

import subprocess
import sys


def cli(*args, env=None, input=None):
    return subprocess.run([sys.executable, "-m", "workbench.cli", *args], capture_output=True, text=True, env=env,
                          timeout=120, input=input)


def test_tokens_demo_and_schema(wb_env, db_url, monkeypatch):
    import os

    env = dict(os.environ)
    made = cli("tokens", "create", "dave", "--create-user", env=env)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("wb_") and "shown once" in made.stderr
    from workbench.store.engine import open_store
    from workbench.tenancy import Tenancy

    assert Tenancy(open_store(db_url)).authenticate_token(token).name == "dave"
    listed = cli("tokens", "list", "dave", env=env)
    assert "cli" in listed.stdout and "active" in listed.stdout and token not in listed.stdout
    token_id = listed.stdout.split()[0]
    assert cli("tokens", "revoke", "dave", token_id, env=env).returncode == 0
    assert Tenancy(open_store(db_url)).authenticate_token(token) is None
    missing = cli("tokens", "create", "nobody", env=env)
    assert missing.returncode == 2 and "No user named 'nobody'" in missing.stderr
    assert cli("db", "current", env=env).returncode == 0
    first = cli("demo", env=env)
    assert first.returncode == 0 and "12 new runs" in first.stdout
    assert "already has runs" in cli("demo", env=env).stdout


def test_users_and_teams(wb_env, db_url):
    import os

    from workbench.store.engine import open_store
    from workbench.tenancy import Tenancy

    env = dict(os.environ)
    tenancy = Tenancy(open_store(db_url))
    no_team = cli("users", "add", "erin", "--team", "growth", "--password-stdin", env=env, input="erin-password\n")
    assert no_team.returncode == 2 and "No team named 'growth'" in no_team.stderr
    assert "workbench teams add growth" in no_team.stderr and tenancy.find_user("erin") is None
    assert cli("teams", "add", "growth", env=env).returncode == 0

    added = cli("users", "add", "erin", "--team", "growth", "--password-stdin", env=env, input="erin-password\n")
    assert added.returncode == 0, added.stderr
    assert tenancy.verify_password("erin", "erin-password").teams == frozenset({"growth"})
    again = cli("users", "add", "erin", "--password-stdin", env=env, input="erin-password\n")
    assert again.returncode == 2 and "already exists" in again.stderr
    short = cli("users", "add", "fay", "--password-stdin", env=env, input="short\n")
    assert short.returncode == 2 and "at least 8 characters" in short.stderr and tenancy.find_user("fay") is None
    assert cli("users", "add", "fay", "--admin", "--password-stdin", env=env, input="fay-password\n").returncode == 0

    listed = cli("users", "list", env=env).stdout
    assert [line.split() for line in listed.splitlines()] == [
        ["NAME", "ADMIN", "TEAMS"], ["erin", "no", "growth"], ["fay", "yes"]]
    assert "scrypt" not in listed

    assert cli("users", "passwd", "erin", "--password-stdin", env=env, input="erin-new-password\n").returncode == 0
    assert tenancy.verify_password("erin", "erin-password") is None
    assert tenancy.verify_password("erin", "erin-new-password") is not None

    members = cli("teams", "members", "growth", "--add", "fay", "--remove", "erin", env=env)
    assert members.returncode == 0 and members.stdout.split() == ["fay"]
    assert cli("teams", "list", env=env).stdout.strip() == "growth: fay"
    assert cli("teams", "members", "growth", "--add", "nobody", env=env).returncode == 2

    token = cli("tokens", "create", "erin", env=env).stdout.strip().splitlines()[-1]
    assert tenancy.authenticate_token(token).name == "erin"
    removed = cli("users", "remove", "erin", env=env)
    assert removed.returncode == 0 and "runs and files stay" in removed.stdout
    assert tenancy.authenticate_token(token) is None and tenancy.verify_password("erin", "erin-new-password") is None
    assert "erin" not in cli("users", "list", env=env).stdout
    assert cli("users", "remove", "erin", env=env).returncode == 2
    assert "No user named 'nobody'" in cli("users", "passwd", "nobody", "--password-stdin", env=env,
                                           input="whatever-pass\n").stderr


def test_durations_for_culling_idle_kernels():
    import argparse

    import pytest

    from workbench.cli import _duration_seconds

    assert [_duration_seconds(t) for t in ("90m", "2h", "1d", "45s", "600", "0")] == [5400, 7200, 86400, 45, 600, 0]
    for bad in ("soon", "-5m", "h"):
        with pytest.raises(argparse.ArgumentTypeError):
            _duration_seconds(bad)
