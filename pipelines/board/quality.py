"""数据质量: ingest runs, rejected rows with reasons, coverage by unit and month, stale sources.

File paths and rejected rows' raw values can name any unit (a row is often rejected precisely because its
unit did not resolve), so they go only to county-wide users (board.sql enforces it); team-scoped users get
their own units' records per ledger kind and the reasons of the rejected rows that name their units. Coverage
is per unit and therefore scoped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import PurePath
from typing import Callable

import pandas as pd

from pipelines import vocabulary
from pipelines.access.store import AccessDenied, User
from pipelines.board.snapshot import Board

STALE_DAYS = 120  # a ledger whose newest record is this much older than the newest of any ledger is stale


@dataclass
class Quality:
    runs: pd.DataFrame  # full ingest_runs (county-wide users) or a per-kind summary
    runs_detailed: bool
    reasons: pd.DataFrame
    may_see_rejected: bool  # the raw rejected rows: county-wide analysts/admins, fetched on request (rejected_rows)
    notes_by_unit: pd.DataFrame  # records kept with a field stored as unknown, per visible unit, kind and field
    coverage: pd.DataFrame  # unit × month record counts (wide)
    gaps: pd.DataFrame  # visible units with months without any record, within the data's span
    freshness: pd.DataFrame


def quality(board: Board, user: User, identity: str | None = None) -> Quality:
    """Everything of the page but the raw rejected rows, which are fetched (and audited) only when shown."""
    county = user.scope.all_teams
    runs = _words(board.q("ingest_runs" if county else "ingest_summary", user.scope, identity=identity))
    reasons = _words(board.q("rejected_reasons", user.scope, identity=identity))
    notes_by_unit = _words(board.q("quality_notes_by_unit", user.scope, identity=identity))
    cov = board.q("coverage", user.scope, identity=identity)
    units = board.q("visible_units", user.scope, identity=identity).unit_name
    if len(cov):
        months = pd.period_range(cov.month.min(), cov.month.max(), freq="M").strftime("%Y-%m")
        wide = (cov.pivot_table(index="unit_name", columns="month", values="records", aggfunc="sum", fill_value=0)
                .reindex(index=units, columns=months, fill_value=0))
    else:
        wide = pd.DataFrame(index=units)
    wide.index.name = "unit_name"
    empty_months = (wide == 0).sum(axis=1) if wide.shape[1] else pd.Series(0, index=wide.index)
    gaps = pd.DataFrame({"unit_name": wide.index, "months": wide.shape[1], "empty_months": empty_months.to_numpy()})
    gaps = gaps[gaps.empty_months > 0].sort_values("empty_months", ascending=False).reset_index(drop=True)
    fresh = board.q("source_freshness", identity=identity)
    fresh["kind_zh"] = fresh.kind.map(lambda k: vocabulary.word("ledger", k))
    newest = pd.to_datetime(fresh.last_record).max()
    lag = (newest - pd.to_datetime(fresh.last_record)).dt.days
    fresh["lag_days"] = lag
    fresh["stale"] = (fresh.records == 0) | ((lag > STALE_DAYS) & fresh.last_record.notna())
    return Quality(runs=runs, runs_detailed=county, reasons=reasons,
                   may_see_rejected=county and user.can_see_records, notes_by_unit=notes_by_unit,
                   coverage=wide, gaps=gaps, freshness=fresh)


def rejected_rows(board: Board, user: User, audit: Callable[[str, str | None, dict], None],
                  identity: str | None = None, limit: int = 500) -> pd.DataFrame:
    """The raw rejected rows (pseudonymised), for county-wide analysts and admins."""
    rows = _ledger_rows(board, user, audit, "rejected_rows", "rejected_rows", "拒收行明细", identity, limit)
    rows["raw"] = rows.raw.map(raw_text)
    return rows.rename(columns=REJECTED_ZH)


def quality_notes(board: Board, user: User, audit: Callable[[str, str | None, dict], None],
                  identity: str | None = None, limit: int = 500) -> pd.DataFrame:
    """The notes on fields stored as unknown (values masked like all ledger text), for county-wide analysts and
    admins."""
    notes = _ledger_rows(board, user, audit, "quality_notes", "data_quality_notes", "字段说明明细", identity, limit)
    return notes.rename(columns=NOTES_ZH)


def _ledger_rows(board: Board, user: User, audit: Callable[[str, str | None, dict], None], query: str,
                 target: str, what_zh: str, identity: str | None, limit: int) -> pd.DataFrame:
    """Rows that quote ledgers, for county-wide analysts and admins only; audited as they are handed out, so
    merely opening the page leaves no record view in the audit trail. File names only, never machine paths."""
    if not (user.scope.all_teams and user.can_see_records):
        raise AccessDenied(f"{what_zh}仅对全县范围的分析人员开放")
    rows = _words(board.q(query, user.scope, identity=identity, limit=limit))
    audit("view_records", target, {"what": target, "rows": int(len(rows))})
    rows["source_file"] = rows.source_file.map(lambda p: PurePath(str(p)).name)
    rows["source_sheet"] = rows.source_sheet.fillna(vocabulary.DASH)
    return rows


NOTES_ZH = {"kind": "台账类别", "source_file": "文件", "source_sheet": "工作表", "source_row": "行号",
            "record_key": "记录编号", "unit_name": "单位", "column_name": "字段", "note": "说明"}
NOTES_BY_UNIT_ZH = {"unit_name": "单位", "kind": "台账类别", "column_name": "字段", "records": "记录数"}
REJECTED_ZH = {"run_id": "批次", "kind": "台账类别", "source_file": "文件", "source_sheet": "工作表",
               "source_row": "行号", "column_name": "字段", "reason": "原因", "raw": "原始内容（已脱敏）"}
FRESHNESS_ZH = {"kind_zh": "台账", "records": "记录数", "last_record": "最新记录日期", "last_loaded": "最近导入时间",
                "lag_days": "落后天数", "stale": "偏旧"}
RUNS_ZH = {"run_id": "批次", "path": "文件", "kind": "台账类别", "sheet": "工作表", "rows_read": "读取",
           "rows_loaded": "新增", "rows_updated": "更新", "rows_unchanged": "未变", "rows_rejected": "拒收",
           "finished_at": "导入时间", "status": "状态", "message": "信息"}
SUMMARY_ZH = {"kind": "台账类别", "files": "导入批次", "records": "现有记录", "last_run": "最近导入"}
REASONS_ZH = {"kind": "台账类别", "column_name": "字段", "reason": "原因", "rows": "行数"}


def raw_text(raw) -> str:
    """A rejected row's cells (stored as JSON) as 表头：值；表头：值, empty cells left out."""
    try:
        cells = json.loads(raw) if isinstance(raw, str) else (raw or {})
    except ValueError:
        return str(raw)
    def cell(v) -> str:  # an Excel date cell read as text carries a midnight the ledger never showed
        return str(v).removesuffix(" 00:00:00")

    if isinstance(cells, dict):
        return "；".join(f"{k}：{cell(v)}" for k, v in cells.items() if v not in (None, "")) or vocabulary.DASH
    if isinstance(cells, list):
        return "；".join(cell(v) for v in cells if v not in (None, "")) or vocabulary.DASH
    return cell(cells)


