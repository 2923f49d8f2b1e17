"""Every figure of a report, gathered once from a built warehouse into plain data (no wording here).

Scores, trend, risers, warnings, portraits, sensitivity and coherence come through the dashboard's data
layer (pipelines.board), so the report and the dashboard show the same numbers; the report's own queries
add the period's indicator values and contributions of all units at once, evidence and ledger counts.
Per-unit work is a handful of queries per 红/橙 unit; everything else is one query per table.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipelines.board import overview
from pipelines.reports.source import Source

GRADES = overview.GRADES
FOCUS_GRADES = ("红", "橙")
# Indicators each thematic section reads (catalogue ids; a missing one is simply left out).
SPECIAL_INDICATORS = ("rural_revitalisation_reports", "safety_food_reports", "mass_interest_reports",
                      "political_discipline_reports")
STYLE_INDICATORS = ("fourwinds_case_rate", "hidden_variant_count", "fourwinds_petition_share", "formalism_density")
RECTIFICATION = {  # indicator → how the county figure is formed from the units' numerators/denominators
    "inspection_rectification_rate": "ratio",
    "overdue_rectification": "sum",
    "recurring_findings": "sum",
    "audit_rectification_rate": "ratio",
    "audit_clue_transfers": "sum",
}
CLEARANCE = {"clearances": "sum", "followup_rate": "ratio"}
RECTIFICATION_DIMENSION = "rectification"  # the catalogue's dimension of 巡察/审计 rectification
SPECIAL_AREA_ORDER = ("乡村振兴", "安全生产", "食品药品安全", "群众身边腐败", "重大决策落实")


@dataclass
class FocusUnit:
    """A 红 or 橙 unit: where it stands, why, and how much evidence stands behind its warnings."""

    unit_name: str
    sector: str
    grade: str
    score: float
    rank: int
    rank_p05: float | None
    rank_p95: float | None
    change_prev: float | None
    change_yoy: float | None
    rising: bool
    summary: str
    drivers: list[dict]
    warnings: pd.DataFrame  # grade, indicator_zh, message, status, evidence (records per warning)
    evidence: dict[str, int]  # ledger table → distinct records behind the unit's warnings
    activity: dict[str, int]  # ledger kind → the unit's records dated in the period

    @property
    def evidence_total(self) -> int:
        return int(sum(self.evidence.values()))


@dataclass
class Dimension:
    dimension: str
    name_zh: str
    weight: float
    mean: float
    mean_prev: float | None
    top_units: pd.DataFrame  # unit_name, score, grade (dimension level), riskiest first
    drivers: pd.DataFrame  # indicator_id, name_zh, excess (contribution above the county mean), flagged


@dataclass
class Facts:
    build: dict
    generated_at: dt.datetime
    grain: str
    period: str
    prev: str | None
    yoy: str | None
    team: str | None
    units: int
    index: pd.DataFrame  # index level of the visible units, riskiest first (period_scores columns + drivers)
    headline: dict
    grade_counts: pd.DataFrame  # grade × (本期, 上期, 上年同期)
    trend: pd.DataFrame  # per period of the grain: mean_score, red, orange, yellow, green, units
    dimensions: list[Dimension]
    grid: pd.DataFrame  # heatmap rows (overview.grid)
    warnings: pd.DataFrame  # the period's warnings of the visible units
    focus: list[FocusUnit]
    risers: pd.DataFrame
    fallers: pd.DataFrame
    grade_moves: pd.DataFrame  # unit_name, grade_prev, grade: units whose grade worsened
    special_areas: pd.DataFrame  # per area: petitions, substantiated, unfounded, open, credible, units
    special_total: dict  # the same over all areas (units counted once)
    special_values: pd.DataFrame  # per special indicator: units with records, records, units warned
    fourwinds: pd.DataFrame
    style_values: pd.DataFrame
    rectification: dict[str, dict]
    clearance: dict[str, dict]
    flagged_units: dict[str, list[str]]  # indicator → units warned in the period
    sensitivity: pd.DataFrame  # factor, first_order, total (shares of rank variance)
    leave_one_out: pd.DataFrame  # indicator_id, name_zh, mean_abs_rank_shift, max_abs_rank_shift
    alpha: pd.DataFrame  # dimension, name_zh, cronbach_alpha
    catalogue: pd.DataFrame
    settings: dict
    ledger: pd.DataFrame  # records dated in the period per ledger
    rejected: int
    learned: dict = field(default_factory=dict)  # typologies, anomalies, validation (pipelines/ml), see _learned
    problems: list[dict] = None  # 问题与建议: the findings the closing section states, see problems()

    def __post_init__(self) -> None:
        if self.problems is None:
            self.problems = problems(self)


def gather(src: Source, now: dt.datetime | None = None) -> Facts:
    now = now or dt.datetime.now().replace(microsecond=0)
    frame = overview.period_scores(src.board, src.scope, src.grain, src.period, identity=src.identity)
    prev = _scores(src, src.prev)
    yoy = _scores(src, src.yoy)
    idx = frame[frame.level == overview.INDEX_LEVEL].sort_values(["rank", "unit_name"], na_position="last")
    idx = idx.reset_index(drop=True)
    dims = src.q("dimensions", scoped=False)
    scored_dims = dims[~dims.context_only.astype(bool)].reset_index(drop=True)
    # The board's named queries directly: pipelines.board.method wraps the same ones but imports the index
    # engine (scipy), seconds of start-up a report does not need.
    catalogue = src.q("catalogue", scoped=False)
    sensitivity = src.q("sensitivity", scoped=False, grain=src.grain, period=src.period)
    warnings = src.q("period_warnings", grain=src.grain, period=src.period)
    values = src.rq("period_values")
    contributions = src.rq("period_contributions")
    flagged = {i: sorted(g.unit_name.unique()) for i, g in warnings.groupby("indicator_id")}
    areas = src.rq("special_areas")

    portraits = src.rq("period_portraits")
    idx["drivers"] = _portrait_drivers(portraits, idx.unit_name)
    return Facts(
        build=src.build,
        generated_at=now,
        grain=src.grain,
        period=src.period,
        prev=src.prev,
        yoy=src.yoy,
        team=src.team,
        units=int(len(idx)),
        index=idx,
        headline=overview.headline(frame),
        grade_counts=_grade_counts(idx, prev, yoy),
        trend=overview.trend(src.board, src.scope, src.grain, identity=src.identity),
        dimensions=_dimensions(scored_dims, frame, prev, contributions, warnings),
        grid=overview.grid(frame, scored_dims, top_n=None),
        warnings=warnings,
        focus=_focus(src, idx, warnings, portraits),
        risers=overview.risers(frame, n=10),
        fallers=_fallers(idx),
        grade_moves=_grade_moves(idx, prev),
        special_areas=_ordered_areas(areas[areas.area.notna()]),
        special_total=_total_row(areas),
        special_values=_indicator_table(values, SPECIAL_INDICATORS, flagged),
        fourwinds=src.rq("fourwinds"),
        style_values=_indicator_table(values, STYLE_INDICATORS, flagged),
        rectification=_county_figures(values, RECTIFICATION, flagged),
        clearance=_county_figures(values, CLEARANCE, flagged),
        flagged_units=flagged,
        sensitivity=_sensitivity(sensitivity),
        leave_one_out=_leave_one_out(sensitivity, catalogue),
        alpha=_alpha(src.q("coherence", scoped=False, grain=src.grain, period=src.period), scored_dims),
        catalogue=catalogue,
        settings=src.build.get("settings") or {},
        ledger=src.rq("ledger_records"),
        rejected=int(src.rq("rejected_by_kind")["rows"].sum()),
        learned=_learned(src),
    )


def _learned(src: Source) -> dict:
    """The learned signals of the period (types, 异常模式 of the visible units) and the validation of the
    indicators at the report's grain (quarter for rolling periods). Empty for snapshots built before them."""
    import duckdb

    try:
        types = src.q("period_typologies", grain=src.grain, period=src.period)
        model = src.q("typology_model", scoped=False, grain=src.grain)
        anomalies = src.q("period_anomalies", grain=src.grain, period=src.period)
        validation = src.q("indicator_validation", scoped=False)
    except duckdb.CatalogException:
        return {}
    grain = src.grain if src.grain in set(validation.grain) else "quarter"
    return {"types": types, "typology": model.iloc[0].to_dict() if len(model) else None, "anomalies": anomalies,
            "validation": validation[validation.grain == grain].reset_index(drop=True), "validation_grain": grain}


