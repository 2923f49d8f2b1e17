"""Grades (红/橙/黄/绿) that say how much cause for attention the records give: the rule of `grades` in
data/index_settings.yaml, applied the same way by the build, the what-if and every reader of the results.

A unit-period (and each of its dimensions) is graded by the lower of two things:
  score band  how high its score is. The bands are not cut from the scores (quantiles would colour ties and
              empty units): a level's 黄/橙/红 band is the score that level gets when one indicator of median
              weight sits exactly at its 黄/橙/红 warning line and everything else is quiet. Indicators are
              scored by how far they stand past their warning lines (scoring.severity: 33.3 at 黄, 66.7 at 橙,
              100 at 红), so the bands follow from the catalogue's weights and the aggregation, and move with
              them (the what-if recomputes them for its weights).
  evidence    the highest warning it carries, each warning level resting on at least the records
              `warnings.min_records` asks (黄 1, 橙 2, 红 3 distinct ledger records behind it).
and a unit-period with no ledger record dated in it is 绿 whatever its score. Grains listed in `grades.grains`
are graded; the others (months: one record makes a small unit's month an outlier) show scores without grades.
Each grade carries its basis, so one sentence can explain it (data/vocabulary.yaml, grade_basis).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines import vocabulary

LABELS = np.array(["红", "橙", "黄", "绿"], dtype=object)  # code 0 = 红 … 3 = 绿 (level 3 - code)
LINES = (100 / 3, 200 / 3, 100.0)  # severity of an indicator at its 黄, 橙, 红 warning line

# Why a grade is what it is (unit_scores.grade_basis); its words are the vocabulary's group grade_basis.
BASIS = ("no_record", "quiet", "score", "evidence", "both", "ungraded", "no_data")


@dataclass(frozen=True)
class Bands:
    """Score floors of 黄, 橙, 红 for the index and for every dimension."""
    index: tuple[float, float, float]
    dimensions: dict[str, tuple[float, float, float]]

    def of(self, level: str) -> tuple[float, float, float]:
        return self.dimensions.get(level, self.index)


def _one_at(line: float, w: float, total: float, method: str, p: float) -> float:
    """The parent score when one child of weight w (of `total`) sits at `line` and the rest at 0 (the floor of
    the severity scale), by the engine's own aggregation."""
    from pipelines.index.aggregation import aggregate_level  # here: readers of grades need not load the engine

    if total <= w or w <= 0:
        return line if w > 0 else 0.0
    x = np.array([[line, 0.0]])
    s, _ = aggregate_level(x, np.array([0, 0]), np.array([w, total - w]), 1, method, 0.0, 1.0, "shift", p)
    return float(s[0, 0])


def bands(ind_weights: dict[str, list[float]], dim_weights: dict[str, float], method: str, p: float) -> Bands:
    """Bands of every dimension (ind_weights: the weights of its scored indicators) and of the index (dim_weights:
    each dimension's weight). Weights of 0 are left out (an indicator or dimension switched off)."""
    dims = {}
    for d, ws in ind_weights.items():
        ws = [w for w in ws if w > 0]
        if not ws or dim_weights.get(d, 0) <= 0:
            continue
        med, tot = float(np.median(ws)), float(sum(ws))
        dims[d] = tuple(_one_at(line, med, tot, method, p) for line in LINES)
    if not dims:
        return Bands((np.inf, np.inf, np.inf), {})
    total = float(sum(dim_weights[d] for d in dims))
    per_dim = np.array([[_one_at(dims[d][k], dim_weights[d], total, method, p) for k in range(3)] for d in dims])
    index = tuple(float(x) for x in np.median(per_dim, axis=0))
    return Bands(index, dims)


