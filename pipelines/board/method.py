"""方法与权重: the catalogue, the what-if weight editor and the sensitivity results.

The what-if re-aggregates the build's normalised indicator values (0-100, 100 = riskiest, direction
already applied) with the index engine's own aggregation (pipelines.index), so a re-weighted score is
computed exactly as the build would with those weights; normalisation is not repeated. It runs over all
units, so ranks stay county ranks, and only the user's units are returned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.access.store import Scope
from pipelines.board.snapshot import Board
from pipelines.index import IndexSettings, build_framework
from pipelines.index.aggregation import contributions
from pipelines.index.engine import aggregate_all, rank_desc
from pipelines.index.grades import assign_grades
from pipelines.index.normalisation import scale_floor

TOP = "index"


def catalogue(board: Board, identity: str | None = None) -> pd.DataFrame:
    return board.q("catalogue", identity=identity)


def aggregation_method(settings: dict) -> str:
    idx = settings.get("index") if isinstance(settings.get("index"), dict) else settings
    raw = str(idx.get("aggregate") or idx.get("aggregation") or "arith").lower()
    return "geom" if raw.startswith("geo") else "arith"


def grade_cuts(board: Board, grain: str, identity: str | None = None) -> list[float]:
    """Ascending cut points (黄, 橙, 红) for re-graded what-if scores.

    Fixed grades: the build's own cut points. Quantile grades: the build cut the quantiles over the whole
    panel of the grain, so re-cutting one period's re-weighted scores would move the goal posts; instead
    the boundary scores the build actually used (lowest score given each grade) stay fixed, and a unit
    changes grade only when its re-weighted score crosses one of them.
    """
    grades = (board.build(identity)["settings"] or {}).get("grades") or {}
    if grades.get("method") == "fixed" and len(grades.get("fixed") or []) == 3:
        return sorted(float(c) for c in grades["fixed"])
    bounds = board.q("grade_bounds", identity=identity, grain=grain).set_index("grade")
    cuts = []
    for worse in (("黄", "橙", "红"), ("橙", "红"), ("红",)):
        lows = bounds.lowest.reindex(list(worse)).dropna()
        cuts.append(float(lows.min()) if len(lows) else float("inf"))
    # Less a hair: the boundary unit's re-computed score can differ from the published one by 1e-14.
    return list(np.maximum.accumulate(cuts) - 1e-9)


@dataclass
class WhatIf:
    table: pd.DataFrame  # the user's units: published, baseline and re-weighted score/rank/grade
    changed: pd.DataFrame  # rows of `table` whose grade changed
    baseline_gap: float  # max |baseline re-computation − published score|: how faithful the re-aggregation is
    weights: pd.DataFrame  # effective indicator weights used (share of the index)


def default_weights(cat: pd.DataFrame, dims: pd.DataFrame) -> tuple[dict[str, float], dict[str, float]]:
    """The build's weights: indicator weights within their dimension (0 = context, not scored) and
    dimension weights in the index."""
    return dict(zip(cat.indicator_id, cat.weight.astype(float))), dict(zip(dims.dimension, dims.weight.astype(float)))


def _scores(matrix: pd.DataFrame, cat: pd.DataFrame, ind_w: dict, dim_w: dict, aggregate: str):
    """Index scores of every unit in `matrix` (units × indicators) via the index engine, the effective
    indicator weights within their dimension and each indicator's contribution to the index."""
    keep = cat[cat.indicator_id.map(lambda i: ind_w.get(i, 0.0) > 0) & cat.dimension.map(lambda d: dim_w.get(d, 0.0) > 0)]
    if keep.empty:
        raise ValueError("至少需要一个权重大于0的指标")
    dims = list(dict.fromkeys(keep.dimension))
    meta = pd.concat([
        pd.DataFrame({"Level": 1, "iCode": keep.indicator_id, "Parent": keep.dimension, "Direction": 1,
                      "Weight": keep.indicator_id.map(ind_w).astype(float), "Type": "Indicator"}),
        pd.DataFrame({"Level": 2, "iCode": dims, "Parent": TOP, "Direction": 1,
                      "Weight": [float(dim_w[d]) for d in dims], "Type": "Aggregate"}),
        pd.DataFrame({"Level": [3], "iCode": [TOP], "Parent": [None], "Direction": [1], "Weight": [1.0],
                      "Type": ["Aggregate"]}),
    ], ignore_index=True)
    fw = build_framework(meta)
    settings = IndexSettings(weights="meta", aggregate=aggregate)
    norm = matrix.reindex(columns=list(fw.indicators)).to_numpy(dtype=float)
    floor = scale_floor(norm, settings)
    values, renorm, used = aggregate_all(norm, fw, settings, floor)
    top = values[-1][:, 0]
    eff = pd.Series(np.asarray(used[0], dtype=float), index=list(fw.levels[0].children))
    contrib = contributions(values, renorm, [lv.parent_of for lv in fw.levels], settings.aggregate, floor,
                            settings.geom_shift, settings.geom_zero)
    return top, eff, pd.DataFrame(contrib, index=matrix.index, columns=list(fw.indicators))


