"""Blocked fuzzy matching of unit names gives the resolutions of the full score matrix, in bounded tiles."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from pipelines.ingest import units as units_mod
from pipelines.synth.roster import Block, build_block, county_names, fuzzy_variant
from pipelines.warehouse import sql_file
from tests.analysis_fixtures import warehouse


def roster(n_counties: int, seed: int):
    rng = np.random.default_rng(seed)
    prefixes = ["县"] if n_counties == 1 else [c + "县" for c in county_names(rng, n_counties)]
    return [build_block(Block(i, p), rng) for i, p in enumerate(prefixes)]


def aliases(blocks) -> tuple[list[str], np.ndarray]:
    """The warehouse's unit_aliases (normalised alias → unit) for these roster blocks, through the real SQL."""
    con = warehouse()
    con.execute(sql_file("ingest_macros.sql"))
    for df in blocks:
        con.register("df", df)
        con.execute("""INSERT INTO units BY NAME SELECT unit_name, aliases, kind, sector, team, headcount,
                       'roster.xlsx' AS source_file, 1 AS source_row, 1 AS run_id, '' AS row_hash, now() AS loaded_at FROM df""")
        con.unregister("df")
    units_mod.rebuild_aliases(con)
    rows = con.execute("SELECT alias_norm, unit_name FROM unit_aliases ORDER BY alias_norm, unit_name").fetchall()
    con.close()
    return [r[0] for r in rows], np.array([r[1] for r in rows], dtype=object)


def written_names(blocks, choices: list[str], seed: int) -> list[str]:
    """Names as ledgers write them that an exact look-up misses: the generator's near misses, dropped prefixes,
    a character changed, dropped, added or swapped, and names of units that are not on the roster."""
    rng = np.random.default_rng(seed)
    known = set(choices)
    names = [n for df in blocks for n in df["unit_name"]] + [a for df in blocks for al in df["aliases"] for a in al]
    pool = sorted({ch for n in names for ch in n})
    out = set()
    for df in blocks:
        prefix = df["prefix"].iloc[0]
        for name in df["unit_name"]:
            v = fuzzy_variant(name, known, [o for o in names if o != name])
            if v:
                out.add(v)
            if name.startswith(prefix) and len(name) > len(prefix) + 1:
                out.add(name[len(prefix):])
    for name in rng.choice(names, size=min(len(names), 400), replace=False):
        k = int(rng.integers(0, len(name)))
        ch = str(rng.choice(pool))
        out |= {name[:k] + ch + name[k + 1:], name[:k] + name[k + 1:], name[:k] + ch + name[k:]}
        if k + 1 < len(name):
            out.add(name[:k] + name[k + 1] + name[k] + name[k + 2:])
    out |= {"".join(rng.choice(pool, size=int(rng.integers(3, 10)))) for _ in range(100)}
    return sorted(n for n in out if n and n not in known)


def full_matrix(names: list[str], choices: list[str], owner: np.ndarray, threshold: float) -> list:
    """The reference: every name scored against every alias at once, best TOP aliases per name."""
    scores = units_mod.score_matrix(names, choices)
    order = np.lexsort((np.broadcast_to(np.arange(len(choices)), scores.shape), -scores), axis=1)[:, :units_mod.TOP]
    return [units_mod._resolve(n, order[j], scores[j, order[j]], owner, threshold) for j, n in enumerate(names)]


@pytest.mark.parametrize("counties, threshold", [(1, units_mod.DEFAULT_THRESHOLD), (1, 75.0), (4, units_mod.DEFAULT_THRESHOLD)])
def test_blocked_matching_resolves_as_the_full_matrix(counties, threshold, monkeypatch):
    blocks = roster(counties, seed=11 + counties)
    choices, owner = aliases(blocks)
    names = written_names(blocks, choices, seed=5)
    monkeypatch.setattr(units_mod, "TILE_QUERIES", 17)  # many tiles, odd sizes: the tiling must not matter
    monkeypatch.setattr(units_mod, "TILE_CHOICES", 29)
    blocked = units_mod.match(names, choices, owner, threshold)
    full = full_matrix(names, choices, owner, threshold)
    assert [r.raw_norm for r in blocked] == names
    resolved = {r.raw_norm: r.unit_name for r in blocked}
    expected = {r.raw_norm: r.unit_name for r in full}
    assert resolved == expected
    # not a vacuous comparison: many near misses resolve, many names do not
    matched = sum(u is not None for u in resolved.values())
    assert len(names) > 300 and 0.2 * len(names) < matched < 0.9 * len(names)
    # a name the matcher rejects names the same closest units as the full matrix
    assert [r.candidates for r in blocked if r.unit_name is None] == [r.candidates for r in full if r.unit_name is None]


