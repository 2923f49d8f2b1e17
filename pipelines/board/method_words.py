"""The 方法与权重 page's tables in words: the indicator catalogue (口径 as a sentence), the grading rule's bands, how
sparse each grain is, and the build's mean beside the arithmetic mean.

The catalogue's own definition (structured keys or SQL) is for engineers and stays in data/indicators.yaml;
the page shows `definition_zh`, the same definition in words, and the warning rule as sentences.
"""

from __future__ import annotations

import pandas as pd

from pipelines import vocabulary

CATALOGUE_ZH = {"dimension_zh": "维度", "name_zh": "指标", "direction": "方向", "weight": "权重", "unit": "计量单位",
                "duty": "对应工作职责", "definition_zh": "口径"}
DETAILS_ZH = {"name_zh": "指标", "definition_zh": "口径", "rationale": "依据", "false_positives": "可能的误报原因",
              "threshold_rule": "预警规则", "missing": "缺失时", "min_sample": "最少样本"}


def catalogue_table(cat: pd.DataFrame) -> pd.DataFrame:
    out = cat.assign(direction=cat.direction.map({1: "↑ 越高风险越大", -1: "↓ 保护性"}),
                     weight=[("0（仅作参考）" if ctx else f"{w:g}") for w, ctx in zip(cat.weight, cat.context)],
                     unit=cat.unit.fillna("").map(lambda u: "比例（%）" if u == "比例" else u or vocabulary.DASH),
                     definition_zh=_definition(cat))
    return out[list(CATALOGUE_ZH)].rename(columns=CATALOGUE_ZH)


def catalogue_details(part: pd.DataFrame) -> pd.DataFrame:
    out = part.assign(definition_zh=_definition(part),
                      threshold_rule=[r if isinstance(r, str) and r else
                                      vocabulary.word("threshold_rule", "context" if ctx else "none")
                                      for r, ctx in zip(part.threshold_rule, part.context)],
                      missing=part.missing.map(lambda m: vocabulary.word("missing_policy", m)),
                      min_sample=part.min_sample.map(lambda n: vocabulary.DASH if pd.isna(n) or not n else f"{int(n)}条"))
    return out[list(DETAILS_ZH)].rename(columns=DETAILS_ZH)


def _definition(cat: pd.DataFrame) -> pd.Series:
    """The definition in words; a catalogue written without one says so rather than showing its SQL."""
    text = cat.definition_zh if "definition_zh" in cat else pd.Series("", index=cat.index)
    return text.fillna("").map(lambda t: t or "（口径说明未填写，见指标目录文件）")


def numbers_as_text(frame: pd.DataFrame, formats: dict[str, str]) -> pd.DataFrame:
    """Numeric columns as text in the given formats ("{:.3f}"), — where there is no number."""
    out = frame.copy()
    for col, fmt in formats.items():
        if col in out:
            out[col] = out[col].map(lambda v: vocabulary.DASH if v is None or pd.isna(v) else fmt.format(v))
    return out


def bands_table(bands: pd.DataFrame) -> pd.DataFrame:
    """The score floors of 黄, 橙, 红 per level (method.bands_table), as 分."""
    out = numbers_as_text(bands, {"yellow": "{:.1f}分", "orange": "{:.1f}分", "red": "{:.1f}分"})
    return out.rename(columns={"level": "层级", "yellow": "黄", "orange": "橙", "red": "红"})


def grain_records_table(sparse: pd.DataFrame) -> pd.DataFrame:
    """Records per unit-period of every grain and whether it is graded (method.grain_records)."""
    out = numbers_as_text(sparse, {"unit_periods": "{:.0f}", "mean_records": "{:.1f}条", "median_records": "{:.0f}条",
                                   "share_without_record": "{:.0%}"})
    out = out.assign(grain=sparse.grain.map(lambda g: vocabulary.word("grain", g)),
                     graded=sparse.graded.map(vocabulary.yes_no))
    return out.rename(columns={"grain": "粒度", "unit_periods": "单位·期数", "mean_records": "平均记录数",
                               "median_records": "记录数中位数", "share_without_record": "无记录占比",
                               "graded": "评定等级"})


COMPARISON_ZH = {"unit_name": "单位", "score": "得分", "rank": "名次", "grade": "等级", "arith_score": "算术平均得分",
                 "arith_rank": "算术平均名次", "arith_grade": "算术平均等级", "rank_change": "名次变化",
                 "top_dimension": "得分最高的维度", "top_dimension_score": "该维度得分"}


def comparison_table(cmp: pd.DataFrame, dimensions: dict[str, str]) -> pd.DataFrame:
    """The build's mean beside the arithmetic mean (method.aggregation_comparison): scores to 0.1, whole ranks,
    the change of rank signed (+ = the build's mean ranks the unit riskier), the dimension by name."""
    out = numbers_as_text(cmp, {"score": "{:.1f}", "arith_score": "{:.1f}", "top_dimension_score": "{:.1f}",
                                "rank": "{:.0f}", "arith_rank": "{:.0f}"})
    out["rank_change"] = cmp.rank_change.map(
        lambda v: vocabulary.DASH if pd.isna(v) else "0" if v == 0 else f"{v:+.0f}")
    out["top_dimension"] = cmp.top_dimension.map(lambda d: vocabulary.DASH if pd.isna(d) else dimensions.get(d, d))
    return out[list(COMPARISON_ZH)].rename(columns=COMPARISON_ZH)