@dataclass
class _Period:
    """What re-aggregating one period needs: the catalogue, the build's weights and aggregation, and the
    normalised values of every unit (units × indicators; ranks stay county ranks)."""
    cat: pd.DataFrame
    ind_w: dict[str, float]
    dim_w: dict[str, float]
    aggregate: str
    matrix: pd.DataFrame


def _period(board: Board, grain: str, period: str, identity: str | None) -> _Period:
    cat = catalogue(board, identity)
    ind_w, dim_w = default_weights(cat, board.q("dimensions", identity=identity))
    long = board.q("whatif_matrix", Scope(None), identity=identity, grain=grain, period=period)
    matrix = long.pivot_table(index="unit_name", columns="indicator_id", values="normalised", aggfunc="first")
    return _Period(cat, ind_w, dim_w, aggregation_method(board.build(identity)["settings"] or {}), matrix)


def recomputed_contributions(board: Board, grain: str, period: str, unit: str,
                             identity: str | None = None) -> pd.DataFrame:
    """One unit's indicator contributions to its index score, re-aggregated from the period's normalised
    values when the build did not store them (index_settings `contributions.grains`: months are left out at
    province scale). Same columns as the stored ones; they add up to the published score."""
    p = _period(board, grain, period, identity)
    if unit not in p.matrix.index:
        return pd.DataFrame(columns=["indicator_id", "name_zh", "dimension", "dimension_zh", "contribution"])
    _, _, contrib = _scores(p.matrix, p.cat, p.ind_w, p.dim_w, p.aggregate)
    row = contrib.loc[unit].dropna()
    info = p.cat.set_index("indicator_id").reindex(row.index)
    out = pd.DataFrame({"indicator_id": row.index, "name_zh": info.name_zh.fillna(pd.Series(row.index, index=row.index)),
                        "dimension": info.dimension, "dimension_zh": info.dimension_zh, "contribution": row.to_numpy()})
    return out.sort_values("contribution", ascending=False, kind="stable").reset_index(drop=True)


def whatif(
    board: Board,
    scope: Scope,
    grain: str,
    period: str,
    indicator_weights: dict[str, float],
    dimension_weights: dict[str, float],
    identity: str | None = None,
) -> WhatIf:
    p = _period(board, grain, period, identity)
    matrix = p.matrix
    rule = {"thresholds": grade_cuts(board, grain, identity)}
    base, _, _ = _scores(matrix, p.cat, p.ind_w, p.dim_w, p.aggregate)
    new, used, _ = _scores(matrix, p.cat, indicator_weights, dimension_weights, p.aggregate)

    published = board.q("period_scores", Scope(None), identity=identity, grain=grain, period=period)
    published = published[published.level == "index"].set_index("unit_name")
    table = pd.DataFrame(
        {
            "unit_name": matrix.index,
            "base_score": base,
            "new_score": new,
            "base_rank": rank_desc(base[:, None])[:, 0],
            "new_rank": rank_desc(new[:, None])[:, 0],
            "base_grade": np.asarray(assign_grades(pd.Series(base), **rule), dtype=object),
            "new_grade": np.asarray(assign_grades(pd.Series(new), **rule), dtype=object),
        }
    )
    table["published_score"] = table.unit_name.map(published.score)
    table["published_grade"] = table.unit_name.map(published.grade)
    gap = float(np.nanmax(np.abs(table.base_score - table.published_score))) if table.published_score.notna().any() else float("nan")
    visible = set(board.q("visible_units", scope, identity=identity).unit_name)
    table = table[table.unit_name.isin(visible)].copy()
    table["rank_change"] = table.base_rank - table.new_rank  # positive = moved up (riskier)
    table["score_change"] = table.new_score - table.base_score
    table = table.sort_values("new_rank", kind="stable").reset_index(drop=True)
    changed = table[table.base_grade.astype(str) != table.new_grade.astype(str)].reset_index(drop=True)
    weights = pd.DataFrame({"indicator_id": used.index, "weight_within_dimension": used.to_numpy()})
    return WhatIf(table=table, changed=changed, baseline_gap=gap, weights=weights)
