"""预警清单: the period's warnings for the user's units, filterable, with evidence and Excel export."""

import pandas as pd
import streamlit as st

import plain
import session
from pipelines.board import alerts, learning, overview
from pipelines.board import portrait as portrait_mod
from pipelines.board.periods import grain_zh, period_zh

ctx = session.context()
v = session.view()
session.header("预警清单")
st.caption(f"{grain_zh(v.grain)} · {period_zh(v.period)} · {plain.md(ctx.user.teams_zh)}")

all_w = session.period_warnings(ctx.path, ctx.identity, ctx.user, v.grain, v.period)
c = st.columns(4)
grades = c[0].multiselect("预警等级", ["红", "橙", "黄"], key="w_grades", placeholder="全部等级")
statuses = c[1].multiselect("状态", ["新增", "持续"], key="w_status", placeholder="全部")
dims = c[2].multiselect("维度", sorted(d for d in all_w.dimension_zh.unique() if d), key="w_dims", placeholder="全部维度")
text = c[3].text_input("搜索单位、指标或说明", key="w_text")
shown = alerts.filter_warnings(all_w, grades=grades, statuses=statuses, dimensions=dims, sectors=v.sectors,
                               kinds=v.kinds, text=text)
st.write(f"共 {len(shown)} 条预警（本期全部 {len(all_w)} 条）")
units = session.indicator_units(ctx.path, ctx.identity)
st.dataframe(alerts.table(shown, units), hide_index=True)

if ctx.user.can_see_records and len(shown):
    st.markdown("**预警依据记录**")
    labels = {w: f"{n} · {u} · {i}" for w, n, u, i in zip(shown.warning_id, shown.warning_no, shown.unit_name,
                                                         shown.indicator_zh)}
    chosen = st.multiselect("选择预警查看其依据记录（查看将记入审计日志）", list(labels), format_func=labels.get,
                            key="w_evidence", max_selections=20, placeholder="选择预警")
    if chosen:
        ev = portrait_mod.evidence(ctx.board, ctx.user, chosen, ctx.audit, ctx.identity)
        st.dataframe(alerts.evidence_words(ev, shown).rename(columns=alerts.EVIDENCE_ZH), hide_index=True)
elif not ctx.user.can_see_records:
    st.caption("预警依据的记录级数据仅对分析人员开放；导出文件同样不含记录级数据。")

st.markdown("**异常模式（模型信号，与规则预警并列）**")
anomalies = learning.period_anomalies(ctx.board, ctx.user, v.grain, v.period, ctx.identity)
anomalies = overview.filter_units(anomalies, v.sectors, v.kinds) if len(anomalies) else anomalies
if len(anomalies):
    st.dataframe(anomalies[["unit_name", "score", "percentile", "indicators", "message", "sector", "kind", "team"]],
                 hide_index=True, column_config={
                     "unit_name": "单位", "score": st.column_config.NumberColumn("异常得分", format="%.2f"),
                     "percentile": st.column_config.NumberColumn("高于全县单位期（%）", format="%.0f"),
                     "indicators": "使其异常的指标", "message": "说明", "sector": "领域", "kind": "类别", "team": "派驻组"})
    st.caption("异常模式：孤立森林在全部单位、全部期间的指标组合中找出最少见的组合（约前5%），列出使其少见的指标；"
               "不是规则预警，不改变预警等级。")
else:
    st.write("本期没有异常模式信号。")

if ctx.user.can_see_records:
    st.markdown("**人员线索汇聚（仅分析人员，化名）**")
    clues = learning.person_clues(ctx.board, ctx.user, ctx.identity)
    if len(clues):
        day = lambda s: pd.to_datetime(s).dt.strftime("%Y-%m-%d")  # noqa: E731 - dates, not midnights
        st.dataframe(clues.assign(units=clues.units.map("、".join), sources=clues.sources.map("、".join),
                                  window_start=day(clues.window_start), window_end=day(clues.window_end))[
            ["person_pid", "units", "records", "sources", "window_start", "window_end", "is_leader", "message"]],
            hide_index=True, column_config={
                "person_pid": "人员（化名）", "units": "单位", "records": "记录数", "sources": "渠道与台账",
                "window_start": "起", "window_end": "止", "is_leader": st.column_config.CheckboxColumn("班子成员"),
                "message": "说明"})
        labels_c = dict(zip(clues.clue_id, clues.person_pid + " · " + clues.records.astype(str) + "条"))
        chosen_clue = st.selectbox("查看线索依据记录（查看将记入审计日志）", list(labels_c), index=None,
                                   format_func=labels_c.get, key="w_clue", placeholder="选择一条线索")
        if chosen_clue:
            rec = learning.clue_records(ctx.board, ctx.user, chosen_clue, ctx.audit, ctx.identity)
            rec = rec.assign(record_date=pd.to_datetime(rec.record_date).dt.strftime("%Y-%m-%d"))
            st.dataframe(rec.drop(columns=["clue_id"]), hide_index=True, column_config={
                "source": "渠道或台账", "source_table": "来源台账", "record_key": "记录编号", "record_date": "日期",
                "unit_name": "单位", "summary": "摘要（已脱敏）"})
    else:
        st.write("没有跨渠道、跨台账的人员线索。")

st.markdown("**导出**")
with_evidence = ctx.user.can_see_records and st.checkbox("导出时包含依据记录（已脱敏）", key="w_export_evidence")
filters = {"等级": grades, "状态": statuses, "维度": dims, "领域": list(v.sectors), "类别": list(v.kinds), "搜索": text}
file_name = alerts.file_name(v.period)
board, user, identity, grain, period = ctx.board, ctx.user, ctx.identity, v.grain, v.period


def _export() -> bytes:
    # Runs when the button is clicked (on another thread): that is when the export is audited.
    _, data = alerts.export_xlsx(board, user, shown, grain=grain, period=period, filters=filters,
                                 audit=ctx.audit_always, with_evidence=with_evidence, identity=identity)
    return data


st.download_button(
    f"导出 Excel（{len(shown)} 条）", data=_export, file_name=file_name, key="w_export",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", disabled=shown.empty,
    on_click="ignore",
)
st.caption("导出文件中以 = + - @ 开头的文本已加前缀 ' 以防公式注入；每次导出均记入审计日志。")
