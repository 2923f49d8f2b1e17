"""单位画像: everything about one unit in one period, checked against the user's scope and role.

A unit outside the user's teams raises AccessDenied before any of its data is read. Record-level data
(single petitions, findings, cases, inquiries; the evidence of a warning) is only for roles that may see
pseudonymised records, and every time it is handed out the `audit` callback is called first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from pipelines import vocabulary
from pipelines.access.store import AccessDenied, User
from pipelines.board import overview
from pipelines.board.method import recomputed_contributions
from pipelines.board.snapshot import Board

Audit = Callable[[str, str | None, dict], None]  # (action, target, detail)


@dataclass
class Portrait:
    unit: str
    facts: dict
    scores: pd.DataFrame  # this period, every level
    peers: pd.DataFrame  # level, unit_score, sector_mean, county_mean (dimensions only)
    indicators: pd.DataFrame
    contributions: pd.DataFrame
    trend: pd.DataFrame
    bands: pd.DataFrame  # per period: the unit's index, the county's and its sector's middle half and median
    warnings: pd.DataFrame  # the period's warnings of the unit, numbered as on the warnings list
    activity: pd.DataFrame  # monthly counts per kind (aggregate: every role)
    themes: pd.DataFrame
    summary: str | None
    portrait_themes: list
    index_row: dict | None

    @property
    def rank_periods(self) -> int:
        """Periods whose rank has a Monte Carlo interval (the build computes it for the latest ones)."""
        t = self.trend
        return int(t[(t.level == "index") & t.rank_p05.notna()].period.nunique())


def require_unit(board: Board, user: User, unit: str, identity: str | None = None) -> dict:
    """The unit's facts, or AccessDenied when it is not one of the user's teams' units (or unknown)."""
    facts = board.q("unit_facts", user.scope, identity=identity, unit=unit)
    if facts.empty:
        raise AccessDenied(f"单位“{unit}”不在您的查看范围内")
    return facts.iloc[0].to_dict()


def portrait(board: Board, user: User, unit: str, grain: str, period: str, identity: str | None = None) -> Portrait:
    facts = require_unit(board, user, unit, identity)
    kw = dict(scope=user.scope, identity=identity, unit=unit, grain=grain)
    scores = overview.period_scores(board, user.scope, grain, period, identity)
    scores = scores[scores.unit_name == unit]
    peers = board.q("unit_peers", user.scope, identity=identity, unit=unit, grain=grain, period=period)
    peers = peers[peers.level != "index"]
    indicators = board.q("unit_indicators", period=period, **kw)
    indicators["history"] = indicators.history.map(_clean_history)
    indicators["status"] = indicators.status.map(lambda c: vocabulary.word("value_status", c))
    pr = board.q("unit_portrait", period=period, **kw)
    summary, themes_json = None, []
    if len(pr):
        summary = pr.summary.iloc[0]
        try:
            themes_json = json.loads(pr.themes.iloc[0]) or []
        except (TypeError, ValueError):
            themes_json = []
    idx = scores[scores.level == "index"]
    contributions = board.q("unit_contributions", period=period, **kw)
    if contributions.empty and len(idx) and pd.notna(idx.score.iloc[0]):
        # grains whose contributions the build does not store (months) are re-aggregated on demand
        contributions = recomputed_contributions(board, grain, period, unit, identity)
    return Portrait(
        unit=unit,
        facts=facts,
        scores=scores,
        peers=peers,
        indicators=indicators,
        contributions=contributions,
        trend=board.q("unit_trend", **kw),
        bands=board.q("unit_trend_bands", **kw),
        warnings=_unit_warnings(board, user, unit, grain, period, identity),
        activity=board.q("unit_activity_monthly", user.scope, identity=identity, unit=unit),
        themes=board.q("unit_themes", user.scope, identity=identity, unit=unit),
        summary=summary,
        portrait_themes=themes_json if isinstance(themes_json, list) else [themes_json],
        index_row=idx.iloc[0].to_dict() if len(idx) else None,
    )


def _unit_warnings(board: Board, user: User, unit: str, grain: str, period: str, identity: str | None) -> pd.DataFrame:
    """The unit's warnings cut from the period's list, so a warning carries the same 预警编号 everywhere."""
    from pipelines.board.alerts import period_warnings  # alerts imports this module's Audit

    w = period_warnings(board, user, grain, period, identity)
    return w[w.unit_name == unit].reset_index(drop=True)


