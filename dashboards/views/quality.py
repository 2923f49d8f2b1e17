"""数据质量: ingest runs, rejected rows and their reasons, coverage by unit and month, stale sources."""

import streamlit as st

import charts
import session
from pipelines.board import quality

ctx = session.context()
session.header("数据质量")
q = quality.quality(ctx.board, ctx.user, ctx.audit, ctx.identity)

st.subheader("数据源时效")
stale = q.freshness[q.freshness.stale]
if len(stale):
    st.warning("以下台账数据偏旧或为空：" + "、".join(stale.kind_zh))
st.dataframe(q.freshness.drop(columns=["kind"]), hide_index=True, column_config={
    "kind_zh": "台账", "records": "记录数", "last_record": "最新记录日期", "last_loaded": "最近导入时间",
    "lag_days": st.column_config.NumberColumn("落后天数", help=f"比最新的台账落后多少天；超过 {quality.STALE_DAYS} 天视为偏旧"),
    "stale": st.column_config.CheckboxColumn("偏旧")})

st.subheader("导入记录")
if q.runs_detailed:
    st.dataframe(q.runs, hide_index=True, column_config={
        "run_id": "批次", "batch_id": "导入编号", "path": "文件", "kind": "台账类别", "sheet": "工作表",
        "rows_read": "读取", "rows_loaded": "新增", "rows_updated": "更新", "rows_unchanged": "未变",
        "rows_rejected": "拒收", "started_at": "开始", "finished_at": "结束", "status": "状态", "message": "信息"})
else:
    st.caption("按台账类别汇总（文件明细仅对全县范围的用户显示）。")
    st.dataframe(q.runs, hide_index=True, column_config={
        "kind": "台账类别", "files": "文件数", "rows_read": "读取", "rows_loaded": "新增", "rows_updated": "更新",
        "rows_rejected": "拒收", "last_run": "最近导入"})

st.subheader("拒收原因")
if len(q.reasons):
    st.dataframe(q.reasons, hide_index=True, column_config={
        "kind": "台账类别", "column_name": "字段", "reason": "原因", "rows": "行数"})
    if q.rejected is not None:
        with st.expander(f"拒收行明细（{len(q.rejected)} 行，已脱敏；查看已记入审计日志）"):
            st.dataframe(q.rejected, hide_index=True, column_config={
                "run_id": "批次", "kind": "台账类别", "source_file": "文件", "source_sheet": "工作表",
                "source_row": "行号", "column_name": "字段", "reason": "原因", "raw": "原始内容"})
    else:
        st.caption("拒收行明细可能涉及其他派驻组的单位，仅对全县范围的分析人员显示。")
else:
    st.success("没有拒收的行。")

st.subheader("各单位逐月数据覆盖")
if q.coverage.shape[1]:
    st.caption(f"{len(q.gaps)} 个单位存在无任何台账记录的月份（可能是真实的零，也可能是漏报）。")
    shown = q.coverage
    if len(shown) > 80:  # a province: chart the units with the most empty months, list them all below
        shown = shown.loc[q.gaps.unit_name.head(80)] if len(q.gaps) else shown.head(80)
        st.caption(f"图中仅显示空白月份最多的 {len(shown)} 个单位；全部单位见下方数据表。")
    st.plotly_chart(charts.coverage(shown), key="coverage", config={"displayModeBar": False})
    with st.expander("数据表"):
        st.dataframe(q.coverage, column_config={"unit_name": "单位"})
else:
    st.write("暂无台账记录。")
