"""The ``workbench`` command line."""

from __future__ import annotations

import argparse
import sys

from workbench import config


def _store(create: bool = True):
    from workbench.store.engine import Store

    store = Store(config.settings().db_url)
    if create:
        store.ensure_schema()
    return store


def cmd_db_upgrade(args) -> int:
    store = _store(create=False)
    before = store.current_revision()
    store.upgrade()
    print(f"Workbench database schema: {before or 'empty'} -> {store.current_revision()}")
    return 0


def cmd_db_current(args) -> int:
    store = _store(create=False)
    current, head = store.current_revision(), store.head_revision()
    print(f"current: {current or 'empty'}  newest: {head}")
    return 0 if current == head else 1


def cmd_tokens_create(args) -> int:
    from workbench.tenancy import Tenancy

    tenancy = Tenancy(_store())
    user = tenancy.ensure_user(args.user) if args.create_user else tenancy.get_user(args.user)
    token = tenancy.create_token(user, name=args.name)
    print(f"API token {token.id} for {user.name} (shown once; keep it secret):", file=sys.stderr)
    print(token.token)
    return 0


def cmd_tokens_list(args) -> int:
    from datetime import datetime, timezone

    from workbench.tenancy import Tenancy

    tenancy = Tenancy(_store())
    for t in tenancy.list_tokens(tenancy.get_user(args.user)):
        when = datetime.fromtimestamp(t["created_at"] / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M")
        print(f"{t['id']:>5}  {t['name']:<20} created {when}  {'revoked' if t['revoked'] else 'active'}")
    return 0


def cmd_tokens_revoke(args) -> int:
    from workbench.tenancy import Tenancy

    tenancy = Tenancy(_store())
    tenancy.revoke_token(tenancy.get_user(args.user), args.token_id)
    print(f"Revoked token {args.token_id}.")
    return 0


def cmd_sync(args) -> int:
    from workbench.client import get_client
    from workbench.tracking.batcher import replay_spool

    sent = replay_spool(config.settings().home / "spool", get_client)
    print(f"Sent {sent} spooled batch file(s).")
    return 0


def cmd_demo(args) -> int:
    from workbench import demo

    made = demo.seed()
    print(f"Demo experiment '{demo.EXPERIMENT}': {made} new runs." if made else
          f"Demo experiment '{demo.EXPERIMENT}' already has runs.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workbench", description="Workbench: a notebook-first ML platform.")
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="the metadata store").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="migrate the schema to this version").set_defaults(func=cmd_db_upgrade)
    db.add_parser("current", help="show the schema revision").set_defaults(func=cmd_db_current)

    tokens = sub.add_parser("tokens", help="API tokens").add_subparsers(dest="tokens_command", required=True)
    create = tokens.add_parser("create", help="create an API token for a user; prints it on the last line")
    create.add_argument("user")
    create.add_argument("--name", default="cli", help="a label to recognise the token by")
    create.add_argument("--create-user", action="store_true", help="create the user if missing")
    create.set_defaults(func=cmd_tokens_create)
    listing = tokens.add_parser("list", help="a user's tokens (never the secrets)")
    listing.add_argument("user")
    listing.set_defaults(func=cmd_tokens_list)
    revoke = tokens.add_parser("revoke", help="revoke one of a user's tokens")
    revoke.add_argument("user")
    revoke.add_argument("token_id", type=int)
    revoke.set_defaults(func=cmd_tokens_revoke)

    sub.add_parser("sync", help="send logged values spooled while the server was down").set_defaults(func=cmd_sync)
    sub.add_parser("demo", help="create a small demo experiment (idempotent)").set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    from workbench.errors import WorkbenchError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except WorkbenchError as exc:
        print(f"workbench: {exc.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