# The indicators table of the portrait: column → header (sparkline and checkbox columns configured by the page).
INDICATORS_ZH = {"name_zh": "指标", "dimension_zh": "维度", "value_text": "指标值", "threshold_text": "预警阈值",
                 "flagged": "超阈值", "percentile": "全县百分位", "sector_percentile": "同领域百分位",
                 "status": "数据状态", "sample": "样本量", "history": "历期走势"}
THEMES_ZH = {"theme_kind": "主题类别", "theme": "主题", "petitions": "件数", "first_seen": "首次", "last_seen": "最近",
             "repeats": "重复件"}
RECORDS_ZH = {"kind": "类别", "date": "日期", "record_key": "记录编号", "person": "人员（化名）", "detail": "要素",
              "summary": "摘要（已脱敏）"}


def indicators_table(ind: pd.DataFrame) -> pd.DataFrame:
    """The indicators as read: values with units (— where there is none), sample sizes as whole numbers."""
    out = ind.assign(
        value_text=[vocabulary.show_value(v, u) for v, u in zip(ind.value, ind.unit)] if "unit" in ind else ind.value,
        threshold_text=[vocabulary.show_value(v, u) for v, u in zip(ind.threshold, ind.unit)] if "unit" in ind
        else ind.threshold,
        sample=ind["sample"].map(lambda n: vocabulary.DASH if pd.isna(n) else str(int(n))),
    )
    return out[list(INDICATORS_ZH)].rename(columns=INDICATORS_ZH)


def themes_table(themes: pd.DataFrame) -> pd.DataFrame:
    return themes.assign(first_seen=_dates(themes.first_seen), last_seen=_dates(themes.last_seen)).rename(
        columns=THEMES_ZH)


def records_table(records: pd.DataFrame) -> pd.DataFrame:
    from pipelines.board.periods import periods_in_words

    return records.assign(date=_dates(records.date), person=records.person.fillna(vocabulary.DASH),
                          record_key=records.record_key.map(periods_in_words),
                          detail=records.detail.map(periods_in_words)).rename(columns=RECORDS_ZH)


def anomaly_drivers_table(drivers: pd.DataFrame, units: dict[str, str]) -> pd.DataFrame:
    """The indicators behind an anomaly: values with their units (16件/年, 40%), deviations to 0.1."""
    return pd.DataFrame({
        "使该单位异常的指标": drivers.name_zh,
        "指标值": [vocabulary.show_value(v, units.get(i)) for v, i in zip(drivers.value, drivers.indicator_id)],
        "偏离同期中位数（稳健标准差）": drivers.z.map(lambda z: vocabulary.DASH if pd.isna(z) else f"{z:+.1f}"),
    })


def theme_lines(themes: list) -> list[str]:
    """The portrait's recurring themes (the build's JSON) as lines: 廉洁纪律（问题类别，5件）."""
    out = []
    for t in themes:
        if isinstance(t, dict) and t.get("theme"):
            n = f"，{t['n']}件" if t.get("n") is not None else ""
            out.append(f"{t['theme']}（{t.get('kind') or '主题'}{n}）")
    return out


def _dates(values: pd.Series) -> pd.Series:
    """Dates as 2024-03-05 (never 00:00:00), — for none."""
    d = pd.to_datetime(values, errors="coerce")
    return d.dt.strftime("%Y-%m-%d").fillna(vocabulary.DASH)


def _clean_history(values) -> list[float]:
    """Sparkline series over the periods that have a value (a None would turn the cell into text)."""
    if values is None:
        return []
    arr = np.asarray(values, dtype=float)
    return [float(v) for v in arr[~np.isnan(arr)]]  # periods without a value are skipped, not drawn as 0


def unit_records(board: Board, user: User, unit: str, audit: Audit, identity: str | None = None) -> pd.DataFrame:
    """The unit's ledger records (pseudonymised): analysts and admins only; audited."""
    if not user.can_see_records:
        raise AccessDenied("当前角色无权查看记录级数据")
    require_unit(board, user, unit, identity)
    records = board.q("unit_records", user.scope, identity=identity, unit=unit)
    audit("view_records", unit, {"what": "unit_records", "rows": int(len(records))})
    return records


def evidence(board: Board, user: User, warning_ids: list[str], audit: Audit, identity: str | None = None) -> pd.DataFrame:
    """The pseudonymised records behind warnings, scoped to the user's units; analysts/admins; audited."""
    if not user.can_see_records:
        raise AccessDenied("当前角色无权查看记录级数据")
    rows = board.q("warning_evidence", user.scope, identity=identity, warning_ids=list(warning_ids))
    audit("view_records", ",".join(warning_ids[:20]) + ("…" if len(warning_ids) > 20 else ""),
          {"what": "warning_evidence", "warnings": len(warning_ids), "rows": int(len(rows))})
    return rows
