"""Reading a build back on the terminal: rankings (`zhengtai scores`) and portraits (`zhengtai explain`).

What is printed is in the team's words (pipelines.vocabulary): periods as 2024年第4季度, ledgers by name.
`scores` adapts to where it goes: a table with every column on a wide terminal, a narrower one with the
drivers under each unit's name at 80 columns, and plain aligned columns, never cut, when piped or
redirected (`--format csv` for a spreadsheet).
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path

import pandas as pd

from pipelines import vocabulary, warehouse
from pipelines.analysis import grading
from pipelines.board.periods import period_zh, periods_in_words
from pipelines.errors import UserError

GRAIN_PATTERNS = (
    ("rolling12", re.compile(r"^R12-\d{4}-\d{2}$")),
    ("month", re.compile(r"^\d{4}-\d{2}$")),
    ("quarter", re.compile(r"^\d{4}Q[1-4]$")),
    ("half", re.compile(r"^\d{4}H[12]$")),
    ("year", re.compile(r"^\d{4}$")),
)
GRADE_STYLE = {"红": "bold red", "橙": "dark_orange", "黄": "yellow", "绿": "green"}
WIDE = 110  # terminal columns from which the ranking shows every column side by side
DASH = vocabulary.DASH
# The ranking's columns as printed and written to CSV: frame column → header.
RANKING_ZH = {
    "rank": "名次", "unit_name": "单位", "sector": "领域", "score": "指数", "grade": "等级", "interval": "名次区间",
    "sector_rank": "领域内名次", "change_prev": "环比", "change_yoy": "同比", "rising": "风险上升", "warnings": "预警数",
    "records": "台账记录", "imputed_share": "插补", "top_drivers": "主要风险来源",
}


def grain_of(period: str) -> str:
    for grain, pattern in GRAIN_PATTERNS:
        if pattern.match(period):
            return grain
    raise UserError(f"period {period!r} not understood: write 2024Q4, 2024H2, 2024, 2024-12 or R12-2024-12")


def normalise_period(period: str) -> str:
    return period.strip().upper() if period else period


def open_build(db: str | Path):
    con = warehouse.connect(db, read_only=True)
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "unit_scores" not in tables or con.execute("SELECT count(*) FROM unit_scores").fetchall()[0][0] == 0:
        con.close()
        raise UserError(f"no build results in {db}: run `zhengtai build --db {db}` first")
    return con


def resolve_period(con, period: str) -> tuple[str, str]:
    """(grain, period) of a build; an unknown period is a user error naming the closest ones."""
    p = normalise_period(period)
    grain = grain_of(p)
    known = [r[0] for r in con.execute(
        "SELECT DISTINCT period FROM unit_scores WHERE grain = ? ORDER BY period", [grain]).fetchall()]
    if p not in known:
        everything = [r[0] for r in con.execute("SELECT DISTINCT period FROM unit_scores").fetchall()]
        close = difflib.get_close_matches(p, everything, n=5, cutoff=0.5) or known[-5:]
        raise UserError(f"period {period} is not in the build; close: {', '.join(close) or 'none'}")
    return grain, p


def resolve_unit(con, unit: str) -> str:
    """The unit's master name from its name or an alias; unknown names get the closest suggestions."""
    names = [r[0] for r in con.execute("SELECT unit_name FROM units ORDER BY unit_name").fetchall()]
    if unit in names:
        return unit
    rows = con.execute("SELECT unit_name FROM units WHERE list_contains(aliases, ?) LIMIT 1", [unit]).fetchall()
    if rows:
        return rows[0][0]
    hits = [n for n in names if unit in n]
    if len(hits) == 1:
        return hits[0]
    close = hits[:5] or difflib.get_close_matches(unit, names, n=5, cutoff=0.3)
    raise UserError(f"unit {unit!r} not found; close: {', '.join(close) or 'none'}")


