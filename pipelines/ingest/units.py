"""Resolving unit names written in ledgers to the unit master (单位名册).

First by exact alias (the official name and its listed 简称/曾用名, compared without spaces and
brackets), with a join in SQL; then only the distinct names left go through the fuzzy matcher, above a
confidence threshold. Below it the row is rejected with the closest candidates named, so the analyst
can add the missing alias to the roster.

The fuzzy matcher works in blocks so that nothing grows with the roster: a name is compared only with the
aliases that share enough of its rare characters to possibly reach the threshold (CharBlocks: its county's
and town's characters, mostly), and every score matrix is a tile of at most TILE_QUERIES × TILE_CHOICES,
keeping the best TOP aliases per name. Only names that find no match (genuine unknowns, to be rejected with
their closest units) are compared with every alias, tile by tile. The blocks are chosen so that the
resolutions are those of the full matrix (tests/test_ingest_units.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import duckdb
import numpy as np
import pyarrow as pa
from rapidfuzz import fuzz, process
from rapidfuzz.distance import LCSseq

DEFAULT_THRESHOLD = 88.0
MARGIN = 5.0  # the best candidate must beat the runner-up by this much, or it is no match


# Institution-type endings that name the same body in different wordings: 卫健委/卫生健康局, 镇政府/镇人民政府.
_ENDINGS = re.compile(r"(有限责任公司|有限公司|集团公司|公司|委员会|人民政府|政府|局|委|办公室|办)$")


@lru_cache(maxsize=1 << 18)
def _core(name: str) -> str:
    """The name without its institution-type ending."""
    return _ENDINGS.sub("", name)


def _abbreviation(lcs: np.ndarray, la: np.ndarray, lb: np.ndarray) -> np.ndarray:
    """One name keeps all of the other's characters in order (LCS = the shorter length) and is at least half as long."""
    short, long = np.minimum(la, lb), np.maximum(la, lb)
    return (short > 0) & (lcs == short) & (short * 2 >= long)


def _scores(queries: list[str], choices: list[str], pairs: bool) -> np.ndarray:
    """Similarity 0-100 of every query against every choice (pairs=False: a matrix) or of queries[i] against
    choices[i] (pairs=True: a vector), on normalised unit names, vectorised.

    Plain edit similarity, raised to 90 when one name abbreviates the other — that is how Chinese
    offices shorten names (县卫健局 ← 县卫生健康局) — also after dropping an institution-type ending when
    both names have one (县卫健委 ~ 县卫生健康局). Neighbouring towns (城东镇/城关镇) differ in a
    character and stay below the threshold. rapidfuzz computes the scores in C.
    """
    if not queries or not choices:
        return np.zeros(0 if pairs else (len(queries), len(choices)))
    many = len(queries) * (1 if pairs else len(choices)) > 20_000  # threads only pay for big batches
    run = process.cpdist if pairs else process.cdist

    def dist(a, b, scorer):
        return run(a, b, scorer=scorer, workers=-1 if many else 1)

    def lengths(texts, axis):
        n = np.array([len(t) for t in texts])
        return n if pairs else np.expand_dims(n, axis)

    core_q = [_core(q) for q in queries]
    core_c = [_core(c) for c in choices]
    la, lb, ca, cb = lengths(queries, 1), lengths(choices, 0), lengths(core_q, 1), lengths(core_c, 0)
    ratio = dist(queries, choices, fuzz.ratio)
    abbr = _abbreviation(dist(queries, choices, LCSseq.similarity), la, lb)
    both = (ca < la) & (cb < lb) & (np.minimum(ca, cb) >= 3)  # compare cores only when both end in a type word
    core_abbr = both & _abbreviation(dist(core_q, core_c, LCSseq.similarity), ca, cb)
    return np.where(abbr | core_abbr, np.maximum(ratio, 90.0), ratio)


def score_matrix(queries: list[str], choices: list[str]) -> np.ndarray:
    """Similarity of every query against every choice (see _scores)."""
    return _scores(queries, choices, pairs=False)


def score(a: str, b: str) -> float:
    """score_matrix for one pair."""
    return float(score_matrix([a], [b])[0, 0])


