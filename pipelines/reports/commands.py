"""CLI: `zhengtai report`, the periodic 政治生态分析研判 report."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--db", required=True, type=click.Path(dir_okay=False, path_type=Path), help="warehouse file (built)")
@click.option("--period", required=True, help="2024Q4, 2024H2, 2024 or R12-2024-12")
@click.option("--team", help="only this 派驻组's units (its name, or a unique part of it)")
@click.option("--format", "fmt", type=click.Choice(["docx", "html", "md"]),
              help="default: from the --out suffix, else docx")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="report file to write")
@click.option("--no-figures", is_flag=True, help="leave the charts out")
def report(db: Path, period: str, team: str | None, fmt: str | None, out: Path, no_figures: bool) -> None:
    """Write the 政治生态分析研判 report of a period (Word, HTML or Markdown) from a built warehouse."""
    from pipelines.reports.report import generate

    w = generate(db, period, out, team=team, fmt=fmt, figures=not no_figures)
    f = w.facts
    grades = "、".join(f"{g}{n}" for g, n in f.headline["grades"].items())
    click.echo(f"report {w.path} ({w.fmt}): {f.period}, {f.units} units ({grades}), "
               f"{len(f.focus)} 红/橙 units in detail; build {f.build['build_id']}")
    for extra in w.files[1:]:
        click.echo(f"figure {extra}")


COMMANDS = [report]