def test_dropped_prefix_falls_back_to_every_alias():
    """县教育局 written 教育局 is in no block of its own: the fallback over every alias still finds it."""
    choices, owner = aliases(roster(1, seed=3))
    [r] = units_mod.match(["教育局"], choices, owner, units_mod.DEFAULT_THRESHOLD)
    assert r.unit_name == "县教育局"


def test_tiles_bound_the_score_matrices(monkeypatch):
    """No score matrix is larger than one tile, however many names and aliases there are."""
    shapes = []
    real = units_mod.score_matrix

    def spy(queries, choices):
        shapes.append((len(queries), len(choices)))
        return real(queries, choices)

    monkeypatch.setattr(units_mod, "score_matrix", spy)
    monkeypatch.setattr(units_mod, "TILE_QUERIES", 8)
    monkeypatch.setattr(units_mod, "TILE_CHOICES", 64)
    choices, owner = aliases(roster(4, seed=2))
    names = written_names(roster(4, seed=2), choices, seed=1)[:50]
    units_mod.match(names, choices, owner, units_mod.DEFAULT_THRESHOLD)
    assert shapes and max(q for q, _ in shapes) <= 8 and max(c for _, c in shapes) <= 64
    assert len(choices) > 64 and len(names) > 8


def test_top_aliases_break_ties_by_position():
    idx, sc = units_mod.top_aliases(["县教育局"], ["县教育局", "县教育局", "县财政局"], k=4)
    assert idx.tolist() == [[0, 1, 2, -1]] and sc[0, 0] == sc[0, 1] == 100


def test_no_aliases_rejects_with_no_candidates():
    [r] = units_mod.match(["县教育局"], [], np.array([], dtype=object), units_mod.DEFAULT_THRESHOLD)
    assert r.unit_name is None and r.candidates == "无"


def test_fuzzy_resolve_reads_the_warehouse_aliases():
    con = duckdb.connect()
    con.execute("CREATE TEMP TABLE unit_aliases (alias_norm VARCHAR, unit_name VARCHAR)")
    con.execute("INSERT INTO unit_aliases VALUES ('县卫生健康局', '县卫生健康局'), ('县教育局', '县教育局')")
    t = units_mod.fuzzy_resolve(con, ["县卫健局", "县审计局"], units_mod.DEFAULT_THRESHOLD).to_pylist()
    assert [(r["raw_norm"], r["unit_name"]) for r in t] == [("县卫健局", "县卫生健康局"), ("县审计局", None)]


@pytest.mark.parametrize("threshold", [units_mod.DEFAULT_THRESHOLD, 75.0, 60.0])
def test_blocks_hold_every_alias_that_reaches_the_floor(threshold):
    """The blocking is a filter, never a guess: every alias that scores threshold − MARGIN or more against a
    name is among its candidates (12 counties, so county characters are shared as at national scale)."""
    blocks = roster(12, seed=29)
    choices, _owner = aliases(blocks)
    names = written_names(blocks, choices, seed=8)
    floor = threshold - units_mod.MARGIN
    index = units_mod.AliasIndex(choices)
    scores = units_mod.score_matrix(names, choices)
    sizes = []
    for j, name in enumerate(names):
        reach = set(np.flatnonzero(scores[j] >= floor).tolist())
        got = index.candidates(name, floor)
        assert reach <= set(got.tolist()), name
        sizes.append(len(got))
    # and a filter that filters: a name's block is a small part of the roster's aliases
    if threshold == units_mod.DEFAULT_THRESHOLD:
        assert np.mean(sizes) < 0.1 * len(choices)


def test_matcher_resolves_each_name_once(monkeypatch):
    """A batch's files share one Matcher: a name written in many ledgers is matched once, with the same result."""
    con = duckdb.connect()
    con.execute("CREATE TEMP TABLE unit_aliases (alias_norm VARCHAR, unit_name VARCHAR)")
    con.execute("INSERT INTO unit_aliases VALUES ('县卫生健康局', '县卫生健康局'), ('县教育局', '县教育局')")
    matcher = units_mod.Matcher(con, units_mod.DEFAULT_THRESHOLD)
    calls = []
    real = units_mod.match
    monkeypatch.setattr(units_mod, "match", lambda names, *a, **k: calls.append(list(names)) or real(names, *a, **k))
    first = units_mod.fuzzy_resolve(con, ["县卫健局", "县审计局"], units_mod.DEFAULT_THRESHOLD, matcher).to_pylist()
    again = units_mod.fuzzy_resolve(con, ["县审计局", "县卫健局", "县教育厅"], units_mod.DEFAULT_THRESHOLD, matcher).to_pylist()
    assert calls == [["县卫健局", "县审计局"], ["县教育厅"]]
    assert [(r["raw_norm"], r["unit_name"]) for r in first] == [("县卫健局", "县卫生健康局"), ("县审计局", None)]
    assert [(r["raw_norm"], r["unit_name"]) for r in again] == [("县审计局", None), ("县卫健局", "县卫生健康局"), ("县教育厅", None)]
