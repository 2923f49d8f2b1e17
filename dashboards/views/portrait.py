"""单位画像: facts, radar against peers, indicators with sparklines, contributions, rank with its
uncertainty, trend, activity timeline, recurring themes, warnings with evidence (roles allowed)."""

import pandas as pd
import streamlit as st

import charts
import session
from pipelines.access.store import AccessDenied
from pipelines.board import learning
from pipelines.board import portrait as portrait_mod
from pipelines.board.periods import grain_zh, period_zh

ctx = session.context()
v = session.view()
session.header("单位画像")

units = list(v.opts.units.unit_name)
requested = st.session_state.pop("_goto_unit", None) or st.query_params.get("unit") or st.session_state.get("unit")
if requested and requested not in units:
    # Not one of the user's units (or unknown): say so without showing anything about it; audited.
    st.query_params.pop("unit", None)
    st.session_state.pop("unit", None)
    session.deny(ctx, AccessDenied("您无权查看该单位，或该单位不存在。"), requested)
if not units:
    st.warning("您的范围内没有单位。")
    st.stop()
if requested not in units:  # default: the riskiest of the user's units this period
    scores = session.period_scores(ctx.path, ctx.identity, ctx.user.teams, v.grain, v.period)
    top = scores[scores.level == "index"].sort_values("score", ascending=False).unit_name
    requested = top.iloc[0] if len(top) else units[0]
default = units.index(requested)
unit = st.selectbox("单位", units, index=default, key=f"portrait_unit_{requested or ''}")
st.session_state["unit"] = unit
st.query_params["unit"] = unit

try:
    p = session.portrait(ctx.path, ctx.identity, ctx.user, unit, v.grain, v.period)
except AccessDenied as exc:
    session.deny(ctx, exc, unit)

labels = dict(zip(v.opts.dimensions.dimension, v.opts.dimensions.dimension_zh))
f = p.facts
st.subheader(f"{unit} · {grain_zh(v.grain)} {period_zh(v.period)}")
budget = "—" if f["budget_yuan"] is None or pd.isna(f["budget_yuan"]) else f"{f['budget_yuan'] / 1e4:,.0f} 万元"
posts = "—" if f["leadership_posts"] is None or pd.isna(f["leadership_posts"]) else int(f["leadership_posts"])
st.markdown(f"**单位类别** {f['kind']}　**所属领域** {f['sector']}　**派驻组** {f['team']}　"
            f"**编制人数** {int(f['headcount'])}　**年度预算** {budget}　**班子职数** {posts}"
            + (f"　**简称及曾用名** {f['aliases']}" if f.get("aliases") else ""))

r = p.index_row
if r is None:
    st.warning("本期没有该单位的综合评分（数据不足或未纳入本期计算）。")
else:
    c = st.columns(4)
    c[0].metric("综合风险分", f"{r['score']:.1f}", None if pd.isna(r["change_prev"]) else f"{r['change_prev']:+.1f} 环比",
                delta_color="inverse")
    c[1].metric("预警等级", r["grade"] or "—")
    interval = None if pd.isna(r["rank_p05"]) else f"90%区间 第{r['rank_p05']:.0f}–{r['rank_p95']:.0f}名"
    c[2].metric("全县排名", f"第 {int(r['rank'])} 名", interval, delta_color="off", delta_arrow="off")
    c[3].metric("同领域排名", "—" if pd.isna(r["sector_rank"]) else f"第 {int(r['sector_rank'])} 名",
                None if pd.isna(r["change_yoy"]) else f"{r['change_yoy']:+.1f} 同比", delta_color="inverse")
    st.caption("排名区间来自对权重和方法选择的蒙特卡洛模拟：区间越宽，排名越不确定。")
if p.summary:
    st.markdown(f"> {p.summary}")

# Learned signals beside the rules: the unit's type and whether its indicator pattern is unusual.
sig = learning.unit_signals(ctx.board, ctx.user, unit, v.grain, v.period, ctx.identity)
if sig.typology or sig.anomaly:
    c = st.columns(3)
    if sig.typology:
        t = sig.typology
        c[0].metric("单位分型", t["type_name"], f"共{t['k']}类 · 边界距离 {t['margin']:.1f}", delta_color="off",
                    delta_arrow="off")
        moves = sig.type_history.type_name.ne(sig.type_history.type_name.shift()).sum() - 1
        c[1].metric("历期分型变化", f"{max(int(moves), 0)} 次", f"{len(sig.type_history)} 期", delta_color="off",
                    delta_arrow="off")
    if sig.anomaly:
        a = sig.anomaly
        c[2].metric("异常模式得分", f"{a['score']:.2f}", f"高于全县 {a['percentile']:.0f}% 的单位期",
                    delta_color="inverse" if a["flagged"] else "off", delta_arrow="off")
    if sig.anomaly and sig.anomaly["flagged"]:
        # data in a table, never as markup
        st.dataframe(pd.DataFrame({"异常模式（模型信号）": [sig.anomaly["message"]]}), hide_index=True)
        drivers = pd.DataFrame(sig.anomaly["drivers"])
        if len(drivers):
            st.dataframe(drivers[["name_zh", "value", "z"]], hide_index=True, column_config={
                "name_zh": "使该单位异常的指标", "value": st.column_config.NumberColumn("指标值", format="%.3f"),
                "z": st.column_config.NumberColumn("偏离同期中位数（稳健标准差）", format="%+.1f")})
    st.caption("分型与异常模式由模型从数据中学得，与规则预警并列，仅提示关注，不代表存在问题。")

