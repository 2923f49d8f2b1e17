"""`zhengtai demo`: the whole job on a synthetic county — generate, ingest, build, then open the dashboard."""

from __future__ import annotations

import secrets
from pathlib import Path

import click

DEMO_USERS = (
    ("leader", "leader", None),      # 领导: aggregates and portraits, county-wide
    ("analyst", "analyst", None),    # 分析员: plus pseudonymised records
    ("admin", "admin", None),        # 管理员: plus users and settings
)


@click.command()
@click.option("--dir", "workdir", default="demo", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="where the synthetic ledgers and the warehouse go (git-ignored)")
@click.option("--seed", default=7, show_default=True, help="synthetic county seed")
@click.option("--serve/--no-serve", default=True, show_default=True, help="open the dashboard at the end")
@click.option("--port", default=8501, show_default=True)
def demo(workdir: Path, seed: int, serve: bool, port: int) -> None:
    """Generate a synthetic county, ingest its ledgers, build the risk picture and serve the dashboard."""
    from pipelines import vocabulary
    from pipelines.access.store import UserStore, default_users_path
    from pipelines.cli import cli

    ledgers = workdir / f"county-seed{seed}"
    db = workdir / "zhengtai.duckdb"
    ctx = click.get_current_context()
    from pipelines.access.commands import check_port

    if serve:
        check_port("127.0.0.1", port, f"zhengtai demo --port {port + 1}")  # before minutes of work, not after
    click.secho(f"1/4 生成合成县台账（随机种子 {seed}）→ {ledgers}", bold=True)
    ctx.invoke(cli.get_command(ctx, "generate"), scale="county", seed=seed, out=ledgers)
    click.secho(f"2/4 导入台账 → {db}", bold=True)
    ctx.invoke(cli.get_command(ctx, "init"), db=db, key=None)
    files = tuple(sorted(p for p in ledgers.iterdir() if p.suffix in (".xlsx", ".xls", ".csv")))
    ctx.invoke(cli.get_command(ctx, "ingest"), db=db, kind=None, maps=(), key=None, fuzzy_threshold=88.0,
               quiet=False, files=files)
    click.secho("3/4 计算指标、综合指数、预警和画像", bold=True)
    ctx.invoke(cli.get_command(ctx, "build"), db=db, catalogue_path=None, settings_path=None, no_publish=False)
    evaluate = cli.get_command(ctx, "evaluate")
    if evaluate is not None:
        ctx.invoke(evaluate, db=db, truth=ledgers / "truth.json", period=None, fmt="table")

    store = UserStore(default_users_path(db))
    lines = []
    for name, role, teams in DEMO_USERS:
        password = secrets.token_urlsafe(9)  # fresh each demo: no password lives in the repository
        store.add(name, password, role, teams, replace=True)
        lines.append(f"  用户名 {name:<8} 角色 {vocabulary.word('role', role):<4} 密码 {password}")
    click.secho("4/4 仪表盘账号（仅供演示，每次重新生成）：", bold=True)
    click.echo("\n".join(lines))
    if not serve:
        click.echo(f"稍后启动仪表盘：zhengtai serve --db {db}")
        return
    ctx.invoke(cli.get_command(ctx, "serve"), db=str(db), port=port, address="127.0.0.1", users_path=None)


COMMANDS = [demo]
