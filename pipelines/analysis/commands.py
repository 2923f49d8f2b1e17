"""CLI: `zhengtai build`, `zhengtai scores`, `zhengtai explain`, `zhengtai evaluate`."""

from __future__ import annotations

from pathlib import Path

import click

DB = click.option("--db", required=True, type=click.Path(dir_okay=False, path_type=Path), help="warehouse file")


@click.command()
@DB
@click.option("--catalogue", "catalogue_path", type=click.Path(dir_okay=False, path_type=Path),
              help="indicator catalogue (default data/indicators.yaml)")
@click.option("--settings", "settings_path", type=click.Path(dir_okay=False, path_type=Path),
              help="method settings merged over data/index_settings.yaml")
@click.option("--no-publish", is_flag=True, help="do not refresh the dashboard's published snapshot")
def build(db: Path, catalogue_path: Path | None, settings_path: Path | None, no_publish: bool) -> None:
    """Compute indicators, scores, warnings and portraits for every unit and period."""
    from pipelines.analysis.build import build as run

    s = run(db, catalogue_path=catalogue_path, settings_path=settings_path, publish=not no_publish)
    periods = ", ".join(f"{g} {n}" for g, n in s.periods.items())
    click.echo(f"build {s.build_id}: {s.units} units, {s.indicators} indicators, periods: {periods}; "
               f"{s.warnings} warnings; {s.seconds:.1f} s")
    if s.published:
        click.echo(f"published: {s.published}")


@click.command()
@DB
@click.option("--period", required=True, help="2024Q4, 2024H2, 2024, 2024-12 or R12-2024-12")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--top", type=int, default=0, help="only the N riskiest units (0 = all)")
@click.option("--sector", help="only units of this sector")
def scores(db: Path, period: str, fmt: str, top: int, sector: str | None) -> None:
    """Ranking of the units for a period: score, grade, rank interval and top drivers."""
    from pipelines.analysis import report

    df = report.ranking(db, period, top=top, sector=sector)
    if fmt == "csv":
        click.echo(df.to_csv(index=False), nl=False)
    elif fmt == "json":
        click.echo(df.to_json(orient="records", force_ascii=False, indent=1))
    else:
        report.print_ranking(df, period)


@click.command()
@DB
@click.option("--unit", required=True, help="unit name (or an alias)")
@click.option("--period", required=True, help="2024Q4, 2024H2, 2024, 2024-12 or R12-2024-12")
def explain(db: Path, unit: str, period: str) -> None:
    """A unit's portrait for a period: summary, dimensions against peers, drivers, warnings and evidence."""
    from pipelines.analysis import report

    report.print_portrait(db, unit, period)


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
