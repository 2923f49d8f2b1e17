"""`zhengtai users add|remove|list|unlock` and `zhengtai serve`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from pipelines.errors import UserError


def _users_path(db: str | None, users: str | None) -> Path:
    if users:
        return Path(users)
    if os.environ.get("ZHENGTAI_USERS"):
        return Path(os.environ["ZHENGTAI_USERS"])
    if db:
        from pipelines.access.store import default_users_path

        return default_users_path(db)
    raise UserError("say where the user store is: --db DB (uses DB.users.sqlite beside it) or --users PATH")


_location = [
    click.option("--db", type=click.Path(dir_okay=False), help="Warehouse; the user store is DB.users.sqlite beside it."),
    click.option("--users", "users_path", type=click.Path(dir_okay=False), help="Explicit user store path."),
]


def _with_location(fn):
    for opt in reversed(_location):
        fn = opt(fn)
    return fn


@click.group("users")
def users() -> None:
    """Dashboard accounts: roles leader / analyst / admin, scoped to 派驻组 teams."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["leader", "analyst", "admin"]), required=True,
              help="leader: aggregates and portraits; analyst: plus pseudonymised records; admin: plus users.")
@click.option("--team", "teams", multiple=True, help="A 派驻组 team whose units the user may see (repeatable).")
@click.option("--all-teams", is_flag=True, help="County-wide: every team's units.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.option("--replace", is_flag=True, help="Update the account if it exists.")
@_with_location
def users_add(name, role, teams, all_teams, password_stdin, replace, db, users_path) -> None:
    """Add an account (the password is stored only as an argon2 hash)."""
    from pipelines.access.store import UserStore

    if teams and all_teams:
        raise UserError("give --team or --all-teams, not both")
    if not teams and not all_teams:
        raise UserError("give at least one --team TEAM, or --all-teams for a county-wide account")
    if teams:
        _check_teams(teams, db)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    store = UserStore(_users_path(db, users_path))
    user = store.add(name, password, role, None if all_teams else teams, replace=replace)
    store.audit("cli", "user_add", name, {"role": role, "teams": list(user.teams) if user.teams else "*"})
    click.echo(f"user {user.name} ({user.role_zh}, {user.teams_zh}) saved in {store.path}")


def _check_teams(teams: tuple[str, ...], db: str | None) -> None:
    """Team names must be 派驻组 of the unit master: a misspelt team gives an account that sees nothing."""
    if not db or not Path(db).exists():
        click.echo("warning: team names not checked against the unit master (give --db of an existing warehouse)", err=True)
        return
    import duckdb
    from rapidfuzz import fuzz, process

    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error as exc:
        raise UserError(f"cannot read {db} to check the team names: {str(exc).splitlines()[0]}") from None
    try:
        roster = sorted(r[0] for r in con.execute("SELECT DISTINCT team FROM units").fetchall())
    except duckdb.Error:
        roster = []
    finally:
        con.close()
    if not roster:
        raise UserError(f"{db} has no unit master yet: ingest the 单位名册 first (team names are checked against it), "
                        "or give --all-teams")
    for team in teams:
        if team in roster:
            continue
        close = [c for c, score, _ in process.extract(team, roster, scorer=fuzz.ratio, limit=3) if score >= 50]
        hint = f"; did you mean {'、'.join(close)}?" if close else ""
        raise UserError(f"team {team!r} is not a 派驻组 of the unit master ({'、'.join(roster)}){hint}")


@users.command("remove")
@click.argument("name")
@_with_location
def users_remove(name, db, users_path) -> None:
    """Remove an account."""
    from pipelines.access.store import UserStore

    store = UserStore(_users_path(db, users_path), create=False)
    store.remove(name)
    store.audit("cli", "user_remove", name, {})
    click.echo(f"user {name} removed")


@users.command("unlock")
@click.argument("name")
@_with_location
def users_unlock(name, db, users_path) -> None:
    """Lift a lockout after too many failed logins."""
    from pipelines.access.store import UserStore

    store = UserStore(_users_path(db, users_path), create=False)
    if store.get(name) is None:
        raise UserError(f"no user {name!r}")
    store.unlock(name)
    store.audit("cli", "user_unlock", name, {})
    click.echo(f"user {name} unlocked")


@users.command("lock")
@click.argument("name")
@_with_location
def users_lock(name, db, users_path) -> None:
    """Lock an account until it is unlocked; its open dashboard sessions end at once."""
    from pipelines.access.store import UserStore

    store = UserStore(_users_path(db, users_path), create=False)
    store.lock(name)
    store.audit("cli", "user_lock", name, {})
    click.echo(f"user {name} locked")


@users.command("list")
@_with_location
def users_list(db, users_path) -> None:
    """List accounts (never their hashes)."""
    from rich.console import Console
    from rich.table import Table

    from pipelines.access.store import UserStore

    store = UserStore(_users_path(db, users_path), create=False)
    from pipelines.board.admin import users_table

    users = users_table(store)
    table = Table(*users.columns)
    for row in users.itertuples(index=False):
        table.add_row(*(str(v) for v in row))
    Console().print(table)


def streamlit_args(port: int, address: str) -> list[str]:
    """`streamlit run` arguments: headless, no usage statistics, no file watching, local address."""
    from pipelines.settings import REPO_DIR

    app = REPO_DIR / "dashboards" / "server.py"
    if not app.exists():
        raise UserError(f"dashboard not found at {app}: run zhengtai from a checkout of the repository")
    return [
        "run", str(app),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--server.port", str(port),
        "--server.address", address,
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--global.developmentMode", "false",
        "--client.toolbarMode", "viewer",
        "--theme.base", "light",
        "--client.disableDataExport", "true",
    ]


def _prewarm() -> None:
    """Import what the first page needs before the server listens: scipy (through the index engine),
    pandas and plotly take seconds to import on a busy 2-core machine, and the first visitor would wait."""
    import plotly.graph_objects  # noqa: F401

    import pipelines.board.method  # noqa: F401
    import pipelines.board.overview  # noqa: F401
    import pipelines.board.portrait  # noqa: F401


def check_port(address: str, port: int, retry: str) -> None:
    """A user error, saying what to run instead, when another program already listens on the port."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will: a closed one's TIME_WAIT is fine
        try:
            s.bind((address, port))
        except OSError:
            raise UserError(f"端口 {port} 已被占用（可能已有一个仪表盘在运行）：关掉它，或换一个端口，例如 {retry}") from None


@click.command("serve")
@click.option("--db", required=True, type=click.Path(dir_okay=False), help="Warehouse; its published snapshot is served.")
@click.option("--port", default=8501, show_default=True, type=int, help="Port to listen on (another if 8501 is taken).")
@click.option("--address", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--users", "users_path", type=click.Path(dir_okay=False), help="User store (default DB.users.sqlite).")
def serve(db, port, address, users_path) -> None:
    """Serve the dashboard on the published snapshot, read-only; picks up each rebuild atomically."""
    from pipelines import warehouse
    from pipelines.access.store import UserStore
    from pipelines.warehouse import published_path

    if Path(db).exists():
        try:  # a writer's start: clears what a killed build left and finishes a publication it cut short
            warehouse.connect(db).close()
        except UserError as exc:  # e.g. an ingest is running: it will publish when its build does
            click.echo(f"提示：{exc}；仍按现有的发布快照启动。", err=True)
    snapshot = published_path(db)
    if not snapshot.exists():
        raise UserError(f"no published snapshot {snapshot}: run `zhengtai build --db {db}` first")
    check_port(address, port, f"zhengtai serve --db {db} --port {port + 1}")
    users_file = _users_path(db, users_path)
    store = UserStore(users_file)
    if not store.list():
        click.echo(f"提示：用户库 {users_file} 中还没有账号，先添加一个："
                   f"zhengtai users add 用户名 --role admin --all-teams --db {db}", err=True)
    args = streamlit_args(port, address)
    os.environ.update(ZHENGTAI_DB=str(Path(db).resolve()), ZHENGTAI_USERS=str(users_file.resolve()),
                      STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    os.environ.pop("ZHENGTAI_SNAPSHOT", None)
    _prewarm()
    click.echo(f"仪表盘已启动：http://{address}:{port}（数据：{snapshot}；按 Ctrl+C 停止）", err=True)
    # Streamlit's own command line, in this already warmed-up process (same as `streamlit run ...`).
    from streamlit.web import cli as streamlit_cli

    sys.argv = ["streamlit", *args]
    streamlit_cli.main(prog_name="streamlit")


COMMANDS = [users, serve]