def ranking(db: str | Path, period: str, *, top: int = 0, sector: str | None = None) -> pd.DataFrame:
    con = open_build(db)
    try:
        grain, p = resolve_period(con, period)
        df = con.execute(
            """SELECT s.rank, s.unit_name, u.sector, round(s.score, 1) AS score, s.grade, s.grade_basis,
                      s.warning_level, s.evidence, s.records, coalesce(s.provisional, false) AS provisional,
                      s.imputed_share, s.rank_p05, s.rank_p95, s.sector_rank, s.change_prev, s.change_yoy, s.rising,
                      (SELECT count(*) FROM warnings AS w WHERE w.unit_name = s.unit_name AND w.grain = s.grain
                          AND w.period = s.period) AS warnings,
                      po.drivers
               FROM unit_scores AS s
               JOIN units AS u USING (unit_name)
               LEFT JOIN portraits AS po ON po.unit_name = s.unit_name AND po.grain = s.grain AND po.period = s.period
               WHERE s.level = 'index' AND s.grain = ? AND s.period = ? AND (? IS NULL OR u.sector = ?)
               ORDER BY s.rank NULLS LAST, s.unit_name""", [grain, p, sector, sector]).df()
    finally:
        con.close()
    df["top_drivers"] = df.pop("drivers").map(
        lambda d: "、".join(x["name_zh"] for x in json.loads(d)[:3]) if isinstance(d, str) else "")
    for col in ("rank_p05", "rank_p95"):
        df[col] = df[col].round().astype("Int64")
    # Changes cut to 0.1, not rounded: a rise of 4.97 must not read 5.0 next to a 5-point rule.
    for col in ("change_prev", "change_yoy"):
        df[col] = df[col].map(lambda v: v if pd.isna(v) else vocabulary.cut_tenth(float(v)))
    df.insert(0, "grain", grain)
    df.insert(1, "period", p)
    return df.head(top) if top else df


def build_settings(db: str | Path) -> dict:
    """The method settings the build in `db` recorded (build_runs.settings)."""
    con = open_build(db)
    try:
        rows = con.execute("""SELECT settings::VARCHAR FROM build_runs
                              WHERE build_id = (SELECT any_value(build_id) FROM unit_scores)""").fetchall()
    finally:
        con.close()
    return json.loads(rows[0][0]) if rows and rows[0][0] else {}


def grade_rule(db: str | Path) -> list[str]:
    """The grading rule of the build in `db`, in the sentences of the 方法与权重 page, the report and the export
    (grading.rule_zh over the settings the build recorded)."""
    return grading.rule_zh(build_settings(db))


def interval_note(settings: dict) -> str:
    """Why a period's ranking has no rank interval: the Monte Carlo runs for the latest periods only."""
    n = (settings.get("uncertainty") or {}).get("periods")
    return f"名次区间只对各粒度最近{int(n)}期估计（方法不确定性分析），本期未估计。" if n else \
        "名次区间只对各粒度最近几期估计（方法不确定性分析），本期未估计。"


def print_rule(lines: list[str], console=None) -> None:
    """The grading rule under a ranking: what a grade means is read where the grades are."""
    from rich.console import Console

    console = console or Console()
    text = "等级规则：\n" + "\n".join(f"  {n}. {line}" for n, line in enumerate(lines, start=1)) + "\n"
    if console.is_terminal:
        console.print(text.rstrip(), highlight=False, markup=False)
    else:
        console.file.write(text)


def ranking_table(df: pd.DataFrame) -> pd.DataFrame:
    """The ranking as printed: Chinese headers, every cell text (— for nothing)."""
    out = pd.DataFrame({
        "rank": df["rank"].map(lambda v: DASH if pd.isna(v) else str(int(v))),
        "unit_name": df.unit_name,
        "sector": df.sector,
        "score": df.score.map(lambda v: DASH if pd.isna(v) else f"{v:.1f}"),
        "grade": [grading.shown(g, b, bool(pv)) for g, b, pv in zip(df.grade, df.grade_basis, df.provisional)],
        "interval": [DASH if pd.isna(a) else f"{a}–{b}" for a, b in zip(df.rank_p05, df.rank_p95)],
        "sector_rank": df.sector_rank.map(lambda v: DASH if pd.isna(v) else str(int(v))),
        "change_prev": df.change_prev.map(_signed),
        "change_yoy": df.change_yoy.map(_signed),
        "rising": df.rising.map(lambda r: "是" if r is True or r == 1 else ""),
        "warnings": df.warnings.astype(int).astype(str),
        "records": df.records.map(lambda v: DASH if pd.isna(v) else str(int(v))),
        "imputed_share": df.imputed_share.map(lambda v: "" if pd.isna(v) or v < 0.005 else f"{v:.0%}"),
        "top_drivers": df.top_drivers.replace("", DASH),
    })
    return out.rename(columns=RANKING_ZH)


def ranking_csv(df: pd.DataFrame) -> str:
    """CSV for a spreadsheet: the printed columns with the period in words (UTF-8 with BOM, which Excel needs
    to read Chinese from a CSV)."""
    table = ranking_table(df)
    table.insert(0, "期间", df.period.map(period_zh))
    return "\ufeff" + table.to_csv(index=False)


def _signed(v) -> str:
    if v is None or pd.isna(v):
        return DASH
    return "0.0" if v == 0 else f"{v:+.1f}"


