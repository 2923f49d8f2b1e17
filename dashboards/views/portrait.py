"""单位画像: facts, radar against peers, indicators with sparklines, contributions, rank with its
uncertainty, trend, activity timeline, recurring themes, warnings with evidence (roles allowed)."""

import pandas as pd
import streamlit as st

import charts
import plain
import session
from pipelines.access.store import AccessDenied
from pipelines.board import alerts, learning
from pipelines.board import portrait as portrait_mod
from pipelines.board.periods import grain_zh, period_zh

PORTRAIT_WARNINGS = {k: v for k, v in alerts.TABLE_ZH.items() if k not in ("unit_name", "sector", "kind", "team")}

ctx = session.context()
v = session.view()
session.header("单位画像")

units = list(v.opts.units.unit_name)
requested = st.session_state.pop("_goto_unit", None) or st.query_params.get("unit") or st.session_state.get("unit")
if requested and requested not in units:
    # Not one of the user's units (or unknown): say so without showing anything about it (audited), and
    # offer the units the user may open instead of a dead end.
    st.query_params.pop("unit", None)
    st.session_state.pop("unit", None)
    session.deny(ctx, AccessDenied("您无权查看该单位，或该单位不存在。"), requested, stop=False)
    if units:
        st.selectbox("请从您范围内的单位中选择", units, index=None, placeholder="选择单位", key="portrait_instead",
                     on_change=lambda: st.session_state.update(_goto_unit=st.session_state.get("portrait_instead")))
    st.stop()
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
st.subheader(f"{plain.md(unit)} · {grain_zh(v.grain)} {period_zh(v.period)}", anchor=False)
budget = "—" if f["budget_yuan"] is None or pd.isna(f["budget_yuan"]) else f"{f['budget_yuan'] / 1e4:,.0f} 万元"
posts = "—" if f["leadership_posts"] is None or pd.isna(f["leadership_posts"]) else int(f["leadership_posts"])
st.markdown(f"**单位类别** {plain.md(f['kind'])}　**所属领域** {plain.md(f['sector'])}　**派驻组** {plain.md(f['team'])}　"
            f"**编制人数** {int(f['headcount'])}　**年度预算** {budget}　**班子职数** {posts}"
            + (f"　**简称及曾用名** {plain.md(f['aliases'])}" if f.get("aliases") else ""))

r = p.index_row
if r is None:
    st.warning("本期没有该单位的综合评分（数据不足或未纳入本期计算）。")
else:
    c = st.columns(5)
    c[0].metric("综合风险分", "—" if pd.isna(r["score"]) else f"{r['score']:.1f}",
                None if pd.isna(r["change_prev"]) else f"{r['change_prev']:+.1f} 环比", delta_color="inverse")
    c[1].metric("预警等级", r["grade_shown"], None if pd.isna(r["records"]) else f"本期台账记录 {int(r['records'])} 条",
                delta_color="off", delta_arrow="off")
    interval = None if pd.isna(r["rank_p05"]) else f"90%区间 第{r['rank_p05']:.0f}–{r['rank_p95']:.0f}名"
    c[2].metric("全县排名", "—" if pd.isna(r["rank"]) else f"第 {int(r['rank'])} 名", interval, delta_color="off",
                delta_arrow="off")
    c[3].metric("同领域排名", "—" if pd.isna(r["sector_rank"]) else f"第 {int(r['sector_rank'])} 名",
                None if pd.isna(r["change_yoy"]) else f"{r['change_yoy']:+.1f} 同比", delta_color="inverse")
    # the share of the index's weight filled in for missing data: it scores no risk, but a reader should see it
    c[4].metric("插补占比", "—" if pd.isna(r["imputed_share"]) else f"{r['imputed_share']:.0%}",
                "插补值不计入风险", delta_color="off", delta_arrow="off")
    st.caption("排名区间来自对权重和方法选择的蒙特卡洛模拟：区间越宽，排名越不确定。")
if p.summary:
    st.markdown(f"> {plain.md(p.summary)}")

