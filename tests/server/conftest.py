"""Fixtures of the server tests: a fresh user of the shared live server, calling the API."""

from __future__ import annotations

import pytest
import requests


@pytest.fixture
def api(http_user):
    """A requests session of a fresh user with an API token: ``.base`` is the API root, ``.user``
    the user's name, ``.server`` the live server."""
    server, name, token = http_user
    session = requests.Session()
    session.headers["Authorization"] = f"token {token}"
    session.base, session.user, session.server = server.api, name, server
    return session


def call(api, method, path, **kw):
    """``method`` on ``path`` under the API root (60 s timeout)."""
    return api.request(method, api.base + path, timeout=60, **kw)
