"""Share links on the real store: signing, expiry, revocation, the view log, the secret file."""

from __future__ import annotations

import base64
import json
import stat

import pytest

from tests.reports import log_run
from workbench import models
from workbench.errors import InvalidArgument, NotFound
from workbench.reports.service import Reports
from workbench.tenancy.sharing import ShareLinks, load_secret, parse_expires_in, token_of

BASE = "https://wb.example.com/team/"


@pytest.fixture
def links(store, tmp_path):
    return ShareLinks(store, secret_path=tmp_path / "home" / "share-secret")


@pytest.fixture
def report(store, tracking, alice):
    runs = [log_run(tracking, alice, "churn", f"rf-{i}", metrics={"auc": [0.5 + i / 10]}) for i in range(2)]
    return Reports(store, tracking).create(alice, models.ReportCreate(title="sweep", run_ids=runs))


def _payload(token: str) -> dict:
    part = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_a_link_opens_its_report_and_each_view_is_logged(links, report, alice):
    link = links.create(alice, report.id, expires_in="7d", base_url=BASE)
    assert link.url.startswith(BASE + "workbench/share/") and link.report_title == "sweep"
    assert link.expires_at - link.created_at == 7 * 86400 * 1000
    token = token_of(link.url)
    for _ in range(2):
        opened = links.open(token)
        assert (opened.share_id, opened.report_id, opened.owner_id) == (link.id, report.id, alice.id)
        links.record_view(opened)
    [listed] = links.list(alice, base_url=BASE)
    assert (listed.url, listed.views, listed.revoked_at) == (link.url, 2, None)  # signed again, same token
    assert listed.last_viewed_at is not None


def test_tampered_expired_revoked_and_other_tokens_are_all_not_found(links, report, alice, store, tmp_path, tracking):
    link = links.create(alice, report.id, base_url=BASE)
    token = token_of(link.url)
    payload, signature = token.split(".")
    claims = _payload(token)

    def signed_as_if(**change) -> str:
        body = base64.urlsafe_b64encode(json.dumps({**claims, **change}).encode()).rstrip(b"=").decode()
        return body + "." + signature  # the old signature on a new payload

    other = Reports(store, tracking).create(alice, models.ReportCreate(title="other", run_ids=report.run_ids[:1]))
    attempts = {
        "flipped signature": payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:],
        "other report": signed_as_if(r=other.id),
        "longer life": signed_as_if(e=claims["e"] + 10**9),
        "garbage": "not-a-token",
        "empty": "",
        "other server's secret": ShareLinks(store, secret_path=tmp_path / "elsewhere").token(
            link.id, report.id, claims["e"]),
    }
    for why, bad in attempts.items():
        with pytest.raises(NotFound) as refused:
            links.open(bad)
        assert str(refused.value) == "No such shared report.", why  # the same words whatever is wrong

    expired = links.create(alice, report.id, expires_in=1, base_url=BASE)
    links.open(token_of(expired.url))
    with store.session() as s:  # as if a second had passed
        from workbench.store.tables import ShareLinkRow

        s.get(ShareLinkRow, expired.id).expires_at -= 2000
    with pytest.raises(NotFound):
        links.open(token_of(expired.url))

    links.revoke(alice, link.url)
    with pytest.raises(NotFound):
        links.open(token)
    links.revoke(alice, link.id)  # twice is fine
    assert [s.revoked_at is not None for s in links.list(alice, base_url=BASE) if s.id == link.id] == [True]


def test_only_the_owner_shares_lists_and_revokes(links, report, alice, bob):
    with pytest.raises(NotFound):
        links.create(bob, report.id, base_url=BASE)
    link = links.create(alice, report.id, base_url=BASE)
    with pytest.raises(NotFound):
        links.revoke(bob, link.id)
    with pytest.raises(NotFound):
        links.revoke(bob, link.url)
    assert links.list(bob, base_url=BASE) == []
    links.open(token_of(link.url))  # still works


def test_deleted_report_and_removed_owner_end_their_links(links, report, alice, store, tracking, tenancy):
    link = links.create(alice, report.id, base_url=BASE)
    reports = Reports(store, tracking)
    keep = reports.create(alice, models.ReportCreate(title="keep", run_ids=report.run_ids))
    kept = links.create(alice, keep.id, base_url=BASE)
    reports.delete(alice, report.id)
    with pytest.raises(NotFound):
        links.open(token_of(link.url))
    links.open(token_of(kept.url))
    tenancy.remove_user("alice")
    with pytest.raises(NotFound):
        links.open(token_of(kept.url))


def test_the_secret_is_made_once_private_and_kept(tmp_path):
    path = tmp_path / "home" / "share-secret"
    key = load_secret(path)
    assert len(key) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret(path) == key  # a restarted server signs the same way
    assert [p.name for p in path.parent.iterdir()] == ["share-secret"]  # no temporary file left


def test_expiry_forms():
    assert [parse_expires_in(v) for v in ("30m", "12h", "7d", "2w", "45s", "90", 3600)] == [
        1800, 43200, 604800, 1209600, 45, 90, 3600]
    for bad in ("soon", "0", "-1d", "366d", 0, True, None, 1.5):
        with pytest.raises(InvalidArgument, match="expires_in"):
            parse_expires_in(bad)
