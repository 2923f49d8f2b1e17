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


def _text(v) -> str | None:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    t = str(v).strip()
    return None if t in ("", "NA", "<NA>", "nan", "None") else t


def _numbers(meta: pd.DataFrame, col: str) -> np.ndarray:
    out = pd.to_numeric(meta[col], errors="coerce")
    bad = meta[col][out.isna() & meta[col].notna()]
    bad = bad[[_text(v) is not None for v in bad]]
    if len(bad):
        raise UserError(f"iMeta {col} must be numeric; got {bad.iloc[0]!r}")
    return np.array(out.to_numpy(dtype=float, na_value=np.nan))


def build_framework(meta: pd.DataFrame) -> Framework:
    """Validate an iMeta table and index it. Raises UserError with one clear line on bad input."""
    if not isinstance(meta, pd.DataFrame):
        raise UserError("meta must be a DataFrame in COINr iMeta form")
    missing = [c for c in META_REQUIRED if c not in meta.columns]
    if missing:
        raise UserError(f"iMeta is missing column(s) {', '.join(missing)}; needs {', '.join(META_REQUIRED)}")
    # plain Python lists: the table is small and this runs on every compute() call
    codes = [_text(v) for v in meta["iCode"]]
    if any(c is None for c in codes):
        raise UserError("iMeta has a row with an empty iCode")
    seen: set[str] = set()
    for c in codes:
        if c in seen:
            raise UserError(f"iMeta iCode {c!r} appears more than once")
        seen.add(c)
    types = [_text(v) for v in meta["Type"]]
    for t in types:
        if t not in META_TYPES:
            raise UserError(f"iMeta Type {t!r} unknown; use one of {', '.join(META_TYPES)}")
    parents = [_text(v) for v in meta["Parent"]]
    level = _numbers(meta, "Level")
    direction = _numbers(meta, "Direction")
    weight = _numbers(meta, "Weight")
    target = _numbers(meta, "Target") if "Target" in meta.columns else np.full(len(codes), np.nan)

    tree = [i for i, t in enumerate(types) if t in ("Indicator", "Aggregate")]
    if not any(types[i] == "Indicator" for i in tree):
        raise UserError("iMeta has no row of Type Indicator")
    for i in tree:
        if np.isnan(level[i]):
            raise UserError(f"iMeta Level missing for {codes[i]!r}")
        if types[i] == "Indicator" and level[i] != 1:
            raise UserError(f"Indicator {codes[i]!r} must have Level 1 (aggregates are Level 2 and above)")
        if types[i] == "Aggregate" and level[i] < 2:
            raise UserError(f"Aggregate {codes[i]!r} must have Level 2 or above")
        if types[i] == "Indicator" and direction[i] not in (1, -1):
            raise UserError(f"iMeta Direction of {codes[i]!r} must be 1 or -1")
        if not (np.isfinite(weight[i]) and weight[i] >= 0):
            raise UserError(f"iMeta Weight of {codes[i]!r} must be a number >= 0")
    t_codes = [codes[i] for i in tree]
    t_level = {codes[i]: int(level[i]) for i in tree}
    t_parent = {codes[i]: parents[i] for i in tree}
    t_weight = {codes[i]: float(weight[i]) for i in tree}
    tops = [c for c in t_codes if t_parent[c] is None]
    if len(tops) != 1:
        raise UserError(f"iMeta needs exactly one top code with no Parent, found: {', '.join(tops) or 'none'}")
    top = tops[0]
    for c in t_codes:
        par = t_parent[c]
        if par is None:
            continue
        if par not in t_level:
            raise UserError(f"iMeta Parent {par!r} of {c!r} is not an iCode of the hierarchy")
        if t_level[par] != t_level[c] + 1:
            raise UserError(f"iMeta Parent {par!r} of {c!r} must be one level above it (Level {t_level[c] + 1})")
    n_top = t_level[top]
    if max(t_level.values()) > n_top:
        raise UserError(f"the top code {top!r} must have the highest Level")

    levels: list[LevelLinks] = []
    prev_codes = tuple(c for c in t_codes if t_level[c] == 1)
    indicators = prev_codes
    for lvl in range(2, n_top + 1):
        lv_parents = tuple(c for c in t_codes if t_level[c] == lvl)
        if not lv_parents:
            raise UserError(f"iMeta has no Aggregate at Level {lvl} (levels must be consecutive)")
        pos = {p: k for k, p in enumerate(lv_parents)}
        idx = np.array([pos[t_parent[c]] for c in prev_codes], dtype=np.int64)
        childless = [p for k, p in enumerate(lv_parents) if not (idx == k).any()]
        if childless:
            raise UserError(f"iMeta Aggregate {childless[0]!r} has no children")
        wts = np.array([t_weight[c] for c in prev_codes], dtype=float)
        levels.append(LevelLinks(lvl, prev_codes, lv_parents, idx, wts))
        prev_codes = lv_parents

    row = {c: i for i, c in enumerate(codes)}
    sel = [row[c] for c in indicators]
    denoms: dict[str, str] = {}
    if "Denominator" in meta.columns:
        dcol = list(meta["Denominator"])
        for c in indicators:
            d = _text(dcol[row[c]])
            if d is not None:
                denoms[c] = d
    clean = meta.copy()
    clean["iCode"], clean["Type"], clean["Parent"] = codes, types, parents
    groups = tuple(c for c, t in zip(codes, types) if t == "Group")
    return Framework(
        meta=clean,
        indicators=indicators,
        directions=direction[sel].copy(),
        targets=target[sel].copy(),
        denominators=denoms,
        levels=tuple(levels),
        top=top,
        groups=groups,
        weight_of=t_weight,
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
