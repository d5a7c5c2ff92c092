"""Share links: signed, expiring, revocable, read-only links to one report.

A link's token is ``<payload>.<signature>``: the payload (base64url JSON) names the
share id, the report id and the expiry; the signature is HMAC-SHA256 of the payload
with the server's secret (a file in the data dir, made on first use, mode 0600).
Nothing secret is stored: the token is signed again from its row whenever the link
is listed. Opening a link checks the signature, the expiry, and the share's row
(not revoked, same report, owner still a user) on every view, and records the view.
Whatever is wrong, the answer is the same NotFound: a stranger learns nothing from
trying tokens.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, update

from workbench import models
from workbench.clock import now_ms
from workbench.errors import InvalidArgument, NotFound
from workbench.store import Store
from workbench.store.tables import ReportRow, ShareLinkRow, ShareViewRow, UserRow
from workbench.tenancy import Principal

SHARE_PATH = "workbench/share/"
"""Where share links live, below the server's base URL."""
MAX_EXPIRY_S = 365 * 86400
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_NOT_FOUND = "No such shared report."


def parse_expires_in(value: str | int) -> int:
    """``"30m"``, ``"12h"``, ``"7d"``, ``"2w"`` or seconds, as seconds (1 s to 365 days).

    Example:
        >>> parse_expires_in("7d"), parse_expires_in(3600)
        (604800, 3600)
    """
    match = _DURATION.match(value) if isinstance(value, str) else None
    if isinstance(value, bool) or not (isinstance(value, int) or match):
        raise InvalidArgument(f"expires_in must be like '30m', '12h', '7d', '2w' or a number of seconds; "
                              f"got {value!r}.")
    seconds = value if isinstance(value, int) else int(match.group(1)) * _UNITS[match.group(2)]
    if not 0 < seconds <= MAX_EXPIRY_S:
        raise InvalidArgument(f"expires_in must be between 1 second and 365 days; got {value!r}.")
    return seconds


