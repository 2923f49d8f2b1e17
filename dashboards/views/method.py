"""方法与权重: the indicator catalogue, a what-if weight editor that re-ranks at once, sensitivity."""

import json

import pandas as pd
import streamlit as st

import charts
import session
from pipelines.board import method
from pipelines.board.periods import grain_zh, period_zh

ctx = session.context()
v = session.view()
session.header("方法与权重")
build = ctx.board.build(ctx.identity)
cat = session.catalogue(ctx.path, ctx.identity)
dims = v.opts.dimensions
labels = dict(zip(dims.dimension, dims.dimension_zh))

tab_cat, tab_whatif, tab_sens = st.tabs(["指标体系", "权重模拟", "敏感性与一致性"])

with tab_cat:
    st.write(f"指标体系版本 {build['catalogue_version']}，共 {len(cat)} 项指标、{len(dims)} 个维度。"
             "方向“↑”表示数值越高风险越高，“↓”表示保护性指标。")
    table = cat.assign(direction=cat.direction.map({1: "↑", -1: "↓"}))
    st.dataframe(
        table[["dimension_zh", "name_zh", "direction", "weight", "duty", "definition"]], hide_index=True,
        column_config={"dimension_zh": "维度", "name_zh": "指标", "direction": "方向", "weight": "权重",
                       "duty": "对应工作职责", "definition": "口径"},
    )
    for dim, part in cat.groupby("dimension_zh", sort=False):
        with st.expander(f"{dim}（{len(part)} 项）"):
            for row in part.itertuples():
                st.markdown(f"**{row.name_zh}** · {row.name_en}  \n口径：{row.definition}  \n"
                            f"依据：{row.rationale}  \n可能的误报原因：{row.false_positives}")
    with st.expander("本次计算的方法设置"):
        st.json(build["settings"])

with tab_whatif:
    st.write(f"调整权重后按同一方法重新汇总 {grain_zh(v.grain)} {period_zh(v.period)} 的标准化指标值，立即重新排名，"
             "并列出预警等级发生变化的单位。结果仅用于模拟，不改变已发布的评分。")
    base_ind, base_dim = method.default_weights(cat, dims)
    if st.button("恢复默认权重", key="whatif_reset"):
        for key in ("whatif_ind", "whatif_dim"):
            st.session_state.pop(key, None)
    c1, c2 = st.columns([3, 2])
    with c1:
        st.markdown("**指标权重（维度内）**")
        editor = st.data_editor(
            pd.DataFrame({"indicator_id": cat.indicator_id, "维度": cat.dimension_zh, "指标": cat.name_zh,
                          "权重": cat.weight.astype(float)}),
            hide_index=True, disabled=["indicator_id", "维度", "指标"], key="whatif_ind",
            column_config={"indicator_id": None,
                           "权重": st.column_config.NumberColumn(min_value=0.0, max_value=10.0, step=0.1)},
        )
    with c2:
        st.markdown("**维度权重**")
        dim_editor = st.data_editor(
            pd.DataFrame({"dimension": dims.dimension, "维度": dims.dimension_zh, "权重": [base_dim[d] for d in dims.dimension]}),
            hide_index=True, disabled=["dimension", "维度"], key="whatif_dim",
            column_config={"dimension": None, "权重": st.column_config.NumberColumn(min_value=0.0, max_value=10.0, step=0.1)},
        )
    ind_w = tuple(sorted(zip(editor.indicator_id, editor["权重"].fillna(0).astype(float))))
    dim_w = tuple(sorted(zip(dim_editor.dimension, dim_editor["权重"].fillna(0).astype(float))))
    try:
        wi = session.whatif(ctx.path, ctx.identity, ctx.user.teams, v.grain, v.period, ind_w, dim_w)
    except ValueError as exc:
        st.error(str(exc))
        st.stop()
    m = st.columns(3)
    m[0].metric("等级变化的单位", len(wi.changed))
    m[1].metric("排名变化的单位", int((wi.table.rank_change != 0).sum()))
    m[2].metric("最大排名变化", int(wi.table.rank_change.abs().max()) if len(wi.table) else 0)
    if wi.baseline_gap > 0.5:
        st.caption(f"注：按默认权重重算的分数与发布结果最多相差 {wi.baseline_gap:.1f} 分（发布结果另含缺失值处理等步骤），"
                   "下表的变化均相对于重算基准。")
    if len(wi.changed):
        st.markdown("**等级发生变化的单位**")
        st.dataframe(wi.changed[["unit_name", "base_grade", "new_grade", "base_score", "new_score", "base_rank", "new_rank"]],
                     hide_index=True, column_config={
                         "unit_name": "单位", "base_grade": "原等级", "new_grade": "模拟等级",
                         "base_score": st.column_config.NumberColumn("原分数", format="%.1f"),
                         "new_score": st.column_config.NumberColumn("模拟分数", format="%.1f"),
                         "base_rank": "原排名", "new_rank": "模拟排名"})
    st.markdown("**模拟排名**")
    st.dataframe(
        wi.table[["new_rank", "unit_name", "new_score", "new_grade", "base_rank", "base_grade", "rank_change", "score_change"]],
        hide_index=True,
        column_config={"new_rank": "模拟排名", "unit_name": "单位",
                       "new_score": st.column_config.NumberColumn("模拟分数", format="%.1f"), "new_grade": "模拟等级",
                       "base_rank": "原排名", "base_grade": "原等级",
                       "rank_change": st.column_config.NumberColumn("排名变化（+为上升）", format="%+d"),
                       "score_change": st.column_config.NumberColumn("分数变化", format="%+.1f")},
    )

with tab_sens:
    sens = method.sensitivity(ctx.board, v.grain, v.period, ctx.identity)
    if len(sens):
        st.markdown("**各方法选择解释的排名方差占比**")
        st.plotly_chart(charts.sensitivity(sens), key="sens", config={"displayModeBar": False})
        with st.expander("明细"):
            st.dataframe(sens.assign(detail=sens.detail.map(lambda d: json.dumps(json.loads(d), ensure_ascii=False)[:200]
                                                            if d else "")), hide_index=True)
    else:
        st.write("本期没有敏感性分析结果。")
    coh = method.coherence(ctx.board, v.grain, v.period, ctx.identity)
    if len(coh):
        st.markdown("**指标体系一致性检验**（Cronbach's α 等；α < 0.6 表示维度内指标一致性偏弱，如实列出）")
        wide = coh.pivot_table(index="dimension", columns="statistic", values="value").reset_index()
        wide["dimension"] = wide.dimension.map(lambda d: labels.get(d, d))
        st.dataframe(wide, hide_index=True)
