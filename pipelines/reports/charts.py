"""The report's figures (matplotlib, no pyplot: safe in a CLI and in a notebook) with a CJK font.

Chinese labels need a font that has the glyphs; matplotlib's default DejaVu Sans draws boxes (and warns
"Glyph … missing"). `cjk_font()` finds an installed one by family name — Noto Sans CJK from Debian's
fonts-noto-cjk first — and every figure here names it explicitly. Without one, figures are left out of
the report with a note rather than printed with boxes.
"""

from __future__ import annotations

import io
from functools import lru_cache

import numpy as np
import pandas as pd

CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
                "SimHei", "Microsoft YaHei", "PingFang SC")
GRADE_COLOURS = {"红": "#d62728", "橙": "#ff7f0e", "黄": "#f2c200", "绿": "#2ca02c"}
DPI = 200


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The first installed CJK font family of CJK_FAMILIES, or None."""
    from matplotlib import font_manager

    for family in CJK_FAMILIES:
        try:
            font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
        except ValueError:
            continue
        return family
    return None


def use_cjk_font() -> str | None:
    """Make the CJK font matplotlib's default (for notebooks using pyplot); returns its family."""
    import matplotlib

    family = cjk_font()
    if family:
        matplotlib.rcParams["font.family"] = "sans-serif"
        matplotlib.rcParams["font.sans-serif"] = [family, *matplotlib.rcParams["font.sans-serif"]]
    matplotlib.rcParams["axes.unicode_minus"] = False  # the CJK fonts lack U+2212
    return family


def _figure(width_cm: float, height_cm: float):
    from matplotlib.figure import Figure

    family = cjk_font()
    fig = Figure(figsize=(width_cm / 2.54, height_cm / 2.54), dpi=DPI, layout="constrained")
    return fig, ({"family": family} if family else {})


def ink_on(colour) -> str:
    """The text colour that reads on a cell of `colour` (any matplotlib colour): white on dark, near-black
    on light, by the cell's relative luminance (WCAG: the crossover of the two contrast ratios is ≈ 0.18)."""
    from matplotlib.colors import to_rgb

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in to_rgb(colour))
    return "white" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.18 else "#222"


def png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def grade_trend(trend: pd.DataFrame, current: str, periods: int = 12):
    """Stacked grade counts per period (bars) and the mean index (line), the last `periods` periods."""
    t = trend.tail(periods).reset_index(drop=True)
    fig, font = _figure(16, 7.5)
    ax = fig.add_subplot()
    x = np.arange(len(t))
    bottom = np.zeros(len(t))
    for grade, col in (("红", "red"), ("橙", "orange"), ("黄", "yellow"), ("绿", "green")):
        v = t[col].to_numpy(dtype=float)
        ax.bar(x, v, bottom=bottom, color=GRADE_COLOURS[grade], width=0.65, label=f"{grade}色")
        bottom += v
    from matplotlib.ticker import MaxNLocator

    from pipelines.board.periods import period_label

    ax.set_ylabel("单位数", fontdict=font)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xticks(x, [period_label(p) for p in t.period], fontdict=font | {"size": 6.5})
    for label, period in zip(ax.get_xticklabels(), t.period):
        label.set_fontweight("bold" if period == current else "normal")
    ax2 = ax.twinx()
    ax2.plot(x, t.mean_score, color="#222", marker="o", markersize=3, linewidth=1.2, label="综合指数均值")
    ax2.set_ylabel("综合指数均值（分）", fontdict=font)
    ax2.set_ylim(0, max(float(t.mean_score.max()) * 1.3, 1))
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    labels = ax.get_legend_handles_labels()[1] + ax2.get_legend_handles_labels()[1]
    ax.legend(handles, labels, prop=font | {"size": 7}, ncols=5, loc="upper center",
              bbox_to_anchor=(0.5, 1.14), frameon=False)
    for a in (ax, ax2):
        a.tick_params(labelsize=7)
        a.spines["top"].set_visible(False)
    return fig


def heatmap(grid: pd.DataFrame, units: list[str]):
    """Units (rows, in the given order) × 综合指数 and dimensions (columns), shaded by score."""
    g = grid[grid.unit_name.isin(units)]
    labels = g.drop_duplicates("col").sort_values("col").label.tolist()
    wide = g.pivot_table(index="unit_name", columns="col", values="score", aggfunc="first").reindex(units)
    grades = g[g.level == "index"].set_index("unit_name").grade.reindex(units)
    m = wide.to_numpy(dtype=float)
    fig, font = _figure(16, 2.2 + 0.55 * len(units))
    ax = fig.add_subplot()
    vmax = max(60.0, float(np.nanmax(m)) if np.isfinite(m).any() else 60.0)
    im = ax.imshow(np.nan_to_num(m), cmap="Reds", vmin=0, vmax=vmax, aspect="auto")
    for (i, j), v in np.ndenumerate(m):
        if np.isfinite(v):
            ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=6.5, color=ink_on(im.cmap(im.norm(v))))
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontdict=font | {"size": 7})
    ax.set_yticks(range(len(units)), [f"{u}（{gr}）" if isinstance(gr, str) else u for u, gr in zip(units, grades)],
                  fontdict=font | {"size": 7})
    ax.tick_params(length=0)
    for s in ax.spines.values():
        s.set_visible(False)
    return fig


def rank_intervals(index: pd.DataFrame, n: int = 20):
    """The n riskiest units: rank (dot) and its 5th–95th percentile interval (bar), coloured by grade."""
    t = index.dropna(subset=["rank"]).nsmallest(n, "rank").reset_index(drop=True)
    fig, font = _figure(16, 2.0 + 0.42 * len(t))
    ax = fig.add_subplot()
    y = np.arange(len(t))
    colours = [GRADE_COLOURS.get(g, "#888") for g in t.grade]
    lo = t.rank_p05.fillna(t["rank"]).to_numpy(dtype=float)
    hi = t.rank_p95.fillna(t["rank"]).to_numpy(dtype=float)
    ax.hlines(y, lo, hi, colors=colours, linewidth=3, alpha=0.45)
    ax.scatter(t["rank"], y, c=colours, s=18, zorder=3)
    ax.set_yticks(y, list(t.unit_name), fontdict=font | {"size": 7})
    ax.invert_yaxis()
    ax.set_xlabel("名次（点为本期名次，横条为第5–95百分位区间）", fontdict=font | {"size": 7})
    ax.set_xlim(0, max(float(np.nanmax(hi)) + 1, n))
    ax.tick_params(labelsize=7)
    ax.grid(axis="x", linewidth=0.3)
    for s in ("top", "right"):
        ax.spines[s].set_visible(False)
    return fig
