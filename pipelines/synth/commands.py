"""`zhengtai generate`: write a synthetic county's ledgers and its ground truth."""

from __future__ import annotations

from pathlib import Path

import click

SCALE_NAMES = ["county", "city", "province", "national"]


@click.command("generate")
@click.option("--scale", default="county", show_default=True,
              help="county (~50 units), city (~500), province (~5,000) or national (~50,000).")
@click.option("--seed", type=int, default=7, show_default=True, help="Same seed, same files, byte for byte.")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Directory to write the ledgers and truth.json into.")
@click.option("--start", default="2022-01", show_default=True, help="First month (YYYY-MM).")
@click.option("--end", default="2024-12", show_default=True, help="Last month (YYYY-MM).")
def generate(scale: str, seed: int, out: Path, start: str, end: str) -> None:
    """Generate synthetic ledgers (信访、巡察、审计、案件、谈话函询、三重一大、主体责任检查) with planted risk stories."""
    from rich.console import Console
    from rich.table import Table

    from pipelines.synth import generate as run

    summary = run(scale, seed, out, start=start, end=end)
    table = Table(title=f"合成台账 synthetic ledgers: {scale}, seed {seed} → {out}")
    table.add_column("文件 file", no_wrap=True)
    table.add_column("类型 kind")
    table.add_column("行数 rows", justify="right")
    table.add_column("坏行 bad rows", justify="right")
    for f in summary["files"]:
        table.add_row(f["file"], f["kind"], f"{f['rows']:,}", str(f["bad_rows"]))
    table.add_row("合计 total", "", f"{summary['records']:,}", str(sum(f["bad_rows"] for f in summary["files"])))
    console = Console(width=max(Console().width, 110))  # file names are long; don't cut them
    console.print(table)
    console.print(f"{summary['units']:,} units in {summary['seconds']}s; ground truth in {Path(out) / 'truth.json'}")


COMMANDS = [generate]
