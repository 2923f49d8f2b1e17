"""Resolving unit names written in ledgers to the unit master (单位名册).

First by exact alias (the official name and its listed 简称/曾用名, compared without spaces and
brackets), with a join in SQL; then only the distinct names left go through the fuzzy matcher, above a
confidence threshold. Below it the row is rejected with the closest candidates named, so the analyst
can add the missing alias to the roster.

The fuzzy matcher works in blocks so that nothing grows with the roster: a name is compared only with the
aliases that share enough of its characters to possibly reach the threshold (AliasIndex: two or three of
its county's and town's characters, mostly), and every score matrix is a tile of at most TILE_QUERIES × TILE_CHOICES,
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
    core_q = [_core(q) for q in queries]
    core_c = [_core(c) for c in choices]
    if pairs:
        return _pair_scores(queries, core_q, choices, core_c)
    many = len(queries) * len(choices) > 20_000  # threads only pay for big batches

    def dist(a, b, scorer):
        return process.cdist(a, b, scorer=scorer, workers=-1 if many else 1)

    def lengths(texts, axis):
        return np.expand_dims(np.fromiter(map(len, texts), np.int64, len(texts)), axis)

    la, lb, ca, cb = lengths(queries, 1), lengths(choices, 0), lengths(core_q, 1), lengths(core_c, 0)
    ratio = dist(queries, choices, fuzz.ratio)
    abbr = _abbreviation(dist(queries, choices, LCSseq.similarity), la, lb)
    both = (ca < la) & (cb < lb) & (np.minimum(ca, cb) >= 3)  # compare cores only when both end in a type word
    core_abbr = both & _abbreviation(dist(core_q, core_c, LCSseq.similarity), ca, cb)
    return np.where(abbr | core_abbr, np.maximum(ratio, 90.0), ratio)


def _pair_scores(queries, core_q, choices, core_c) -> np.ndarray:
    """_scores of queries[i] against choices[i], the cores given (object arrays): the cores are compared only
    for the pairs where both names end in a type word."""
    if not len(queries):
        return np.zeros(0)
    many = len(queries) > 20_000  # threads pay for big batches
    n = len(queries)

    def dist(a, b, scorer):
        return process.cpdist(a, b, scorer=scorer, workers=-1 if many else 1)

    def lengths(texts):
        return np.fromiter(map(len, texts), np.int64, n)

    queries, core_q, choices, core_c = (np.asarray(x, dtype=object) for x in (queries, core_q, choices, core_c))
    la, lb, ca, cb = lengths(queries), lengths(choices), lengths(core_q), lengths(core_c)
    ratio = dist(queries, choices, fuzz.ratio)
    abbr = _abbreviation(dist(queries, choices, LCSseq.similarity), la, lb)
    both = np.flatnonzero((ca < la) & (cb < lb) & (np.minimum(ca, cb) >= 3) & ~abbr)
    if len(both):
        abbr[both] = _abbreviation(dist(core_q[both], core_c[both], LCSseq.similarity), ca[both], cb[both])
    return np.where(abbr, np.maximum(ratio, 90.0), ratio)


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
            # Only rows where the tile beats a kept score change (a tie with the k-th loses: it comes later).
            rows = np.flatnonzero((tile > s_run[:, -1:]).any(axis=1))
            if not len(rows):
                continue
            tile = tile[rows]
            idx = np.broadcast_to(np.arange(c0, c0 + tile.shape[1]), tile.shape)
            s_all = np.concatenate([s_run[rows], tile], axis=1)
            i_all = np.concatenate([i_run[rows], idx], axis=1)
            # best score first, then the earlier alias: the same order whatever the tiling
            order = np.lexsort((np.where(i_all < 0, np.iinfo(np.int64).max, i_all), -s_all), axis=1)[:, :k]
            s_run[rows] = np.take_along_axis(s_all, order, axis=1)
            i_run[rows] = np.take_along_axis(i_all, order, axis=1)
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


class AliasIndex:
    """The aliases with what scoring and blocking need, computed once: lengths, cores and their lengths as arrays,
    each character's postings (the aliases holding it, sorted), and the aliases keyed by their two rarest
    characters.

    `candidates(name, floor)` is every alias that could score at least `floor` against the name, by one of the
    three paths of score_matrix, each of which needs shared characters:
      edit similarity 200·LCS/(la+lb) ≥ floor  ⇒  the two share m ≥ floor·la/(200−floor) characters (and lb lies
          within a window around la). Counting filter: the alias holds at least m − s of the name's characters
          other than its s most common ones (skipped while m − s ≥ 1; a character the name holds twice counts
          twice, so the count can only overstate);
      abbreviation, the name (or its core) shorter  ⇒  the alias holds all of the name's (or core's) characters:
          the intersection of the postings of its rarest three;
      abbreviation, the alias (or its core) shorter  ⇒  all the alias's characters are in the name: the aliases
          keyed by a pair (or single) of the name's own characters.
    So the candidates are a superset of every alias that can reach `floor`. At national scale a county's
    characters are shared by dozens of counties, but two or three of them together by few: blocks stay small
    (tens to hundreds of aliases) where a one-character key gave thousands."""

    SKIP_SHARE = 1 / 4  # characters in more of the aliases than this (县, 局) are skipped by the edit filter

    def __init__(self, choices: list[str]):
        self.choices = np.array(choices, dtype=object)
        self.cores = np.array([_core(c) for c in choices], dtype=object)
        n = len(choices)
        self.n = n
        self.lengths = np.fromiter(map(len, choices), np.int64, n)
        self.core_lengths = np.fromiter(map(len, self.cores), np.int64, n)
        # Every (alias, distinct character) pair as arrays; postings are its runs by character.
        ids, cps = _char_pairs(choices, np.arange(n))
        order = np.lexsort((ids, cps))
        ids, cps = ids[order], cps[order]
        first = np.flatnonzero(np.r_[True, cps[1:] != cps[:-1]])  # cps is sorted: runs of one character
        uniq, counts = cps[first], np.diff(np.r_[first, len(cps)])
        self.postings = {chr(c): ids[a:a + k] for c, a, k in zip(uniq.tolist(), first.tolist(), counts.tolist())}
        self.df = {chr(c): k for c, k in zip(uniq.tolist(), counts.tolist())}
        # Each alias (and its core, when it ends in a type word) under the key of its two rarest characters.
        typed = np.flatnonzero((self.core_lengths < self.lengths) & (self.core_lengths >= 3))
        t_ids, t_cps = _char_pairs(list(self.choices) + list(self.cores[typed]), np.concatenate([np.arange(n), typed]))
        df = counts[np.searchsorted(uniq, t_cps)]  # a core's characters are all among its alias's
        order = np.lexsort((t_cps, df, t_ids))     # per text: rarest first (ties: the lower code point)
        t_ids, t_cps = t_ids[order], t_cps[order]
        starts = np.flatnonzero(np.r_[True, t_ids[1:] != t_ids[:-1]])
        c1 = t_cps[starts]
        has2 = (starts + 1 < len(t_ids)) & (t_ids[np.minimum(starts + 1, len(t_ids) - 1)] == t_ids[starts])
        c2 = np.where(has2, t_cps[np.minimum(starts + 1, len(t_ids) - 1)], _NONE)
        keys = _pair_key(c1, c2)
        order = np.argsort(keys, kind="stable")
        self._keys, self._keyed = keys[order], t_ids[starts][order]

    def _rarity(self, ch: str) -> tuple[int, str]:
        return self.df.get(ch, 0), ch

    def _holding_all(self, text: str) -> np.ndarray:
        """Aliases that hold the three rarest characters of `text` (all of them when shorter)."""
        rare = sorted(set(text), key=self._rarity)[:3]
        if any(ch not in self.postings for ch in rare):
            return np.zeros(0, dtype=np.int64)
        out = self.postings[rare[0]]
        for ch in rare[1:]:
            out = np.intersect1d(out, self.postings[ch], assume_unique=True)
        return out

    def _keyed_within(self, name: str) -> np.ndarray:
        """Aliases whose two rarest characters (or only one) are both in `name`."""
        cps = np.array(sorted({ord(ch) for ch in name}), dtype=np.int64)
        a, b = np.triu_indices(len(cps), 1)
        q = np.concatenate([_pair_key(cps, np.full(len(cps), _NONE)), _pair_key(cps[a], cps[b])])
        lo, hi = np.searchsorted(self._keys, q, "left"), np.searchsorted(self._keys, q, "right")
        hit = np.flatnonzero(hi > lo)
        return np.concatenate([self._keyed[lo[k]:hi[k]] for k in hit]) if len(hit) else np.zeros(0, dtype=np.int64)

    def candidates(self, name: str, floor: float) -> np.ndarray:
        """Sorted indices of the aliases that may score ≥ floor (> 0) against `name`."""
        la = len(name)
        parts = []
        # edit similarity: the counting filter over the name's characters, the most common skipped
        m = max(1, int(np.ceil(floor * la / (200.0 - floor) - 1e-9)))
        ranked = sorted(name, key=self._rarity)
        common = self.SKIP_SHARE * self.n
        s = 0
        while s < m - 1 and self.df.get(ranked[la - 1 - s], 0) > common:
            s += 1
        probe: dict[str, int] = {}
        for ch in ranked[:la - s]:
            probe[ch] = probe.get(ch, 0) + 1
        lists = [(self.postings[ch], w) for ch, w in probe.items() if ch in self.postings]
        if lists:
            ids = np.concatenate([p for p, _ in lists])
            if all(w == 1 for _, w in lists):
                hits = np.bincount(ids, minlength=self.n)
            else:
                hits = np.bincount(ids, weights=np.concatenate([np.full(len(p), w) for p, w in lists]), minlength=self.n)
            lo, hi = floor * la / (200.0 - floor) - 1e-9, la * (200.0 - floor) / floor + 1e-9
            parts.append(np.flatnonzero((hits >= m - s) & (self.lengths >= lo) & (self.lengths <= hi)))
        # abbreviations, the name shorter: the alias holds every character of the name (or of its core)
        core = _core(name)
        parts.append(self._holding_all(core if _typed(name, core) else name))
        # abbreviations, the alias shorter: its two rarest characters are among the name's
        parts.append(self._keyed_within(name))
        return _distinct(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)


_NONE = (1 << 21) - 1  # no second character (code points end below 2**21)


def _pair_key(c1: np.ndarray, c2: np.ndarray) -> np.ndarray:
    """One integer for an unordered pair of code points (or one code point and _NONE)."""
    return np.minimum(c1, c2) << 21 | np.maximum(c1, c2)


def _char_pairs(texts: list[str], owner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (owner of the text, code point) pairs of texts, sorted by owner then code point."""
    lens = np.fromiter(map(len, texts), np.int64, len(texts))
    cps = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    key = _distinct(np.repeat(np.asarray(owner, dtype=np.int64), lens) << 21 | cps)
    return key >> 21, key & _NONE


