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
    warnings: pd.DataFrame
    activity: pd.DataFrame  # monthly counts per kind (aggregate: every role)
    themes: pd.DataFrame
    summary: str | None
    portrait_themes: list
    index_row: dict | None


def require_unit(board: Board, user: User, unit: str, identity: str | None = None) -> dict:
    """The unit's facts, or AccessDenied when it is not one of the user's teams' units (or unknown)."""
    facts = board.q("unit_facts", user.scope, identity=identity, unit=unit)
    if facts.empty:
        raise AccessDenied(f"单位“{unit}”不在您的查看范围内")
    return facts.iloc[0].to_dict()


def portrait(board: Board, user: User, unit: str, grain: str, period: str, identity: str | None = None) -> Portrait:
    facts = require_unit(board, user, unit, identity)
    kw = dict(identity=identity, unit=unit, grain=grain)
    scores = board.q("period_scores", user.scope, identity=identity, grain=grain, period=period)
    scores = scores[scores.unit_name == unit]
    peers = board.q("unit_peers", identity=identity, unit=unit, grain=grain, period=period)
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
        warnings=board.q("unit_warnings", period=period, **kw),
        activity=board.q("unit_activity_monthly", identity=identity, unit=unit),
        themes=board.q("unit_themes", identity=identity, unit=unit),
        summary=summary,
        portrait_themes=themes_json if isinstance(themes_json, list) else [themes_json],
        index_row=idx.iloc[0].to_dict() if len(idx) else None,
    )


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
    records = board.q("unit_records", identity=identity, unit=unit)
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
