"""总览: the filter options, the units × dimensions grid, headline figures, trend, risers, warning counts.

The expensive part is one scoped query per (snapshot, scope, grain, period) — `period_scores`, cached by
the dashboard — after which sector / kind filters, sorting and the top-N cut are pandas operations on a
frame of at most units × (dimensions + 1) rows, well inside the 300 ms budget for a filter change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines import vocabulary
from pipelines.access.store import Scope
from pipelines.analysis import grading
from pipelines.board.periods import sort_grains
from pipelines.board.snapshot import Board

GRADES = ("红", "橙", "黄", "绿")
GRADE_COLOURS = {"红": "#d62728", "橙": "#ff7f0e", "黄": "#f5c518", "绿": "#2ca02c", None: "#c8c8c8"}
INDEX_LEVEL = "index"
INDEX_ZH = "综合指数"


@dataclass(frozen=True)
class Options:
    grains: list[str]
    periods: dict[str, list[str]]  # grain → periods, oldest first
    sectors: list[str]
    kinds: list[str]
    dimensions: pd.DataFrame  # dimension, dimension_zh, weight, indicators
    units: pd.DataFrame  # the visible units: unit_name, kind, sector, team, headcount


def options(board: Board, scope: Scope, identity: str | None = None) -> Options:
    periods = board.q("periods", identity=identity)
    by_grain = {g: list(df.period) for g, df in periods.groupby("grain", sort=False)}
    units = board.q("visible_units", scope, identity=identity)
    return Options(
        grains=sort_grains(by_grain),
        periods=by_grain,
        sectors=sorted(units.sector.unique()),
        kinds=sorted(units.kind.unique()),
        dimensions=board.q("dimensions", identity=identity),
        units=units,
    )


def period_scores(board: Board, scope: Scope, grain: str, period: str, identity: str | None = None) -> pd.DataFrame:
    """Every score row (index and dimensions) of the visible units in one period, with `grade_shown`: the grade
    as every reader shows it (grading.shown: 无数据, 不评级, （待定）), the same words as the CLI and the report."""
    frame = board.q("period_scores", scope, identity=identity, grain=grain, period=period)
    frame["grade_shown"] = [grading.shown(g, b, bool(p)) for g, b, p in
                            zip(frame.grade, frame.grade_basis, frame.provisional.fillna(False))]
    return frame


def filter_units(frame: pd.DataFrame, sectors=(), kinds=()) -> pd.DataFrame:
    mask = np.ones(len(frame), dtype=bool)
    if sectors:
        mask &= frame.sector.isin(list(sectors)).to_numpy()
    if kinds:
        mask &= frame.kind.isin(list(kinds)).to_numpy()
    return frame[mask]


def grid(
    frame: pd.DataFrame,
    dimensions: pd.DataFrame,
    *,
    sectors=(),
    kinds=(),
    sort_by: str = INDEX_LEVEL,
    top_n: int | None = 60,
) -> pd.DataFrame:
    """Long table for the heatmap: one row per (unit, column), columns = 综合指数 then each dimension.

    Rows are ordered by `sort_by` (index or a dimension id), riskiest first, cut to `top_n` units;
    `row` is the unit's position (0 = top) and `col` the column position.
    """
    f = filter_units(frame, sectors, kinds)
    if f.empty:
        return pd.DataFrame(columns=["unit_name", "level", "label", "score", "grade", "grade_shown", "rank", "row", "col"])
    labels = {INDEX_LEVEL: INDEX_ZH, **dict(zip(dimensions.dimension, dimensions.dimension_zh))}
    order_cols = [INDEX_LEVEL] + [d for d in dimensions.dimension if d != INDEX_LEVEL]
    f = f[f.level.isin(order_cols)]
    key = f[f.level == sort_by].set_index("unit_name").score
    if key.empty:
        key = f[f.level == INDEX_LEVEL].set_index("unit_name").score
    ranked = key.sort_values(ascending=False, na_position="last", kind="stable")
    if top_n:
        ranked = ranked.iloc[:top_n]
    row_of = pd.Series(np.arange(len(ranked)), index=ranked.index)
    out = f[f.unit_name.isin(ranked.index)].copy()
    out["row"] = out.unit_name.map(row_of)
    out["col"] = out.level.map({c: i for i, c in enumerate(order_cols)})
    out["label"] = out.level.map(labels)
    return out.sort_values(["row", "col"])[
        ["unit_name", "level", "label", "score", "grade", "grade_shown", "rank", "rank_p05", "rank_p95", "row", "col",
         "sector", "kind", "team"]
    ].reset_index(drop=True)


def headline(frame: pd.DataFrame, *, sectors=(), kinds=()) -> dict:
    """Headline figures over the filtered units' index scores."""
    idx = filter_units(frame, sectors, kinds)
    idx = idx[idx.level == INDEX_LEVEL]
    counts = idx.grade.value_counts()
    return {
        "units": int(len(idx)),
        "mean_score": float(idx.score.mean()) if len(idx) else float("nan"),
        "grades": {g: int(counts.get(g, 0)) for g in GRADES},
        "rising": int(idx.rising.sum()),
        "mean_change": float(idx.change_prev.mean()) if idx.change_prev.notna().any() else float("nan"),
    }


def risers(frame: pd.DataFrame, *, sectors=(), kinds=(), n: int = 10) -> pd.DataFrame:
    """The units whose index score rose most on the previous period (环比)."""
    idx = filter_units(frame, sectors, kinds)
    idx = idx[(idx.level == INDEX_LEVEL) & idx.change_prev.notna() & (idx.change_prev > 0)]
    return idx.nlargest(n, "change_prev")[
        ["unit_name", "sector", "kind", "score", "change_prev", "change_yoy", "grade", "grade_shown", "rank", "rising"]
    ].reset_index(drop=True)


RISERS_ZH = {"unit_name": "单位", "sector": "领域", "kind": "类别", "score": "风险分", "change_prev": "环比变化",
             "change_yoy": "同比变化", "grade": "等级", "rank": "排名", "rising": "风险上升"}


def risers_table(rise: pd.DataFrame) -> pd.DataFrame:
    """The risers as read: changes cut to 0.1 (as everywhere), — where there is no comparison."""
    def signed(v) -> str:
        if pd.isna(v):
            return vocabulary.DASH
        t = vocabulary.cut_tenth(float(v))
        return "0.0" if t == 0 else f"{t:+.1f}"

    out = rise.assign(score=rise.score.map(lambda v: f"{v:.1f}"), change_prev=rise.change_prev.map(signed),
                      change_yoy=rise.change_yoy.map(signed), grade=rise.grade_shown,
                      rank=rise["rank"].map(lambda r: vocabulary.DASH if pd.isna(r) else str(int(r))),
                      rising=rise.rising.map(vocabulary.yes_no))
    return out[list(RISERS_ZH)].rename(columns=RISERS_ZH)


def trend(board: Board, scope: Scope, grain: str, *, sectors=(), kinds=(), identity: str | None = None) -> pd.DataFrame:
    return board.q("grain_trend", scope, identity=identity, grain=grain, sectors=list(sectors), kinds=list(kinds))


def warnings_by_grade(warnings: pd.DataFrame, *, sectors=(), kinds=()) -> pd.DataFrame:
    """Warning counts by grade and status (新增/持续) over the filtered units."""
    w = filter_units(warnings, sectors, kinds)
    table = (
        w.groupby(["grade", "status"]).size().unstack(fill_value=0)
        if len(w) else pd.DataFrame()
    )
    table = table.reindex(index=[g for g in GRADES if g != "绿"], fill_value=0)
    table.index.name = "grade"
    return table.reset_index()
