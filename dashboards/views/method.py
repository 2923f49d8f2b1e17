"""方法与权重: the indicator catalogue, a what-if weight editor that re-ranks at once, sensitivity."""

import pandas as pd
import streamlit as st

import charts
import plain
import session
from pipelines import vocabulary
from pipelines.access.store import Scope
from pipelines.board import learning, method, method_words, robustness
from pipelines.board.periods import grain_zh, period_zh

ctx = session.context()
v = session.view()
session.header("方法与权重")
build = ctx.board.build(ctx.identity)
cat = session.catalogue(ctx.path, ctx.identity)
dims = v.opts.dimensions
labels = dict(zip(dims.dimension, dims.dimension_zh))

tab_cat, tab_rule, tab_whatif, tab_sens, tab_valid = st.tabs(["指标体系", "等级规则", "权重模拟", "敏感性与一致性",
                                                               "效度检验与模型"])

with tab_cat:
    st.write(f"指标体系版本 {plain.md(build['catalogue_version'])}，共 {len(cat)} 项指标、{len(dims)} 个维度。"
             "方向“↑”表示数值越高风险越高，“↓”表示保护性指标。")
    st.dataframe(method_words.catalogue_table(cat), hide_index=True)
    for dim, part in cat.groupby("dimension_zh", sort=False):
        with st.expander(f"{plain.md(dim)}（{len(part)} 项）"):
            st.dataframe(method_words.catalogue_details(part), hide_index=True)
    with st.expander("本次计算的方法设置"):
        st.dataframe(pd.DataFrame(vocabulary.setting_rows(build["settings"] or {}), columns=["设置项", "取值"]),
                     hide_index=True)

with tab_rule:
    for line in method.rule_lines(ctx.board, ctx.identity):
        st.markdown(f"- {line}")
    bands = method.bands_table(ctx.board, ctx.identity)
    if len(bands):
        st.markdown("**各层级的分数线**（达到该分数且有相应等级的预警证据，方评为该等级）")
        st.dataframe(method_words.bands_table(bands), hide_index=True)
    sparse = method.grain_records(ctx.board, Scope(ctx.user.teams), ctx.identity)
    if len(sparse):
        st.markdown("**各粒度的数据量**：每个单位每期的台账记录数；记录过少的粒度只显示得分，不评等级")
        st.dataframe(method_words.grain_records_table(sparse), hide_index=True)
    st.markdown(f"**汇总方法对比**：{grain_zh(v.grain)} {period_zh(v.period)}，本系统的非补偿汇总与算术平均（同一指标得分、同一权重、"
                "同一等级规则）。算术平均会把单一维度的严重问题平均掉，下表“名次变化”为正表示本方法把该单位排得更靠前。")
    cmp = method.aggregation_comparison(ctx.board, Scope(ctx.user.teams), v.grain, v.period, ctx.identity)
    st.dataframe(method_words.comparison_table(cmp, labels), hide_index=True)

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
        st.error(plain.md(exc))
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
    names = dict(zip(cat.indicator_id, cat.name_zh))
    sens = robustness.sensitivity(ctx.board, v.grain, v.period, names, ctx.identity)
    if len(sens.sources):
        st.markdown("**哪些方法选择影响排名：各来源解释的排名方差占比**")
        st.plotly_chart(charts.sensitivity(sens.sources), key="sens", config={"displayModeBar": False})
        st.dataframe(robustness.sources_table(sens), hide_index=True)
        st.caption("一阶效应为该项单独造成的排名变化占比，总效应还包括它与其他选择的交互。")
        if len(sens.leave_one_out):
            st.markdown("**剔除单项指标对排名的影响（影响最大的10项）**")
            st.plotly_chart(charts.leave_one_out(sens.leave_one_out.head(10)), key="loo",
                            config={"displayModeBar": False})
            with st.expander(f"全部 {len(sens.leave_one_out)} 项指标"):
                st.dataframe(robustness.leave_one_out_table(sens), hide_index=True)
    else:
        st.write("本期没有敏感性分析结果（蒙特卡洛模拟只对部分粒度的最近几期计算）。")
    coh = robustness.coherence(ctx.board, v.grain, v.period, labels, names, ctx.identity)
    if len(coh.dimensions):
        st.markdown("**指标体系一致性检验**")
        st.dataframe(coh.dimensions, hide_index=True)
        st.caption("内部一致性系数α低于0.6表示维度内各指标提示的风险不同（形成性指标常见），如实列出；"
                   "“—”表示该维度不足两项指标或本期各单位取值相同，无法计算。")
        if len(coh.indicators):
            with st.expander("各指标与所属维度的相关系数"):
                st.dataframe(coh.indicators, hide_index=True)

