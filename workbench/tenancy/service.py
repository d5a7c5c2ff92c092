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

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from workbench import models
from workbench.clock import now_ms
from workbench.errors import AlreadyExists, InvalidArgument, NotFound
from workbench.store import Store
from workbench.store.tables import ApiTokenRow, TeamMemberRow, TeamRow, UserRow
from workbench.tenancy import passwords

_NAME = re.compile(r"^[a-z_][a-z0-9_.-]{0,63}$")
TOKEN_PREFIX = "wb_"


@dataclass(frozen=True)
class Principal:
    """The acting user, as every permission check sees it."""

    id: int
    name: str
    is_admin: bool = False
    team_ids: frozenset[int] = field(default_factory=frozenset)
    teams: frozenset[str] = field(default_factory=frozenset)
    """Names of the teams, for checks on paths (``teams/<team>/``)."""

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
        teams = session.execute(
            select(TeamRow.id, TeamRow.name).join(TeamMemberRow).where(TeamMemberRow.user_id == row.id)
        ).all()
        return Principal(id=row.id, name=row.name, is_admin=row.is_admin,
                         team_ids=frozenset(t.id for t in teams), teams=frozenset(t.name for t in teams))

    @staticmethod
    def _active_user(session, name: str) -> UserRow | None:
        return session.scalar(select(UserRow).where(UserRow.name == name, UserRow.removed_at.is_(None)))

    @staticmethod
    def _team_id(session, team: str) -> int:
        team_id = session.scalar(select(TeamRow.id).where(TeamRow.name == team))
        if team_id is None:
            raise NotFound(f"No team named {team!r}. Create it with `workbench teams add {team}`.")
        return team_id

    def create_user(self, name: str, *, is_admin: bool = False, password: str | None = None) -> Principal:
        """A new user. A removed user of that name is restored (their runs are theirs again)."""
        _check_name("user", name)
        password_hash = passwords.hash_password(password) if password is not None else None
        try:
            with self.store.session() as s:
                row = s.scalar(select(UserRow).where(UserRow.name == name))
                if row is not None and row.removed_at is None:
                    raise AlreadyExists(f"User {name!r} already exists.")
                if row is None:
                    row = UserRow(name=name, created_at=now_ms())
                    s.add(row)
                row.is_admin, row.password_hash, row.removed_at = is_admin, password_hash, None
                s.flush()
                return self._principal(s, row)
        except IntegrityError:
            raise AlreadyExists(f"User {name!r} already exists.") from None

    def get_user(self, name: str) -> Principal:
        with self.store.session() as s:
            row = self._active_user(s, name)
            if row is None:
                raise NotFound(f"No user named {name!r}.")
            return self._principal(s, row)

    def find_user(self, name: str) -> Principal | None:
        """The user ``name``, or None when there is none (or they were removed)."""
        with self.store.session() as s:
            row = self._active_user(s, name)
            return self._principal(s, row) if row is not None else None

    def find_user_by_id(self, user_id: int) -> Principal | None:
        """The user with id ``user_id``, or None when there is none (or they were removed)."""
        with self.store.session() as s:
            row = s.get(UserRow, user_id)
            return self._principal(s, row) if row is not None and row.removed_at is None else None

    def password_stamp(self, name: str) -> str | None:
        """A short fingerprint of ``name``'s current password, for their log-in cookie; None without one.

        It changes with every ``set_password`` (each hash has a fresh salt), so cookies carrying
        the old stamp stop working: a password change logs the user's other browsers out.
        """
        with self.store.session() as s:
            row = self._active_user(s, name)
            encoded = row.password_hash if row is not None else None
        return _stamp(encoded) if encoded else None

    def find_logged_in_user(self, name: str, stamp: str) -> Principal | None:
        """The user ``name`` if ``stamp`` (from their log-in cookie) matches their current password."""
        with self.store.session() as s:
            row = self._active_user(s, name)
            if row is None or not row.password_hash or not secrets.compare_digest(_stamp(row.password_hash), stamp):
                return None
            return self._principal(s, row)

    def list_users(self) -> list[models.User]:
        with self.store.session() as s:
            rows = s.scalars(select(UserRow).where(UserRow.removed_at.is_(None)).order_by(UserRow.name)).all()
            members = s.execute(select(TeamMemberRow.user_id, TeamRow.name).join(TeamRow).order_by(TeamRow.name)).all()
        teams: dict[int, list[str]] = {}
        for user_id, team in members:
            teams.setdefault(user_id, []).append(team)
        return [models.User(id=r.id, name=r.name, is_admin=r.is_admin, teams=teams.get(r.id, [])) for r in rows]

    def remove_user(self, name: str) -> None:
        """Take away every way in (password, tokens, teams); the row stays, as runs point at it."""
        with self.store.session() as s:
            row = self._active_user(s, name)
            if row is None:
                raise NotFound(f"No user named {name!r}.")
            now = now_ms()
            row.removed_at, row.password_hash = now, None
            s.execute(update(ApiTokenRow).where(ApiTokenRow.user_id == row.id, ApiTokenRow.revoked_at.is_(None))
                      .values(revoked_at=now))
            s.execute(delete(TeamMemberRow).where(TeamMemberRow.user_id == row.id))

    # --- passwords --------------------------------------------------------------------------

    def set_password(self, name: str, password: str) -> None:
        password_hash = passwords.hash_password(password)
        with self.store.session() as s:
            row = self._active_user(s, name)
            if row is None:
                raise NotFound(f"No user named {name!r}.")
            row.password_hash = password_hash

    def verify_password(self, name: str, password: str) -> Principal | None:
        """The user if ``password`` is theirs, else None (unknown users take as long as known ones)."""
        with self.store.session() as s:
            row = self._active_user(s, name) if isinstance(name, str) else None
            encoded = row.password_hash if row is not None else None
        # Hash outside the transaction: scrypt takes tens of milliseconds.
        if not passwords.verify(encoded, password):
            return None
        return self.find_user(name)

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
            team_id = self._team_id(s, team)
            row = self._active_user(s, user)
            if row is None:
                raise NotFound(f"No user named {user!r}.")
            if s.get(TeamMemberRow, (team_id, row.id)) is None:
                s.add(TeamMemberRow(team_id=team_id, user_id=row.id, role=role))

    def remove_member(self, team: str, user: str) -> None:
        with self.store.session() as s:
            team_id = self._team_id(s, team)
            user_id = s.scalar(select(UserRow.id).where(UserRow.name == user))
            member = s.get(TeamMemberRow, (team_id, user_id)) if user_id is not None else None
            if member is None:
                raise NotFound(f"{user!r} is not a member of team {team!r}.")
            s.delete(member)

    def team_members(self, team: str) -> list[str]:
        with self.store.session() as s:
            team_id = self._team_id(s, team)
            return list(s.scalars(select(UserRow.name).join(TeamMemberRow)
                                  .where(TeamMemberRow.team_id == team_id).order_by(UserRow.name)).all())

    def list_teams(self) -> list[models.Team]:
        with self.store.session() as s:
            teams = s.execute(select(TeamRow.id, TeamRow.name).order_by(TeamRow.name)).all()
            members = s.execute(select(TeamMemberRow.team_id, UserRow.name).join(UserRow).order_by(UserRow.name)).all()
        by_team: dict[int, list[str]] = {}
        for team_id, user in members:
            by_team.setdefault(team_id, []).append(user)
        return [models.Team(id=t.id, name=t.name, members=by_team.get(t.id, [])) for t in teams]

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

    def revoke_named_tokens(self, name_prefix: str, *, user: Principal | None = None) -> int:
        """Revoke live tokens whose name starts with ``name_prefix`` (of ``user``, or anyone's)."""
        cond = [ApiTokenRow.name.startswith(name_prefix, autoescape=True), ApiTokenRow.revoked_at.is_(None)]
        if user is not None:
            cond.append(ApiTokenRow.user_id == user.id)
        with self.store.session() as s:
            return s.execute(update(ApiTokenRow).where(*cond).values(revoked_at=now_ms())).rowcount

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
            return self._principal(s, user) if user is not None and user.removed_at is None else None


def _stamp(password_hash: str) -> str:
    return hashlib.sha256(b"workbench-login-stamp:" + password_hash.encode()).hexdigest()[:24]
