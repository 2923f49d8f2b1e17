"""Indicator values computed in DuckDB against figures worked out by hand on a tiny warehouse."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from tests.analysis_fixtures import case, insert, petition, unit, warehouse
from pipelines.analysis import catalogue, indicators, methods

D = dt.date.fromisoformat


@pytest.fixture(scope="module")
def con():
    con = warehouse()
    insert(con, "units", [
        unit("甲局", 200, "教育", top_leader_pid="L1", budget_yuan=2_000_000),
        unit("乙局", 50, "教育", leadership_posts=4),
        unit("丙院", 100, "卫生"),
    ])
    insert(con, "petitions", [
        # 甲局 2023: 4 petitions, 3 closed (2 substantiated), one about the top leader through three channels
        petition("甲局", "2023-02-10", outcome="属实", reported_pid="L1", is_leader=True, channel="来信"),
        petition("甲局", "2023-05-10", outcome="部分属实", reported_pid="L1", is_leader=True, channel="电话"),
        petition("甲局", "2023-08-10", outcome="不属实", reported_pid="L1", is_leader=True, channel="网络举报"),
        petition("甲局", "2023-11-10", reported_pid="L1", is_leader=True, channel="上级转办", is_repeat=True),
        # 乙局 2023: 2 petitions, both open (substantiation rate below min_sample 3)
        petition("乙局", "2023-03-01", signed=False),
        petition("乙局", "2023-04-01", signed=False, hidden_variant="一桌餐", fourwinds="奢靡之风"),
        # 2024: one petition each for 甲局, to exercise the change indicator
        petition("甲局", "2024-06-01"),
    ])
    insert(con, "cases", [
        case("丙院", "2023-01-15", "1"), case("丙院", "2024-12-15", "1"),  # span the calendar: Jan 2023 – Dec 2024
        case("甲局", "2023-06-30", "1"), case("甲局", "2023-07-30", "2", filed="2023-07-01"),
        case("甲局", "2023-09-30", "3", filed="2023-08-01", is_leader=True, transferred=False),
        case("乙局", "2023-10-30", "4", filed="2023-09-01", transferred=True, amount_yuan=100_000.0),
    ])
    insert(con, "inspection_findings", [
        {"round": "2023年第一轮", "unit_name": "丙院", "finding_no": str(i), "feedback_date": D("2023-03-01"),
         "category": "党的领导", "finding": "问题", "deadline": D(dl), "status": st,
         "rectified_date": D(rd) if rd else None, "is_recurrence": i == 3}
        for i, (dl, st, rd) in enumerate([("2023-06-30", "已完成", "2023-06-15"),
                                          ("2023-06-30", "已完成", "2023-09-15"),
                                          ("2023-06-30", "整改中", None),
                                          ("2024-06-30", "长期坚持", None)], start=1)
    ])
    insert(con, "audit_findings", [
        {"audit_project": "2023年度审计", "unit_name": "甲局", "finding_no": "1", "report_date": D("2023-05-01"),
         "finding_type": "违规使用资金", "amount_yuan": 50_000.0, "rectification": "未整改", "clue_transferred": True},
        {"audit_project": "2023年度审计", "unit_name": "甲局", "finding_no": "2", "report_date": D("2023-05-01"),
         "finding_type": "管理不规范", "amount_yuan": 900_000.0, "rectification": "已整改",
         "rectified_date": D("2023-07-01")},
    ])
    insert(con, "major_decisions", [
        {"unit_name": "乙局", "item": f"事项{i}", "item_type": "重大决策", "decision_date": D("2023-03-01"),
         "filing_date": D("2023-03-01") + dt.timedelta(days=delay), "collective": coll}
        for i, (delay, coll) in enumerate([(3, True), (20, True), (40, False), (5, True)])
    ])
    insert(con, "responsibility_checks", [
        {"unit_name": "丙院", "check_period": "2023H1", "check_date": D("2023-07-10"), "score": 88.0, "problems": 4},
        {"unit_name": "丙院", "check_period": "2023H2", "check_date": D("2024-01-10"), "score": 71.0, "problems": 8},
    ])
    insert(con, "inquiries", [
        {"inquiry_no": f"H{i}", "unit_name": "乙局", "person_pid": f"q{i}", "is_leader": i < 2, "method": m,
         "start_date": D("2023-05-01"), "reply_date": D("2023-05-20") if m == "函询" else None,
         "spot_checked": sc, "truthful": tr, "result": "批评教育"}
        for i, (m, sc, tr) in enumerate([("谈话", None, True), ("函询", True, False), ("函询", False, True)])
    ])
    cat = catalogue.load()
    settings = methods.load()
    indicators.compute_all(con, cat, settings)
    yield con
    con.close()


def val(con, ind, period, unit_name, col="value"):
    return con.execute(f"""
        SELECT v.{col} FROM ivals AS v JOIN ind_dim AS d USING (ind) JOIN periods AS p USING (pid)
        JOIN unit_dim AS u USING (uid) WHERE d.indicator_id = ? AND p.period = ? AND u.unit_name = ?""",
                       [ind, period, unit_name]).fetchone()[0]


def test_calendar_covers_every_grain(con):
    got = dict(con.execute("SELECT grain, count(*) FROM periods GROUP BY grain").fetchall())
    assert got == {"month": 24, "quarter": 8, "half": 4, "year": 2, "rolling12": 13}  # Jan 2023 – Dec 2024
    assert con.execute("SELECT period_start, period_end FROM periods WHERE period = 'R12-2024-03'").fetchone() == \
        (D("2023-04-01"), D("2024-04-01"))


def test_densities_per_100_staff_per_year(con):
    # petitions count as far as they can be believed (credible_reports): 甲局 2023 has 2 substantiated, 1 found
    # untrue and 1 open, which counts its substantiation rate shrunk to 1.5/4: (2 + 1.5) / (3 + 4) = 0.5
    assert val(con, "petition_density", "2023", "甲局") == pytest.approx(2.5 / 2.0)        # per (200/100 · 1 year)
    assert val(con, "petition_density", "2023", "甲局", "sample") == 4                     # records it rests on
    assert val(con, "petition_density", "2023", "乙局") == pytest.approx(2 * 1.5 / 4 / 0.5)  # two open, none verified
    assert val(con, "petition_density", "2023Q1", "甲局") == pytest.approx(1 / (2.0 * 0.25))  # annualised
    assert val(con, "substantiated_density", "2023", "甲局") == pytest.approx(2 / 2.0)
    assert val(con, "case_rate", "2023", "甲局") == pytest.approx(2 / 2.0)                  # two cases filed
    assert val(con, "transfer_rate", "2023", "乙局") == pytest.approx(1 / 0.5)


def test_change_on_previous_period(con):
    # 2024 against 2023 for 甲局: (1 − 3) petitions per year over 2 (hundred staff); the one found untrue is not one
    assert val(con, "petition_change", "2024", "甲局") == pytest.approx((1 - 3) / 2.0)
    assert val(con, "petition_change", "2023", "甲局", "status") == "zero"  # no previous year: policy zero


def test_shares_and_min_sample(con):
    assert val(con, "substantiation_rate", "2023", "甲局") == pytest.approx(2 / 3)
    assert val(con, "unfounded_share", "2023", "甲局") == pytest.approx(1 / 3)
    assert val(con, "substantiation_rate", "2023", "乙局", "value") is None        # nothing closed …
    # … and policy impute needs 3 units with a value (missing.min_peers); one has: left out of the index
    assert val(con, "substantiation_rate", "2023", "乙局", "status") == "missing"
    # 2 < min_sample 5, and no unit has enough petitions to impute from: left out of the index
    assert val(con, "anonymous_share", "2023", "乙局", "status") == "small_sample"
    assert val(con, "anonymous_share", "2023", "乙局", "below_min_sample") is True
    assert val(con, "repeat_share", "2023", "甲局") == pytest.approx(1 / 3)  # of the 3 not found untrue
    assert val(con, "first_form_share", "2023", "甲局") == pytest.approx(1 / 3)
    assert val(con, "heavy_form_share", "2023", "甲局") == pytest.approx(1 / 3)


def test_key_few(con):
    # the same leader reached the team by letter, phone and online (the unfounded one is left out) and 上级转办
    assert val(con, "leader_multichannel", "2023", "甲局") == 3
    assert val(con, "leader_multichannel", "2023", "丙院") == 0
    assert val(con, "top_leader_petitions", "2023", "甲局") == 3           # per year, unfounded left out
    assert val(con, "leader_discipline_share", "2023", "甲局") == pytest.approx(1 / 3)
    assert val(con, "leader_inquiry_rate", "2023", "乙局") == pytest.approx(2 / 4)  # 2 talks / 4 posts / 1 year


def test_rectification_as_of_period_end(con):
    # at the end of 2023Q2 (1 July) three findings are due; one was rectified in time
    assert val(con, "inspection_rectification_rate", "2023Q2", "丙院") == pytest.approx(1 / 3)
    assert val(con, "overdue_rectification", "2023Q2", "丙院") == 2
    # by the end of 2023 the second one was rectified (15 Sep); the 长期坚持 one is never overdue
    assert val(con, "overdue_rectification", "2023", "丙院") == 1
    assert val(con, "inspection_rectification_rate", "2023", "丙院") == pytest.approx(2 / 3)
    assert val(con, "recurring_findings", "2023", "丙院") == 1
    assert val(con, "inspection_findings_per_round", "2023", "丙院") == 4
    assert val(con, "inspection_findings_per_round", "2023", "甲局", "status") == "missing"  # drop policy


def test_audit_and_decisions(con):
    # only irregular-use types count: 50,000 元 of a 2,000,000 元 budget, in %
    assert val(con, "audit_amount_ratio", "2023", "甲局") == pytest.approx(2.5)
    assert val(con, "audit_rectification_rate", "2023", "甲局") == pytest.approx(1 / 2)
    assert val(con, "audit_clue_transfers", "2023", "甲局") == 1
    assert val(con, "late_filing_share", "2023", "乙局") == pytest.approx(2 / 4)  # 20 and 40 days > 15
    assert val(con, "filing_delay_days", "2023", "乙局") == pytest.approx((3 + 20 + 40 + 5) / 4)
    assert val(con, "non_collective_share", "2023", "乙局") == pytest.approx(1 / 4)


def test_responsibility_and_inquiries(con):
    assert val(con, "responsibility_score", "2023", "丙院") == 88.0       # the check of 10 Jul 2023
    assert val(con, "responsibility_score", "2024Q1", "丙院") == 71.0     # the later one wins
    assert val(con, "responsibility_problems", "2024Q1", "丙院") == pytest.approx((4 + 8) / 2)
    assert val(con, "direct_talk_share", "2023", "乙局") == pytest.approx(1 / 3)
    assert val(con, "spot_check_rate", "2023", "乙局") == pytest.approx(1 / 2)
    assert val(con, "untruthful_share", "2023", "乙局") == pytest.approx(1 / 3)


def test_imputation_needs_enough_peers(con):
    # one unit of three has a substantiation rate in 2023: too few to take a median from, so the others leave the
    # indicator out (their other indicators are re-weighted) instead of copying one unit's value
    assert val(con, "substantiation_rate", "2023", "乙局", "index_value") is None
    assert val(con, "substantiation_rate", "2023", "丙院", "index_value") is None


def test_small_samples_enter_shrunk_by_empirical_bayes(con):
    """乙局's 2 anonymous petitions of 2 are below min_sample 5: no value is shown or warned on, but the index takes
    its rate pulled towards the county's by Marshall's estimator. 2023 (reports found untrue left out): 甲局 0 of 3,
    乙局 2 of 2 → county rate m = 2/5; between-unit variance s² = (3·(2/5)² + 2·(3/5)²)/5 = 6/25, less the binomial
    m(1 − m)/mean n = (6/25)/(5/2): A = 18/125; 乙局 keeps C = A / (A + (6/25)/2) = 6/11 of its distance from m:
    2/5 + 6/11 · 3/5 = 8/11."""
    assert val(con, "anonymous_share", "2023", "乙局", "status") == "small_sample"
    assert val(con, "anonymous_share", "2023", "乙局", "value") is None
    assert val(con, "anonymous_share", "2023", "乙局", "index_value") == pytest.approx(8 / 11)
    # 甲局, with 3 petitions, keeps more of its own rate: C = A / (A + (6/25)/3) = 9/14 → 2/5 − 9/14 · 2/5 = 1/7
    assert val(con, "anonymous_share", "2023", "甲局", "index_value") == pytest.approx(1 / 7)


def test_imputation_from_peers_never_riskier_than_the_county():
    """Sector median from at least three peers, else the county median; never above the county median."""
    con = warehouse()
    rates = {"甲": 3, "乙": 2, "丁": 3, "丙": 0, "己": 1}  # substantiated of 3 closed petitions each, 2023
    sectors = {"甲": "教育", "乙": "教育", "丁": "教育", "戊": "教育", "丙": "卫生", "己": "卫生", "庚": "卫生"}
    insert(con, "units", [unit(u, 100, sec) for u, sec in sectors.items()])
    insert(con, "petitions", [petition(u, f"2023-0{k + 1}-10", outcome="属实" if k < n else "不属实")
                              for u, n in rates.items() for k in range(3)]
           + [petition("庚", "2023-12-31")])  # open: 庚 and 戊 have no closed petition
    indicators.compute_all(con, catalogue.load(), methods.load())
    # 教育 has three values (1, 2/3, 1): median 1, but the county median of all five is 2/3, and a filled-in value is
    # never riskier than that
    assert val(con, "substantiation_rate", "2023", "戊", "status") == "imputed"
    assert val(con, "substantiation_rate", "2023", "戊", "index_value") == pytest.approx(2 / 3)
    # 卫生 has two values, too few: the county median
    assert val(con, "substantiation_rate", "2023", "庚", "index_value") == pytest.approx(2 / 3)
    # observed shares enter shrunk towards the county rate (empirical Bayes), the raw value stays as it is
    assert val(con, "substantiation_rate", "2023", "丙") == 0.0
    assert 0.0 <= val(con, "substantiation_rate", "2023", "丙", "index_value") <= 9 / 15
    con.close()


def test_iqr_threshold_by_hand(con):
    # petition density 2023: 甲 1.25, 乙 1.5, 丙 0.0 → Q1 0.625, Q3 1.375, IQR 0.75; yellow = 1.375 + 1.5·0.75 = 2.5
    t = con.execute("""SELECT t.threshold FROM thresholds AS t JOIN ind_dim AS d USING (ind) JOIN periods AS p USING (pid)
                       WHERE d.indicator_id = 'petition_density' AND p.period = '2023' AND t.level = 1""").fetchone()[0]
    assert t == pytest.approx(2.5)
    flagged = con.execute("""SELECT u.unit_name, f.level FROM flags AS f JOIN ind_dim AS d USING (ind)
                             JOIN periods AS p USING (pid) JOIN unit_dim AS u USING (uid)
                             WHERE d.indicator_id = 'leader_multichannel' AND p.period = '2023'""").fetchall()
    assert flagged == [("甲局", 2)]  # 3 channels: fixed levels 2 / 3 / 4 → 橙


def test_monthly_passes_match_the_compiled_queries(con, monkeypatch):
    """The build aggregates structured indicators once per ledger and month and rolls months up into periods;
    the per-indicator compiled queries (the reference) must give the same numerators, denominators, samples."""
    cat = catalogue.load()
    slices = indicators.grain_slices(con)
    fast = indicators.compute_raw(con, cat, slices)
    assert indicators._monthly_groups(cat)  # the shipped catalogue does use the monthly passes
    monkeypatch.setattr(indicators, "_monthly_groups", lambda cat: {})
    reference = indicators.compute_raw(con, cat, slices)
    for grain in slices:
        for part in ("numerator", "denominator", "sample"):
            np.testing.assert_allclose(getattr(fast[grain], part), getattr(reference[grain], part), rtol=1e-12,
                                       equal_nan=True, err_msg=f"{grain} {part}")


def test_credible_reports_discount_reports_that_keep_proving_false():
    """Topic densities count a substantiated report 1, a disproved one 0 and an unverified one the unit's
    substantiation rate of the period shrunk towards 1.5/4 (the catalogue's credible_reports macro)."""
    con = warehouse()
    insert(con, "units", [unit("诬告镇", 100, "乡镇"), unit("实情镇", 100, "乡镇")])
    fw = dict(fourwinds="形式主义")
    insert(con, "petitions", [
        # 诬告镇 2023: 4 formalism reports, 3 disproved, 1 open → 0 + 1 × (0 + 1.5) / (3 + 4)
        petition("诬告镇", "2023-01-15", outcome="不属实", **fw),
        petition("诬告镇", "2023-03-01", outcome="查无实据", **fw),
        petition("诬告镇", "2023-04-01", outcome="诬告陷害", **fw),
        petition("诬告镇", "2023-05-01", disposition="留存备查", **fw),
        # 实情镇 2023: 1 substantiated formalism report, 1 open; a substantiated report on another topic and
        # an open rural one → 1 + 1 × (2 + 1.5) / (2 + 4)
        petition("实情镇", "2023-02-01", outcome="属实", **fw),
        petition("实情镇", "2023-06-01", **fw),
        petition("实情镇", "2023-07-01", outcome="部分属实", category="廉洁纪律"),
        petition("实情镇", "2023-12-31", disposition="暂存待查", special_area="乡村振兴"),
    ])
    indicators.compute_all(con, catalogue.load(), methods.load())
    assert val(con, "formalism_density", "2023", "诬告镇") == pytest.approx(1.5 / 7)  # per 100 staff per year
    assert val(con, "formalism_density", "2023", "诬告镇", "sample") == 4
    assert val(con, "formalism_density", "2023", "实情镇") == pytest.approx(1 + 3.5 / 6)
    # the open rural report of a quarter with no verified report counts the prior 1.5/4, annualised
    assert val(con, "rural_revitalisation_reports", "2023Q4", "实情镇") == pytest.approx(1.5 / 4 / 0.25)
    con.close()


def test_sample_expression_in_monthly_passes_and_compiled_queries(con, monkeypatch, tmp_path):
    """`sample:` of a structured definition: the monthly pass and the compiled query agree on it."""
    import yaml

    data = yaml.safe_load(catalogue.CATALOGUE_PATH.read_text(encoding="utf-8"))
    ind = next(i for i in data["indicators"] if i["id"] == "substantiated_density")
    ind["sample"] = "count_if(is_leader)"
    path = tmp_path / "indicators.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    cat = catalogue.load(path)
    code = cat.indicator("substantiated_density").code
    assert any(i.id == "substantiated_density" for parts in indicators._monthly_groups(cat).values()
               for i, *_ in parts)
    slices = indicators.grain_slices(con)
    fast = indicators.compute_raw(con, cat, slices)
    monkeypatch.setattr(indicators, "_monthly_groups", lambda cat: {})
    reference = indicators.compute_raw(con, cat, slices)
    year = fast["year"].sample[:, :, code]  # periods × units
    np.testing.assert_array_equal(year, reference["year"].sample[:, :, code])
    uid = dict(con.execute("SELECT unit_name, uid FROM unit_dim").fetchall())
    assert year[0, uid["甲局"]] == 4  # 2023: 4 petitions, all about leaders
    assert year[0, uid["乙局"]] == 0  # 2 petitions, none about leaders