def _scores(src: Source, period: str | None) -> pd.DataFrame:
    if period is None:
        return pd.DataFrame(columns=["unit_name", "level", "score", "grade", "rank"])
    return overview.period_scores(src.board, src.scope, src.grain, period, identity=src.identity)


def _portrait_drivers(portraits: pd.DataFrame, units: pd.Series, n: int = 3) -> list[list[str]]:
    """The first n drivers of each unit's portrait (the build orders them by contribution above the
    county average), as `zhengtai scores` shows them."""
    names = {u: [x["name_zh"] for x in (json.loads(d) or [])[:n]] for u, d in zip(portraits.unit_name, portraits.drivers)
             if isinstance(d, str)}
    return [names.get(u, []) for u in units]


def _grade_counts(idx: pd.DataFrame, prev: pd.DataFrame, yoy: pd.DataFrame) -> pd.DataFrame:
    def counts(f: pd.DataFrame) -> pd.Series | None:
        f = f[f.level == overview.INDEX_LEVEL] if "level" in f and len(f) else f
        if f.empty:
            return None
        return f.grade.value_counts().reindex(list(GRADES), fill_value=0).astype(int)

    out = pd.DataFrame({"grade": list(GRADES)})
    for col, f in (("now", idx), ("prev", prev), ("yoy", yoy)):
        c = counts(f)
        out[col] = c.to_numpy() if c is not None else pd.array([pd.NA] * len(GRADES), dtype="Int64")
    return out