TOP = 12               # best aliases kept per name (a unit has a few aliases: enough for the best three units)
TILE_QUERIES = 256
TILE_CHOICES = 4096    # a tile's three score matrices: 256 × 4096 × 3 × 8 bytes ≈ 25 MB
PAIR_BATCH = 1 << 20   # (name, candidate) pairs scored at once


@dataclass(frozen=True)
class Resolution:
    raw_norm: str
    unit_name: str | None
    score: float
    candidates: str  # "A（82）、B（75）" for the rejection message


def top_aliases(queries: list[str], choices: list[str], k: int = TOP) -> tuple[np.ndarray, np.ndarray]:
    """(indices, scores), each len(queries) × k, of every query's k best choices, best first (ties: lower index
    first; index −1 where there are fewer than k choices), computed tile by tile in bounded memory."""
    n_q = len(queries)
    best_s = np.full((n_q, k), -1.0)
    best_i = np.full((n_q, k), -1, dtype=np.int64)
    for q0 in range(0, n_q, TILE_QUERIES):
        qs = queries[q0:q0 + TILE_QUERIES]
        s_run, i_run = best_s[q0:q0 + len(qs)], best_i[q0:q0 + len(qs)]
        for c0 in range(0, len(choices), TILE_CHOICES):
            tile = score_matrix(qs, choices[c0:c0 + TILE_CHOICES])
            idx = np.broadcast_to(np.arange(c0, c0 + tile.shape[1]), tile.shape)
            s_all = np.concatenate([s_run, tile], axis=1)
            i_all = np.concatenate([i_run, idx], axis=1)
            # best score first, then the earlier alias: the same order whatever the tiling
            order = np.lexsort((np.where(i_all < 0, np.iinfo(np.int64).max, i_all), -s_all), axis=1)[:, :k]
            s_run[:] = np.take_along_axis(s_all, order, axis=1)
            i_run[:] = np.take_along_axis(i_all, order, axis=1)
    return best_i, best_s


def _resolve(name: str, idx: np.ndarray, scores: np.ndarray, owner: np.ndarray, threshold: float) -> Resolution:
    """The best unit among a name's top aliases, if it clears the threshold and beats the runner-up by MARGIN."""
    best_by_unit: dict[str, float] = {}
    for i, sc in zip(idx, scores):
        if i >= 0:
            best_by_unit[owner[i]] = max(best_by_unit.get(owner[i], 0.0), float(sc))
    ranked = sorted(best_by_unit.items(), key=lambda kv: -kv[1])
    first = ranked[0] if ranked else (None, 0.0)
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    ok = first[0] is not None and first[1] >= threshold and first[1] - second >= MARGIN
    cands = "、".join(f"{u}（{s:.0f}）" for u, s in ranked[:3]) or "无"
    return Resolution(name, first[0] if ok else None, float(first[1]), cands)


class CharBlocks:
    """Which aliases a name must be compared with: every alias that could score at least `floor` against it.

    A score comes from one of three paths (score_matrix), and each needs shared characters:
      edit similarity 200·LCS/(la+lb) ≥ floor  ⇒  the two share m ≥ floor·la/(200−floor) characters, so the alias
          contains one of the name's la−m+1 rarest characters (prefix filtering: m shared among la can't all sit
          in the last m−1);
      abbreviation, the name shorter  ⇒  the alias contains all the name's characters, its rarest among them;
      abbreviation, the alias shorter  ⇒  all the alias's characters are in the name, its own rarest among them;
    and the same two for the cores (names without their 局/公司/人民政府 ending). So the candidates are the aliases
    listed under a few rare characters of the name, plus those whose rarest character (or core's) is in the name:
    a superset of every alias that can reach `floor`, usually a small one, since the rarest characters of a
    name are its county's and town's."""

    def __init__(self, choices: list[str]):
        self.choices = choices
        postings: dict[str, list[int]] = {}
        for i, c in enumerate(choices):
            for ch in set(c):
                postings.setdefault(ch, []).append(i)
        self.df = {ch: len(ids) for ch, ids in postings.items()}
        self.postings = {ch: np.array(ids, dtype=np.int64) for ch, ids in postings.items()}
        rarest: dict[str, list[int]] = {}
        for i, c in enumerate(choices):
            for text in {c, _core(c)}:
                if text:
                    rarest.setdefault(self._rarest(text), []).append(i)
        self.by_rarest = {ch: np.array(ids, dtype=np.int64) for ch, ids in rarest.items()}

    def _rarest(self, text: str) -> str:
        return min(text, key=lambda ch: (self.df.get(ch, 0), ch))

    def candidates(self, name: str, floor: float) -> np.ndarray:
        """Sorted indices of the aliases that may score ≥ floor (> 0) against `name`."""
        la = len(name)
        m = max(1, int(np.ceil(floor * la / (200.0 - floor) - 1e-9)))
        by_rarity = sorted(name, key=lambda ch: (self.df.get(ch, 0), ch))
        keys = set(by_rarity[:max(1, la - m + 1)])
        core = _core(name)
        if core:
            keys.add(self._rarest(core))
        parts = [self.postings[ch] for ch in keys if ch in self.postings]
        parts += [self.by_rarest[ch] for ch in set(name) if ch in self.by_rarest]
        return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)


