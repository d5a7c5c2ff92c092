"""The ``workbench`` command line."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from workbench import config
from workbench.errors import InvalidArgument, NotFound


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


def _tenancy():
    from workbench.tenancy import Tenancy

    return Tenancy(_store())


def _read_password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"New password for {args.user}: ")
    if getpass.getpass("Type it again: ") != first:
        raise InvalidArgument("The two passwords differ; nothing was changed.")
    return first


def cmd_users_add(args) -> int:
    tenancy = _tenancy()
    known = {team.name for team in tenancy.list_teams()}
    for team in args.team:
        if team not in known:
            raise NotFound(f"No team named {team!r}. Create it first with `workbench teams add {team}`.")
    user = tenancy.create_user(args.user, is_admin=args.admin, password=_read_password(args))
    for team in args.team:
        tenancy.add_member(team, user.name)
    teams = f" in team(s) {', '.join(args.team)}" if args.team else ""
    print(f"Added {'admin' if args.admin else 'user'} {user.name}{teams}.")
    return 0


def cmd_users_list(args) -> int:
    users = _tenancy().list_users()
    width = max([len(u.name) for u in users] + [4])
    print(f"{'NAME':<{width}}  ADMIN  TEAMS")
    for u in users:
        print(f"{u.name:<{width}}  {'yes' if u.is_admin else 'no':<5}  {', '.join(u.teams)}")
    return 0


def cmd_users_remove(args) -> int:
    _tenancy().remove_user(args.user)
    print(f"Removed {args.user}: their password and API tokens no longer work and they left their teams. "
          f"Their runs and files stay; `workbench users add {args.user}` brings the account back.")
    return 0


def cmd_users_passwd(args) -> int:
    tenancy = _tenancy()
    tenancy.get_user(args.user)  # an unknown name fails before asking for a password
    tenancy.set_password(args.user, _read_password(args))
    print(f"Password of {args.user} changed.")
    return 0


def cmd_teams_add(args) -> int:
    _tenancy().create_team(args.team)
    print(f"Added team {args.team}. Add members with `workbench teams members {args.team} --add <user>`.")
    return 0


def cmd_teams_list(args) -> int:
    for team in _tenancy().list_teams():
        print(f"{team.name}: {', '.join(team.members) or '(no members)'}")
    return 0


def cmd_teams_members(args) -> int:
    tenancy = _tenancy()
    for user in args.add:
        tenancy.add_member(args.team, user)
    for user in args.remove:
        tenancy.remove_member(args.team, user)
    for user in tenancy.team_members(args.team):
        print(user)
    return 0


def multi_user_args(root_dir: Path | str) -> list[str]:
    """The Jupyter options of a multi-user server (``workbench serve --multi-user``)."""
    pkg = "workbench_server"
    return [
        "--WorkbenchApp.multi_user=True",
        f"--ServerApp.root_dir={root_dir}",
        f"--ServerApp.identity_provider_class={pkg}.auth.WorkbenchIdentityProvider",
        f"--ServerApp.authorizer_class={pkg}.authorizer.WorkbenchAuthorizer",
        f"--ServerApp.contents_manager_class={pkg}.workspace.WorkbenchContentsManager",
        f"--ServerApp.kernel_manager_class={pkg}.kernels.WorkbenchKernelManager",
        f"--ServerApp.session_manager_class={pkg}.kernels.WorkbenchSessionManager",
        "--ServerApp.terminals_enabled=False",
        "--IdentityProvider.token=",  # no shared server token: every request is someone
        # A Workbench that failed to load would leave a server without ownership checks: stop instead.
        "--ServerApp.reraise_server_extension_failures=True",
    ]


def cmd_serve(args) -> int:
    argv = [sys.executable, "-m", "jupyter", "lab", f"--ip={args.ip}", f"--port={args.port}",
            "--ServerApp.jpserver_extensions={'workbench_server': True}"]
    if args.multi_user:
        home = config.settings().home
        users = _tenancy().list_users()  # also checks the schema before Jupyter starts
        if not users:
            print("No users yet: add one with `workbench users add <name>` so someone can log in.", file=sys.stderr)
        root = home / "workspace"
        root.mkdir(parents=True, exist_ok=True)
        argv += ["--no-browser", *multi_user_args(root)]
        if args.cull_idle_after:
            # Idle kernels hold memory (and GPUs) on a shared machine: stop them after a while.
            argv += [f"--MappingKernelManager.cull_idle_timeout={args.cull_idle_after}",
                     f"--MappingKernelManager.cull_interval={max(10, min(300, args.cull_idle_after // 4))}"]
    if args.config:
        config_path = Path(args.config).resolve()
        if not config_path.is_file():
            print(f"No config file {config_path}.", file=sys.stderr)
            return 2
        argv.append(f"--config={config_path}")
    extra = args.jupyter_args[1:] if args.jupyter_args[:1] == ["--"] else args.jupyter_args
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv + extra)
    return 0  # not reached


def _duration_seconds(text: str) -> int:
    """'90m', '2h', '1d', '45s' or plain seconds, as an argparse type."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = (text[:-1], units[text[-1]]) if text[-1:] in units else (text, 1)
    try:
        seconds = int(float(number) * unit)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration: use e.g. 90m, 2h, 1d or seconds") from None
    if seconds < 0:
        raise argparse.ArgumentTypeError("a duration cannot be negative")
    return seconds


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