left, right = st.columns(2)
with left:
    st.markdown("**维度得分：本单位 vs 全县与同领域**")
    if len(p.peers):
        st.plotly_chart(charts.radar(p.peers, labels, unit), key="radar", config={"displayModeBar": False})
        if p.peers.sector_mean.isna().all():
            st.caption("同领域其他单位少于3个，不显示同领域平均。")
with right:
    st.markdown("**综合指数的构成（各指标贡献）**")
    if len(p.contributions):
        st.plotly_chart(charts.contributions(p.contributions.head(15)), key="contrib",
                        config={"displayModeBar": False})

st.markdown("**指标明细**")
ind = p.indicators.copy()
st.dataframe(
    ind[["name_zh", "dimension_zh", "value", "threshold", "flagged", "percentile", "sector_percentile", "status",
         "sample", "history"]],
    hide_index=True,
    column_config={
        "name_zh": "指标", "dimension_zh": "维度",
        "value": st.column_config.NumberColumn("指标值", format="%.3f"),
        "threshold": st.column_config.NumberColumn("预警阈值", format="%.3f"),
        "flagged": st.column_config.CheckboxColumn("超阈值"),
        "percentile": st.column_config.ProgressColumn("全县百分位", min_value=0, max_value=100, format="%.0f"),
        "sector_percentile": st.column_config.ProgressColumn("同领域百分位", min_value=0, max_value=100, format="%.0f"),
        "status": "数据状态", "sample": "样本量",
        "history": st.column_config.LineChartColumn("历期走势"),
    },
)

left, right = st.columns(2)
with left:
    st.markdown("**风险分走势**")
    st.plotly_chart(charts.unit_trend(p.trend, labels), key="utrend", config={"displayModeBar": False})
with right:
    st.markdown("**排名及其不确定区间**")
    st.plotly_chart(charts.rank_band(p.trend), key="rank", config={"displayModeBar": False})

st.markdown("**信访、巡察、审计、执纪、谈话函询时间线**")
if len(p.activity):
    st.plotly_chart(charts.activity(p.activity), key="activity", config={"displayModeBar": False})
else:
    st.write("暂无台账记录。")
if ctx.user.can_see_records:
    if st.toggle("显示记录级明细（已脱敏，查看将记入审计日志）", key="show_records"):
        records = portrait_mod.unit_records(ctx.board, ctx.user, unit, ctx.audit, ctx.identity)
        st.plotly_chart(charts.record_timeline(records), key="rtimeline", config={"displayModeBar": False})
        st.dataframe(records, hide_index=True, column_config={
            "kind": "类别", "date": "日期", "record_key": "记录编号", "person": "人员（化名）", "detail": "要素",
            "summary": "摘要（已脱敏）"})
else:
    st.caption("当前角色仅显示汇总数据，不显示记录级明细。")

st.markdown("**反复出现的信访主题**")
if len(p.themes):
    st.dataframe(p.themes, hide_index=True, column_config={
        "theme_kind": "主题类别", "theme": "主题", "petitions": "件数", "first_seen": "首次", "last_seen": "最近",
        "repeats": "重复件"})
else:
    st.write("没有出现两次以上的主题。")

st.markdown(f"**本期预警（{len(p.warnings)}）**")
if len(p.warnings):
    st.dataframe(p.warnings.drop(columns=["warning_id", "indicator_id", "period"]), hide_index=True, column_config={
        "indicator_zh": "指标", "grade": "等级", "value": st.column_config.NumberColumn("指标值", format="%.3f"),
        "threshold": st.column_config.NumberColumn("阈值", format="%.3f"), "rule": "阈值规则", "message": "说明",
        "status": "状态", "evidence": "依据记录数"})
    if ctx.user.can_see_records:
        labels_w = {w: f"{g} · {i}" for w, g, i in zip(p.warnings.warning_id, p.warnings.grade, p.warnings.indicator_zh)}
        chosen = st.selectbox("查看预警依据记录（查看将记入审计日志）", list(labels_w), index=None,
                              format_func=labels_w.get, key="portrait_evidence", placeholder="选择一条预警")
        if chosen:
            ev = portrait_mod.evidence(ctx.board, ctx.user, [chosen], ctx.audit, ctx.identity)
            st.dataframe(ev.drop(columns=["warning_id", "unit_name"]), hide_index=True, column_config={
                "source_table": "来源台账", "record_key": "记录编号", "record_date": "日期", "summary": "摘要（已脱敏）"})
    else:
        st.caption("预警依据的记录级数据仅对分析人员开放。")
else:
    st.write("本期无预警。")

if p.portrait_themes:
    with st.expander("画像主题（分析结果）"):
        st.json(p.portrait_themes)