def grade(score: np.ndarray, band: tuple[float, float, float], warning: np.ndarray, records: np.ndarray,
          graded: np.ndarray | bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Grade codes (0 = 红 … 3 = 绿, -1 = none) and basis codes (index into BASIS) of arrays of the same shape:
    score, highest record-backed warning level (0-3) and ledger records dated in the period."""
    score = np.asarray(score, dtype=float)
    by_score = np.searchsorted(np.asarray(band, dtype=float), np.nan_to_num(score, nan=-np.inf), side="right")
    warning = np.asarray(warning, dtype=np.int64)
    level = np.minimum(by_score, warning)
    no_record = np.asarray(records) <= 0
    level = np.where(no_record, 0, level)
    basis = np.select(
        [np.isnan(score), no_record, warning == 0, by_score < warning, warning < by_score],
        [BASIS.index("no_data"), BASIS.index("no_record"), BASIS.index("quiet"), BASIS.index("score"),
         BASIS.index("evidence")], BASIS.index("both"))
    code = (3 - level).astype(np.int8)
    graded = np.broadcast_to(np.asarray(graded, dtype=bool), score.shape)
    code = np.where(np.isnan(score) | ~graded, -1, code).astype(np.int8)
    basis = np.where(~graded & ~np.isnan(score), BASIS.index("ungraded"), basis).astype(np.int8)
    return code, basis


def labels(code: np.ndarray) -> np.ndarray:
    """Grade labels (None where there is no grade) of grade codes."""
    out = np.full(np.shape(code), None, dtype=object)
    ok = np.asarray(code) >= 0
    out[ok] = LABELS[np.asarray(code)[ok]]
    return out


def shown(grade, basis=None, provisional: bool = False) -> str:
    """A grade as every reader shows it (dashboard, report, CLI, export): the colour; 无数据 without a score;
    不评级 on a grain that is not graded; （待定） after a grade of a provisional period."""
    if isinstance(grade, str) and grade:
        return grade + (f"（{vocabulary.word('grade_state', 'provisional')}）" if provisional else "")
    return vocabulary.word("grade_state", "ungraded" if basis == "ungraded" else "no_data")


GRAIN_ZH = {"month": "月度", "quarter": "季度", "half": "半年度", "year": "年度", "rolling12": "滚动12个月"}


def rule_zh(settings: dict) -> list[str]:
    """The grading rule of a build, in the Chinese sentences the method page, the report and the CLI all show,
    from the settings the build recorded (build_runs.settings: grade_bands, grades, warnings, engine)."""
    bands = settings.get("grade_bands") or {}
    idx = bands.get("index") or []
    mr = (settings.get("warnings") or {}).get("min_records") or [1, 2, 3]
    grains = (settings.get("grades") or {}).get("grains") or []
    eng = settings.get("engine") or {}
    mean = {"genmean": f"{float(eng.get('p', 2)):g}次幂平均（广义平均，非完全补偿）", "arith": "算术平均",
            "geom": "几何平均"}.get(eng.get("aggregate"), str(eng.get("aggregate", "")))
    severity = (settings.get("index") or {}).get("normalise") == "severity"
    scale = ("各项指标按距离本期全县典型值（中位数）和本指标黄、橙、红预警线的远近计分：中位数及以下为0分，"
             "黄线33.3分、橙线66.7分、红线100分；插补值计0分，不增加风险。" if severity else "")
    lines = [
        "等级按证据评定，不按名次比例切分：一个单位（及其每个维度）的等级取“得分档”与“预警证据”两者中较低的一档；"
        "本期没有任何台账记录的单位一律为绿色。",
        scale + "指标、维度逐级按" + mean + "汇总。",
        f"预警证据：黄、橙、红色预警分别需要至少{int(mr[0])}、{int(mr[1])}、{int(mr[2])}条不同的台账记录支撑，"
        "记录不足的预警按其记录所能支撑的等级计。",
    ]
    if len(idx) == 3:
        lines.append(
            "得分档：某一层级（综合指数或维度）的黄、橙、红分数线，是“一项中位权重的指标恰在黄、橙、红预警线、其余指标均无异常”"
            f"时该层级得到的分数；综合指数为{idx[0]:.1f}、{idx[1]:.1f}、{idx[2]:.1f}分，各维度分数线随其指标权重而定。")
    if grains:
        lines.append("评定等级的粒度：" + "、".join(GRAIN_ZH.get(g, g) for g in grains)
                     + "；其余粒度（如月度）数据过于稀疏，只显示得分和走势，不评等级。")
    lines.append("本期尚未结束、或部分指标所需的历史数据（如近12个月）不足的期间标为“待定”，不与完整期比较环比、同比。")
    return lines