def cmd_images(args) -> int:
    return _images(args.rest)


def _images(rest: list[str]) -> int:
    # workbench_kernels stands alone (the SDK never imports it): run its own command line.
    import subprocess

    return subprocess.call([sys.executable, "-m", "workbench_kernels", "images", *rest])


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

    users = sub.add_parser("users", help="users of a multi-user server").add_subparsers(dest="users_command",
                                                                                      required=True)
    add = users.add_parser("add", help="add a user (asks for their password)")
    add.add_argument("user")
    add.add_argument("--team", action="append", default=[], help="a team to join (repeatable; must exist)")
    add.add_argument("--admin", action="store_true", help="may shut the server down and change its config")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin's first line")
    add.set_defaults(func=cmd_users_add)
    users.add_parser("list", help="list users and their teams").set_defaults(func=cmd_users_list)
    remove = users.add_parser("remove", help="remove a user (their runs stay)")
    remove.add_argument("user")
    remove.set_defaults(func=cmd_users_remove)
    passwd = users.add_parser("passwd", help="set a user's password")
    passwd.add_argument("user")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from stdin's first line")
    passwd.set_defaults(func=cmd_users_passwd)

    teams = sub.add_parser("teams", help="teams share teams/<team>/ and their runs").add_subparsers(
        dest="teams_command", required=True)
    team_add = teams.add_parser("add", help="add a team")
    team_add.add_argument("team")
    team_add.set_defaults(func=cmd_teams_add)
    teams.add_parser("list", help="list teams and their members").set_defaults(func=cmd_teams_list)
    members = teams.add_parser("members", help="show a team's members, after any changes asked for")
    members.add_argument("team")
    members.add_argument("--add", action="append", default=[], metavar="USER", help="add a member (repeatable)")
    members.add_argument("--remove", action="append", default=[], metavar="USER", help="remove a member (repeatable)")
    members.set_defaults(func=cmd_teams_members)

    serve = sub.add_parser("serve", help="start JupyterLab with Workbench (one user, or a team with --multi-user)")
    serve.add_argument("--multi-user", action="store_true", help="log-in page, per-user files, kernels and runs")
    serve.add_argument("--ip", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    serve.add_argument("--port", type=int, default=8888, help="port to listen on (default: %(default)s)")
    serve.add_argument("--config", metavar="FILE",
                       help="Jupyter config file (.json or .py): kernel images, limits, ... (docs/multi-user.md)")
    serve.add_argument("--cull-idle-after", type=_duration_seconds, default=2 * 3600, metavar="DURATION",
                       help="multi-user: stop kernels idle this long, e.g. 90m, 2h, 0 to never (default: 2h)")
    serve.add_argument("jupyter_args", nargs=argparse.REMAINDER, help="after --: more options for Jupyter")
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("sync", help="send logged values spooled while the server was down").set_defaults(func=cmd_sync)
    sub.add_parser("demo", help="create a small demo experiment (idempotent)").set_defaults(func=cmd_demo)
    images = sub.add_parser("images", help="kernel images: build [--gpu] [--tag T] [--rebuild] | list",
                            add_help=False)
    images.add_argument("rest", nargs=argparse.REMAINDER)
    images.set_defaults(func=cmd_images)
    return parser


def main(argv: list[str] | None = None) -> int:
    from workbench.errors import WorkbenchError

    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["images"]:  # its options belong to workbench_kernels' own parser
        return _images(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except WorkbenchError as exc:
        print(f"workbench: {exc.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