def match(names: list[str], choices: list[str], owner: np.ndarray, threshold: float) -> list[Resolution]:
    """Resolve distinct normalised names against aliases (`owner[i]` is the unit of `choices[i]`).

    Each name is scored against its CharBlocks candidates: every alias that can reach threshold − MARGIN, so the
    best unit and whether the runner-up comes within MARGIN of it are those of the full matrix. The (name,
    candidate) pairs are scored in batches of PAIR_BATCH. A name that finds no match is scored against every alias,
    tile by tile, so that its rejection names the same closest units."""
    out: dict[str, Resolution] = {}
    floor = threshold - MARGIN
    retry: list[str] = []
    if floor <= 0 or not choices:
        retry = list(names)
    else:
        blocks = CharBlocks(choices)
        batch: list[tuple[str, np.ndarray]] = []
        size = 0
        for n in names:
            cand = blocks.candidates(n, floor)
            if not len(cand):
                retry.append(n)
                continue
            batch.append((n, cand))
            size += len(cand)
            if size >= PAIR_BATCH:
                retry += _match_pairs(batch, choices, owner, threshold, out)
                batch, size = [], 0
        retry += _match_pairs(batch, choices, owner, threshold, out)
    if retry:
        idx, sc = top_aliases(retry, choices)
        for j, n in enumerate(retry):
            out[n] = _resolve(n, idx[j], sc[j], owner, threshold)
    return [out[n] for n in names]


def _match_pairs(batch: list[tuple[str, np.ndarray]], choices: list[str], owner: np.ndarray, threshold: float,
                 out: dict[str, Resolution]) -> list[str]:
    """Score each name against its candidates in one vectorised pass; resolved names go to `out`, the rest are returned."""
    if not batch:
        return []
    counts = np.array([len(c) for _, c in batch])
    who = np.repeat(np.arange(len(batch)), counts)
    cand = np.concatenate([c for _, c in batch])
    sc = _scores([batch[w][0] for w in who], [choices[i] for i in cand], pairs=True)
    order = np.lexsort((cand, -sc, who))  # per name: best score first, then the earlier alias
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    missed = []
    for k, (name, _) in enumerate(batch):
        take = order[starts[k]:starts[k] + min(TOP, counts[k])]
        r = _resolve(name, cand[take], sc[take], owner, threshold)
        if r.unit_name is None:
            missed.append(name)
        else:
            out[name] = r
    return missed


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
    """Match the distinct unresolved names (normalised) against the aliases; returns raw_norm → unit_name table."""
    choices, owner = [], []
    if unresolved:
        rows = con.execute("SELECT alias_norm, unit_name FROM unit_aliases ORDER BY alias_norm, unit_name").fetchall()
        choices = [r[0] for r in rows]
        owner = [r[1] for r in rows]
    out = match(unresolved, choices, np.array(owner, dtype=object), threshold)
    return pa.table({
        "raw_norm": pa.array([r.raw_norm for r in out], pa.string()),
        "unit_name": pa.array([r.unit_name for r in out], pa.string()),
        "score": pa.array([r.score for r in out], pa.float64()),
        "candidates": pa.array([r.candidates for r in out], pa.string()),
    })
