"""The indicator catalogue as the 方法与权重 page shows it: every column in words, 口径 as a sentence.

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
                      threshold_rule=part.threshold_rule.fillna("不预警（仅计入指数）"),
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
