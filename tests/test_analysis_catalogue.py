"""The indicator catalogue: the shipped one is complete and binds; broken ones fail naming the indicator."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from pipelines.analysis import catalogue, indicators
from pipelines.errors import UserError
from pipelines.warehouse import apply_schema

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "indicators.yaml"


def _con():
    con = duckdb.connect()
    apply_schema(con)
    indicators.prepare_calendar(con, ["month", "quarter", "half", "year", "rolling12"])
    return con


def _variant(tmp_path, edit) -> Path:
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "indicators.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _ind(data, ind_id):
    return next(i for i in data["indicators"] if i["id"] == ind_id)


def test_shipped_catalogue_covers_the_work_plan_and_binds():
    cat = catalogue.load(SHIPPED)
    assert cat.version and len(cat.sha256) == 64
    assert len(cat.scored) >= 25
    assert len(cat.scored_dimensions) >= 5
    duties = {i.duty for i in cat.indicators}
    for duty in ("政治监督", "主体责任", "专项监督", "关键少数", "四种形态", "四风", "巡察审计整改", "澄清正名", "回访"):
        assert duty in duties, duty
    assert all(i.rationale and i.false_positives for i in cat.indicators)
    # What the 口径 column and the method sections show: a sentence in words for every indicator, never code.
    from tests import user_text
    assert [i.id for i in cat.indicators if not i.definition_zh] == []
    assert [p for i in cat.indicators for p in user_text.problems(i.definition_zh + i.rationale)] == []
    assert all(i.evidence for i in cat.indicators if i.threshold)  # every warning can show its records
    catalogue.validate_sql(cat, _con())


@pytest.mark.parametrize("edit, message", [
    (lambda d: _ind(d, "repeat_share").update(colour="red"), "indicator repeat_share: unknown key"),
    (lambda d: _ind(d, "repeat_share").update(numerator="count_if(is_reapeat)"), "indicator repeat_share: definition does not run"),
    (lambda d: _ind(d, "case_rate").update(where="filed_date IS NOT NULL AND ("), "indicator case_rate: definition does not run"),
    (lambda d: _ind(d, "case_rate").update(dimension="nowhere"), "indicator case_rate: dimension 'nowhere' unknown"),
    (lambda d: _ind(d, "case_rate").update(duty="招商引资"), "indicator case_rate: duty '招商引资'"),
    (lambda d: _ind(d, "case_rate").update({"from": "case_table"}), "indicator case_rate: `from: case_table`"),
    (lambda d: _ind(d, "case_rate").update(threshold={"rule": "zscore", "k": 2}), "indicator case_rate: threshold rule"),
    (lambda d: _ind(d, "repeat_share").update(threshold={"rule": "fixed", "value": [0.6, 0.4]}), "must get stricter"),
    (lambda d: _ind(d, "case_rate").update(denominator="count(*)"), "exactly one of `denominator`"),
    (lambda d: _ind(d, "overdue_rectification").update(sql="SELECT grain, period, unit_name, 1 AS numerator FROM grid"),
     "indicator overdue_rectification: its sql must return"),
    (lambda d: _ind(d, "overdue_rectification").update(evidence={"from": "inspection_findings", "where": "nonsense_col"}),
     "indicator overdue_rectification: evidence (inspection_findings) does not run"),
    (lambda d: d.update(extra=1), "unknown top-level key"),
    (lambda d: _ind(d, "case_rate").update(threshold={"rule": "iqr", "k": [1.5, 3, 6], "floor": [1, 2]}),
     "indicator case_rate: threshold `floor` lists 2 values for 3 levels"),
    (lambda d: _ind(d, "case_rate").update(threshold={"rule": "iqr", "k": [1.5, 3, 6], "floor": [4, 2, 1]}),
     "indicator case_rate: threshold `floor` .4.0, 2.0, 1.0. must get stricter"),
    (lambda d: d["macros"]["credible_reports"].update(body="count_if(topic AND outcomes)"),
     "macro credible_reports does not run"),
    (lambda d: d["macros"].update({"Bad-Name": {"body": "1"}}), "macro Bad-Name: a macro name"),
    (lambda d: d["macros"]["credible_reports"].update(colour="red"), "macro credible_reports: unknown key"),
    (lambda d: _ind(d, "formalism_density").update(numerator="credible_reports(fourwinds = '形式主义')"),
     "indicator formalism_density: definition does not run"),
    (lambda d: d["indicators"].append(dict(_ind(d, "case_rate"))), "indicator case_rate: duplicate id"),
])
def test_broken_catalogues_name_the_indicator(tmp_path, edit, message):
    path = _variant(tmp_path, edit)
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)").replace("`", ".")):
        cat = catalogue.load(path)
        catalogue.validate_sql(cat, _con())


def test_threshold_rules_describe_themselves():
    th = catalogue.Threshold("iqr", (1.5, 3.0, 6.0), floor=(1.0, 2.0, 4.0))
    assert th.describe(1, 0) == "IQR fence Q3+1.5·IQR, at least 1"
    assert th.describe_zh(1, 2) == "离群值法：高于全县上四分位数加6倍四分位距，且不低于4"
    assert catalogue.Threshold("iqr", (1.5, 3.0)).describe_zh(-1, 1) == "离群值法：低于全县下四分位数减3倍四分位距"
    assert catalogue.Threshold("fixed", (0.5, 0.35)).describe_zh(-1, 1, "比例") == "固定阈值：不高于35%"
    assert catalogue.Threshold("fixed", (0.5, 0.35)).describe(-1, 1) == "fixed ≤ 0.35"


@pytest.mark.parametrize("expr, expected", [
    ("count(*)", ("count", None)),
    ("count_if(is_leader)", ("count_if", "is_leader")),
    ("sum(filing_date - decision_date)", ("sum", "filing_date - decision_date")),
    ("COUNT_IF(outcome IN ('属实', '(部分)属实'))", ("count_if", "outcome IN ('属实', '(部分)属实')")),
    ("count(DISTINCT channel)", None),     # distinct counts do not add up over months
    ("sum(a) + sum(b)", None),             # arithmetic around the call
    ("max(score)", None),
    ("sum(x) OVER ()", None),
    ("count_if(x) FILTER (WHERE y)", None),
])
def test_decomposable_aggregates(expr, expected):
    assert catalogue.decompose(expr) == expected
