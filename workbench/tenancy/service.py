"""Users, teams and API tokens.

Every service function in Workbench takes the acting ``Principal``. In
single-user mode that is the local user (the OS user, or ``WORKBENCH_USER``);
with multi-user mode the server's identity provider resolves it per request.
"""

from __future__ import annotations

import getpass
import hashlib
import re
import secrets
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from workbench import models
from workbench.clock import now_ms
from workbench.errors import AlreadyExists, InvalidArgument, NotFound
from workbench.store import Store
from workbench.store.tables import ApiTokenRow, TeamMemberRow, TeamRow, UserRow

_NAME = re.compile(r"^[a-z_][a-z0-9_.-]{0,63}$")
TOKEN_PREFIX = "wb_"


@dataclass(frozen=True)
class Principal:
    """The acting user, as every permission check sees it."""

    id: int
    name: str
    is_admin: bool = False
    team_ids: frozenset[int] = field(default_factory=frozenset)

    def can_see(self, owner_id: int, team_id: int | None) -> bool:
        return owner_id == self.id or (team_id is not None and team_id in self.team_ids)


def _check_name(kind: str, name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidArgument(
            f"Invalid {kind} name {name!r}: use 1-64 lowercase letters, digits, '_', '.' or '-', "
            "starting with a letter or '_'."
        )
    return name


def _hash_token(token: str) -> str:
    # Tokens are 256-bit random: a fast hash is enough (no dictionary to attack).
    return hashlib.sha256(token.encode()).hexdigest()


def default_user_name() -> str:
    name = getpass.getuser().lower()
    name = re.sub(r"[^a-z0-9_.-]", "_", name) or "user"
    return name if re.match(r"^[a-z_]", name) else f"_{name}"


class Tenancy:
    def __init__(self, store: Store):
        self.store = store

    def _principal(self, session, row: UserRow) -> Principal:
        team_ids = session.scalars(select(TeamMemberRow.team_id).where(TeamMemberRow.user_id == row.id)).all()
        return Principal(id=row.id, name=row.name, is_admin=row.is_admin, team_ids=frozenset(team_ids))

    def create_user(self, name: str, *, is_admin: bool = False) -> Principal:
        _check_name("user", name)
        try:
            with self.store.session() as s:
                row = UserRow(name=name, is_admin=is_admin, created_at=now_ms())
                s.add(row)
                s.flush()
                return self._principal(s, row)
        except IntegrityError:
            raise AlreadyExists(f"User {name!r} already exists.") from None

    def get_user(self, name: str) -> Principal:
        with self.store.session() as s:
            row = s.scalar(select(UserRow).where(UserRow.name == name))
            if row is None:
                raise NotFound(f"No user named {name!r}.")
            return self._principal(s, row)

    def ensure_user(self, name: str) -> Principal:
        """The user ``name``, created on first use (single-user mode's local user)."""
        try:
            return self.get_user(name)
        except NotFound:
            try:
                return self.create_user(name)
            except AlreadyExists:  # created concurrently by another process
                return self.get_user(name)

    def local_user(self, name: str | None = None) -> Principal:
        return self.ensure_user(_check_name("user", name or default_user_name()))

    def describe(self, user: Principal) -> models.User:
        with self.store.session() as s:
            teams = s.scalars(
                select(TeamRow.name).join(TeamMemberRow).where(TeamMemberRow.user_id == user.id).order_by(TeamRow.name)
            ).all()
        return models.User(id=user.id, name=user.name, is_admin=user.is_admin, teams=list(teams))

    def create_team(self, name: str) -> int:
        _check_name("team", name)
        try:
            with self.store.session() as s:
                row = TeamRow(name=name, created_at=now_ms())
                s.add(row)
                s.flush()
                return row.id
        except IntegrityError:
            raise AlreadyExists(f"Team {name!r} already exists.") from None

    def add_member(self, team: str, user: str, *, role: str = "member") -> None:
        with self.store.session() as s:
            team_id = s.scalar(select(TeamRow.id).where(TeamRow.name == team))
            user_id = s.scalar(select(UserRow.id).where(UserRow.name == user))
            if team_id is None:
                raise NotFound(f"No team named {team!r}.")
            if user_id is None:
                raise NotFound(f"No user named {user!r}.")
            if s.get(TeamMemberRow, (team_id, user_id)) is None:
                s.add(TeamMemberRow(team_id=team_id, user_id=user_id, role=role))

    def create_token(self, user: Principal, *, name: str = "api") -> models.TokenCreated:
        """A new API token for ``user``; the secret is returned once and stored hashed."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.store.session() as s:
            row = ApiTokenRow(user_id=user.id, name=name[:128], token_hash=_hash_token(secret), created_at=now_ms())
            s.add(row)
            s.flush()
            return models.TokenCreated(token=secret, id=row.id, name=row.name)

    def replace_token(self, user: Principal, *, name: str) -> models.TokenCreated:
        """A new token named ``name``, revoking the user's older live tokens of that name."""
        with self.store.session() as s:
            s.execute(update(ApiTokenRow).where(ApiTokenRow.user_id == user.id, ApiTokenRow.name == name,
                                                ApiTokenRow.revoked_at.is_(None)).values(revoked_at=now_ms()))
        return self.create_token(user, name=name)

    def list_tokens(self, user: Principal) -> list[dict]:
        with self.store.session() as s:
            rows = s.scalars(select(ApiTokenRow).where(ApiTokenRow.user_id == user.id).order_by(ApiTokenRow.id)).all()
            return [{"id": r.id, "name": r.name, "created_at": r.created_at, "last_used_at": r.last_used_at,
                     "revoked": r.revoked_at is not None} for r in rows]

    def revoke_token(self, user: Principal, token_id: int) -> None:
        with self.store.session() as s:
            row = s.get(ApiTokenRow, token_id)
            if row is None or row.user_id != user.id:
                raise NotFound(f"No token {token_id} of yours.")
            row.revoked_at = row.revoked_at or now_ms()

    def authenticate_token(self, token: str) -> Principal | None:
        """The owner of a live API token, or None."""
        if not token or not token.startswith(TOKEN_PREFIX):
            return None
        with self.store.session() as s:
            row = s.scalar(
                select(ApiTokenRow).where(ApiTokenRow.token_hash == _hash_token(token), ApiTokenRow.revoked_at.is_(None))
            )
            if row is None:
                return None
            now = now_ms()
            if not row.last_used_at or now - row.last_used_at > 60_000:  # avoid a write per request
                row.last_used_at = now
            user = s.get(UserRow, row.user_id)
            return self._principal(s, user) if user else None
