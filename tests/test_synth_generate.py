"""The synthetic county: reproducible, plausible, messy in the documented ways, with exactly the bad rows
and the stories that truth.json says it has."""

from __future__ import annotations

import collections
import hashlib
import re

import pytest

from pipelines.errors import UserError
from pipelines.synth import generate
from pipelines.synth.people import id_valid
from tests import synth_reading as sr

KINDS = ["units", "petitions", "inspection_findings", "audit_findings", "cases", "inquiries", "major_decisions",
         "responsibility_checks"]


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    out = tmp_path_factory.mktemp("county7")
    summary = generate("county", 7, out)
    truth = sr.load(out)
    units = sr.unit_names(out, truth)
    rows = collections.defaultdict(list)
    rejected = {}
    for info in truth["files"]:
        good, bad = sr.validate(out, truth, info, units)
        rows[info["kind"]] += good
        rejected[info["file"]] = bad
    return {"out": out, "summary": summary, "truth": truth, "units": units, "rows": rows, "rejected": rejected}


def _digest(path):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.iterdir())}


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(county, tmp_path):
    again = tmp_path / "again"
    generate("county", 7, again)
    assert _digest(again) == _digest(county["out"])
    other = tmp_path / "other"
    generate("county", 8, other)
    assert (other / "truth.json").read_bytes() != (county["out"] / "truth.json").read_bytes()


def test_unknown_scale_is_a_user_error_listing_the_scales(tmp_path):
    with pytest.raises(UserError, match="county, city, province, national"):
        generate("galaxy", 1, tmp_path)


def test_every_kind_has_files_and_the_roster_looks_like_a_county(county):
    kinds = {f["kind"] for f in county["truth"]["files"]}
    assert kinds == set(KINDS)
    units = county["rows"]["units"]
    assert 40 <= len(units) <= 60
    names = {u["unit_name"] for u in units}
    for must in ("县教育局", "县财政局", "县市场监督管理局", "县人民医院", "县第一中学", "城关镇人民政府"):
        assert must in names
    assert {u["kind"] for u in units} == {"部门", "乡镇", "学校", "医院", "国有企业"}
    assert len({u["team"] for u in units}) >= 5
    assert all(re.fullmatch(r"县纪委监委第[一二三四五六七八九十]+派驻纪检监察组", u["team"]) for u in units)
    formats = {(f["format"], f["encoding"]) for f in county["truth"]["files"]}
    assert any(f == "xlsx" for f, _ in formats) and any(f == "csv" for f, _ in formats)


def test_every_header_maps_to_a_dictionary_column(county):
    d = sr.dictionary()
    for info in county["truth"]["files"]:
        for header, column in info["header_map"].items():
            names = d[info["kind"]]["header_lookup"].get(sr.norm_header(header), set())
            if column is None:
                assert header in sr.EXTRA_HEADERS
            else:
                assert names == {column}, (info["file"], header)
        mapped = {c for c in info["header_map"].values() if c}
        assert mapped == {c["name"] for c in d[info["kind"]]["columns"]}, info["file"]


def test_exactly_the_planted_bad_rows_are_rejected(county):
    total_rows = 0
    total_bad = 0
    for info in county["truth"]["files"]:
        planted = {(s["sheet"], b["line"]) for s in info["sheets"] for b in s["bad"]}
        assert len(planted) == info["bad_rows"]
        assert set(county["rejected"][info["file"]]) == planted, info["file"]
        total_rows += info["data_rows"]
        total_bad += info["bad_rows"]
    assert 0.004 <= total_bad / total_rows <= 0.012


def test_base_rates_are_plausible(county):
    rows = county["rows"]
    staff = sum(u["headcount"] for u in rows["units"])
    years = 3
    assert 2 <= len(rows["petitions"]) / staff * 100 / years <= 6
    verified = [p for p in rows["petitions"] if p["outcome"]]
    sub = sum(p["outcome"] in ("属实", "部分属实") for p in verified) / len(verified)
    assert 0.2 <= sub <= 0.4
    inq = rows["inquiries"]
    assert 0.12 <= sum(i["method"] == "谈话" for i in inq) / len(inq) <= 0.32
    forms = [c["form"] for c in rows["cases"]]
    assert 0.58 <= forms.count("1") / len(forms) <= 0.78
    per_unit_year = len(rows["major_decisions"]) / len(rows["units"]) / years
    assert 10 <= per_unit_year <= 30
    lag = [(d["filing_date"] - d["decision_date"]).days for d in rows["major_decisions"]]
    assert sum(x <= 15 for x in lag) / len(lag) >= 0.9
    towns = [p for p in rows["petitions"] if p["unit_name"].endswith(("镇人民政府", "乡人民政府"))]
    others = [p for p in rows["petitions"] if p not in towns]
    share = lambda ps: sum(p["category"] == "群众纪律" for p in ps) / len(ps)  # noqa: E731
    assert share(towns) > share(others)
    inspected = {f["unit_name"] for f in rows["inspection_findings"]}
    assert len(inspected) >= 0.9 * len(rows["units"])


