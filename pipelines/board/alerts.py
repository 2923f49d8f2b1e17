"""预警清单: the warnings of one period for the user's units, filtered, and its Excel export."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from pipelines.access.store import AccessDenied, User
from pipelines.board import export
from pipelines.board.periods import grain_zh, period_zh
from pipelines.board.portrait import Audit
from pipelines.board.snapshot import Board

# Export columns: warehouse name → Chinese header.
COLUMNS_ZH = {
    "period": "期间",
    "unit_name": "单位",
    "team": "派驻组",
    "sector": "领域",
    "kind": "单位类别",
    "dimension_zh": "维度",
    "indicator_zh": "指标",
    "grade": "预警等级",
    "value": "指标值",
    "threshold": "阈值",
    "rule": "阈值规则",
    "message": "说明",
    "status": "状态",
    "evidence": "依据记录数",
    "warning_id": "预警编号",
}
EVIDENCE_ZH = {
    "warning_id": "预警编号",
    "unit_name": "单位",
    "source_table": "来源台账",
    "record_key": "记录编号",
    "record_date": "记录日期",
    "summary": "摘要（已脱敏）",
}


def period_warnings(board: Board, user: User, grain: str, period: str, identity: str | None = None) -> pd.DataFrame:
    return board.q("period_warnings", user.scope, identity=identity, grain=grain, period=period)


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
    sheets = {"预警清单": frame[[c for c in COLUMNS_ZH if c in frame.columns]].rename(columns=COLUMNS_ZH)}
    evidence_rows = 0
    if with_evidence:
        ev = board.q("warning_evidence", user.scope, identity=identity, warning_ids=list(frame.warning_id))
        evidence_rows = len(ev)
        sheets["依据记录"] = ev.rename(columns=EVIDENCE_ZH)
    notes = [
        ("导出时间", datetime.now().strftime("%Y-%m-%d %H:%M:%S")),
        ("导出人", f"{user.name}（{user.role_zh}）"),
        ("范围", user.teams_zh),
        ("期间", f"{grain_zh(grain)} {period_zh(period)}"),
        ("筛选", "；".join(f"{k}={'、'.join(map(str, v)) if isinstance(v, (list, tuple)) else v}"
                          for k, v in filters.items() if v) or "无"),
        ("说明", "评分仅提示需关注的风险，不代表存在违纪违法问题。"),
    ]
    sheets["说明"] = pd.DataFrame(notes, columns=["项目", "内容"])
    data = export.to_xlsx(sheets)
    name = f"预警清单_{period}_{datetime.now():%Y%m%d%H%M%S}.xlsx"
    audit("export", name, {"what": "warnings", "grain": grain, "period": period, "rows": int(len(frame)),
                           "evidence_rows": int(evidence_rows), "filters": filters})
    return name, data
