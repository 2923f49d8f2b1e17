"""预警清单: the warnings of one period for the user's units, filtered, and its Excel export."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from pipelines import vocabulary
from pipelines.access.store import AccessDenied, User
from pipelines.analysis import grading
from pipelines.board import export, method_words
from pipelines.board.periods import grain_zh, period_zh, periods_in_words
from pipelines.board.portrait import Audit
from pipelines.board.snapshot import Board

# The warnings sheet of an export: warehouse column → Chinese header, in order. 指标值 and 阈值 are rounded
# for reading; their full precision goes to the hidden columns after them.
COLUMNS_ZH = {
    "warning_no": "预警编号",
    "period_zh": "期间",
    "unit_name": "单位",
    "team": "派驻组",
    "sector": "领域",
    "kind": "单位类别",
    "dimension_zh": "维度",
    "indicator_zh": "指标",
    "grade": "预警等级",
    "value_shown": "指标值",
    "threshold_shown": "阈值",
    "measure": "计量单位",
    "rule": "阈值规则",
    "message": "说明",
    "status": "状态",
    "evidence": "依据记录数",
    "value": "指标值（完整精度）",
    "threshold": "阈值（完整精度）",
    "warning_id": "内部编号",
}
HIDDEN = {"指标值（完整精度）", "阈值（完整精度）", "内部编号"}
EVIDENCE_ZH = {
    "warning_no": "预警编号",
    "unit_name": "单位",
    "ledger": "来源台账",
    "record_key": "记录编号",
    "record_date": "记录日期",
    "summary": "摘要（已脱敏）",
}
SHARE = "比例"  # the catalogue's unit of a share: shown as a percentage


def period_warnings(board: Board, user: User, grain: str, period: str, identity: str | None = None) -> pd.DataFrame:
    """The period's warnings of the user's units, most severe first, each with its 预警编号."""
    return number_warnings(board.q("period_warnings", user.scope, identity=identity, grain=grain, period=period))


def number_warnings(frame: pd.DataFrame) -> pd.DataFrame:
    """预警编号: the grade and a sequence within it, in the list's order (红001, 红002, 橙001 …) — what a
    reader quotes, and what joins a warning to its evidence in an export. The stable hash stays warning_id."""
    seq = frame.groupby("grade", sort=False).cumcount() + 1
    frame.insert(0, "warning_no", [f"{g}{n:03d}" for g, n in zip(frame.grade, seq)])
    return frame


def evidence_words(evidence: pd.DataFrame, warnings: pd.DataFrame) -> pd.DataFrame:
    """Evidence rows as read: 预警编号 instead of the hash, the ledger by name, the date without a time."""
    numbers = dict(zip(warnings.warning_id, warnings.warning_no))
    out = evidence.assign(warning_no=evidence.warning_id.map(numbers),
                          ledger=evidence.source_table.map(lambda t: vocabulary.word("ledger_short", t)),
                          record_key=evidence.record_key.map(periods_in_words),
                          summary=evidence.summary.map(periods_in_words),
                          record_date=pd.to_datetime(evidence.record_date).dt.date)
    return out[[c for c in EVIDENCE_ZH if c in out.columns]]


def filter_warnings(
    frame: pd.DataFrame, *, grades=(), statuses=(), sectors=(), kinds=(), dimensions=(), units=(), text: str = ""
) -> pd.DataFrame:
    f = frame
    for col, values in (("grade", grades), ("status", statuses), ("sector", sectors), ("kind", kinds),
                        ("dimension_zh", dimensions), ("unit_name", units)):
        if values:
            f = f[f[col].isin(list(values))]
    if text:
        t = text.strip()
        f = f[f.unit_name.str.contains(t, regex=False) | f.indicator_zh.str.contains(t, regex=False)
              | f.message.str.contains(t, regex=False)]
    return f.reset_index(drop=True)


def export_xlsx(
    board: Board,
    user: User,
    frame: pd.DataFrame,
    *,
    grain: str,
    period: str,
    filters: dict,
    audit: Audit,
    with_evidence: bool = False,
    identity: str | None = None,
) -> tuple[str, bytes]:
    """(file name, xlsx bytes) of the filtered warnings; with evidence sheet for roles allowed. Audited."""
    if with_evidence and not user.can_see_records:
        raise AccessDenied("当前角色无权导出记录级数据")
    rows = _export_table(frame, indicator_units(board, identity))
    sheets = {"预警清单": export.Sheet(rows[[c for c in COLUMNS_ZH if c in rows.columns]].rename(columns=COLUMNS_ZH),
                                      formats={"指标值": "0.00", "阈值": "0.00"}, hidden=HIDDEN)}
    evidence_rows = 0
    if with_evidence:
        ev = board.q("warning_evidence", user.scope, identity=identity, warning_ids=list(frame.warning_id))
        evidence_rows = len(ev)
        sheets["依据记录"] = export.Sheet(evidence_words(ev, frame).rename(columns=EVIDENCE_ZH),
                                         formats={"记录日期": "yyyy-mm-dd"})
    # What each exported warning's indicator counts and when it warns, so the file reads on its own.
    cat = board.q("catalogue", identity=identity)
    sheets["指标口径"] = export.Sheet(method_words.catalogue_details(cat[cat.indicator_id.isin(frame.indicator_id)]))
    notes = [
        ("导出时间", datetime.now().strftime("%Y-%m-%d %H:%M:%S")),
        ("导出人", f"{user.name}（{user.role_zh}）"),
        ("范围", user.teams_zh),
        ("期间", f"{grain_zh(grain)} {period_zh(period)}"),
        ("筛选", "；".join(f"{k}={'、'.join(map(str, v)) if isinstance(v, (list, tuple)) else v}"
                          for k, v in filters.items() if v) or "无"),
        ("预警编号", "等级加序号（红001、橙001 …），本次导出中预警清单与依据记录以此对应"),
        ("指标口径", "本次导出的预警所涉指标的口径、依据、可能的误报原因和预警规则，见“指标口径”工作表"),
        ("数值", "指标值、阈值保留两位小数，比例以百分数表示；完整精度在隐藏列“指标值（完整精度）”"
                 "“阈值（完整精度）”中，取消隐藏即可查看"),
        ("说明", "评分仅提示需关注的风险，不代表存在违纪违法问题。"),
    ]
    # the grading rule of the build, in the sentences of the 方法与权重 page, the report and `zhengtai scores`
    notes += [("等级规则", line) for line in grading.rule_zh(board.build(identity)["settings"] or {})]
    sheets["说明"] = export.Sheet(pd.DataFrame(notes, columns=["项目", "内容"]), autofilter=False)
    data = export.to_xlsx(sheets)
    name = file_name(period)
    audit("export", name, {"what": "warnings", "grain": grain, "period": period, "rows": int(len(frame)),
                           "evidence_rows": int(evidence_rows), "filters": filters})
    return name, data


# The warnings table of the pages: column → header, in order (the records behind them come separately).
TABLE_ZH = {"warning_no": "预警编号", "unit_name": "单位", "grade": "等级", "indicator_zh": "指标", "message": "说明",
            "value_text": "指标值", "threshold_text": "阈值", "status": "状态", "evidence": "依据记录数",
            "dimension_zh": "维度", "rule": "阈值规则", "sector": "领域", "kind": "单位类别", "team": "派驻组"}


def table(frame: pd.DataFrame, units: dict[str, str], columns=TABLE_ZH) -> pd.DataFrame:
    """The warnings as a page shows them: values with their units, headers in words."""
    unit = frame.indicator_id.map(units)
    t = frame.assign(value_text=[vocabulary.show_value(v, u) for v, u in zip(frame.value, unit)],
                     threshold_text=[vocabulary.show_value(v, u) for v, u in zip(frame.threshold, unit)])
    return t[[c for c in columns if c in t.columns]].rename(columns=columns)


def indicator_units(board: Board, identity: str | None = None) -> dict[str, str]:
    return dict(board.q("catalogue", identity=identity)[["indicator_id", "unit"]].itertuples(index=False))


def file_name(period: str, now: datetime | None = None) -> str:
    return f"预警清单_{period_zh(period)}_{(now or datetime.now()):%Y%m%d%H%M%S}.xlsx"


def _export_table(frame: pd.DataFrame, units: dict[str, str]) -> pd.DataFrame:
    """The warnings as exported: period in words, values rounded for reading (shares in %), units named."""
    t = frame.copy()
    unit = t.indicator_id.map(units).fillna("")
    share = unit == SHARE
    t["period_zh"] = t.period.map(period_zh)
    t["value_shown"] = np.where(share, (t.value * 100).round(2), t.value.round(2))
    t["threshold_shown"] = np.where(share, (t.threshold * 100).round(2), t.threshold.round(2))
    t["measure"] = np.where(share, "%", unit)
    return t