def test_people_are_consistent_and_valid(county):
    people = county["truth"]["people"]
    ids = [p["id_number"] for p in people if p["id_number"]]
    assert ids and all(id_valid(i) for i in ids)
    assert all(re.fullmatch(r"1[3-9]\d{9}", p["phone"]) for p in people if p["phone"])
    staff = {p["name"] for p in people if p["role"] == "staff"}
    # the same person appears across ledgers: case persons were reported in petitions first
    reported = {p["reported_pid"] for p in county["rows"]["petitions"] if p["reported_pid"]}
    handled = {c["person_pid"] for c in county["rows"]["cases"] if c["source"] == "信访举报"}
    # (a case's petition may sit in a planted bad row, which the reader rejects)
    assert handled and len(handled - reported) <= 2 and reported <= staff
    for c in county["rows"]["cases"]:
        assert c["id_number_pid"] in ids


def test_names_in_texts_only_where_the_row_names_them(county):
    names = {p["name"] for p in county["truth"]["people"]}
    mentioned = 0
    for p in county["rows"]["petitions"]:
        text = p["content"] or ""
        row_names = {p["reported_pid"], p["petitioner_pid"]} - {None}
        found = {n for n in names if n in text}
        # a short name inside a longer name of the row (金敏 in 郭金敏) is masked with it
        found = {n for n in found if not any(n in r for r in row_names)} | (found & row_names)
        assert found <= row_names, (p["_line"], found - row_names)
        mentioned += bool(found)
    assert mentioned >= 20
    # personal names never hide in other free text or in unit names
    others = [f["finding"] for f in county["rows"]["inspection_findings"]] + \
             [f["finding"] or "" for f in county["rows"]["audit_findings"]] + \
             [d["item"] for d in county["rows"]["major_decisions"]] + list(county["units"])
    blob = "\n".join(others)
    assert not [n for n in names if n in blob]
    with_numbers = [p for p in county["rows"]["petitions"] if re.search(r"1[3-9]\d{9}|\d{17}[\dX]", p["content"] or "")]
    assert len(with_numbers) >= 10


def _story(county, kind):
    return next(s for s in county["truth"]["stories"] if s["type"] == kind)


def test_story_units_exist_and_risky_and_decoy_lists_are_apart(county):
    names = {u["unit_name"] for u in county["rows"]["units"]}
    types = {s["type"] for s in county["truth"]["stories"]}
    assert types == {"deteriorating", "leader_multichannel", "rectification_overdue", "hidden_fourwinds",
                     "major_decisions_irregular", "decoy", "audit_funds_misuse"}
    for s in county["truth"]["stories"]:
        assert s["unit_name"] in names and s["expected_signals"]
    assert not set(county["truth"]["risky_units"]) & set(county["truth"]["decoy_units"])


def test_leader_story_crosses_channels_and_ledgers(county):
    s = _story(county, "leader_multichannel")
    name = s["person"]["name"]
    pets = [p for p in county["rows"]["petitions"] if p["reported_pid"] == name]
    assert len({p["channel"] for p in pets}) >= 3
    assert {"来信", "电话", "网络举报", "上级转办"} <= {p["channel"] for p in pets}
    assert any(p["is_repeat"] for p in pets)
    inq = [i for i in county["rows"]["inquiries"] if i["person_pid"] == name]
    assert any(i["truthful"] is False for i in inq)
    cases = [c for c in county["rows"]["cases"] if c["person_pid"] == name]
    assert cases and max(c["form"] for c in cases) >= "2"
    first_untruthful = min(i["start_date"] for i in inq if i["truthful"] is False)
    assert all(c["closed_date"] > first_untruthful for c in cases)


def test_deteriorating_unit_rises_in_the_last_quarters(county):
    s = _story(county, "deteriorating")
    pets = [p for p in county["rows"]["petitions"] if p["unit_name"] == s["unit_name"]]
    start = s["start_period"]
    before = [p for p in pets if p["received_date"].strftime("%Y-%m") < start]
    after = [p for p in pets if p["received_date"].strftime("%Y-%m") >= start]
    months_before = 36 - 15
    assert len(after) / 15 > 2 * len(before) / months_before
    sub = lambda ps: sum(p["outcome"] in ("属实", "部分属实") for p in ps)  # noqa: E731
    assert sub(after) > sub(before) * 15 / months_before
    assert [c for c in county["rows"]["cases"] if c["unit_name"] == s["unit_name"]
            and c["closed_date"].strftime("%Y-%m") >= start]


def test_overdue_rectification_unit(county):
    s = _story(county, "rectification_overdue")
    as_of = sr.parse_date(county["truth"]["as_of"])
    fs = [f for f in county["rows"]["inspection_findings"] if f["unit_name"] == s["unit_name"]]
    overdue = [f for f in fs if f["deadline"] < as_of and f["status"] in ("未整改", "整改中")]
    assert len(overdue) >= 3
    assert sum(bool(f["is_recurrence"]) for f in fs) >= 3
    au = [a for a in county["rows"]["audit_findings"] if a["unit_name"] == s["unit_name"] and a["rectification"] == "未整改"]
    assert len(au) >= 2


