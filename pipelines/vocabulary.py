"""The team's words for the codes the software keeps (data/vocabulary.yaml).

Dashboard pages, reports, Excel exports and the command line look every code a user can see up here:
`word("ledger", "petitions")` → 信访举报. An unknown code comes back unchanged (or as `default`), so a page
never breaks on a new code; the vocabulary and page tests fail on any code left untranslated instead.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Iterable, Mapping

import yaml

from pipelines.settings import DATA_DIR

PATH = DATA_DIR / "vocabulary.yaml"
DASH = "—"
LEAVE_ONE_OUT = "leave-one-out:"  # sensitivity factor of one indicator left out: leave-one-out:<indicator id>
CORR_WITH_DIMENSION = "corr_with_dimension:"  # coherence statistic of one indicator: corr_with_dimension:<id>


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, dict[str, str]]:
    """group → {code: word}, in the file's order."""
    raw = yaml.safe_load(PATH.read_text(encoding="utf-8")) or {}
    return {group: {str(k): str(v) for k, v in entries.items()}
            for group, entries in raw.items() if isinstance(entries, dict)}


def words(group: str) -> dict[str, str]:
    """Every code of a group and its word (a copy), in the vocabulary's order."""
    return dict(vocabulary()[group])


def codes(group: str) -> list[str]:
    return list(vocabulary()[group])


def word(group: str, code, default: str | None = None) -> str:
    """The word for `code` in `group`; None/NaN read as —; an unknown code as `default`, else the code."""
    if code is None or (isinstance(code, float) and math.isnan(code)):
        return DASH
    key = str(code)
    found = vocabulary()[group].get(key)
    if found is not None:
        return found
    return key if default is None else default


def translate(values: Iterable, group: str) -> list[str]:
    """`word` over many values (a pandas column: `frame[col].map(lambda c: word(group, c))` does the same)."""
    return [word(group, v) for v in values]


def template(group: str, key: str, **values) -> str:
    return vocabulary()[group][key].format(**values)


def cut_tenth(delta: float) -> float:
    """A change cut (not rounded) to 0.1: +4.97 reads +4.9, so a change short of a 5-point rule never
    reads as reaching it (reports, terminal and dashboard all show changes this way)."""
    return math.trunc(round(delta * 10, 9)) / 10


def show_value(value, unit: str | None) -> str:
    """An indicator value as text, as the build's messages write it (show_value in text.sql): shares as
    percentages, the rest with at most two decimals, trailing zeros dropped, and the unit."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DASH
    if unit == "比例":
        return f"{value * 100:.1f}%"
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return (text if text not in ("", "-0") else "0") + (unit or "")


def yes_no(flag) -> str:
    if flag is None or (isinstance(flag, float) and math.isnan(flag)):
        return DASH
    return word("value", "yes" if bool(flag) else "no")


def sensitivity_factor(factor: str, indicator_names: Mapping[str, str] | None = None) -> str:
    """weights → 权重扰动; leave-one-out:<id> → 剔除“<indicator name>”."""
    if factor.startswith(LEAVE_ONE_OUT):
        ind = factor.removeprefix(LEAVE_ONE_OUT)
        name = (indicator_names or {}).get(ind, ind)
        return template("sensitivity_factor", "leave_one_out", name=name)
    return word("sensitivity_factor", factor)


def coherence_statistic(statistic: str) -> str:
    """cronbach_alpha → 内部一致性系数α; corr_with_dimension:<id> → 与所属维度的相关系数."""
    if statistic.startswith(CORR_WITH_DIMENSION):
        return word("coherence_statistic", "corr_with_dimension")
    return word("coherence_statistic", statistic)


def _number(v: float, unit: str | None) -> str:
    if unit == "比例":
        return f"{v * 100:g}%"
    return f"{v:g}"


def threshold_rule(rule: str, direction: int, param: float, bound: float | None = None,
                   unit: str | None = None) -> str:
    """One warning level's threshold as a sentence, e.g. 离群值法：高于全县上四分位数加6倍四分位距，且不低于8.

    rule: fixed | iqr | quantile; param: the fixed value, the IQR multiple, or the quantile (0-1);
    bound: the floor (risky indicators) or ceiling (protective ones) the threshold never passes.
    """
    up = direction > 0
    if rule == "fixed":
        text = template("threshold_rule", "fixed_up" if up else "fixed_down", value=_number(param, unit))
    elif rule == "iqr":
        text = template("threshold_rule", "iqr_up" if up else "iqr_down", value=f"{param:g}")
    else:
        pct = param * 100 if up else (1 - param) * 100
        text = template("threshold_rule", "quantile_up" if up else "quantile_down", value=f"{pct:g}")
    if bound is not None and rule != "fixed":
        text += template("threshold_rule", "floor" if up else "ceiling", bound=_number(bound, unit))
    return text


def threshold_rules(rule: str, direction: int, params, bounds=None, unit: str | None = None) -> str:
    """Every warning level's threshold in one sentence, mildest first, e.g.
    离群值法：高于全县上四分位数加1.5、3、6倍四分位距，且不低于1、2、4，依次为黄色、橙色、红色预警."""
    up = direction > 0
    if rule == "fixed":
        key, values = ("fixed_up" if up else "fixed_down"), [_number(p, unit) for p in params]
    elif rule == "iqr":
        key, values = ("iqr_up" if up else "iqr_down"), [f"{p:g}" for p in params]
    else:
        key, values = ("quantile_up" if up else "quantile_down"), [f"{(p if up else 1 - p) * 100:g}" for p in params]
    text = template("threshold_rule", key, value="、".join(values))
    if bounds is not None and rule != "fixed":
        text += template("threshold_rule", "floor" if up else "ceiling", bound="、".join(_number(b, unit) for b in bounds))
    grades = [word("grade", g) for g in ("黄", "橙", "红")[:len(values)]]
    return text + template("threshold_rule", "levels" if len(grades) > 1 else "level", grades="、".join(grades))


def setting_rows(settings: Mapping, groups: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """The method settings a build used, as (设置项, 取值) rows in words.

    Only the settings the vocabulary names are listed (memory limits, seeds and AHP matrices are for
    engineers); a value that is a code is translated through the group that bears the setting's last name.
    """
    out = []
    for path, label in words("setting").items():
        node = settings
        for part in path.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        if node is None:
            continue
        out.append((label, _setting_value(path, node)))
    return out


_SETTING_GROUP = {"grains": "grain", "impute": "impute", "normalisation_basis": "normalisation_basis",
                  "treat": "treat", "normalise": "normalise", "weights": "weights", "aggregate": "aggregate",
                  "basis": "normalisation_basis", "normalisations": "normalise",
                  "aggregations": "aggregate"}


def _setting_value(path: str, value) -> str:
    name = path.rsplit(".", 1)[-1]
    group = _SETTING_GROUP.get(name)
    if path.endswith("_delta") or path.endswith("_delta_yoy"):
        return f"{value:g}分"
    if path == "uncertainty.weight_noise":
        return f"±{float(value) * 100:g}%"
    if path == "warnings.min_records":
        return "、".join(f"{int(v)}" for v in value) + "条"
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, (list, tuple)):
        return "、".join(word(group, v) if group else _plain(v) for v in value)
    if group:
        return word(group, value)
    return _plain(value)


def _plain(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)
