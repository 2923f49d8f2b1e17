"""Period keys of the results contract, read in Chinese: '2024Q1' → 2024年第1季度, 'R12-2024-03' → …"""

from __future__ import annotations

import re

from pipelines import vocabulary

GRAIN_ORDER = tuple(vocabulary.codes("grain"))  # shortest first: 月度 < 季度 < 半年 < 年度 < 滚动12个月
DEFAULT_GRAIN = "quarter"  # what a page opens on

_Q = re.compile(r"^(\d{4})Q([1-4])$")
_M = re.compile(r"^(\d{4})-(\d{2})$")
_H = re.compile(r"^(\d{4})H([12])$")
_Y = re.compile(r"^(\d{4})$")
_R = re.compile(r"^R12-(\d{4})-(\d{2})$")


def period_zh(period: str) -> str:
    if m := _Q.match(period):
        return f"{m[1]}年第{m[2]}季度"
    if m := _M.match(period):
        return f"{m[1]}年{int(m[2])}月"
    if m := _H.match(period):
        return f"{m[1]}年{'上' if m[2] == '1' else '下'}半年"
    if m := _Y.match(period):
        return f"{m[1]}年"
    if m := _R.match(period):
        return f"截至{m[1]}年{int(m[2])}月的12个月"
    return period


_ANY = re.compile(r"(?<![0-9A-Za-z])(R12-\d{4}-\d{2}|\d{4}Q[1-4]|\d{4}H[12])(?![0-9A-Za-z])")


def periods_in_words(text) -> str:
    """Period keys inside a text in words: a record key 竹冲镇人民政府|2023H2 reads 竹冲镇人民政府|2023年下半年.
    Only the quarter, half-year and rolling-year shapes, which no ordinary number has."""
    if not isinstance(text, str):
        return text
    return _ANY.sub(lambda m: period_zh(m.group(1)), text)


def period_label(period: str, sep: str = "\n") -> str:
    """A period for a chart axis: the year, then the rest on a second line (2024年\n第4季度); `sep`
    joins the two (plotly axes take "<br>")."""
    text = period_zh(period)
    if text.startswith("截至"):
        return text.removesuffix("的12个月").replace("年", "年" + sep, 1)
    year, _, rest = text.partition("年")
    return f"{year}年{sep}{rest}" if rest else text


def grain_zh(grain: str) -> str:
    return vocabulary.word("grain", grain)


def default_grain(grains: list[str]) -> str:
    """The grain a page opens on: the quarter when the build has it, else the first."""
    return DEFAULT_GRAIN if DEFAULT_GRAIN in grains else grains[0]


def sort_grains(grains) -> list[str]:
    known = [g for g in GRAIN_ORDER if g in set(grains)]
    return known + sorted(set(grains) - set(known))