def _dimensions(dims: pd.DataFrame, frame: pd.DataFrame, prev: pd.DataFrame, contributions: pd.DataFrame,
                warnings: pd.DataFrame) -> list[Dimension]:
    out = []
    warned = warnings.groupby("indicator_id").unit_name.nunique() if len(warnings) else pd.Series(dtype=int)
    for d in dims.itertuples():
        f = frame[frame.level == d.dimension]
        p = prev[prev.level == d.dimension] if len(prev) else prev
        top = f[f.score > 0].sort_values(["score", "unit_name"], ascending=[False, True]).head(3)
        drivers = _dimension_drivers(contributions[contributions.dimension == d.dimension], warned)
        out.append(Dimension(
            dimension=d.dimension, name_zh=d.dimension_zh, weight=float(d.weight),
            mean=float(f.score.mean()) if len(f) else float("nan"),
            mean_prev=float(p.score.mean()) if len(p) else None,
            top_units=top[["unit_name", "score", "grade"]].reset_index(drop=True),
            drivers=drivers.reset_index(drop=True),
        ))
    return out


def _dimension_drivers(c: pd.DataFrame, warned: pd.Series, n: int = 3) -> pd.DataFrame:
    """The indicators that set units apart within a dimension: each unit's contribution above the
    indicator's county mean, summed over units. Plain sums would crown an indicator every unit gets the
    same imputed value for; the excess only counts what lifts some units above the others."""
    cols = ["indicator_id", "name_zh", "excess", "flagged"]
    if c.empty:
        return pd.DataFrame(columns=cols)
    c = c.assign(excess=c.contribution - c.groupby("indicator_id").contribution.transform("mean"))
    out = (c[c.excess > 0].groupby(["indicator_id", "name_zh"], as_index=False).excess.sum()
           .sort_values("excess", ascending=False))
    out = out[out.excess > 1e-9].head(n).copy()
    out["flagged"] = out.indicator_id.map(warned).fillna(0).astype(int)
    return out[cols].reset_index(drop=True)


def _focus(src: Source, idx: pd.DataFrame, warnings: pd.DataFrame, portraits: pd.DataFrame) -> list[FocusUnit]:
    focus = idx[idx.grade.isin(FOCUS_GRADES)]
    if focus.empty:
        return []
    evidence = src.rq("evidence_counts")
    portraits = portraits.set_index("unit_name")
    out = []
    for r in focus.itertuples():  # the 红/橙 units only: one activity query each
        summary, drivers = "", []
        if r.unit_name in portraits.index:
            summary = portraits.summary[r.unit_name]
            drivers = json.loads(portraits.drivers[r.unit_name]) or []
        w = warnings[warnings.unit_name == r.unit_name][["grade", "indicator_zh", "dimension_zh", "message",
                                                          "status", "evidence"]].reset_index(drop=True)
        ev = evidence[evidence.unit_name == r.unit_name]
        act = src.q("unit_activity_monthly", unit=r.unit_name)  # scoped in its SQL, like every unit query
        if len(act):
            month = pd.to_datetime(act.month)
            act = act[(month >= pd.Timestamp(src.start)) & (month < pd.Timestamp(src.end))]
        out.append(FocusUnit(
            unit_name=r.unit_name, sector=r.sector, grade=r.grade, score=float(r.score), rank=int(r.rank),
            rank_p05=_num(r.rank_p05), rank_p95=_num(r.rank_p95), change_prev=_num(r.change_prev),
            change_yoy=_num(r.change_yoy), rising=bool(r.rising), summary=summary, drivers=drivers, warnings=w,
            evidence=dict(zip(ev.source_table, ev.records.astype(int))),
            activity=act.groupby("kind").records.sum().astype(int).to_dict() if len(act) else {},
        ))
    return out


