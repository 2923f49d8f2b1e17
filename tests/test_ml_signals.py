"""The learned signals on data with planted structure: the planted anomaly is flagged and explained, the planted
types are recovered and named, a predictive indicator is told from noise, one person across ledgers is found;
every model gives the same answer twice."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from pipelines.ml import anomalies, clues, typologies, validation

DIMS = {"petitions": "信访举报态势", "rectification": "巡察审计整改", "style": "作风建设（四风）", "governance": "主体责任与权力运行"}


def _indicator_frame(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for p in ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]:
        for u in range(40):
            for i in range(8):
                rows.append((p, f"单位{u:02d}", f"ind{i}", rng.normal(10, 2)))
    df = pd.DataFrame(rows, columns=["period", "unit_name", "indicator_id", "value"])
    # planted: one unit-period far out on two indicators at once
    hit = (df.period == "2024Q3") & (df.unit_name == "单位07") & df.indicator_id.isin(["ind2", "ind5"])
    df.loc[hit, "value"] = 30.0
    return df


def test_planted_anomaly_is_flagged_with_its_indicators_and_is_deterministic():
    df = _indicator_frame()
    names = {f"ind{i}": f"指标{i}" for i in range(8)}
    res = anomalies.detect(df, names, share=0.02, random_state=0)
    top = res.frame.sort_values("score", ascending=False).iloc[0]
    assert (top.period, top.unit_name) == ("2024Q3", "单位07") and top.flagged
    assert {d["indicator_id"] for d in top.drivers[:2]} == {"ind2", "ind5"}
    assert "指标2偏高" in top.message and "指标5偏高" in top.message
    again = anomalies.detect(df, names, share=0.02, random_state=0)
    np.testing.assert_array_equal(res.frame.score.to_numpy(), again.frame.score.to_numpy())


def test_planted_types_are_recovered_and_named_and_stable_across_seeds():
    from sklearn.metrics import adjusted_rand_score

    rng = np.random.default_rng(5)
    profiles = {"信访": [70, 20, 20, 20], "整改": [20, 70, 20, 20], "平稳": [15, 15, 15, 15]}
    rows, truth = [], {}
    for t, (name, centre) in enumerate(profiles.items()):
        for u in range(15):
            unit = f"{name}{u}"
            truth[unit] = t
            for p in ["2023", "2024"]:
                for d, c in zip(DIMS, centre):
                    rows.append((p, unit, d, c + rng.normal(0, 5)))
    df = pd.DataFrame(rows, columns=["period", "unit_name", "level", "score"])
    res = typologies.cluster(df, DIMS, random_state=0)
    assert res.model["k"] == 3 and res.model["stability"] >= 0.99
    assert adjusted_rand_score([truth[u] for u in res.frame.unit_name], res.frame.cluster) > 0.95
    named = res.frame.groupby("unit_name").type_name.first()
    assert named["信访0"] == "信访高发型" and named["整改0"] == "整改滞后型" and named["平稳0"] == "平稳型"
    assert res.frame.equals(typologies.cluster(df, DIMS, random_state=0).frame)


def test_a_predictive_indicator_is_told_from_noise():
    rng = np.random.default_rng(11)
    periods = [f"{y}Q{q}" for y in (2022, 2023, 2024) for q in (1, 2, 3, 4)]
    units = [f"单位{u:02d}" for u in range(40)]
    risk = rng.random(len(units))
    vals, scores, cases = [], [], []
    for k, p in enumerate(periods):
        for u, r in zip(units, risk):
            vals += [(p, u, "signal", r + rng.normal(0, 0.1)), (p, u, "noise", rng.random())]
            scores += [(p, u, "index", 100 * r), (p, u, "petitions", 50 + rng.normal(0, 10))]
            if rng.random() < 0.05 + 0.5 * r and k + 1 < len(periods):  # a case in the next quarter
                y, q = periods[k + 1].split("Q")
                cases.append((u, pd.Timestamp(int(y), 3 * int(q) - 1, 15)))
    preds = [validation.Predictor("signal", "indicator", "信号", 0.5), validation.Predictor("noise", "indicator", "噪声", 0.5),
             validation.Predictor("index", "composite", "综合指数")]
    out, detail = validation.validate(pd.DataFrame(vals, columns=["period", "unit_name", "indicator_id", "value"]),
                                      pd.DataFrame(scores, columns=["period", "unit_name", "level", "score"]),
                                      pd.DataFrame(cases, columns=["unit_name", "date"]), preds,
                                      {"signal": 1, "noise": 1}, "quarter", bootstrap=100)
    row = out.set_index("predictor")
    assert row.loc["signal", "verdict"] == "predictive" and row.loc["signal", "auc"] > 0.7
    assert row.loc["noise", "verdict"] == "none" and row.loc["noise", "auc_low"] < 0.5 < row.loc["noise", "auc_high"]
    assert row.loc["signal", "data_weight"] > row.loc["noise", "data_weight"]
    assert row.loc["signal", "p_value"] < 0.01 and row.loc["index", "test_auc"] > 0.65
    assert detail["test_periods"] and not set(detail["test_periods"]) & set(detail["train_periods"])


def test_one_person_across_channels_and_ledgers_is_one_clue():
    con = duckdb.connect()
    con.execute("""CREATE TABLE petitions (petition_no VARCHAR, received_date DATE, channel VARCHAR, unit_name VARCHAR,
                   reported_pid VARCHAR, is_leader BOOLEAN, category VARCHAR, fourwinds VARCHAR, hidden_variant VARCHAR,
                   outcome VARCHAR)""")
    con.execute("""CREATE TABLE inquiries (inquiry_no VARCHAR, unit_name VARCHAR, person_pid VARCHAR, is_leader BOOLEAN,
                   method VARCHAR, start_date DATE, result VARCHAR)""")
    con.execute("""CREATE TABLE cases (case_no VARCHAR, unit_name VARCHAR, person_pid VARCHAR, is_leader BOOLEAN,
                   filed_date DATE, closed_date DATE, violation VARCHAR, form VARCHAR, party_sanction VARCHAR,
                   gov_sanction VARCHAR)""")
    con.execute("""INSERT INTO petitions VALUES
        ('X1', '2024-01-10', '来信', '县教育局', 'Pa', true, '廉洁纪律', NULL, NULL, NULL),
        ('X2', '2024-03-02', '网络举报', '县教育局', 'Pa', true, '廉洁纪律', NULL, NULL, '属实'),
        ('X3', '2022-01-05', '来信', '县教育局', 'Pb', false, '工作纪律', NULL, NULL, NULL),
        ('X4', '2024-05-01', '来信', '县教育局', 'Pb', false, '工作纪律', NULL, NULL, NULL)""")
    con.execute("INSERT INTO inquiries VALUES ('T1', '县教育局', 'Pa', true, '函询', '2024-04-01', '了结澄清'), "
                "('T2', '县水利局', 'Pc', false, '谈话', '2024-04-01', NULL)")
    con.execute("INSERT INTO cases VALUES ('A1', '县教育局', 'Pb', false, '2024-06-01', '2024-08-01', '工作纪律', '2', '警告', NULL)")
    people, records = clues.aggregate(con, window_days=365, min_sources=2, min_records=2)
    by = people.set_index("person_pid")
    assert set(by.index) == {"Pa", "Pb"}  # Pc has one record
    pa, pb = by.loc["Pa"], by.loc["Pb"]
    assert pa.records == 3 and list(pa.sources) == ["信访·来信", "信访·网络举报", "谈话函询"] and pa.is_leader
    assert set(records[records.clue_id == pa.clue_id].record_key) == {"X1", "X2", "T1"} and "班子成员" in pa.message
    # Pb's 2022 petition is outside the year that holds the 2024 petition and the case
    assert pb.records == 2 and set(records[records.clue_id == pb.clue_id].record_key) == {"X4", "A1"}


def test_a_petition_whose_channel_is_unknown_is_still_a_petition_source():
    """Ingest keeps a record whose channel it cannot read, with the field NULL: its source is 信访, not missing."""
    con = duckdb.connect()
    con.execute("""CREATE TABLE petitions (petition_no VARCHAR, received_date DATE, channel VARCHAR, unit_name VARCHAR,
                   reported_pid VARCHAR, is_leader BOOLEAN, category VARCHAR, fourwinds VARCHAR, hidden_variant VARCHAR,
                   outcome VARCHAR)""")
    con.execute("""CREATE TABLE inquiries (inquiry_no VARCHAR, unit_name VARCHAR, person_pid VARCHAR, is_leader BOOLEAN,
                   method VARCHAR, start_date DATE, result VARCHAR)""")
    con.execute("""CREATE TABLE cases (case_no VARCHAR, unit_name VARCHAR, person_pid VARCHAR, is_leader BOOLEAN,
                   filed_date DATE, closed_date DATE, violation VARCHAR, form VARCHAR, party_sanction VARCHAR,
                   gov_sanction VARCHAR)""")
    con.execute("INSERT INTO petitions VALUES ('X1', '2024-01-10', NULL, '县教育局', 'Pd', false, NULL, NULL, NULL, NULL)")
    con.execute("INSERT INTO inquiries VALUES ('T1', '县教育局', 'Pd', false, '函询', '2024-04-01', NULL)")
    people, records = clues.aggregate(con, window_days=365, min_sources=2, min_records=2)
    assert list(people.set_index("person_pid").loc["Pd"].sources) == ["信访", "谈话函询"]
    assert set(records.source) == {"信访", "谈话函询"}