def title(df: pd.DataFrame, period: str) -> str:
    provisional = bool(len(df)) and bool(df.provisional.fillna(False).any())
    return (f"政治生态风险排名 · {period_zh(normalise_period(period))}（{len(df)}个单位）"
            + (f"（{vocabulary.word('grade_state', 'provisional')}期：本期尚未结束或部分指标所需的历史数据不足，"
               "不与完整期比较）" if provisional else ""))


def print_ranking(df: pd.DataFrame, period: str, console=None, settings: dict | None = None) -> None:
    """On a terminal: a table that fits its width; piped: plain columns with every field, never cut.
    settings: the build's (build_settings), for the note on a period without rank intervals."""
    from rich.console import Console

    console = console or Console()
    note = interval_note(settings or {}) + "\n" if len(df) and df.rank_p05.isna().all() else ""
    if not console.is_terminal:
        console.file.write(plain_columns(ranking_table(df), title(df, period)) + note)
        return
    console.print(ranking_rich(df, period, wide=console.width >= WIDE))
    if note:
        console.print(note.rstrip())


def plain_columns(table: pd.DataFrame, heading: str) -> str:
    """Text columns aligned by display width (a Chinese character takes two), two spaces apart, last one
    unpadded: what `zhengtai scores | less` or a log file shows."""
    from rich.cells import cell_len

    cols = list(table.columns)
    cells = [cols] + table.astype(str).values.tolist()
    widths = [max(cell_len(str(row[i])) for row in cells) for i in range(len(cols))]
    lines = [heading]
    for row in cells:
        parts = [str(v) + " " * (widths[i] - cell_len(str(v))) if i < len(cols) - 1 else str(v)
                 for i, v in enumerate(row)]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines) + "\n"


def ranking_rich(df: pd.DataFrame, period: str, *, wide: bool):
    """A rich table. Wide: every column. Narrow (80 columns): 名次, 单位 with its drivers on the line below,
    指数, 等级, 名次区间, 环比, 预警 — numbers and grades are never cut, names wrap."""
    from rich.table import Table
    from rich.text import Text

    table = ranking_table(df)
    t = Table(title=title(df, period), show_lines=not wide)
    numeric = {"名次", "指数", "名次区间", "领域内名次", "环比", "同比", "预警数"}
    if wide:
        shown = [c for c in table.columns if c not in ("同比", "风险上升", "插补")]
    else:
        shown = ["名次", "单位", "指数", "等级", "名次区间", "环比", "预警数"]
    for col in shown:
        if col in ("单位", "主要风险来源"):
            t.add_column(col, overflow="fold", ratio=1, min_width=10)
        else:
            t.add_column(col, no_wrap=True, justify="right" if col in numeric else "left")
    for (_, row), rising in zip(table.iterrows(), df.rising):
        cells = []
        for col in shown:
            value = row[col]
            if col == "等级":
                cells.append(Text(value, style=GRADE_STYLE.get(value[:1], "")))
            elif col == "环比" and rising is True:
                cells.append(Text(value + "↑", style="bold"))
            elif col == "单位" and not wide:
                text = Text(value)
                if row["主要风险来源"] != DASH:
                    text.append("\n" + row["主要风险来源"], style="dim")
                cells.append(text)
            else:
                cells.append(Text(value))
        t.add_row(*cells)
    return t


def portrait(db: str | Path, unit: str, period: str) -> dict:
    """Everything `explain` shows, as plain data."""
    con = open_build(db)
    try:
        grain, p = resolve_period(con, period)
        name = resolve_unit(con, unit)
        rows = con.execute("""SELECT summary, drivers, peers, themes, protective FROM portraits
                             WHERE unit_name = ? AND grain = ? AND period = ?""", [name, grain, p]).fetchall()
        row = rows[0] if rows else None
        if row is None:
            raise UserError(f"no portrait of {name} for {p}")
        scores = con.execute("""SELECT level, round(score, 1) AS score, rank, grade, rank_p05, rank_p95,
                                       change_prev, change_yoy, rising
                                FROM unit_scores WHERE unit_name = ? AND grain = ? AND period = ?""",
                             [name, grain, p]).df()
        trend = con.execute("""SELECT period, round(score, 1) AS score, rank, grade FROM unit_scores
                               WHERE unit_name = ? AND grain = ? AND level = 'index' ORDER BY period""",
                            [name, grain]).df()
        warnings = con.execute(
            """SELECT w.warning_id, w.grade, c.name_zh, w.value, w.threshold, w.rule, w.message, w.status
               FROM warnings AS w JOIN indicator_catalogue AS c USING (indicator_id)
               WHERE w.unit_name = ? AND w.grain = ? AND w.period = ?
               ORDER BY CASE w.grade WHEN '红' THEN 0 WHEN '橙' THEN 1 ELSE 2 END, c.name_zh""",
            [name, grain, p]).df()
        evidence = con.execute(
            """SELECT e.warning_id, e.source_table, e.record_key, e.record_date, e.summary
               FROM warning_evidence AS e JOIN warnings AS w USING (warning_id)
               WHERE w.unit_name = ? AND w.grain = ? AND w.period = ?
               ORDER BY e.record_date DESC""", [name, grain, p]).df()
    finally:
        con.close()
    return {"unit": name, "grain": grain, "period": p, "summary": row[0], "drivers": json.loads(row[1]),
            "peers": json.loads(row[2]), "themes": json.loads(row[3]),
            "protective": json.loads(row[4]) if row[4] else [], "scores": scores, "trend": trend,
            "warnings": warnings, "evidence": evidence}


