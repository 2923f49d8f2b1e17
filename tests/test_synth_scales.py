"""Larger scales run the same generator over several counties, chunk by chunk: register numbers continue
across chunks, natural keys stay unique, every county carries its stories, and the people list moves to
truth_people.jsonl. Tested on a two-county 'province' with one county per chunk, to stay fast."""

from __future__ import annotations

import collections
import json

import pytest

from pipelines.synth import generator
from tests import synth_reading as sr


@pytest.fixture(scope="module")
def two_counties(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setitem(generator.SCALES, "city", 1)
    mp.setitem(generator.SCALES, "province", 2)
    mp.setattr(generator, "CHUNK_BLOCKS", 1)
    out = tmp_path_factory.mktemp("province2")
    try:
        summary = generator.generate("province", 3, out, start="2022-07", end="2025-06")
    finally:
        mp.undo()
    truth = sr.load(out)
    units = sr.unit_names(out, truth)
    rows = collections.defaultdict(list)
    for info in truth["files"]:
        good, _ = sr.validate(out, truth, info, units)
        rows[info["kind"]] += good
    return {"out": out, "summary": summary, "truth": truth, "rows": rows}


def test_two_counties_have_distinct_prefixed_units_and_teams(two_counties):
    units = two_counties["rows"]["units"]
    names = [u["unit_name"] for u in units]
    assert len(names) == len(set(names)) and 80 <= len(names) <= 120
    prefixes = {u["team"].split("纪委监委")[0] for u in units}
    assert len(prefixes) == 2 and all(p.endswith("县") and len(p) >= 3 for p in prefixes)
    assert all(n.startswith(tuple(prefixes)) for n in names)


def test_natural_keys_are_unique_across_chunks_and_files(two_counties):
    d = sr.dictionary()
    for kind, rows in two_counties["rows"].items():
        key = d[kind]["natural_key"]
        seen = collections.Counter(tuple(r.get(k) for k in key) for r in rows)
        dup = [k for k, c in seen.items() if c > 1]
        assert not dup, (kind, dup[:3])
    nos = [p["petition_no"] for p in two_counties["rows"]["petitions"]]
    years = {n[2:6] for n in nos}
    assert years == {"2022", "2023", "2024", "2025"}


def test_range_is_respected(two_counties):
    rows = two_counties["rows"]
    dates = [p["received_date"] for p in rows["petitions"]]
    assert min(dates).isoformat() >= "2022-07-01" and max(dates).isoformat() <= "2025-06-30"
    assert two_counties["truth"]["as_of"] == "2025-06-30"


def test_each_county_carries_its_stories_and_people_go_to_a_side_file(two_counties):
    truth = two_counties["truth"]
    stories = truth["stories"]
    assert len(stories) == 14 and len({s["id"] for s in stories}) == 14
    assert len(truth["risky_units"]) == 12 and len(truth["decoy_units"]) == 2
    assert "people" not in truth and truth["people_file"] == "truth_people.jsonl"
    lines = (two_counties["out"] / "truth_people.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == truth["people_count"] > 1000
    people = {json.loads(x)["name"] for x in lines}
    leaders = [s["person"]["name"] for s in stories if s["type"] == "leader_multichannel"]
    assert set(leaders) <= people
    reported = {p["reported_pid"] for p in two_counties["rows"]["petitions"] if p["reported_pid"]}
    assert set(leaders) <= reported


def test_large_scale_files_are_csv_except_the_roster(two_counties):
    formats = {f["kind"]: f["format"] for f in two_counties["truth"]["files"]}
    assert formats.pop("units") == "xlsx"
    assert set(formats.values()) == {"csv"}
    summary = two_counties["summary"]
    assert summary["records"] == sum(f["rows"] for f in summary["files"])
