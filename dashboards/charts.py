"""Plotly figures of the dashboard (presentation only: the numbers come from pipelines.board).

Made to be read in ten seconds on a 1600-pixel screen: dark labels of at least 13 px, periods in words on
two lines (2024年 / 第4季度), counts on whole-number ticks, one highlighted line against grey context
rather than many coloured lines.

Plotly reads a subset of HTML (links included) in every text it draws, so each name or text that comes
from the data goes in through `plain.plot` (`_t`).
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from plain import plot as _t
from pipelines import vocabulary
from pipelines.board.overview import GRADE_COLOURS, GRADES, INDEX_ZH
from pipelines.board.periods import period_label, period_zh

FONT = dict(family="Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, sans-serif", size=14, color="#1f1f1f")
INK = "#1f1f1f"
UNIT_COLOUR = "#b2182b"  # the unit itself, against grey (county) and blue (sector) context
TEXT_ON = {"红": "white", "橙": INK, "黄": INK, "绿": INK, None: INK}  # the better contrast on each grade colour


def _layout(fig: go.Figure, height: int) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), font=FONT,
                      legend=dict(orientation="h", y=-0.18, font=dict(size=13)),
                      hoverlabel=dict(font=dict(family=FONT["family"], size=13)))
    return fig


def _periods(periods) -> list[str]:
    return [period_label(p, "<br>") for p in periods]


def integer_axis(largest: float, ticks: int = 5) -> dict:
    """Axis settings for counts: ticks on whole numbers, about `ticks` of them, from 0."""
    largest = max(float(largest or 0), 1.0)
    raw = largest / ticks
    step = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    for m in (1, 2, 5, 10):
        if m * step >= raw:
            step = m * step
            break
    step = max(int(step), 1)
    return dict(tick0=0, dtick=step, tickformat="d", rangemode="tozero", range=[0, math.ceil(largest / step) * step * 1.05])


def wrap(label: str, width: int = 5) -> str:
    """A long Chinese label on lines of at most `width` characters, for an axis (each line as plain text)."""
    return "<br>".join(_t(label[i:i + width]) for i in range(0, len(label), width))


def heatmap(cells: pd.DataFrame) -> go.Figure:
    """Units × dimensions as squares coloured by grade: a scatter, because Streamlit returns selection
    events for scatter points but not for heatmaps (streamlit issue #8760)."""
    units = list(dict.fromkeys(cells.unit_name))
    cols = list(dict.fromkeys(cells.sort_values("col").label))
    n = max(len(units), 1)
    size = 30 if n <= 40 else max(9, int(1000 / n))  # squares shrink only past 40 rows
    fig = go.Figure()
    ungraded = cells[cells.grade.isna()]
    # no colour: 不评级 (a grain too sparse to grade) or 无数据, in the words every reader uses (grade_shown)
    parts = [(g, cells[cells.grade == g]) for g in GRADES] + [(w, ungraded[ungraded.grade_shown == w])
                                                             for w in dict.fromkeys(ungraded.grade_shown)]
    for name, part in parts:
        if part.empty:
            continue
        grade = name if name in GRADES else None
        fig.add_trace(
            go.Scatter(
                x=part.label.map(wrap), y=part.unit_name.map(_t), mode="markers+text" if n <= 40 else "markers",
                name=vocabulary.word("grade", grade) if grade else name,
                marker=dict(symbol="square", size=size, color=GRADE_COLOURS[grade], line=dict(width=1, color="white")),
                text=part.score.round(0).astype("Int64").astype(str).replace("<NA>", ""),
                textfont=dict(size=13, color=TEXT_ON[grade]),
                customdata=part[["unit_name", "label", "score", "rank"]].assign(
                    unit_name=part.unit_name.map(_t), label=part.label.map(_t)).to_numpy(),
                hovertemplate="%{customdata[0]}<br>%{customdata[1]}：%{customdata[2]:.1f}分<br>"
                              "排名第%{customdata[3]}位<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_xaxes(categoryorder="array", categoryarray=[wrap(c) for c in cols], side="top", showgrid=False,
                     tickangle=0, tickfont=dict(size=14, color=INK))
    fig.update_yaxes(categoryorder="array", categoryarray=[_t(u) for u in units[::-1]], showgrid=False, tickfont=dict(size=14, color=INK))
    fig.update_layout(clickmode="event+select", dragmode=False, legend_title_text="预警等级")
    # Room above for the dimension names (two lines) on the top axis.
    return _layout(fig, height=max(320, 130 + n * (size + 4))).update_layout(
        margin=dict(l=10, r=10, t=70, b=10), legend=dict(y=-0.02 if n > 20 else -0.1))


def county_trend(trend: pd.DataFrame) -> go.Figure:
    """Units of each grade per period (bars, left axis) and the mean score (line, right axis)."""
    fig = go.Figure()
    x = _periods(trend.period)
    for grade, col in zip(GRADES, ("red", "orange", "yellow", "green")):
        fig.add_trace(go.Bar(x=x, y=trend[col], name=f"{grade}色单位", marker_color=GRADE_COLOURS[grade], opacity=0.55,
                             hovertemplate="%{x}：%{y}个<extra>%{fullData.name}</extra>"))
    fig.add_trace(go.Scatter(x=x, y=trend.mean_score, name="平均风险分（右轴）", mode="lines+markers", yaxis="y2",
                             line=dict(color="#1f3b73", width=3), hovertemplate="%{x}：%{y:.1f}分<extra></extra>"))
    top = float(trend[["red", "orange", "yellow", "green"]].sum(axis=1).max()) if len(trend) else 1
    fig.update_layout(barmode="stack", yaxis=dict(title="单位数", **integer_axis(top)),
                      yaxis2=dict(title="平均风险分", overlaying="y", side="right", showgrid=False,
                                  **integer_axis(float(trend.mean_score.max()) if len(trend) else 1)),
                      xaxis=dict(type="category", tickangle=0, tickfont=dict(size=12)))
    return _layout(fig, 400).update_layout(margin=dict(l=10, r=10, t=30, b=10), legend=dict(y=-0.3))


def radar(peers: pd.DataFrame, labels: dict[str, str], unit: str) -> go.Figure:
    theta = [_t(labels.get(lv, lv)) for lv in peers.level]
    fig = go.Figure()
    for col, name, colour in (("county_mean", "全县平均", "#7f7f7f"), ("sector_mean", "同领域平均", "#1f77b4"),
                              ("unit_score", _t(unit), UNIT_COLOUR)):
        if peers[col].notna().any():
            r = peers[col].tolist()
            fig.add_trace(go.Scatterpolar(r=r + r[:1], theta=theta + theta[:1], name=name, line=dict(color=colour),
                                          fill="toself" if col == "unit_score" else None, opacity=0.8,
                                          hovertemplate="%{theta}：%{r:.1f}分<extra>%{fullData.name}</extra>"))
    fig.update_layout(polar=dict(radialaxis=dict(range=[0, 100], dtick=20, tickfont=dict(size=11)),
                                 angularaxis=dict(tickfont=dict(size=13, color=INK))))
    return _layout(fig, 380)


def contributions(contrib: pd.DataFrame) -> go.Figure:
    c = contrib.sort_values("contribution")
    fig = go.Figure(go.Bar(x=c.contribution, y=c.name_zh.map(_t), orientation="h", marker_color=UNIT_COLOUR,
                           customdata=c.dimension_zh.map(_t), hovertemplate="%{y}（%{customdata}）：%{x:.2f}分<extra></extra>"))
    fig.update_layout(xaxis_title="对综合指数的贡献（分）", yaxis=dict(tickfont=dict(size=13, color=INK)))
    return _layout(fig, max(280, 26 * len(c) + 70))


def unit_trend(bands: pd.DataFrame, unit: str) -> go.Figure:
    """The unit's index over the periods against the middle half of all units (grey) and of its sector peers
    (blue): one line to follow, two bands to read it by."""
    x = _periods(bands.period)
    fig = go.Figure()

    def band(lo: str, hi: str, mid: str, name: str, fill: str, line: str) -> None:
        if bands[lo].notna().any():
            fig.add_trace(go.Scatter(x=x, y=bands[hi], mode="lines", line=dict(width=0), showlegend=False,
                                     hoverinfo="skip"))
            fig.add_trace(go.Scatter(x=x, y=bands[lo], mode="lines", line=dict(width=0), fill="tonexty",
                                     fillcolor=fill, name=f"{name}中间一半单位", hoverinfo="skip"))
            fig.add_trace(go.Scatter(x=x, y=bands[mid], mode="lines", line=dict(color=line, width=1.5, dash="dot"),
                                     name=f"{name}中位数", hovertemplate="%{x}：%{y:.1f}分<extra>" + name + "中位数</extra>"))

    band("county_p25", "county_p75", "county_median", "全县", "rgba(130,130,130,0.25)", "#666")
    band("sector_p25", "sector_p75", "sector_median", "同领域", "rgba(31,119,180,0.20)", "#1f77b4")
    fig.add_trace(go.Scatter(x=x, y=bands.unit_score, mode="lines+markers", name=_t(unit),
                             line=dict(color=UNIT_COLOUR, width=3.5), marker=dict(size=8),
                             hovertemplate="%{x}：%{y:.1f}分<extra>" + _t(unit) + "</extra>"))
    top = max(float(pd.concat([bands.unit_score, bands.county_p75, bands.sector_p75]).max(skipna=True) or 0), 10.0)
    fig.update_layout(yaxis=dict(title="综合风险分", range=[0, min(100, top * 1.15)], tickformat="d"),
                      xaxis=dict(type="category", tickangle=0, tickfont=dict(size=12)))
    return _layout(fig, 380).update_layout(legend=dict(y=-0.32))


def rank_band(trend: pd.DataFrame, units: int) -> go.Figure:
    """The unit's county rank in the periods that have a Monte Carlo interval, each with its 5–95 % interval.
    Periods without an interval are left out rather than drawn without one."""
    idx = trend[(trend.level == "index") & trend.rank_p05.notna()]
    x = _periods(idx.period)
    fig = go.Figure(go.Scatter(
        x=x, y=idx["rank"], mode="markers", name="本期名次", marker=dict(size=12, color=UNIT_COLOUR),
        error_y=dict(type="data", symmetric=False, array=(idx.rank_p95 - idx["rank"]).clip(lower=0),
                     arrayminus=(idx["rank"] - idx.rank_p05).clip(lower=0), thickness=3, width=10, color="#1f3b73"),
        customdata=idx[["rank_p05", "rank_p95"]].to_numpy(),
        hovertemplate="%{x}：第%{y}名（区间第%{customdata[0]:.0f}–%{customdata[1]:.0f}名）<extra></extra>"))
    step = integer_axis(units)["dtick"]
    # Rank 1 (riskiest) on top with a tick of its own, then whole ranks every `step`; the last rank at the bottom.
    ticks = [1] + list(range(step, units + 1, step))
    fig.update_yaxes(title="名次（1 = 风险最高）", tickvals=ticks, ticktext=[str(t) for t in ticks],
                     range=[units + max(1, units * 0.04), 1 - max(1, units * 0.04)])
    fig.update_traces(cliponaxis=False)
    fig.update_xaxes(type="category", tickangle=0, tickfont=dict(size=12))
    return _layout(fig, 380).update_layout(showlegend=False)


def activity(monthly: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for kind, part in monthly.groupby("kind"):
        fig.add_trace(go.Bar(x=part.month, y=part.records, name=kind,
                             hovertemplate="%{x|%Y年%-m月}：%{y}条<extra>%{fullData.name}</extra>"))
    top = float(monthly.groupby("month").records.sum().max()) if len(monthly) else 1
    fig.update_layout(barmode="stack", yaxis=dict(title="记录数", **integer_axis(top)),
                      xaxis=dict(tickformat="%Y年%-m月", tickfont=dict(size=12)))
    return _layout(fig, 300)


def record_timeline(records: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for kind, part in records.groupby("kind"):
        fig.add_trace(go.Scatter(x=part.date, y=[kind] * len(part), mode="markers", name=kind,
                                 marker=dict(size=10, symbol="diamond"),
                                 customdata=part[["record_key", "detail"]].map(_t).to_numpy(),
                                 hovertemplate="%{x|%Y-%m-%d} %{customdata[0]}<br>%{customdata[1]}<extra></extra>"))
    fig.update_layout(xaxis=dict(tickformat="%Y年%-m月"), yaxis=dict(tickfont=dict(size=13, color=INK)))
    return _layout(fig, 280)


def sensitivity(sens: pd.DataFrame) -> go.Figure:
    """Shares of the rank variance by source (first-order), in words, largest on top."""
    s = sens.sort_values("variance_share")
    fig = go.Figure(go.Bar(x=s.variance_share, y=s.label.map(_t), orientation="h", marker_color="#1f3b73",
                           hovertemplate="%{y}：%{x:.0%}<extra></extra>"))
    fig.update_layout(xaxis=dict(title="解释的排名方差占比", tickformat=".0%"),
                      yaxis=dict(tickfont=dict(size=13, color=INK)))
    return _layout(fig, max(220, 34 * len(s) + 80))


def leave_one_out(loo: pd.DataFrame) -> go.Figure:
    """How far ranks move on average when one indicator is left out: the indicators that matter most."""
    s = loo.sort_values("mean_shift")
    fig = go.Figure(go.Bar(x=s.mean_shift, y=s.name_zh.map(_t), orientation="h", marker_color="#7f7f7f",
                           customdata=s.max_shift,
                           hovertemplate="剔除%{y}：名次平均变动%{x:.1f}位，最多%{customdata:.0f}位<extra></extra>"))
    fig.update_layout(xaxis=dict(title="剔除该指标后名次平均变动（位）"), yaxis=dict(tickfont=dict(size=13, color=INK)))
    return _layout(fig, max(220, 30 * len(s) + 80))


def grade_counts(counts: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    statuses = [c for c in counts.columns if c != "grade"]
    for status in statuses:
        fig.add_trace(go.Bar(x=[vocabulary.word("grade", g) for g in counts.grade], y=counts[status], name=status,
                             marker_color=[GRADE_COLOURS[g] for g in counts.grade],
                             marker_pattern_shape="/" if status == "持续" else "",
                             hovertemplate="%{x}" + status + "：%{y}条<extra></extra>"))
    top = float(counts[statuses].sum(axis=1).max()) if len(counts) and statuses else 1
    fig.update_layout(barmode="stack", yaxis=dict(title="预警数", **integer_axis(top)))
    return _layout(fig, 300)


def coverage(wide: pd.DataFrame) -> go.Figure:
    """Records per unit and month: blank months stand out."""
    fig = go.Figure(go.Heatmap(z=wide.to_numpy(), x=[period_zh(m) for m in wide.columns],
                               y=[_t(u) for u in wide.index], colorscale="Blues",
                               hovertemplate="%{y} %{x}：%{z}条<extra></extra>",
                               colorbar=dict(title="记录数", tickformat="d")))
    fig.update_yaxes(autorange="reversed", tickfont=dict(size=12, color=INK))
    return _layout(fig, max(300, 18 * len(wide) + 80))
