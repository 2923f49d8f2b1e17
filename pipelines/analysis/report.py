"""Reading a build back for the terminal: rankings (`zhengtai scores`) and portraits (`zhengtai explain`)."""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path

import pandas as pd

from pipelines import warehouse
from pipelines.errors import UserError

GRAIN_PATTERNS = (
    ("rolling12", re.compile(r"^R12-\d{4}-\d{2}$")),
    ("month", re.compile(r"^\d{4}-\d{2}$")),
    ("quarter", re.compile(r"^\d{4}Q[1-4]$")),
    ("half", re.compile(r"^\d{4}H[12]$")),
    ("year", re.compile(r"^\d{4}$")),
)
GRADE_STYLE = {"红": "bold red", "橙": "dark_orange", "黄": "yellow", "绿": "green"}


def grain_of(period: str) -> str:
    for grain, pattern in GRAIN_PATTERNS:
        if pattern.match(period):
            return grain
    raise UserError(f"period {period!r} not understood: write 2024Q4, 2024H2, 2024, 2024-12 or R12-2024-12")


def normalise_period(period: str) -> str:
    return period.strip().upper().replace("R12-", "R12-") if period else period


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
            """SELECT s.rank, s.unit_name, u.sector, round(s.score, 1) AS score, s.grade,
                      s.rank_p05, s.rank_p95, s.sector_rank, round(s.change_prev, 1) AS change_prev,
                      round(s.change_yoy, 1) AS change_yoy, s.rising,
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
    df.insert(0, "grain", grain)
    df.insert(1, "period", p)
    return df.head(top) if top else df


def print_ranking(df: pd.DataFrame, period: str) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"政治生态风险排名 {period}（{len(df)}个单位）", show_lines=False)
    for col in ("名次", "单位", "领域", "指数", "等级", "名次区间", "领域内", "环比", "预警"):
        t.add_column(col, no_wrap=True)
    t.add_column("主要风险来源", overflow="fold", min_width=20)
    for r in df.itertuples():
        interval = f"{r.rank_p05}–{r.rank_p95}" if pd.notna(r.rank_p05) else ""
        change = "" if pd.isna(r.change_prev) else f"{r.change_prev:+.1f}" + (" ↑" if r.rising else "")
        t.add_row(str(r.rank) if pd.notna(r.rank) else "—", r.unit_name, r.sector,
                  "" if pd.isna(r.score) else f"{r.score:.1f}",
                  f"[{GRADE_STYLE.get(r.grade, '')}]{r.grade or ''}[/]", interval,
                  str(r.sector_rank) if pd.notna(r.sector_rank) else "", change, str(r.warnings), r.top_drivers)
    Console().print(t)


def portrait(db: str | Path, unit: str, period: str) -> dict:
    """Everything `explain` shows, as plain data."""
    con = open_build(db)
    try:
        grain, p = resolve_period(con, period)
        name = resolve_unit(con, unit)
        rows = con.execute("""SELECT summary, drivers, peers, themes FROM portraits
                             WHERE unit_name = ? AND grain = ? AND period = ?""", [name, grain, p]).fetchall()
        row = rows[0] if rows else None
        if row is None:
            raise UserError(f"no portrait of {name} for {p}")
        scores = con.execute("""SELECT level, round(score, 1) AS score, rank, grade, rank_p05, rank_p95,
                                       round(change_prev, 1) AS change_prev, round(change_yoy, 1) AS change_yoy, rising
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
            "peers": json.loads(row[2]), "themes": json.loads(row[3]), "scores": scores, "trend": trend,
            "warnings": warnings, "evidence": evidence}


def print_portrait(db: str | Path, unit: str, period: str) -> None:
    from rich.console import Console
    from rich.panel import Panel
    from rich.table import Table

    d = portrait(db, unit, period)
    con = Console()
    idx = d["scores"][d["scores"].level == "index"]
    grade = idx.grade.iloc[0] if len(idx) else ""
    con.print(Panel(d["summary"], title=f"{d['unit']} · {d['period']} 政治生态画像",
                    border_style=GRADE_STYLE.get(grade, "white")))

    t = Table(title="各维度得分与同行比较")
    for col in ("维度", "本单位", "同领域平均", "全部平均"):
        t.add_column(col)
    for level, v in d["peers"].items():
        t.add_row(v["name_zh"], _f(v.get("unit")), _f(v.get("sector")), _f(v.get("all")))
    con.print(t)

    if d["drivers"]:
        t = Table(title="主要风险来源（高于平均的贡献）")
        for col in ("指标", "数值", "百分位", "贡献", "超出平均", "预警"):
            t.add_column(col)
        for x in d["drivers"]:
            t.add_row(x["name_zh"], x["shown"] + ("" if x["status"] == "ok" else f"（{x['status']}）"),
                      _f(x["percentile"]), _f(x["contribution"], 2), _f(x["excess"], 2), "是" if x["flagged"] else "")
        con.print(t)

    if len(d["warnings"]):
        t = Table(title=f"预警（{len(d['warnings'])}项）及依据记录")
        t.add_column("等级")
        t.add_column("预警")
        t.add_column("依据（台账记录）", overflow="fold")
        ev = d["evidence"]
        for w in d["warnings"].itertuples():
            rows = ev[ev.warning_id == w.warning_id]
            shown = "\n".join(f"{r.source_table}:{r.record_key} {_day(r.record_date)} {r.summary or ''}"
                              for r in rows.head(5).itertuples())
            if len(rows) > 5:
                shown += f"\n…共{len(rows)}条"
            t.add_row(f"[{GRADE_STYLE.get(w.grade, '')}]{w.grade}[/]", w.message, shown)
        con.print(t)

    if d["themes"]:
        con.print("信访反映主题：" + "、".join(f"{x['theme']}（{x['kind']}，{x['n']}件）" for x in d["themes"]))
    tr = d["trend"].tail(8)
    if len(tr) > 1:
        con.print("近期走势：" + " → ".join(f"{r.period} {r.score:.1f}{r.grade or ''}" for r in tr.itertuples()
                                         if pd.notna(r.score)))


def _f(v, digits: int = 1) -> str:
    return "—" if v is None or (isinstance(v, float) and pd.isna(v)) else f"{v:.{digits}f}"


def _day(v) -> str:
    return "" if v is None or pd.isna(v) else str(pd.Timestamp(v).date())
