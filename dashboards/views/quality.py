"""数据质量: ingest runs, rejected rows and their reasons, coverage by unit and month, stale sources."""

import streamlit as st

import charts
import session
from pipelines.board import quality

ctx = session.context()
session.header("数据质量")
q = quality.quality(ctx.board, ctx.user, ctx.identity)

st.subheader("数据源时效")
stale = q.freshness[q.freshness.stale]
if len(stale):
    st.warning("以下台账数据偏旧或为空：" + "、".join(stale.kind_zh))
st.dataframe(quality.freshness_table(q.freshness), hide_index=True, column_config={
    "落后天数": st.column_config.TextColumn(help=f"比最新的台账落后多少天；超过 {quality.STALE_DAYS} 天视为偏旧"),
    "偏旧": st.column_config.CheckboxColumn()})

st.subheader("导入记录")
if not q.runs_detailed:
    st.caption("本组所辖单位的台账记录，按台账类别汇总（文件明细仅对全县范围的用户显示）。")
st.dataframe(quality.runs_table(q), hide_index=True)
if q.runs_detailed:
    st.caption("读取 = 新增 + 更新 + 未变 + 拒收 + 跳过；跳过的是空行和合计、小计行（不是记录）。")

st.subheader("拒收原因")
if len(q.reasons):
    st.dataframe(quality.reasons_table(q), hide_index=True)
    if q.may_see_rejected:
        # Fetched only when asked for: opening the page is not a view of records, showing them is (audited).
        if st.toggle("显示拒收行明细（已脱敏，查看将记入审计日志）", key="show_rejected"):
            rows = quality.rejected_rows(ctx.board, ctx.user, ctx.audit, ctx.identity)
            st.caption(f"最近 {len(rows)} 行拒收记录。")
            st.dataframe(rows, hide_index=True)
    else:
        st.caption("拒收行明细可能涉及其他派驻组的单位，仅对全县范围的分析人员显示。")
else:
    st.success("没有拒收的行。")

st.subheader("按未知保存的字段")
st.caption("这些记录已导入并参与统计，但有字段无法识别（不在允许值内、格式不对或缺失），按未知保存。"
           "常见写法可加入取值别名表（见数据字典），下次导入即可识别。")
if len(q.notes_by_unit):
    st.dataframe(q.notes_by_unit.rename(columns=quality.NOTES_BY_UNIT_ZH), hide_index=True)
    if q.may_see_rejected:
        # Fetched only when asked for, like the rejected rows: showing them is a view of records (audited).
        if st.toggle("显示字段说明明细（已脱敏，查看将记入审计日志）", key="show_notes"):
            notes = quality.quality_notes(ctx.board, ctx.user, ctx.audit, ctx.identity)
            st.caption(f"最近 {len(notes)} 条字段说明。")
            st.dataframe(notes, hide_index=True)
else:
    st.success("没有按未知保存的字段。")

st.subheader("各单位逐月数据覆盖")
if q.coverage.shape[1]:
    st.caption(f"{len(q.gaps)} 个单位存在无任何台账记录的月份（可能是真实的零，也可能是漏报）。")
    shown = q.coverage
    if len(shown) > 80:  # a province: chart the units with the most empty months, list them all below
        shown = shown.loc[q.gaps.unit_name.head(80)] if len(q.gaps) else shown.head(80)
        st.caption(f"图中仅显示空白月份最多的 {len(shown)} 个单位；全部单位见下方数据表。")
    st.plotly_chart(charts.coverage(shown), key="coverage", config={"displayModeBar": False})
    with st.expander("数据表"):
        st.dataframe(quality.coverage_table(q.coverage), hide_index=True)
else:
    st.write("暂无台账记录。")