def share_url(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + "/" + SHARE_PATH + token


def token_of(url_or_token: str) -> str:
    """The token of a share URL (or the token itself)."""
    return url_or_token.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_secret(path: Path) -> bytes:
    """The signing key in ``path``, made (32 random bytes, mode 0600) when there is none yet."""
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    try:
        os.link(tmp, path)  # atomic, and never over a key another process made meanwhile
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return bytes.fromhex(path.read_text().strip())


@dataclass(frozen=True)
class OpenedShare:
    """What a valid link opens: the report, as its owner sees it."""

    share_id: str
    report_id: str
    owner_id: int


class ShareLinks:
    """Make, list, revoke and open share links of reports."""

    def __init__(self, store: Store, *, secret_path: Path):
        self.store = store
        self.secret_path = Path(secret_path)
        self._key: bytes | None = None

    def _secret(self) -> bytes:
        if self._key is None:
            self._key = load_secret(self.secret_path)
        return self._key

    def token(self, share_id: str, report_id: str, expires_at_ms: int) -> str:
        payload = _b64(json.dumps({"s": share_id, "r": report_id, "e": expires_at_ms}, separators=(",", ":")).encode())
        return payload + "." + _b64(hmac.new(self._secret(), payload.encode(), hashlib.sha256).digest())

    def _model(self, row: ShareLinkRow, title: str, views: int, last: int | None, base_url: str) -> models.ShareLink:
        return models.ShareLink(id=row.id, report_id=row.report_id, report_title=title,
                                url=share_url(base_url, self.token(row.id, row.report_id, row.expires_at)),
                                created_at=row.created_at, expires_at=row.expires_at, revoked_at=row.revoked_at,
                                views=views, last_viewed_at=last)

    def create(self, user: Principal, report_id: str, *, expires_in: str | int = "7d",
               base_url: str) -> models.ShareLink:
        """A link to ``user``'s report ``report_id``, valid for ``expires_in``.

        Example:
            >>> links.create(alice, report.id, expires_in="7d", base_url="https://wb.example.com/").url
            'https://wb.example.com/workbench/share/eyJzIjoi...'
        """
        seconds = parse_expires_in(expires_in)
        now = now_ms()
        with self.store.session() as s:
            report = s.get(ReportRow, report_id) if isinstance(report_id, str) else None
            if report is None or report.owner_id != user.id:
                raise NotFound(f"No report with id {report_id!r} of yours.")
            row = ShareLinkRow(id="shr_" + secrets.token_hex(8), report_id=report.id, owner_id=user.id,
                               created_at=now, expires_at=now + seconds * 1000, revoked_at=None)
            s.add(row)
            s.flush()
            return self._model(row, report.title, 0, None, base_url)

    def list(self, user: Principal, *, base_url: str) -> list[models.ShareLink]:
        """``user``'s links, newest first, with how often and when they were last opened."""
        views = (select(ShareViewRow.share_id, func.count().label("n"), func.max(ShareViewRow.viewed_at).label("last"))
                 .group_by(ShareViewRow.share_id).subquery())
        with self.store.session() as s:
            rows = s.execute(
                select(ShareLinkRow, ReportRow.title, views.c.n, views.c.last)
                .join(ReportRow, ReportRow.id == ShareLinkRow.report_id)
                .outerjoin(views, views.c.share_id == ShareLinkRow.id)
                .where(ShareLinkRow.owner_id == user.id)
                .order_by(ShareLinkRow.created_at.desc(), ShareLinkRow.id)).all()
            return [self._model(row, title, n or 0, last, base_url) for row, title, n, last in rows]

    def revoke(self, user: Principal, share: str) -> None:
        """Revoke one of ``user``'s links, named by id, URL or token; revoking twice is fine."""
        share_id = share
        if isinstance(share, str) and not share.startswith("shr_"):
            try:
                share_id = self._verify(token_of(share))["s"]
            except NotFound:
                share_id = None
        with self.store.session() as s:
            row = s.get(ShareLinkRow, share_id) if isinstance(share_id, str) else None
            if row is None or row.owner_id != user.id:
                raise NotFound(f"No share link {share!r} of yours.")
            if row.revoked_at is None:
                s.execute(update(ShareLinkRow).where(ShareLinkRow.id == row.id).values(revoked_at=now_ms()))

    def _verify(self, token: str) -> dict:
        try:
            payload, signature = token.split(".")
            expected = hmac.new(self._secret(), payload.encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(_unb64(signature), expected):
                raise ValueError
            claims = json.loads(_unb64(payload))
            if not (isinstance(claims.get("s"), str) and isinstance(claims.get("r"), str)
                    and isinstance(claims.get("e"), int)):
                raise TypeError
        except (ValueError, TypeError, AttributeError, binascii.Error, UnicodeError):
            raise NotFound(_NOT_FOUND) from None
        return claims

    def open(self, token: str) -> OpenedShare:
        """The report a token opens, after every check. The caller records the view once the
        page is made (:meth:`record_view`), so a link that shows nothing counts no view.

        Raises:
            NotFound: tampered, expired, revoked, another report's, or the report or its owner gone.
        """
        claims = self._verify(token) if isinstance(token, str) else {}
        now = now_ms()
        if not claims or claims["e"] <= now:
            raise NotFound(_NOT_FOUND)
        with self.store.session() as s:
            found = s.execute(
                select(ShareLinkRow, ReportRow.owner_id)
                .join(ReportRow, ReportRow.id == ShareLinkRow.report_id)
                .join(UserRow, UserRow.id == ReportRow.owner_id)
                .where(ShareLinkRow.id == claims["s"], ShareLinkRow.revoked_at.is_(None),
                       UserRow.removed_at.is_(None))).first()
            if found is None:
                raise NotFound(_NOT_FOUND)
            row, owner_id = found
            if row.report_id != claims["r"] or row.expires_at != claims["e"] or row.expires_at <= now:
                raise NotFound(_NOT_FOUND)
            return OpenedShare(share_id=row.id, report_id=row.report_id, owner_id=owner_id)

    def record_view(self, opened: OpenedShare) -> None:
        """Log one view of a link (when, which link): the owner sees the count in their list."""
        with self.store.session() as s:
            s.add(ShareViewRow(share_id=opened.share_id, viewed_at=now_ms()))
