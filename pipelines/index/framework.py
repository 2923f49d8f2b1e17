"""The index hierarchy (COINr iMeta) and unit data (COINr iData), checked and turned into arrays.

A `Framework` holds, per aggregation level, the child -> parent incidence as integer index arrays so
that aggregation, contributions and the uncertainty analysis are plain matrix operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.errors import UserError

META_REQUIRED = ("Level", "iCode", "Parent", "Direction", "Weight", "Type")
META_TYPES = ("Indicator", "Aggregate", "Group", "Denominator", "Other")


@dataclass(frozen=True)
class LevelLinks:
    """Level `level` aggregates the codes of level `level - 1` into `parents`."""

    level: int
    children: tuple[str, ...]  # codes at level-1, in column order of the previous level
    parents: tuple[str, ...]  # codes at this level
    parent_of: np.ndarray  # for each child, the index of its parent in `parents`
    weights: np.ndarray  # nominal weight of each child (iMeta Weight)


@dataclass(frozen=True)
class Framework:
    meta: pd.DataFrame  # the validated iMeta (all rows)
    indicators: tuple[str, ...]  # level-1 codes in hierarchy order
    directions: np.ndarray  # per indicator, 1 or -1
    targets: np.ndarray  # per indicator (NaN where no Target)
    denominators: dict[str, str]  # indicator -> denominator column from iMeta (where given)
    levels: tuple[LevelLinks, ...]  # level 2 .. top
    top: str  # the single top-level code
    groups: tuple[str, ...]  # Group columns named in iMeta
    weight_of: dict[str, float]  # nominal weight of every indicator and aggregate

    @property
    def n_levels(self) -> int:
        return len(self.levels) + 1

    @property
    def aggregates(self) -> tuple[str, ...]:
        return tuple(c for lv in self.levels for c in lv.parents)

    def level_codes(self, level: int) -> tuple[str, ...]:
        return self.indicators if level == 1 else self.levels[level - 2].parents

    def parent_map(self) -> dict[str, str]:
        return {c: lv.parents[p] for lv in self.levels for c, p in zip(lv.children, lv.parent_of)}

    def children_of(self, code: str) -> tuple[str, ...]:
        for lv in self.levels:
            if code in lv.parents:
                k = lv.parents.index(code)
                return tuple(c for c, p in zip(lv.children, lv.parent_of) if p == k)
        raise KeyError(code)

    def leaves_under(self, code: str) -> tuple[str, ...]:
        """Indicators below `code` (itself if it is an indicator)."""
        if code in self.indicators:
            return (code,)
        return tuple(i for c in self.children_of(code) for i in self.leaves_under(c))


def _num(series: pd.Series, what: str) -> pd.Series:
    out = pd.to_numeric(series, errors="coerce")
    bad = series[out.isna() & series.notna()]
    if len(bad):
        raise UserError(f"iMeta {what} must be numeric; got {bad.iloc[0]!r}")
    return out


def build_framework(meta: pd.DataFrame) -> Framework:
    """Validate an iMeta table and index it. Raises UserError with one clear line on bad input."""
    if not isinstance(meta, pd.DataFrame):
        raise UserError("meta must be a DataFrame in COINr iMeta form")
    missing = [c for c in META_REQUIRED if c not in meta.columns]
    if missing:
        raise UserError(f"iMeta is missing column(s) {', '.join(missing)}; needs {', '.join(META_REQUIRED)}")
    meta = meta.copy()
    meta["iCode"] = meta["iCode"].astype("string").str.strip()
    if meta["iCode"].isna().any() or (meta["iCode"] == "").any():
        raise UserError("iMeta has a row with an empty iCode")
    dup = meta["iCode"][meta["iCode"].duplicated()]
    if len(dup):
        raise UserError(f"iMeta iCode {dup.iloc[0]!r} appears more than once")
    meta["Type"] = meta["Type"].astype("string").str.strip()
    bad_type = meta["Type"][~meta["Type"].isin(META_TYPES)]
    if len(bad_type):
        raise UserError(f"iMeta Type {bad_type.iloc[0]!r} unknown; use one of {', '.join(META_TYPES)}")
    parent = meta["Parent"].astype("string").str.strip()
    meta["Parent"] = parent.where(~parent.isin(["", "NA", "<NA>", "nan"]), pd.NA)
    meta["Level"] = _num(meta["Level"], "Level")
    meta["Direction"] = _num(meta["Direction"], "Direction")
    meta["Weight"] = _num(meta["Weight"], "Weight")
    if "Target" in meta.columns:
        meta["Target"] = _num(meta["Target"], "Target")

    tree = meta[meta["Type"].isin(["Indicator", "Aggregate"])].copy()
    if not (tree["Type"] == "Indicator").any():
        raise UserError("iMeta has no row of Type Indicator")
    if tree["Level"].isna().any():
        raise UserError(f"iMeta Level missing for {tree.loc[tree['Level'].isna(), 'iCode'].iloc[0]!r}")
    lvl_ind = tree.loc[tree["Type"] == "Indicator", "Level"]
    if (lvl_ind != 1).any():
        raise UserError("every Indicator must have Level 1 (aggregates are Level 2 and above)")
    if (tree.loc[tree["Type"] == "Aggregate", "Level"] < 2).any():
        raise UserError("every Aggregate must have Level 2 or above")
    ind_rows = tree[tree["Type"] == "Indicator"]
    bad_dir = ind_rows[~ind_rows["Direction"].isin([1, -1])]
    if len(bad_dir):
        raise UserError(f"iMeta Direction of {bad_dir['iCode'].iloc[0]!r} must be 1 or -1")
    w = tree["Weight"]
    if w.isna().any() or (w < 0).any() or not np.isfinite(w).all():
        code = tree.loc[w.isna() | (w < 0), "iCode"]
        raise UserError(f"iMeta Weight of {code.iloc[0] if len(code) else '?'!r} must be a number >= 0")

    codes = dict(zip(tree["iCode"], tree["Level"].astype(int)))
    tops = tree[tree["Parent"].isna()]
    if len(tops) != 1:
        names = ", ".join(tops["iCode"].astype(str)) or "none"
        raise UserError(f"iMeta needs exactly one top code with no Parent, found: {names}")
    top = str(tops["iCode"].iloc[0])
    for code, par, lvl in zip(tree["iCode"], tree["Parent"], tree["Level"]):
        if pd.isna(par):
            continue
        if par not in codes:
            raise UserError(f"iMeta Parent {par!r} of {code!r} is not an iCode of the hierarchy")
        if codes[par] != int(lvl) + 1:
            raise UserError(f"iMeta Parent {par!r} of {code!r} must be one level above it (Level {int(lvl) + 1})")
    n_top = codes[top]
    if (tree["Level"] > n_top).any():
        raise UserError(f"the top code {top!r} must have the highest Level")

    levels: list[LevelLinks] = []
    order = tree.reset_index(drop=True)
    prev_codes = tuple(order.loc[order["Level"] == 1, "iCode"].astype(str))
    indicators = prev_codes
    for lvl in range(2, n_top + 1):
        parents = tuple(order.loc[order["Level"] == lvl, "iCode"].astype(str))
        if not parents:
            raise UserError(f"iMeta has no Aggregate at Level {lvl} (levels must be consecutive)")
        par_of = order.set_index("iCode")["Parent"]
        idx = np.array([parents.index(par_of[c]) for c in prev_codes], dtype=np.int64)
        childless = [p for k, p in enumerate(parents) if not (idx == k).any()]
        if childless:
            raise UserError(f"iMeta Aggregate {childless[0]!r} has no children")
        wts = order.set_index("iCode").loc[list(prev_codes), "Weight"].to_numpy(float)
        levels.append(LevelLinks(lvl, prev_codes, parents, idx, wts))
        prev_codes = parents

    ind = meta.set_index("iCode").loc[list(indicators)]
    targets = ind["Target"].to_numpy(float) if "Target" in meta.columns else np.full(len(indicators), np.nan)
    denoms: dict[str, str] = {}
    if "Denominator" in meta.columns:
        for code, d in ind["Denominator"].items():
            if pd.notna(d) and str(d).strip() not in ("", "NA"):
                denoms[str(code)] = str(d).strip()
    groups = tuple(meta.loc[meta["Type"] == "Group", "iCode"].astype(str))
    return Framework(
        meta=meta,
        indicators=indicators,
        directions=ind["Direction"].to_numpy(float),
        targets=targets,
        denominators=denoms,
        levels=tuple(levels),
        top=top,
        groups=groups,
        weight_of=dict(zip(tree["iCode"].astype(str), tree["Weight"].astype(float))),
    )


def unit_matrix(data: pd.DataFrame, fw: Framework) -> tuple[pd.Index, np.ndarray]:
    """Unit codes and the units x indicators float matrix (NaN = missing), from iData."""
    if not isinstance(data, pd.DataFrame):
        raise UserError("data must be a DataFrame in COINr iData form (uCode + indicator columns)")
    if "uCode" in data.columns:
        codes = data["uCode"].astype("string")
    elif data.index.name == "uCode":
        codes = data.index.to_series().astype("string")
        data = data.reset_index()
    else:
        raise UserError("data has no uCode column (unit codes)")
    if codes.isna().any():
        raise UserError("data has a row with an empty uCode")
    dup = codes[codes.duplicated()]
    if len(dup):
        raise UserError(f"data uCode {dup.iloc[0]!r} appears more than once")
    missing = [c for c in fw.indicators if c not in data.columns]
    if missing:
        raise UserError(f"data is missing indicator column(s) {', '.join(missing[:5])}" + (" ..." if len(missing) > 5 else ""))
    block = data[list(fw.indicators)]
    try:
        x = np.array(block.apply(pd.to_numeric, errors="raise").to_numpy(dtype=float, na_value=np.nan))
    except (ValueError, TypeError) as exc:
        raise UserError(f"indicator columns must be numeric: {exc}") from None
    x[~np.isfinite(x)] = np.nan
    return pd.Index(codes.to_numpy(dtype=object), name="uCode"), x