def _distinct(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values of an integer array (a sort, cheaper here than np.unique's hashing)."""
    a = np.sort(a)
    return a[np.r_[True, a[1:] != a[:-1]]] if len(a) else a


def _typed(name: str, core: str) -> bool:
    """The name ends in an institution-type word and its core is long enough to be compared (score_matrix)."""
    return len(core) < len(name) and len(core) >= 3


def match(names: list[str], choices: list[str], owner: np.ndarray, threshold: float,
          index: AliasIndex | None = None) -> list[Resolution]:
    """Resolve distinct normalised names against aliases (`owner[i]` is the unit of `choices[i]`).

    Each name is scored against its AliasIndex candidates: every alias that can reach threshold − MARGIN, so the
    best unit and whether the runner-up comes within MARGIN of it are those of the full matrix. The (name,
    candidate) pairs are scored in batches of PAIR_BATCH. A name that finds no match is rejected naming its
    closest units, which must be the full matrix's: its block's are, when the block holds TOP aliases at the floor
    or above (every alias at the floor is in the block, so the best TOP are those of every alias); otherwise it
    is scored against every alias, tile by tile. A wider block (a lower floor) before that was tried: at national
    scale it held ~12,000 aliases a name and still left a third of the names to the full scan."""
    out: dict[str, Resolution] = {}
    floor = threshold - MARGIN
    retry = list(names)
    if floor > 0 and choices:
        index = index or AliasIndex(choices)
        retry = _match_blocks(retry, index, owner, threshold, floor, out)
    if retry:
        idx, sc = top_aliases(retry, choices)
        for j, n in enumerate(retry):
            out[n] = _resolve(n, idx[j], sc[j], owner, threshold)
    return [out[n] for n in names]


def _match_blocks(names: list[str], index: AliasIndex, owner: np.ndarray, threshold: float, floor: float,
                  out: dict[str, Resolution]) -> list[str]:
    """Score names against their blocks at `floor`, in batches of about PAIR_BATCH pairs; returns the names left."""
    left: list[str] = []
    batch: list[tuple[str, np.ndarray]] = []
    size = 0
    for n in names:
        cand = index.candidates(n, floor)
        if not len(cand):
            left.append(n)
            continue
        batch.append((n, cand))
        size += len(cand)
        if size >= PAIR_BATCH:
            left += _match_pairs(batch, index, owner, threshold, floor, out)
            batch, size = [], 0
    return left + _match_pairs(batch, index, owner, threshold, floor, out)


def _match_pairs(batch: list[tuple[str, np.ndarray]], index: AliasIndex, owner: np.ndarray, threshold: float,
                 floor: float, out: dict[str, Resolution]) -> list[str]:
    """Score each name against its candidates in one vectorised pass. Names that resolve go to `out`, and so do
    those whose block holds TOP aliases at `floor` or above; the rest are returned."""
    if not batch:
        return []
    counts = np.array([len(c) for _, c in batch])
    who = np.repeat(np.arange(len(batch)), counts)
    cand = np.concatenate([c for _, c in batch])
    queries = np.array([n for n, _ in batch], dtype=object)
    q_cores = np.array([_core(n) for n, _ in batch], dtype=object)
    sc = _pair_scores(queries[who], q_cores[who], index.choices[cand], index.cores[cand])
    order = np.lexsort((cand, -sc, who))  # per name: best score first, then the earlier alias
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    at_floor = np.bincount(who, weights=sc >= floor, minlength=len(batch))
    left = []
    for k, (name, _) in enumerate(batch):
        take = order[starts[k]:starts[k] + min(TOP, counts[k])]
        r = _resolve(name, cand[take], sc[take], owner, threshold)
        if r.unit_name is not None or at_floor[k] >= TOP:
            out[name] = r
        else:
            left.append(name)
    return left


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


class Matcher:
    """Resolves names against the warehouse's aliases as they stand when it is made, and keeps every resolution:
    a name that many ledgers of a batch write the same way is matched once. Make a new one when the roster
    changes."""

    def __init__(self, con: duckdb.DuckDBPyConnection, threshold: float):
        rows = con.execute("SELECT alias_norm, unit_name FROM unit_aliases ORDER BY alias_norm, unit_name").fetchall()
        self.choices = [r[0] for r in rows]
        self.owner = np.array([r[1] for r in rows], dtype=object)
        self.threshold = threshold
        self._index: AliasIndex | None = None
        self.known: dict[str, Resolution] = {}

    def resolve(self, names: list[str]) -> list[Resolution]:
        todo = [n for n in dict.fromkeys(names) if n not in self.known]
        if todo:
            if self._index is None and self.choices and self.threshold - MARGIN > 0:
                self._index = AliasIndex(self.choices)
            for r in match(todo, self.choices, self.owner, self.threshold, self._index):
                self.known[r.raw_norm] = r
        return [self.known[n] for n in names]


def fuzzy_resolve(con: duckdb.DuckDBPyConnection, unresolved: list[str], threshold: float,
                  matcher: Matcher | None = None) -> pa.Table:
    """Match the distinct unresolved names (normalised) against the aliases; returns raw_norm → unit_name table.
    `matcher` (made on `con` with the same threshold) carries what earlier files of the batch resolved."""
    out = (matcher or Matcher(con, threshold)).resolve(unresolved) if unresolved else []
    return pa.table({
        "raw_norm": pa.array([r.raw_norm for r in out], pa.string()),
        "unit_name": pa.array([r.unit_name for r in out], pa.string()),
        "score": pa.array([r.score for r in out], pa.float64()),
        "candidates": pa.array([r.candidates for r in out], pa.string()),
    })
