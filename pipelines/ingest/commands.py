"""CLI: `zhengtai init`, `zhengtai ingest`, `zhengtai dictionary`."""

from __future__ import annotations

import os
from pathlib import Path

import click

from pipelines.memory import Budget
from pipelines.memory import cli_option as memory_option
from pipelines.progress import Reporter
from pipelines.errors import UserError
from pipelines.settings import key_path

KEY_HELP = "pseudonymisation key file (default: $ZHENGTAI_KEY_FILE or ~/.config/zhengtai/pseudonym.key)"


@click.command()
@click.option("--db", required=True, type=click.Path(dir_okay=False, path_type=Path), help="warehouse file to create")
@click.option("--key", type=click.Path(dir_okay=False, path_type=Path), help=KEY_HELP)
def init(db: Path, key: Path | None) -> None:
    """Create the warehouse (idempotent) and, if missing, the pseudonymisation key outside the repository."""
    from pipelines import privacy, warehouse

    kp = key_path(key)
    created = privacy.create_key(kp)
    db.parent.mkdir(parents=True, exist_ok=True)
    con = warehouse.connect(db, must_exist=False)
    with warehouse.transaction(con):
        warehouse.apply_schema(con)
        privacy.check_fingerprint(con, privacy.Pseudonymiser.from_file(kp))
    con.close()
    click.echo(f"数据库已就绪：{db}")
    click.echo(f"化名密钥：{kp}" + ("（新建。请妥善保管并备份，不要放进代码仓库：换了密钥，同一个人的化名就对不上了）"
                                   if created else ""))


@click.command()
@click.option("--db", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--kind", help="ledger kind, when the headers don't tell (units, petitions, cases …)")
@click.option("--map", "maps", multiple=True, metavar="表头=column", help="map a one-off header to a column; repeatable")
@click.option("--set", "sets", multiple=True, metavar="列=值",
              help="give a column the file lacks a constant, e.g. --set 来源渠道=网络举报; repeatable; recorded in ingest_runs")
@click.option("--key", type=click.Path(dir_okay=False, path_type=Path), help=KEY_HELP)
@click.option("--fuzzy-threshold", default=88.0, show_default=True, help="minimum similarity (0-100) to accept a fuzzy unit-name match")
@click.option("--date-floor", default="1950-01-01", show_default=True, metavar="YYYY-MM-DD",
              help="earliest date a ledger may hold; earlier ones (typos such as 1024) are flagged")
@click.option("--quiet", is_flag=True, help="no progress bar")
@memory_option
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def ingest(db: Path, kind: str | None, maps: tuple[str, ...], sets: tuple[str, ...], key: Path | None, fuzzy_threshold: float,
           date_floor: str, quiet: bool, files: tuple[Path, ...]) -> None:
    """Load ledgers (.xlsx, .xls, .csv) into the warehouse: validated, pseudonymised, all or nothing.

    Given many files, the unit master (单位名册) loads first whatever their order. Rerunning the same
    file changes nothing; a corrected ledger updates its records by natural key.
    """
    from rich.console import Console
    from rich.table import Table

    from pipelines import vocabulary
    from pipelines.ingest import headers, load

    import datetime as dt

    try:
        dt.date.fromisoformat(date_floor)
    except ValueError:
        raise UserError(f"--date-floor '{date_floor}' should be a date like 1990-01-01") from None
    expanded: list[Path] = []
    for f in files:
        # a folder: its ledgers, not the ~$ lock files Excel leaves beside an open workbook
        found = sorted(p for p in f.iterdir() if p.suffix.lower() in (".xlsx", ".xls", ".csv")
                       and not p.name.startswith(("~$", "."))) if f.is_dir() else [f]
        if f.is_dir() and not found:
            raise UserError(f"{f}: the folder holds no .xlsx, .xls or .csv ledger")
        # absolute but not resolved: messages and ingest_runs name the file the analyst gave, not a link's target
        expanded.extend(Path(os.path.abspath(p)) for p in found)
    with Reporter("导入", total=sum(p.stat().st_size for p in expanded if p.exists()), quiet=quiet,
                  intro=f"{len(expanded)}个文件，内存预算 {Budget.resolve().describe()}") as bar:
        results = load.ingest(db, expanded, key=key_path(key), kind=kind, maps=headers.parse_maps(maps),
                              sets=headers.parse_sets(sets), fuzzy_threshold=fuzzy_threshold, date_floor=date_floor,
                              progress=_IngestProgress(bar))
    table = Table(title=f"导入汇总 · {db}", caption=SUMMARY_NOTE, caption_justify="left")
    for col in SUMMARY_COLUMNS:
        table.add_column(col, justify="left" if col in ("文件", "台账") else "right")
    totals = [0] * 6
    for r in results:
        name = Path(r.path).name + (f" [{r.sheet}]" if r.sheet else "")
        nums = [r.rows_read, r.loaded, r.updated, r.unchanged, r.rejected, r.skipped]
        totals = [a + b for a, b in zip(totals, nums)]
        table.add_row(name, vocabulary.word("ledger", r.kind), *[f"{n:,}" for n in nums], f"{r.seconds:.2f}")
    table.add_row("合计", "", *[f"{n:,}" for n in totals], f"{sum(r.seconds for r in results):.2f}", style="bold")
    out = Console(quiet=quiet)
    if not out.is_terminal:
        out.width = 160  # logs and pipes: don't squeeze the summary into 80 columns
    out.print(table)
    if totals[4]:
        click.echo(f"{totals[4]:,}行被拒收，逐行原因见仪表盘“数据质量”页", err=quiet)


SUMMARY_COLUMNS = ("文件", "台账", "读取", "新增", "更新", "未变", "拒收", "跳过", "秒")
SUMMARY_NOTE = "读取 = 新增 + 更新 + 未变 + 拒收 + 跳过；跳过的是空行和合计、小计行（不是记录）。"


class _IngestProgress:
    """What load.ingest reports, shown per sheet with its rows/s; the bar advances by file size."""

    def __init__(self, bar):
        self.bar = bar

    def sheet(self, label: str, rows: int) -> None:
        self.bar.step(f"{label}（{rows:,}行）")

    def loaded(self, r) -> None:
        rate = f"，{r.rows_read / r.seconds:,.0f}行/秒" if r.seconds > 0 else ""
        self.bar.line(f"{Path(r.path).name}{f' [{r.sheet}]' if r.sheet else ''}：{r.rows_read:,}行，用时"
                      f"{r.seconds:.1f}秒{rate}")
        self.bar.advance(0, rows=r.rows_read)

    def file_done(self, path: Path) -> None:
        self.bar.advance(path.stat().st_size)

    def committing(self) -> None:
        self.bar.step("提交")


@click.command(name="dictionary")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="default: data/DICTIONARY.md")
def dictionary_cmd(out: Path | None) -> None:
    """Render the data dictionary and header aliases as Markdown (data/DICTIONARY.md)."""
    from pipelines.dictionary import render_markdown, render_results_markdown
    from pipelines.settings import DATA_DIR

    target = out or DATA_DIR / "DICTIONARY.md"
    target.write_text(render_markdown() + "\n" + render_results_markdown(), encoding="utf-8")
    click.echo(f"wrote {target}")


COMMANDS = [init, ingest, dictionary_cmd]