def freshness_table(fresh: pd.DataFrame) -> pd.DataFrame:
    out = fresh.assign(last_record=_day(fresh.last_record), last_loaded=_minute(fresh.last_loaded),
                       lag_days=fresh.lag_days.map(lambda d: vocabulary.DASH if pd.isna(d) else str(int(d))))
    return out[list(FRESHNESS_ZH)].rename(columns=FRESHNESS_ZH)


def runs_table(q: Quality) -> pd.DataFrame:
    if q.runs_detailed:
        r = q.runs.assign(path=q.runs.path.map(lambda p: PurePath(str(p)).name), sheet=q.runs.sheet.fillna(vocabulary.DASH),
                          finished_at=_minute(q.runs.finished_at), message=q.runs.message.fillna(""))
        return r[[c for c in RUNS_ZH if c in r.columns]].rename(columns=RUNS_ZH)
    r = q.runs.assign(last_run=_minute(q.runs.last_run))
    return r[[c for c in SUMMARY_ZH if c in r.columns]].rename(columns=SUMMARY_ZH)


def reasons_table(q: Quality) -> pd.DataFrame:
    return q.reasons.assign(column_name=q.reasons.column_name.fillna(vocabulary.DASH)).rename(columns=REASONS_ZH)


def coverage_table(wide: pd.DataFrame) -> pd.DataFrame:
    """Units × months of record counts with the months in words (2024年3月) and the unit as a column."""
    from pipelines.board.periods import period_zh

    out = wide.rename(columns=period_zh).reset_index()
    return out.rename(columns={"unit_name": "单位"})


def _day(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, errors="coerce").dt.strftime("%Y-%m-%d").fillna(vocabulary.DASH)


def _minute(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, errors="coerce").dt.strftime("%Y-%m-%d %H:%M").fillna(vocabulary.DASH)


def _words(frame: pd.DataFrame) -> pd.DataFrame:
    """Ledger kinds and run statuses in words."""
    if "kind" in frame:
        frame["kind"] = frame.kind.map(lambda k: vocabulary.word("ledger", k, default=k))
    if "status" in frame:
        frame["status"] = frame.status.map(lambda s: vocabulary.word("ingest_status", s))
    return frame


def empty_scope_reason(board: Board, user: User, identity: str | None = None) -> str | None:
    """Why a team-scoped user sees no unit at all, in words they can act on; None when they see some."""
    if user.scope.all_teams or len(board.q("visible_units", user.scope, identity=identity)):
        return None
    teams = board.q("roster_teams", identity=identity)
    mine = "、".join(user.teams or ())
    if not len(teams):
        return "单位名册为空：请先导入单位名册（zhengtai ingest），再运行 zhengtai build。"
    roster = "、".join(f"{t}（{n}个单位）" for t, n in zip(teams.team, teams.units))
    return (f"您的账号范围（{mine}）在单位名册中没有任何单位，所以各页面为空。名册中的派驻组为：{roster}。"
            "请管理员用 zhengtai users add --replace 改正账号的派驻组，或核对名册中的派驻组名称。")
