"""Plotly figures of the dashboard (presentation only: the numbers come from pipelines.board)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from pipelines.board.overview import GRADE_COLOURS, GRADES, INDEX_ZH

FONT = dict(family="Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, sans-serif")


def _layout(fig: go.Figure, height: int) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), font=FONT,
                      legend=dict(orientation="h", y=-0.15))
    return fig


def heatmap(cells: pd.DataFrame) -> go.Figure:
    """Units × dimensions as squares coloured by grade: a scatter, because Streamlit returns selection
    events for scatter points but not for heatmaps (streamlit issue #8760)."""
    units = list(dict.fromkeys(cells.unit_name))
    cols = list(dict.fromkeys(cells.sort_values("col").label))
    n = max(len(units), 1)
    size = 22 if n <= 40 else max(8, int(880 / n))  # squares shrink only past 40 rows
    fig = go.Figure()
    for grade in list(GRADES) + [None]:
        part = cells[cells.grade == grade] if grade else cells[cells.grade.isna()]
        if part.empty:
            continue
        fig.add_trace(
            go.Scatter(
                x=part.label, y=part.unit_name, mode="markers+text" if n <= 40 else "markers",
                name=grade or "无等级",
                marker=dict(symbol="square", size=size, color=GRADE_COLOURS[grade], line=dict(width=1, color="white")),
                text=part.score.round(0).astype("Int64").astype(str), textfont=dict(size=10, color="black"),
                customdata=part[["unit_name", "label", "score", "rank"]].to_numpy(),
                hovertemplate="%{customdata[0]}<br>%{customdata[1]}：%{customdata[2]:.1f}<br>"
                              "排名 %{customdata[3]}<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_xaxes(categoryorder="array", categoryarray=cols, side="top", showgrid=False)
    fig.update_yaxes(categoryorder="array", categoryarray=units[::-1], showgrid=False)
    fig.update_layout(clickmode="event+select", dragmode=False)
    # Room above for the (rotated) dimension names on the top axis.
    return _layout(fig, height=max(300, 150 + n * (size + 4))).update_layout(margin=dict(l=10, r=10, t=110, b=10))


def county_trend(trend: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    x = list(trend.period)
    for grade, col in zip(GRADES, ("red", "orange", "yellow", "green")):
        fig.add_trace(go.Bar(x=x, y=trend[col], name=f"{grade}色单位", marker_color=GRADE_COLOURS[grade], yaxis="y2",
                             opacity=0.45))
    fig.add_trace(go.Scatter(x=x, y=trend.mean_score, name="平均风险分", mode="lines+markers",
                             line=dict(color="#1f3b73", width=3)))
    fig.update_layout(barmode="stack", yaxis=dict(title="平均风险分", rangemode="tozero"),
                      yaxis2=dict(title="单位数", overlaying="y", side="right", showgrid=False, rangemode="tozero"),
                      xaxis=dict(type="category", tickangle=-45))
    return _layout(fig, 360).update_layout(margin=dict(l=10, r=10, t=30, b=80), legend=dict(y=-0.4))


def radar(peers: pd.DataFrame, labels: dict[str, str], unit: str) -> go.Figure:
    theta = [labels.get(lv, lv) for lv in peers.level]
    fig = go.Figure()
    for col, name, colour in (("county_mean", "全县平均", "#7f7f7f"), ("sector_mean", "同领域平均", "#1f77b4"),
                              ("unit_score", unit, "#d62728")):
        if peers[col].notna().any():
            r = peers[col].tolist()
            fig.add_trace(go.Scatterpolar(r=r + r[:1], theta=theta + theta[:1], name=name, line=dict(color=colour),
                                          fill="toself" if col == "unit_score" else None, opacity=0.8))
    fig.update_layout(polar=dict(radialaxis=dict(range=[0, 100])))
    return _layout(fig, 360)


def contributions(contrib: pd.DataFrame) -> go.Figure:
    c = contrib.sort_values("contribution")
    fig = go.Figure(go.Bar(x=c.contribution, y=c.name_zh, orientation="h", marker_color="#d62728",
                           customdata=c.dimension_zh, hovertemplate="%{y}（%{customdata}）：%{x:.2f}<extra></extra>"))
    fig.update_layout(xaxis_title="对综合指数的贡献（分）")
    return _layout(fig, max(260, 24 * len(c) + 60))


def unit_trend(trend: pd.DataFrame, labels: dict[str, str]) -> go.Figure:
    fig = go.Figure()
    for level, part in trend.groupby("level", sort=False):
        is_index = level == "index"
        fig.add_trace(go.Scatter(x=list(part.period), y=part.score, mode="lines+markers",
                                 name=INDEX_ZH if is_index else labels.get(level, level),
                                 line=dict(width=4 if is_index else 1.5, color="#1f3b73" if is_index else None),
                                 opacity=1 if is_index else 0.6))
    fig.update_layout(yaxis=dict(title="风险分", range=[0, 100]), xaxis=dict(type="category"))
    return _layout(fig, 320)


def rank_band(trend: pd.DataFrame) -> go.Figure:
    idx = trend[trend.level == "index"]
    x = list(idx.period)
    fig = go.Figure()
    if idx.rank_p05.notna().any():
        fig.add_trace(go.Scatter(x=x + x[::-1], y=list(idx.rank_p95) + list(idx.rank_p05[::-1]), fill="toself",
                                 fillcolor="rgba(31,59,115,0.15)", line=dict(width=0), name="排名5%–95%区间"))
    fig.add_trace(go.Scatter(x=x, y=idx["rank"], mode="lines+markers", name="排名", line=dict(color="#1f3b73")))
    fig.update_yaxes(autorange="reversed", title="排名（1 = 风险最高）")
    fig.update_xaxes(type="category")
    return _layout(fig, 280)


def activity(monthly: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for kind, part in monthly.groupby("kind"):
        fig.add_trace(go.Bar(x=part.month, y=part.records, name=kind))
    fig.update_layout(barmode="stack", yaxis_title="件数")
    return _layout(fig, 280)


def record_timeline(records: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for kind, part in records.groupby("kind"):
        fig.add_trace(go.Scatter(x=part.date, y=[kind] * len(part), mode="markers", name=kind,
                                 marker=dict(size=10, symbol="diamond"),
                                 customdata=part[["record_key", "detail"]].to_numpy(),
                                 hovertemplate="%{x|%Y-%m-%d} %{customdata[0]}<br>%{customdata[1]}<extra></extra>"))
    return _layout(fig, 260)


def sensitivity(sens: pd.DataFrame) -> go.Figure:
    s = sens.sort_values("variance_share")
    fig = go.Figure(go.Bar(x=s.variance_share, y=s.factor, orientation="h", marker_color="#1f3b73"))
    fig.update_layout(xaxis=dict(title="解释的排名方差占比", tickformat=".0%"))
    return _layout(fig, max(220, 26 * len(s) + 60))


def grade_counts(counts: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    statuses = [c for c in counts.columns if c != "grade"]
    for status in statuses:
        fig.add_trace(go.Bar(x=counts.grade, y=counts[status], name=status,
                             marker_color=[GRADE_COLOURS[g] for g in counts.grade],
                             marker_pattern_shape="/" if status == "持续" else ""))
    fig.update_layout(barmode="stack", yaxis_title="预警数")
    return _layout(fig, 260)


def coverage(wide: pd.DataFrame) -> go.Figure:
    """Records per unit and month: blank months stand out."""
    fig = go.Figure(go.Heatmap(z=wide.to_numpy(), x=list(wide.columns), y=list(wide.index), colorscale="Blues",
                               hovertemplate="%{y} %{x}：%{z} 条<extra></extra>", colorbar=dict(title="记录数")))
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, max(300, 18 * len(wide) + 80))
