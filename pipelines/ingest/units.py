"""Resolving unit names written in ledgers to the unit master (单位名册).

First by exact alias (the official name and its listed 简称/曾用名, compared without spaces and
brackets), in SQL; then, for the few distinct names left, by fuzzy match with rapidfuzz above a
confidence threshold. Below it the row is rejected with the closest candidates named, so the analyst
can add the missing alias to the roster.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
from rapidfuzz import fuzz, process
from rapidfuzz.distance import LCSseq

DEFAULT_THRESHOLD = 88.0
MARGIN = 5.0  # the best candidate must beat the runner-up by this much, or it is no match


# Institution-type endings that name the same body in different wordings: 卫健委/卫生健康局, 镇政府/镇人民政府.
_ENDINGS = re.compile(r"(有限责任公司|有限公司|集团公司|公司|委员会|人民政府|政府|局|委|办公室|办)$")


def _abbreviation(lcs: np.ndarray, la: np.ndarray, lb: np.ndarray) -> np.ndarray:
    """One name keeps all of the other's characters in order (LCS = the shorter length) and is at least half as long."""
    short, long = np.minimum(la, lb), np.maximum(la, lb)
    return (short > 0) & (lcs == short) & (short * 2 >= long)


def score_matrix(queries: list[str], choices: list[str]) -> np.ndarray:
    """Similarity 0-100 of every query against every choice (normalised unit names), vectorised.

    Plain edit similarity, raised to 90 when one name abbreviates the other — that is how Chinese
    offices shorten names (县卫健局 ← 县卫生健康局) — also after dropping an institution-type ending when
    both names have one (县卫健委 ~ 县卫生健康局). Neighbouring towns (城东镇/城关镇) differ in a
    character and stay below the threshold. rapidfuzz's cdist computes the matrices in C.
    """
    if not queries or not choices:
        return np.zeros((len(queries), len(choices)))
    ratio = process.cdist(queries, choices, scorer=fuzz.ratio, workers=-1)
    la = np.array([len(q) for q in queries])[:, None]
    lb = np.array([len(c) for c in choices])[None, :]
    abbr = _abbreviation(process.cdist(queries, choices, scorer=LCSseq.similarity, workers=-1), la, lb)
    core_q = [_ENDINGS.sub("", q) for q in queries]
    core_c = [_ENDINGS.sub("", c) for c in choices]
    ca = np.array([len(c) for c in core_q])[:, None]
    cb = np.array([len(c) for c in core_c])[None, :]
    both = (ca < la) & (cb < lb) & (np.minimum(ca, cb) >= 3)  # compare cores only when both end in a type word
    core_abbr = both & _abbreviation(process.cdist(core_q, core_c, scorer=LCSseq.similarity, workers=-1), ca, cb)
    return np.where(abbr | core_abbr, np.maximum(ratio, 90.0), ratio)


def score(a: str, b: str) -> float:
    """score_matrix for one pair."""
    return float(score_matrix([a], [b])[0, 0])


@dataclass(frozen=True)
class Resolution:
    raw_norm: str
    unit_name: str | None
    score: float
    candidates: str  # "A（82）、B（75）" for the rejection message


def rebuild_aliases(con: duckdb.DuckDBPyConnection) -> None:
    """unit_aliases from the units table: names always win; an alias shared by two units is dropped as ambiguous."""
    con.execute("DELETE FROM unit_aliases")
    con.execute(
        """
        INSERT INTO unit_aliases
        WITH a AS (
            SELECT zt_unit_norm(unit_name) AS alias_norm, unit_name, 'name' AS source FROM units
            UNION ALL
            SELECT zt_unit_norm(alias), unit_name, 'alias' FROM (SELECT unit_name, unnest(aliases) AS alias FROM units)
        ), ranked AS (
            SELECT alias_norm, unit_name, source,
                   count(DISTINCT unit_name) FILTER (WHERE source = 'name') OVER w AS names,
                   count(DISTINCT unit_name) OVER w AS units
            FROM a WINDOW w AS (PARTITION BY alias_norm)
        )
        SELECT DISTINCT alias_norm, unit_name, source FROM ranked
        WHERE alias_norm <> '' AND ((names = 1 AND source = 'name') OR (names = 0 AND units = 1))
        """
    )


def fuzzy_resolve(con: duckdb.DuckDBPyConnection, unresolved: list[str], threshold: float) -> pa.Table:
    """Match the distinct unresolved names (normalised) against every alias; returns raw_norm → unit_name table."""
    rows = con.execute("SELECT alias_norm, unit_name FROM unit_aliases").fetchall()
    choices = [r[0] for r in rows]
    owner = np.array([r[1] for r in rows], dtype=object)
    scores = score_matrix(unresolved, choices)
    out: list[Resolution] = []
    for i, name in enumerate(unresolved):  # distinct names that failed exact lookup, not rows
        top = np.argsort(-scores[i])[:12] if len(choices) else []
        best_by_unit: dict[str, float] = {}
        for idx in top:
            best_by_unit[owner[idx]] = max(best_by_unit.get(owner[idx], 0.0), float(scores[i, idx]))
        ranked = sorted(best_by_unit.items(), key=lambda kv: -kv[1])
        first = ranked[0] if ranked else (None, 0.0)
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        ok = first[0] is not None and first[1] >= threshold and first[1] - second >= MARGIN
        cands = "、".join(f"{u}（{s:.0f}）" for u, s in ranked[:3]) or "无"
        out.append(Resolution(name, first[0] if ok else None, float(first[1]), cands))
    return pa.table({
        "raw_norm": pa.array([r.raw_norm for r in out], pa.string()),
        "unit_name": pa.array([r.unit_name for r in out], pa.string()),
        "score": pa.array([r.score for r in out], pa.float64()),
        "candidates": pa.array([r.candidates for r in out], pa.string()),
    })
