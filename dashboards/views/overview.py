"""总览: headline figures, the units × dimensions grid coloured by grade, county trend, risers, warnings."""

import math

import streamlit as st

import charts
import plain
import session
from pipelines.board import learning, overview
from pipelines.board.periods import grain_zh, period_zh

ctx = session.context()
v = session.view()
session.header("总览")
st.caption(f"{grain_zh(v.grain)} · {period_zh(v.period)} · {plain.md(ctx.user.teams_zh)}")

frame = session.period_scores(ctx.path, ctx.identity, ctx.user.teams, v.grain, v.period)
warnings = session.period_warnings(ctx.path, ctx.identity, ctx.user, v.grain, v.period)
head = overview.headline(frame, sectors=v.sectors, kinds=v.kinds)
shown_warnings = overview.filter_units(warnings, v.sectors, v.kinds)

cols = st.columns(8)
cols[0].metric("单位数", head["units"])
cols[1].metric(
    "平均风险分",
    "—" if math.isnan(head["mean_score"]) else f"{head['mean_score']:.1f}",
    None if math.isnan(head["mean_change"]) else f"{head['mean_change']:+.1f}",
    delta_color="inverse",
)
for i, g in enumerate(overview.GRADES):
    cols[2 + i].metric(f"{g}色单位", head["grades"][g])
cols[6].metric("预警数", len(shown_warnings))
cols[7].metric("风险上升单位", head["rising"], help="按下方“风险上升”规则判定的单位数")
index_rows = frame[frame.level == overview.INDEX_LEVEL]
if len(index_rows) and index_rows.grade.isna().all():
    st.caption("本粒度数据过于稀疏，只显示得分和走势，不评等级（规则见“方法与权重 · 等级规则”）。")
elif "provisional" in index_rows and index_rows.provisional.fillna(False).any():
    st.caption("待定期：本期尚未结束，或部分指标所需的历史数据不足，等级仅供参考，不与完整期比较环比、同比。")

dims = v.opts.dimensions
sort_labels = {overview.INDEX_LEVEL: overview.INDEX_ZH, **dict(zip(dims.dimension, dims.dimension_zh))}
c1, c2, c3 = st.columns([2, 2, 3])
sort_by = c1.selectbox("排序依据", list(sort_labels), format_func=sort_labels.get, key="sort_by")
n_units = int((frame.level == overview.INDEX_LEVEL).sum())
top_n = c2.number_input("显示单位数（按风险从高到低）", min_value=5, max_value=max(5, min(300, n_units)),
                        value=min(40, max(5, n_units)), step=5, key="top_n")
cells = session.grid_cells(ctx.path, ctx.identity, ctx.user.teams, v.grain, v.period, v.sectors, v.kinds,
                           sort_by, int(top_n))
units_in_grid = list(dict.fromkeys(cells.unit_name))
visible_units = list(v.opts.units.unit_name)
choice = c3.selectbox("打开单位画像", units_in_grid + [u for u in visible_units if u not in units_in_grid],
                      index=None, placeholder="选择单位，或点击下图中的方块", key="overview_unit")
if choice:
    session.open_portrait(choice)

st.subheader("单位 × 维度风险热力图")
if cells.empty:
    st.warning("所选范围内没有单位。")
else:
    # Built on every run: a figure handed back by st.cache_data loses its click selections.
    event = st.plotly_chart(charts.heatmap(cells), on_select="rerun", selection_mode="points", key="heatmap",
                            config={"displayModeBar": False})
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    if points:
        # The figure names units by their Plotly-escaped text: map the clicked label back to the unit.
        by_label = {plain.plot(u): u for u in visible_units}
        unit = by_label.get(points[0].get("y") or (points[0].get("customdata") or [None])[0])
        if unit is not None:
            session.open_portrait(unit)
    st.caption("颜色表示预警等级（红/橙/黄/绿），方块中的数字为风险分（0–100，越高越需关注），"
               "第一列为综合指数、其后为各维度。点击方块打开该单位画像。")

left, right = st.columns([3, 2])
with left:
    st.subheader("风险趋势")
    tr = session.trend(ctx.path, ctx.identity, ctx.user.teams, v.grain, v.sectors, v.kinds)
    if len(tr):
        st.plotly_chart(charts.county_trend(tr), key="trend", config={"displayModeBar": False})
with right:
    st.subheader("预警等级分布")
    counts = overview.warnings_by_grade(shown_warnings)
    if counts.drop(columns="grade").to_numpy().sum() == 0:
        st.write("本期无预警。")
    else:
        st.plotly_chart(charts.grade_counts(counts), key="grades", config={"displayModeBar": False})

st.subheader("单位分型")
types = learning.period_typologies(ctx.board, ctx.user, v.grain, v.period, ctx.identity)
types = overview.filter_units(types, v.sectors, v.kinds) if len(types) else types
model = learning.typology_model(ctx.board, v.grain, ctx.identity)
if types.empty or model is None:
    st.write("本粒度没有单位分型结果。")
else:
    st.dataframe(learning.typology_counts(types), hide_index=True,
                 column_config={"type_name": "类型", "units": "单位数", "examples": "单位（前5个）"})
    st.caption(f"按各维度得分聚为{model['k']}类：{plain.md(model['criterion'])}（轮廓系数 {model['silhouette']:.2f}，"
               f"稳定性 {model['stability']:.2f}）。类型名取自各类中心最突出的维度，仅供分析参考。")

st.subheader("风险上升最快的单位（环比）")
rise = overview.risers(frame, sectors=v.sectors, kinds=v.kinds, n=10)
if rise.empty:
    st.write("本期没有风险分上升的单位（或无上期可比）。")
else:
    st.dataframe(overview.risers_table(rise), hide_index=True)
    rule = ctx.board.build(ctx.identity)["settings"].get("trends") or {}
    st.caption(f"风险上升：环比上升{rule.get('rising_delta', '—')}分及以上且上期也在上升，或同比上升"
               f"{rule.get('rising_delta_yoy', '—')}分及以上。变化值只舍不入，保留一位小数。")
