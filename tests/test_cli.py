"""The `workbench` command line, run as a user would."""

import subprocess
import sys


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "workbench.cli", *args], capture_output=True, text=True, env=env,
                          timeout=120)


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
