"""CLI: `zhengtai build`, `zhengtai scores`, `zhengtai explain`, `zhengtai evaluate`."""

from __future__ import annotations

from pathlib import Path

import click

from pipelines.memory import cli_option as memory_option

DB = click.option("--db", required=True, type=click.Path(dir_okay=False, path_type=Path), help="warehouse file")


@click.command()
@DB
@click.option("--catalogue", "catalogue_path", type=click.Path(dir_okay=False, path_type=Path),
              help="indicator catalogue (default data/indicators.yaml)")
@click.option("--settings", "settings_path", type=click.Path(dir_okay=False, path_type=Path),
              help="method settings merged over data/index_settings.yaml")
@click.option("--no-publish", is_flag=True, help="do not refresh the dashboard's published snapshot")
@click.option("--quiet", is_flag=True, help="no progress")
@memory_option
def build(db: Path, catalogue_path: Path | None, settings_path: Path | None, no_publish: bool, quiet: bool) -> None:
    """Compute indicators, scores, warnings and portraits for every unit and period."""
    from pipelines.analysis.build import build as run
    from pipelines.analysis.methods import load as load_settings
    from pipelines.memory import Budget
    from pipelines.progress import Reporter

    from pipelines import vocabulary
    from pipelines.board.periods import GRAIN_ORDER, period_zh

    steps = len(load_settings(settings_path)["grains"]) + 2  # indicators, each grain, commit
    with Reporter("构建", total=steps, quiet=quiet, intro=f"内存预算 {Budget.resolve().describe()}") as bar:
        s = run(db, catalogue_path=catalogue_path, settings_path=settings_path, publish=not no_publish, progress=bar)
    grains = [g for g in GRAIN_ORDER if g in s.periods] + sorted(set(s.periods) - set(GRAIN_ORDER))
    periods = "、".join(f"{vocabulary.word('grain', g)}{s.periods[g]}期" for g in grains)
    click.echo(f"构建完成 {s.build_id}：{s.units}个单位，{len(grains)}种统计粒度（{periods}），"
               f"{s.indicators}项指标；用时{s.seconds:.1f}秒")
    # The warnings a user will look at: the latest period of each grain, not the sum over every period.
    latest = _latest_warnings(db)
    if latest:
        click.echo("最新一期预警：" + "；".join(f"{vocabulary.word('grain', g)} {period_zh(p)} {n}条"
                                             for g, p, n in latest)
                   + f"（全部{sum(s.periods.values())}个期间共{s.warnings}条，可在仪表盘按期间查看）")
    if s.published:
        click.echo(f"已发布到仪表盘：{s.published}")


def _latest_warnings(db: Path) -> list[tuple[str, str, int]]:
    """(grain, latest period, warnings in it) for every grain that warns, shortest grain first."""
    from pipelines import warehouse
    from pipelines.board.periods import GRAIN_ORDER

    con = warehouse.connect(db, read_only=True)
    try:
        rows = con.execute("""
            WITH latest AS (SELECT grain, max(period) AS period FROM unit_scores WHERE level = 'index' GROUP BY grain)
            SELECT l.grain, l.period, count(w.warning_id) AS n
            FROM latest l JOIN warnings w ON w.grain = l.grain AND w.period = l.period
            GROUP BY ALL""").fetchall()
    finally:
        con.close()
    order = {g: i for i, g in enumerate(GRAIN_ORDER)}
    return sorted(rows, key=lambda r: order.get(r[0], len(order)))


@click.command()
@DB
@click.option("--period", required=True, help="2024Q4, 2024H2, 2024, 2024-12 or R12-2024-12")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--top", type=int, default=0, help="only the N riskiest units (0 = all)")
@click.option("--sector", help="only units of this sector")
def scores(db: Path, period: str, fmt: str, top: int, sector: str | None) -> None:
    """Ranking of the units for a period: score, grade, rank interval and top drivers, then the grading rule.

    On a terminal the table fits its width; piped or redirected it prints plain aligned columns with every
    field; --format csv writes the same columns for a spreadsheet, --format json the data for programs."""
    from pipelines.analysis import grading, terminal

    df = terminal.ranking(db, period, top=top, sector=sector)
    if fmt == "csv":
        click.echo(terminal.ranking_csv(df), nl=False)
    elif fmt == "json":
        click.echo(df.to_json(orient="records", force_ascii=False, indent=1))
    else:
        settings = terminal.build_settings(db)
        terminal.print_ranking(df, period, settings=settings)
        terminal.print_rule(grading.rule_zh(settings))


@click.command()
@DB
@click.option("--unit", required=True, help="unit name (or an alias)")
@click.option("--period", required=True, help="2024Q4, 2024H2, 2024, 2024-12 or R12-2024-12")
def explain(db: Path, unit: str, period: str) -> None:
    """A unit's portrait for a period: summary, dimensions against peers, drivers, warnings and evidence."""
    from pipelines.analysis import terminal

    terminal.print_portrait(db, unit, period)


@click.command()
@DB
@click.option("--truth", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="truth.json written by `zhengtai generate`")
@click.option("--period", help="period to judge (default: the latest year, then rolling 12 months)")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def evaluate(db: Path, truth: Path, period: str | None, fmt: str) -> None:
    """How well the ranking finds the planted risk stories: precision@k and the rank of each planted unit."""
    import json

    from pipelines.analysis import evaluate as ev

    result = ev.evaluate(db, truth, period)
    if fmt == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        ev.print_evaluation(result)


COMMANDS = [build, scores, explain, evaluate]
