"""Who may read and write which path of a multi-user server's file tree."""

import pytest
from tornado import web
from workbench_server import workspace
from workbench_server.workspace import Area

from workbench.tenancy import Principal

ALICE = Principal(id=1, name="alice", teams=frozenset({"growth"}))


@pytest.mark.parametrize("path, expected", [
    ("", Area.LISTING), ("/", Area.LISTING), ("users", Area.LISTING), ("teams/", Area.LISTING),
    ("users/alice", Area.OWN), ("users/alice/a/b.ipynb", Area.OWN), ("teams/growth/x", Area.OWN),
    ("users/bob", Area.HIDDEN), ("users/bob/x.ipynb", Area.HIDDEN), ("teams/risk", Area.HIDDEN),
    ("users/alice/../bob/x", Area.HIDDEN), ("users/alice/../../users/bob", Area.HIDDEN),
    ("../../etc/passwd", Area.HIDDEN), ("notes.txt", Area.HIDDEN), ("users/alicex", Area.HIDDEN),
    ("users/alice/./../alice/x", Area.OWN), ("users\\bob\\x", Area.HIDDEN),
])
def test_areas(path, expected):
    assert workspace.area(ALICE, path) is expected


def test_other_paths_are_not_found_without_naming_them():
    for path in ("users/bob/secret.ipynb", "teams/risk", "notes.txt"):
        with pytest.raises(web.HTTPError) as err:
            workspace.check_read(ALICE, path)
        assert err.value.status_code == 404 and "bob" not in err.value.log_message and "risk" not in str(err.value)


@pytest.mark.parametrize("path, status", [
    ("users/alice/a.txt", None), ("teams/growth/dir/a.txt", None),
    ("users/bob/a.txt", 404), ("teams/risk/a.txt", 404), ("other/dir", 404),
    ("notes.txt", 403), ("users/alice", 403), ("users/bob", 403), ("teams", 403), ("", 403),
])
def test_writes_go_below_ones_own_folders(path, status):
    if status is None:
        workspace.check_write(ALICE, path)
        return
    with pytest.raises(web.HTTPError) as err:
        workspace.check_write(ALICE, path)
    assert err.value.status_code == status


def test_kernels_start_in_ones_own_folders():
    assert workspace.kernel_path(ALICE, "teams/growth/nb") == "teams/growth/nb"
    assert workspace.kernel_path(ALICE, "console-1-abc") == "users/alice"
    assert workspace.kernel_path(ALICE, None) == "users/alice"
    assert workspace.kernel_path(ALICE, "users/bob/x") == "users/alice"


def test_folders_are_created_for_the_user_and_their_teams(tmp_path):
    workspace.ensure_folders(str(tmp_path), ALICE)
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.glob("*/*")) == ["teams/growth", "users/alice"]
