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
import pyarrow as pa
from rapidfuzz import fuzz, process

DEFAULT_THRESHOLD = 88.0
MARGIN = 5.0  # the best candidate must beat the runner-up by this much, or it is no match


def _is_subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


# Institution-type endings that name the same body in different wordings: 卫健委/卫生健康局, 镇政府/镇人民政府.
_ENDINGS = re.compile(r"(有限责任公司|有限公司|集团公司|公司|委员会|人民政府|政府|局|委|办公室|办)$")


def _abbreviates(a: str, b: str) -> bool:
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return bool(short) and len(short) * 2 >= len(long) and _is_subsequence(short, long)


def score(a: str, b: str, **_: object) -> float:
    """Similarity 0-100 of two normalised unit names.

    Plain edit similarity, raised to 90 when one name keeps the other's characters in order and is at
    least half as long — that is how Chinese offices abbreviate (县卫健局 ← 县卫生健康局) — also after
    dropping the institution-type ending (县卫健委 ~ 县卫生健康局). Neighbouring towns (城东镇/城关镇)
    differ in a character and stay below the threshold.
    """
    base = fuzz.ratio(a, b)
    core_a, core_b = _ENDINGS.sub("", a), _ENDINGS.sub("", b)
    both_institutions = core_a != a and core_b != b  # compare cores only when both names end in a type word
    if _abbreviates(a, b) or (both_institutions and min(len(core_a), len(core_b)) >= 3 and _abbreviates(core_a, core_b)):
        return max(base, 90.0)
    return base


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
    owner = [r[1] for r in rows]
    out: list[Resolution] = []
    for name in unresolved:  # distinct names that failed exact lookup: a handful, not rows
        hits = process.extract(name, choices, scorer=score, limit=8)
        best_by_unit: dict[str, float] = {}
        for _alias, sc, idx in hits:
            best_by_unit[owner[idx]] = max(best_by_unit.get(owner[idx], 0.0), sc)
        ranked = sorted(best_by_unit.items(), key=lambda kv: -kv[1])
        top = ranked[0] if ranked else (None, 0.0)
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        ok = top[0] is not None and top[1] >= threshold and top[1] - second >= MARGIN
        cands = "、".join(f"{u}（{s:.0f}）" for u, s in ranked[:3]) or "无"
        out.append(Resolution(name, top[0] if ok else None, float(top[1]), cands))
    return pa.table({
        "raw_norm": pa.array([r.raw_norm for r in out], pa.string()),
        "unit_name": pa.array([r.unit_name for r in out], pa.string()),
        "score": pa.array([r.score for r in out], pa.float64()),
        "candidates": pa.array([r.candidates for r in out], pa.string()),
    })