with tab_valid:
    val = learning.validation(ctx.board, ctx.identity)
    grains = [g for g in ("quarter", "half", "year") if len(val) and g in set(val.grain)]
    if not grains:
        st.write("本次计算没有效度检验结果（期数或结果事件不足）。")
    else:
        st.write("各指标、维度与综合指数能否预示下一期的立案处分（第二至四种形态）：曲线下面积为 0.5 即与随机无异；区间按单位"
                 "重抽样得到；斜率为每个标准差的对数几率变化，标准误按单位聚类。数据建议权重只用较早各期学得，在较晚各期检验，"
                 "与专家权重并列，仅供参考：立案处分也反映查处力度，不只是风险。")
        g = st.selectbox("粒度", grains, format_func=grain_zh, key="valid_grain")
        part = val[val.grain == g].drop(columns=["grain", "predictor"])
        # Numbers as text, — where a figure does not apply (no weight for a composite, no test period).
        part = method_words.numbers_as_text(part, {
            "auc": "{:.3f}", "auc_low": "{:.3f}", "auc_high": "{:.3f}", "test_auc": "{:.3f}", "coef": "{:+.2f}",
            "se": "{:.2f}", "p_value": "{:.3f}", "expert_weight": "{:.3f}", "data_weight": "{:.3f}"})
        st.dataframe(part, hide_index=True, column_config={
            "kind": "类别", "name_zh": "名称", "n": "单位期数", "positives": "下期有立案处分", "auc": "曲线下面积",
            "auc_low": "区间下限", "auc_high": "区间上限", "test_auc": "后期检验", "coef": "斜率", "se": "聚类标准误",
            "p_value": "p值", "expert_weight": "专家权重", "data_weight": "数据建议权重", "verdict": "结论"})
    models = learning.models(ctx.board, ctx.identity)
    pc = (models.get("petition_category") or [{}])[0]
    st.markdown("**信访问题类别预测模型**")
    ev = pc.get("evaluation")
    if ev:
        st.write(f"由已登记类别的信访件学得（{pc.get('n_texts', '—')} 件），交叉验证宏平均调和分数 {ev['macro_f1']:.3f}"
                 f"（多数类基线 {ev['baseline_macro_f1']:.3f}），概率校准误差 {ev['expected_calibration_error']:.3f}。"
                 f"登记为“其他”或未登记类别的 {pc.get('to_fill', 0)} 件给出预测类别，其中 {pc.get('review', 0)} 件"
                 "概率偏低、列入人工复核；预测类别与登记类别分开保存，指标只计登记类别。")
        st.dataframe(pd.DataFrame(ev["per_class"]).T.reset_index(), hide_index=True, column_config={
            "index": "类别", "precision": "精确率", "recall": "召回率", "f1": "调和分数", "support": "样本数"})
    else:
        st.write("本次计算未训练类别预测模型（已登记类别的信访件不足，或无需预测）。")
    summary = learning.predicted_summary(ctx.board, ctx.user, ctx.identity)
    if len(summary):
        st.dataframe(summary, hide_index=True, column_config={
            "predicted": "预测类别", "petitions": "件数", "for_review": "需复核",
            "mean_probability": st.column_config.NumberColumn("平均概率", format="%.2f")})
    if ctx.user.can_see_records and len(summary) and st.toggle(
            "显示逐件预测（已脱敏，查看将记入审计日志）", key="show_predictions"):
        st.dataframe(learning.predicted_categories(ctx.board, ctx.user, ctx.audit, ctx.identity), hide_index=True,
                     column_config={"petition_no": "信访编号", "unit_name": "单位", "received_date": "受理日期",
                                    "recorded": "登记类别", "predicted": "预测类别",
                                    "probability": st.column_config.NumberColumn("概率", format="%.2f"),
                                    "review": st.column_config.CheckboxColumn("需复核"), "reason": "说明"})