def print_portrait(db: str | Path, unit: str, period: str, console=None) -> None:
    from rich.console import Console
    from rich.panel import Panel
    from rich.table import Table

    d = portrait(db, unit, period)
    con = console or Console()
    idx = d["scores"][d["scores"].level == "index"]
    grade = idx.grade.iloc[0] if len(idx) else ""
    con.print(Panel(d["summary"], title=f"{d['unit']} · {period_zh(d['period'])} 政治生态画像",
                    border_style=GRADE_STYLE.get(grade, "white")))

    t = Table(title="各维度得分与同行比较")
    for col in ("维度", "本单位", "同领域平均", "全县平均"):
        t.add_column(col, justify="left" if col == "维度" else "right")
    for level, v in d["peers"].items():
        t.add_row(v["name_zh"], _f(v.get("unit")), _f(v.get("sector")), _f(v.get("all")))
    con.print(t)

    if d["drivers"]:
        t = Table(title="主要风险来源（高于平均的贡献，仅本单位实有数据）")
        for col in ("指标", "数值", "百分位", "同领域百分位", "贡献", "超出平均", "预警"):
            t.add_column(col, justify="left" if col in ("指标", "数值", "预警") else "right")
        for x in d["drivers"]:
            status = "" if x["status"] == "ok" else f"（{vocabulary.word('value_status', x['status'])}）"
            t.add_row(x["name_zh"] + ("偏低" if x.get("low_is_risk") else ""), (x["shown"] or DASH) + status,
                      _f(x["percentile"], 0), _f(x.get("sector_percentile"), 0), _f(x["contribution"], 2),
                      _f(x["excess"], 2), "是" if x["flagged"] else "")
        con.print(t)

    if len(d["warnings"]):
        t = Table(title=f"预警（{len(d['warnings'])}项）及依据记录")
        t.add_column("等级", no_wrap=True)
        t.add_column("预警", overflow="fold")
        t.add_column("依据（台账记录）", overflow="fold")
        ev = d["evidence"]
        for w in d["warnings"].itertuples():
            rows = ev[ev.warning_id == w.warning_id]
            shown = "\n".join(periods_in_words(f"{vocabulary.word('ledger_short', r.source_table)} {r.record_key} "
                                                f"{_day(r.record_date)} {r.summary or ''}").rstrip()
                               for r in rows.head(5).itertuples())
            if len(rows) > 5:
                shown += f"\n…共{len(rows)}条"
            t.add_row(f"[{GRADE_STYLE.get(w.grade, '')}]{w.grade}[/]", w.message, shown or "无逐条记录（阈值类指标）")
        con.print(t)

    if d["themes"]:
        con.print("信访反映主题：" + "、".join(f"{x['theme']}（{x['kind']}，{x['n']}件）" for x in d["themes"]))
    if d.get("protective"):
        con.print("有利因素：" + "、".join(f"{x['fact']}{x['count']}件（{x['text']}）" for x in d["protective"]))
    tr = d["trend"].tail(8)
    if len(tr) > 1:
        con.print("近期走势：" + " → ".join(f"{period_zh(r.period)} {r.score:.1f}分{(r.grade + '色') if r.grade else ''}"
                                         for r in tr.itertuples() if pd.notna(r.score)))


def _f(v, digits: int = 1) -> str:
    return DASH if v is None or (isinstance(v, float) and pd.isna(v)) else f"{v:.{digits}f}"


def _day(v) -> str:
    return "" if v is None or pd.isna(v) else str(pd.Timestamp(v).date())
