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
    from pipelines import vocabulary

    table = Table(title=f"合成台账：{vocabulary.word('scale', scale)}规模，随机种子 {seed} → {out}")
    table.add_column("文件", no_wrap=True)
    table.add_column("台账")
    table.add_column("行数", justify="right")
    table.add_column("有意写错的行", justify="right")
    for f in summary["files"]:
        table.add_row(f["file"], vocabulary.word("ledger", f["kind"]), f"{f['rows']:,}", str(f["bad_rows"]))
    table.add_row("合计", "", f"{summary['records']:,}", str(sum(f["bad_rows"] for f in summary["files"])))
    console = Console(width=max(Console().width, 110))  # file names are long; don't cut them
    console.print(table)
    console.print(f"{summary['units']:,}个单位，用时{summary['seconds']}秒；埋设的风险情形（检验用，计算时不读取）："
                  f"{Path(out) / 'truth.json'}")


COMMANDS = [generate]
