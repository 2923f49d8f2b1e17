"""敏感性与一致性, as the 方法与权重 page shows them: in words, one table per question.

- Which method choices move the ranks (weights, normalisation, aggregation, leaving indicators out): their
  shares of the rank variance, each source named in words.
- Which single indicators move the ranks most when left out: mean and largest rank shift, by name.
- How coherent each dimension is (Cronbach's α, mean inter-item correlation, correlation with the index),
  and how each indicator correlates with its dimension.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from pipelines import vocabulary
from pipelines.board.snapshot import Board


@dataclass
class Sensitivity:
    sources: pd.DataFrame  # factor, label, variance_share (first order), total — the method choices
    leave_one_out: pd.DataFrame  # indicator_id, name_zh, mean_shift, max_shift — most influential first


@dataclass
class Coherence:
    dimensions: pd.DataFrame  # in words: 维度, α, mean r, correlation with the index
    indicators: pd.DataFrame  # in words: 维度, 指标, correlation with its dimension


def sensitivity(board: Board, grain: str, period: str, names: dict[str, str],
                identity: str | None = None) -> Sensitivity:
    sens = board.q("sensitivity", identity=identity, grain=grain, period=period)
    detail = sens.detail.map(lambda d: json.loads(d) if isinstance(d, str) and d else {})
    loo = sens.factor.str.startswith(vocabulary.LEAVE_ONE_OUT)
    sources = pd.DataFrame({
        "factor": sens.factor[~loo],
        "label": [vocabulary.sensitivity_factor(f) for f in sens.factor[~loo]],
        "variance_share": sens.variance_share[~loo].astype(float),
        "total": [d.get("total") for d in detail[~loo]],
    }).reset_index(drop=True)
    ids = sens.factor[loo].str.removeprefix(vocabulary.LEAVE_ONE_OUT)
    shifts = pd.DataFrame({
        "indicator_id": ids,
        "name_zh": ids.map(lambda i: names.get(i, i)),
        "mean_shift": [d.get("mean_abs_rank_shift") for d in detail[loo]],
        "max_shift": [d.get("max_abs_rank_shift") for d in detail[loo]],
    }).dropna(subset=["mean_shift"]).sort_values("mean_shift", ascending=False, kind="stable").reset_index(drop=True)
    return Sensitivity(sources, shifts)


def sources_table(s: Sensitivity) -> pd.DataFrame:
    return pd.DataFrame({
        "不确定性来源": s.sources.label,
        "一阶效应占比": s.sources.variance_share.map(_pct),
        "总效应占比": s.sources.total.map(_pct),
    })


def leave_one_out_table(s: Sensitivity) -> pd.DataFrame:
    return pd.DataFrame({
        "剔除的指标": s.leave_one_out.name_zh,
        "名次平均变动（位）": s.leave_one_out.mean_shift.map(lambda v: f"{v:.1f}"),
        "名次最大变动（位）": s.leave_one_out.max_shift.map(lambda v: vocabulary.DASH if pd.isna(v) else f"{v:.0f}"),
    })


def coherence(board: Board, grain: str, period: str, dimension_names: dict[str, str], names: dict[str, str],
              identity: str | None = None) -> Coherence:
    coh = board.q("coherence", identity=identity, grain=grain, period=period)
    per_ind = coh.statistic.str.startswith(vocabulary.CORR_WITH_DIMENSION)
    # unstack, not pivot_table: a dimension whose statistics could not be computed (all NULL) keeps its row.
    dims = coh[~per_ind].drop_duplicates(["dimension", "statistic"]).set_index(["dimension", "statistic"]) \
        .value.unstack()
    order = [d for d in dimension_names if d in dims.index]
    dims = dims.reindex(order)
    dimensions = pd.DataFrame({"维度": [dimension_names[d] for d in order]})
    for stat in ("cronbach_alpha", "mean_inter_item_r", "corr_with_index"):
        values = dims[stat] if stat in dims else pd.Series(index=dims.index, dtype=float)
        dimensions[vocabulary.coherence_statistic(stat)] = [_num(v) for v in values]
    ind = coh[per_ind].assign(indicator_id=coh.statistic[per_ind].str.removeprefix(vocabulary.CORR_WITH_DIMENSION))
    indicators = pd.DataFrame({
        "维度": ind.dimension.map(lambda d: dimension_names.get(d, d)),
        "指标": ind.indicator_id.map(lambda i: names.get(i, i)),
        vocabulary.coherence_statistic(vocabulary.CORR_WITH_DIMENSION): ind.value.map(_num),
    }).reset_index(drop=True)
    return Coherence(dimensions, indicators)


def _pct(v) -> str:
    return vocabulary.DASH if v is None or pd.isna(v) else f"{float(v) * 100:.0f}%"


def _num(v) -> str:
    """A coefficient to two decimals; — where it cannot be computed (fewer than two indicators, no spread)."""
    return vocabulary.DASH if v is None or pd.isna(v) else f"{float(v):.2f}"
