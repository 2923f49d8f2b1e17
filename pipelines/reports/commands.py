"""CLI: `zhengtai report`, the periodic 政治生态分析研判 report."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--db", required=True, type=click.Path(dir_okay=False, path_type=Path), help="warehouse file (built)")
@click.option("--period", required=True, help="2024Q4, 2024H2, 2024 or R12-2024-12")
@click.option("--team", help="only this 派驻组's units (its name, or a unique part of it)")
@click.option("--format", "fmt", type=click.Choice(["docx", "pdf", "html", "md"]),
              help="default: from the --out suffix (.docx, .pdf, .html, .md)")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="report file to write")
@click.option("--no-figures", is_flag=True, help="leave the charts out")
def report(db: Path, period: str, team: str | None, fmt: str | None, out: Path, no_figures: bool) -> None:
    """Write the 政治生态分析研判 report of a period (Word, PDF, HTML or Markdown) from a built warehouse."""
    from pipelines.reports.report import generate

    from pipelines.board.periods import period_zh

    w = generate(db, period, out, team=team, fmt=fmt, figures=not no_figures)
    f = w.facts
    grades = "、".join(f"{g}{n}个" for g, n in f.headline["grades"].items())
    click.echo(f"已生成报告 {w.path}（{FORMAT_ZH[w.fmt]}）：{period_zh(f.period)}，{f.units}个单位（{grades}），"
               f"逐一分析红色、橙色单位{len(f.focus)}个；数据版本 {f.build['build_id']}")
    for extra in w.files[1:]:
        click.echo(f"图表 {extra}")


FORMAT_ZH = {"docx": "Word", "pdf": "PDF", "html": "网页", "md": "Markdown"}


COMMANDS = [report]