# Learned signals beside the rules: the unit's type and whether its indicator pattern is unusual.
sig = learning.unit_signals(ctx.board, ctx.user, unit, v.grain, v.period, ctx.identity)
if sig.typology or sig.anomaly:
    c = st.columns(3)
    if sig.typology:
        t = sig.typology
        c[0].metric("单位分型", plain.md(t["type_name"]), f"共{t['k']}类 · 边界距离 {t['margin']:.1f}", delta_color="off",
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
            st.dataframe(portrait_mod.anomaly_drivers_table(drivers, session.indicator_units(ctx.path, ctx.identity)),
                         hide_index=True)
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
st.dataframe(
    portrait_mod.indicators_table(p.indicators), hide_index=True,
    column_config={
        "超阈值": st.column_config.CheckboxColumn(),
        "全县百分位": st.column_config.ProgressColumn(min_value=0, max_value=100, format="%.0f"),
        "同领域百分位": st.column_config.ProgressColumn(min_value=0, max_value=100, format="%.0f"),
        "历期走势": st.column_config.LineChartColumn(),
    },
)

left, right = st.columns(2)
with left:
    st.markdown("**综合风险分走势：本单位与全县、同领域**")
    st.plotly_chart(charts.unit_trend(p.bands, unit), key="utrend", config={"displayModeBar": False})
    st.caption("阴影为全县（灰）和同领域（蓝）中间一半单位的分数范围，虚线为中位数；同领域其他单位少于3个时不显示。")
with right:
    st.markdown("**全县排名及其不确定区间**")
    if p.rank_periods:
        county_units = int(p.peers.county_units.max()) if len(p.peers) else int(p.trend["rank"].max())
        st.plotly_chart(charts.rank_band(p.trend, county_units), key="rank", config={"displayModeBar": False})
        st.caption(f"点为名次，竖线为蒙特卡洛模拟的第5–95百分位名次区间；区间只对最近{p.rank_periods}期计算，其余期间不显示。")
    else:
        st.write("本粒度没有名次区间（蒙特卡洛模拟只对部分粒度的最近几期计算）。")

st.markdown("**信访、巡察、审计、执纪、谈话函询时间线**")
if len(p.activity):
    st.plotly_chart(charts.activity(p.activity), key="activity", config={"displayModeBar": False})
else:
    st.write("暂无台账记录。")
if ctx.user.can_see_records:
    if st.toggle("显示记录级明细（已脱敏，查看将记入审计日志）", key="show_records"):
        records = portrait_mod.unit_records(ctx.board, ctx.user, unit, ctx.audit, ctx.identity)
        st.plotly_chart(charts.record_timeline(records), key="rtimeline", config={"displayModeBar": False})
        st.dataframe(portrait_mod.records_table(records), hide_index=True)
else:
    st.caption("当前角色仅显示汇总数据，不显示记录级明细。")

st.markdown("**反复出现的信访主题**")
if len(p.themes):
    st.dataframe(portrait_mod.themes_table(p.themes), hide_index=True)
else:
    st.write("没有出现两次以上的主题。")

st.markdown(f"**本期预警（{len(p.warnings)}）**")
if len(p.warnings):
    units_of = session.indicator_units(ctx.path, ctx.identity)
    st.dataframe(alerts.table(p.warnings, units_of, columns=PORTRAIT_WARNINGS), hide_index=True)
    if ctx.user.can_see_records:
        labels_w = {w: f"{n} · {i}" for w, n, i in zip(p.warnings.warning_id, p.warnings.warning_no, p.warnings.indicator_zh)}
        chosen = st.selectbox("查看预警依据记录（查看将记入审计日志）", list(labels_w), index=None,
                              format_func=labels_w.get, key="portrait_evidence", placeholder="选择一条预警")
        if chosen:
            ev = portrait_mod.evidence(ctx.board, ctx.user, [chosen], ctx.audit, ctx.identity)
            shown = alerts.evidence_words(ev, p.warnings).drop(columns=["unit_name"])
            st.dataframe(shown.rename(columns=alerts.EVIDENCE_ZH), hide_index=True)
    else:
        st.caption("预警依据的记录级数据仅对分析人员开放。")
else:
    st.write("本期无预警。")

themes = portrait_mod.theme_lines(p.portrait_themes)
if themes:
    with st.expander("画像主题（信访反映集中的问题）"):
        st.dataframe(pd.DataFrame({"主题": themes}), hide_index=True)