def _num(v) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


def _fallers(idx: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    f = idx[idx.change_prev.notna() & (idx.change_prev < 0)]
    return f.nsmallest(n, "change_prev")[["unit_name", "score", "change_prev", "grade"]].reset_index(drop=True)


def _grade_moves(idx: pd.DataFrame, prev: pd.DataFrame) -> pd.DataFrame:
    """Units whose grade is worse than in the previous period, worst grade first."""
    cols = ["unit_name", "grade_prev", "grade", "score", "change_prev"]
    if prev.empty:
        return pd.DataFrame(columns=cols)
    order = {g: i for i, g in enumerate(GRADES)}  # 0 = 红 (worst)
    p = prev[prev.level == overview.INDEX_LEVEL].set_index("unit_name").grade
    m = idx.assign(grade_prev=idx.unit_name.map(p))
    m["_o"] = m.grade.map(order)
    worse = m._o < m.grade_prev.map(order)
    return m[worse].sort_values(["_o", "score"], ascending=[True, False])[cols].reset_index(drop=True)


def _ordered_areas(areas: pd.DataFrame) -> pd.DataFrame:
    rank = {a: i for i, a in enumerate(SPECIAL_AREA_ORDER)}
    out = areas.assign(_o=areas.area.map(lambda a: rank.get(a, len(rank)))).sort_values(
        ["_o", "petitions"], ascending=[True, False]).drop(columns="_o").reset_index(drop=True)
    # What the special indicators count: every report not found unfounded (credible_reports in the catalogue).
    out["credible"] = out.petitions - out.unfounded
    for col in ("petitions", "substantiated", "unfounded", "open", "credible", "units"):
        out[col] = out[col].astype(int)
    return out


def _total_row(areas: pd.DataFrame) -> dict:
    total = areas[areas.area.isna()]
    if total.empty or not int(total.petitions.iloc[0]):
        return {"petitions": 0, "substantiated": 0, "unfounded": 0, "open": 0, "units": 0, "credible": 0}
    out = {k: int(total[k].iloc[0]) for k in ("petitions", "substantiated", "unfounded", "open", "units")}
    out["credible"] = out["petitions"] - out["unfounded"]
    return out


def _indicator_table(values: pd.DataFrame, ids, flagged: dict[str, list[str]]) -> pd.DataFrame:
    """Per indicator: units with any record, records in all (numerators), units warned, the units warned."""
    rows = []
    for ind in ids:
        v = values[values.indicator_id == ind]
        if v.empty:
            continue
        num = v.numerator.fillna(0)
        rows.append({"indicator_id": ind, "name_zh": v.name_zh.iloc[0], "unit": v.unit.iloc[0],
                     "units_with": int((num > 0).sum()), "records": int(round(float(num.sum()))),
                     "warned": len(flagged.get(ind, [])), "warned_units": flagged.get(ind, [])})
    return pd.DataFrame(rows, columns=["indicator_id", "name_zh", "unit", "units_with", "records", "warned",
                                       "warned_units"])


def _county_figures(values: pd.DataFrame, spec: dict[str, str], flagged: dict[str, list[str]]) -> dict[str, dict]:
    """County figure of each indicator from the units' numerators and denominators: a sum, or the pooled
    ratio Σnumerator / Σdenominator (not the mean of unit ratios, which would weigh a 2-finding unit like a
    40-finding one)."""
    out = {}
    for ind, how in spec.items():
        v = values[values.indicator_id == ind]
        if v.empty:
            continue
        num, den = float(v.numerator.fillna(0).sum()), float(v.denominator.fillna(0).sum())
        out[ind] = {
            "name_zh": v.name_zh.iloc[0], "how": how, "numerator": num, "denominator": den,
            "value": (num / den if den else None) if how == "ratio" else num,
            "units_with": int((v.numerator.fillna(0) > 0).sum()),
            "warned_units": flagged.get(ind, []),
        }
    return out


def _sensitivity(sens: pd.DataFrame) -> pd.DataFrame:
    main = sens[~sens.factor.str.startswith("leave-one-out:")].copy()
    if main.empty:
        return pd.DataFrame(columns=["factor", "first_order", "total"])
    detail = main.detail.map(lambda d: json.loads(d) if isinstance(d, str) else {})
    main["first_order"] = main.variance_share.astype(float)
    main["total"] = detail.map(lambda d: d.get("total", np.nan)).astype(float)
    return main[["factor", "first_order", "total"]].reset_index(drop=True)


def _leave_one_out(sens: pd.DataFrame, catalogue: pd.DataFrame, n: int = 3) -> pd.DataFrame:
    loo = sens[sens.factor.str.startswith("leave-one-out:")].copy()
    cols = ["indicator_id", "name_zh", "mean_abs_rank_shift", "max_abs_rank_shift"]
    if loo.empty:
        return pd.DataFrame(columns=cols)
    detail = loo.detail.map(json.loads)
    loo["indicator_id"] = loo.factor.str.removeprefix("leave-one-out:")
    loo["mean_abs_rank_shift"] = detail.map(lambda d: d.get("mean_abs_rank_shift")).astype(float)
    loo["max_abs_rank_shift"] = detail.map(lambda d: d.get("max_abs_rank_shift")).astype(float)
    loo["name_zh"] = loo.indicator_id.map(dict(zip(catalogue.indicator_id, catalogue.name_zh)))
    return loo.nlargest(n, "mean_abs_rank_shift")[cols].reset_index(drop=True)


def _alpha(coh: pd.DataFrame, dims: pd.DataFrame) -> pd.DataFrame:
    a = coh[coh.statistic == "cronbach_alpha"][["dimension", "value"]].rename(columns={"value": "cronbach_alpha"})
    names = dict(zip(dims.dimension, dims.dimension_zh))
    a = a[a.dimension.isin(names)].copy()
    a["name_zh"] = a.dimension.map(names)
    order = {d: i for i, d in enumerate(dims.dimension)}
    return a.sort_values("dimension", key=lambda s: s.map(order))[["dimension", "name_zh", "cronbach_alpha"]] \
        .reset_index(drop=True)


def problems(f: Facts, top_dimensions: int = 3) -> list[dict]:
    """What the closing 问题与建议 section states, each item with the numbers it quotes (no wording):

    grades         the 红 units and the 橙 count, with the change of 红+橙 on the previous period
    dimension      per dimension with warnings (the `top_dimensions` with most units warned): warnings, units,
                   and its indicators by units warned
    rising         units flagged 风险上升 and units whose grade worsened
    rectification  overdue and recurring findings, when there are any (inside the rectification dimension's
                   item when that one is listed)
    """
    out: list[dict] = []
    idx = f.index
    red = list(idx[idx.grade == "红"].unit_name)
    orange = int((idx.grade == "橙").sum())
    if red or orange:
        gc = f.grade_counts.set_index("grade")
        change = None
        if gc.prev.notna().all():
            change = int(gc.loc[["红", "橙"], "now"].sum() - gc.loc[["红", "橙"], "prev"].sum())
        out.append({"kind": "grades", "red_units": red, "orange": orange, "change": change})
    w = f.warnings
    if len(w):
        by_dim = (w.groupby(["dimension_zh"]).agg(warnings=("warning_id", "size"), units=("unit_name", "nunique"))
                  .sort_values(["units", "warnings"], ascending=False).head(top_dimensions))
        ids = dict(zip(f.catalogue.dimension_zh, f.catalogue.dimension))
        for dim, row in by_dim.iterrows():
            part = w[w.dimension_zh == dim]
            inds = (part.groupby("indicator_zh").unit_name.nunique().sort_values(ascending=False, kind="stable")
                    .head(3))
            out.append({"kind": "dimension", "dimension": ids.get(dim, ""), "dimension_zh": dim,
                        "warnings": int(row.warnings), "units": int(row.units),
                        "indicators": [(name, int(n)) for name, n in inds.items()]})
    rising = list(idx[idx.rising.astype(bool)].unit_name)
    if rising or len(f.grade_moves):
        out.append({"kind": "rising", "rising_units": rising, "moves": int(len(f.grade_moves))})
    over = f.rectification.get("overdue_rectification", {})
    recur = f.rectification.get("recurring_findings", {})
    overdue, recurring = int(round(over.get("value") or 0)), int(round(recur.get("value") or 0))
    if overdue or recurring:
        item = {"overdue": overdue, "overdue_units": int(over.get("units_with", 0)), "recurring": recurring}
        listed = next((p for p in out if p["kind"] == "dimension" and p["dimension"] == RECTIFICATION_DIMENSION), None)
        if listed is not None:  # the rectification dimension is already a finding: its numbers go with it
            listed["rectification"] = item
        else:
            out.append({"kind": "rectification", **item})
    return out
