"""Passwords (scrypt), and the user and team management built on them."""

import base64

import pytest

from workbench import models
from workbench.errors import AlreadyExists, InvalidArgument, NotFound
from workbench.tenancy import passwords


def test_hash_round_trip_and_format():
    encoded = passwords.hash_password("correct horse")
    scheme, n, r, p, salt, digest = encoded.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**14, 8, 1)
    assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(digest)) == 32
    assert "correct horse" not in encoded
    assert passwords.verify(encoded, "correct horse")
    assert not passwords.verify(encoded, "correct horsE")
    assert not passwords.verify(encoded, "")
    assert passwords.hash_password("correct horse") != encoded  # salted


@pytest.mark.parametrize("encoded", [
    None, "", "plain", "scrypt$16384$8$1$notbase64!$AAAA", "bcrypt$16384$8$1$AAAA$AAAA",
    "scrypt$1048576$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",  # a tampered row asking for a GiB of memory
    "scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",  # n not a power of two
])
def test_missing_or_malformed_hashes_never_match(encoded):
    assert not passwords.verify(encoded, "anything-at-all")


def test_password_length_rules():
    with pytest.raises(InvalidArgument, match="at least 8"):
        passwords.hash_password("short")
    with pytest.raises(InvalidArgument, match="at most"):
        passwords.hash_password("x" * (passwords.MAX_LENGTH + 1))
    assert not passwords.verify(passwords.hash_password("long enough"), "x" * (passwords.MAX_LENGTH + 1))


def test_users_log_in_with_their_password(tenancy):
    alice = tenancy.create_user("alice", password="alice-password")
    assert tenancy.verify_password("alice", "alice-password") == alice
    assert tenancy.verify_password("alice", "wrong-password") is None
    assert tenancy.verify_password("nobody", "alice-password") is None
    tenancy.create_user("tokens-only")  # no password: cannot log in with any
    assert tenancy.verify_password("tokens-only", "") is None
    tenancy.set_password("alice", "a-new-password")
    assert tenancy.verify_password("alice", "alice-password") is None
    assert tenancy.verify_password("alice", "a-new-password").name == "alice"
    with pytest.raises(NotFound):
        tenancy.set_password("nobody", "whatever-password")


def test_hashes_are_never_part_of_what_tenancy_returns(tenancy):
    tenancy.create_user("alice", password="alice-password")
    listed = tenancy.list_users()
    assert "scrypt" not in repr(listed) and "scrypt" not in repr(tenancy.get_user("alice"))


def test_teams_and_members(tenancy):
    tenancy.create_user("alice")
    tenancy.create_user("bob")
    tenancy.create_team("growth")
    tenancy.create_team("risk")
    with pytest.raises(AlreadyExists):
        tenancy.create_team("growth")
    tenancy.add_member("growth", "alice")
    tenancy.add_member("growth", "bob")
    tenancy.add_member("growth", "bob")  # idempotent
    tenancy.add_member("risk", "bob")
    assert tenancy.team_members("growth") == ["alice", "bob"]
    assert tenancy.get_user("bob").teams == frozenset({"growth", "risk"})
    tenancy.remove_member("growth", "bob")
    assert tenancy.list_teams() == [models.Team(id=1, name="growth", members=["alice"]),
                                    models.Team(id=2, name="risk", members=["bob"])]
    with pytest.raises(NotFound, match="workbench teams add nope"):
        tenancy.add_member("nope", "alice")
    with pytest.raises(NotFound, match="not a member"):
        tenancy.remove_member("risk", "alice")
    assert [(u.name, u.teams) for u in tenancy.list_users()] == [("alice", ["growth"]), ("bob", ["risk"])]


def test_a_removed_user_loses_every_way_in_but_keeps_their_runs(tenancy, tracking):
    tenancy.create_team("growth")
    alice = tenancy.create_user("alice", password="alice-password")
    tenancy.add_member("growth", "alice")
    token = tenancy.create_token(alice).token
    experiment = tracking.create_experiment(alice, "churn")

    tenancy.remove_user("alice")
    assert tenancy.verify_password("alice", "alice-password") is None
    assert tenancy.authenticate_token(token) is None
    assert tenancy.find_user("alice") is None
    with pytest.raises(NotFound):
        tenancy.get_user("alice")
    with pytest.raises(NotFound):
        tenancy.remove_user("alice")
    assert tenancy.list_users() == [] and tenancy.team_members("growth") == []

    back = tenancy.create_user("alice", password="fresh-password")  # restored, with their runs
    assert back.id == alice.id and back.teams == frozenset()
    assert tracking.get_experiment(back, experiment.id).name == "churn"
    assert tenancy.authenticate_token(token) is None  # old tokens stay revoked
    with pytest.raises(AlreadyExists):
        tenancy.create_user("alice")


def test_revoking_tokens_by_name_prefix_is_literal(tenancy):
    alice = tenancy.create_user("alice")
    kernel = tenancy.create_token(alice, name="kernel:abc").token
    lookalike = tenancy.create_token(alice, name="kernelXabc").token
    other = tenancy.create_token(alice, name="cli").token
    assert tenancy.revoke_named_tokens("kernel:") == 1
    assert tenancy.authenticate_token(kernel) is None
    assert tenancy.authenticate_token(lookalike) is not None and tenancy.authenticate_token(other) is not None
    assert tenancy.revoke_named_tokens("kernel_") == 0  # '_' is not a wildcard