def test_hidden_variants_concentrate_in_one_unit(county):
    s = _story(county, "hidden_fourwinds")
    by_unit = collections.Counter(p["unit_name"] for p in county["rows"]["petitions"] if p["hidden_variant"])
    assert by_unit.most_common(1)[0][0] == s["unit_name"]
    variants = {p["hidden_variant"] for p in county["rows"]["petitions"] if p["unit_name"] == s["unit_name"]}
    assert {"一桌餐", "电子红包", "吃老板", "私车公养"} <= variants
    assert [c for c in county["rows"]["cases"] if c["unit_name"] == s["unit_name"] and c["hidden_variant"]]


def test_major_decisions_story_unit_files_late(county):
    s = _story(county, "major_decisions_irregular")
    rows = county["rows"]["major_decisions"]
    late = collections.Counter(d["unit_name"] for d in rows if (d["filing_date"] - d["decision_date"]).days > 15)
    nc = collections.Counter(d["unit_name"] for d in rows if d["collective"] is False)
    assert late.most_common(1)[0][0] == s["unit_name"]
    assert nc.most_common(1)[0][0] == s["unit_name"]


def test_decoy_has_many_unsubstantiated_petitions_and_a_clearing(county):
    s = _story(county, "decoy")
    pets = [p for p in county["rows"]["petitions"] if p["unit_name"] == s["unit_name"]]
    counts = collections.Counter(p["unit_name"] for p in county["rows"]["petitions"])
    staff = {u["unit_name"]: u["headcount"] for u in county["rows"]["units"]}
    rate = {u: counts[u] / staff[u] for u in staff}
    assert s["unit_name"] in sorted(rate, key=rate.get)[-3:]  # among the three highest report rates
    assert len(pets) >= sorted(counts.values())[-8]  # and many reports in absolute terms
    assert not [p for p in pets if p["outcome"] in ("属实", "部分属实")]
    assert [p for p in pets if p["outcome"] == "诬告陷害" and p["cleared"]]
    assert [p for p in pets if p["cleared"] and p["outcome"] == "不属实"]


def test_audit_story_amounts_are_large_against_budget(county):
    s = _story(county, "audit_funds_misuse")
    budget = next(u["budget_yuan"] for u in county["rows"]["units"] if u["unit_name"] == s["unit_name"])
    fs = [a for a in county["rows"]["audit_findings"] if a["unit_name"] == s["unit_name"]
          and a["finding_type"] in ("违规使用资金", "虚报冒领")]
    total = sum(a["amount_yuan"] or 0 for a in fs)
    assert total >= 0.05 * budget
    assert any(a["clue_transferred"] for a in fs)


def test_near_miss_unit_spellings_point_clearly_to_one_unit(county):
    from rapidfuzz import fuzz

    variants = county["truth"]["unit_name_variants"]
    assert any(v == "县市场监管局" for v in variants)
    spellings = {}
    for spelling, unit in county["units"].items():
        if spelling not in variants:  # roster names and aliases only
            spellings.setdefault(unit, []).append(spelling)
    for variant, unit in variants.items():
        assert variant not in spellings[unit]  # not an alias: only a fuzzy matcher finds it
        own = max(fuzz.ratio(variant, s) for s in spellings[unit])
        other = max(fuzz.ratio(variant, s) for u, ss in spellings.items() if u != unit for s in ss)
        assert own >= 80 and own - other >= 8, (variant, unit, own, other)


def test_numbers_in_texts_are_generated_people_and_listed(county):
    phones = {p["phone"] for p in county["truth"]["people"] if p["phone"]}
    ids = {p["id_number"] for p in county["truth"]["people"] if p["id_number"]}
    for p in county["rows"]["petitions"]:
        text = p["content"] or ""
        assert set(re.findall(r"(?<!\d)1[3-9]\d{9}(?!\d)", text)) <= phones
        assert set(re.findall(r"(?<!\d)\d{17}[\dX](?!\d)", text)) <= ids


def test_cli_prints_a_summary_and_rejects_an_unknown_scale(tmp_path, capsys, monkeypatch):
    from pipelines.cli import main

    monkeypatch.chdir(tmp_path)  # a short relative folder: the summary's words are read below, not a temp path
    assert main(["generate", "--scale", "county", "--seed", "11", "--out", "c",
                 "--start", "2024-01", "--end", "2024-06"]) == 0
    out = capsys.readouterr().out
    assert "单位名册.xlsx" in out and "合计" in out and "信访举报" in out
    from tests import user_text

    assert user_text.problems(out) == []  # the demo prints it: in words
    assert (tmp_path / "c" / "truth.json").exists()
    assert main(["generate", "--scale", "planet", "--out", str(tmp_path / "x")]) == 2
    assert "county, city, province, national" in capsys.readouterr().err
