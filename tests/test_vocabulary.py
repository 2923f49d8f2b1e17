"""The vocabulary (data/vocabulary.yaml) has a word for every code the software shows a user."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from pipelines import vocabulary as V
from pipelines.settings import DATA_DIR, REPO_DIR

ASCII_WORD = re.compile(r"[A-Za-z_]{2,}")


def test_every_group_is_a_mapping_of_codes_to_chinese_words():
    voc = V.vocabulary()
    assert {"grain", "ledger", "ledger_short", "value_status", "role", "audit_action", "threshold_rule"} <= set(voc)
    for group, entries in voc.items():
        assert entries, group
        for code, word in entries.items():
            assert word.strip(), (group, code)
            # Words are Chinese; a Latin letter is allowed only in a few names of methods (Z分数, α).
            latin = set(ASCII_WORD.findall(re.sub(r"\{\w+\}", "", word))) - {"Z"}
            assert not latin, (group, code, word)


def test_ledger_names_are_the_data_dictionarys():
    kinds = yaml.safe_load((DATA_DIR / "dictionary.yaml").read_text(encoding="utf-8"))["kinds"]
    assert V.words("ledger") == {k: v["zh"] for k, v in kinds.items()}
    assert set(V.words("ledger_short")) == set(kinds)


def test_grains_in_the_order_selectors_list_them():
    from pipelines.board.periods import GRAIN_ORDER, default_grain, sort_grains

    assert [V.word("grain", g) for g in GRAIN_ORDER] == ["月度", "季度", "半年", "年度", "滚动12个月"]
    assert sort_grains(["rolling12", "year", "quarter", "month", "half"]) == list(GRAIN_ORDER)
    assert default_grain(sort_grains(["year", "quarter", "month"])) == "quarter"
    assert default_grain(["year"]) == "year"
    settings = yaml.safe_load((DATA_DIR / "index_settings.yaml").read_text(encoding="utf-8"))
    assert set(settings["grains"]) <= set(GRAIN_ORDER)


def test_every_status_role_and_method_choice_has_a_word():
    from pipelines.access.store import ROLE_ZH, ROLES
    from pipelines.analysis.indicators import STATUS
    from pipelines.index import settings as index_settings

    assert set(STATUS) <= set(V.words("value_status"))
    assert set(ROLES) <= set(V.words("role")) and set(ROLE_ZH.values()) == {"领导", "分析员", "管理员"}
    assert set(index_settings.NORMALISATIONS) <= set(V.words("normalise"))
    assert set(index_settings.AGGREGATIONS) <= set(V.words("aggregate"))
    assert set(index_settings.WEIGHTINGS) <= set(V.words("weights"))
    assert set(index_settings.TREATMENTS) <= set(V.words("treat"))


# Where the action is among the arguments of each way of auditing: the pages' callback audit(action, ...),
# the store's audit(user, action, ...) and its _audit(con, name, role, action, ...).
ACTION_ARG = {("name", "audit"): 0, ("attr", "audit"): 1, ("attr", "audit_always"): 0, ("attr", "_audit"): 3}


def _audited_actions() -> set[str]:
    found = set()
    for path in list((REPO_DIR / "pipelines").rglob("*.py")) + list((REPO_DIR / "dashboards").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            how = ("attr", node.func.attr) if isinstance(node.func, ast.Attribute) else ("name", getattr(node.func, "id", None))
            position = ACTION_ARG.get(how)
            if position is not None and len(node.args) > position:
                arg = node.args[position]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.add(arg.value)
                elif isinstance(arg, ast.IfExp):  # "login" if user else "login_failed"
                    found |= {a.value for a in (arg.body, arg.orelse) if isinstance(a, ast.Constant)}
    return found


def test_every_audited_action_has_a_word():
    actions = _audited_actions()
    assert {"view_records", "export", "denied", "user_add", "login_failed", "locked"} <= actions  # the scan works
    missing = actions - set(V.words("audit_action"))
    assert not missing, f"audit actions without a word in data/vocabulary.yaml: {sorted(missing)}"


def test_sensitivity_factors_and_coherence_statistics_read_as_words():
    from pipelines.index.uncertainty import uncertainty  # noqa: F401 - the engine that names the factors

    src = (REPO_DIR / "pipelines" / "index" / "uncertainty.py").read_text(encoding="utf-8")
    factors = set(re.findall(r'factors\.append\("(\w+)"\)', src)) | {"weights"}
    assert factors <= set(V.words("sensitivity_factor"))
    names = {"case_rate": "立案率"}
    assert V.sensitivity_factor("leave-one-out:case_rate", names) == "剔除“立案率”"
    assert V.sensitivity_factor("normalisation") == "标准化方法"
    scoring = (REPO_DIR / "pipelines" / "analysis" / "scoring.py").read_text(encoding="utf-8")
    stats = set(re.findall(r'stats\["(\w+)"\]', scoring))
    assert stats and stats <= set(V.words("coherence_statistic"))
    assert V.coherence_statistic("corr_with_dimension:case_rate") == "与所属维度的相关系数"


@pytest.mark.parametrize("rule, direction, param, bound, unit, expected", [
    ("fixed", 1, 3, None, "件", "固定阈值：达到3及以上"),
    ("fixed", -1, 0.6, None, "比例", "固定阈值：不高于60%"),
    ("iqr", 1, 6, 8, "件/百人·年", "离群值法：高于全县上四分位数加6倍四分位距，且不低于8"),
    ("iqr", -1, 1.5, 0.5, "比例", "离群值法：低于全县下四分位数减1.5倍四分位距，且不高于50%"),
    ("quantile", 1, 0.95, None, "件", "分位数法：高于全县第95百分位"),
    ("quantile", -1, 0.9, None, "比例", "分位数法：低于全县第10百分位"),
])
def test_threshold_rules_are_sentences(rule, direction, param, bound, unit, expected):
    assert V.threshold_rule(rule, direction, param, bound, unit) == expected


def test_all_levels_of_a_rule_read_as_one_sentence():
    assert V.threshold_rules("iqr", 1, (1.5, 3, 6), (1, 2, 4), "件/年") == \
        "离群值法：高于全县上四分位数加1.5、3、6倍四分位距，且不低于1、2、4，依次为黄色、橙色、红色预警"
    assert V.threshold_rules("fixed", -1, (0.5, 0.35, 0.2), None, "比例") == \
        "固定阈值：不高于50%、35%、20%，依次为黄色、橙色、红色预警"
    assert V.threshold_rules("fixed", 1, (3,), None, "件") == "固定阈值：达到3及以上，为黄色预警"


def test_method_settings_read_as_words():
    settings = yaml.safe_load((DATA_DIR / "index_settings.yaml").read_text(encoding="utf-8"))
    rows = dict(V.setting_rows(settings))
    assert rows["标准化方法"] == "预警线距离计分" and rows["汇总方法"] == "加权幂平均（非完全补偿）"
    assert rows["评定等级的粒度"] == "季度、半年、年度、滚动12个月"
    assert rows["黄、橙、红预警所需的台账记录数"] == "1、2、3条"
    assert rows["统计粒度"] == "月度、季度、半年、年度、滚动12个月"
    assert rows["风险上升：环比上升分数"] == "5分"
    assert rows["权重扰动幅度"] == "±25%"
    assert rows["逐项剔除指标"] == "是"
    for label, value in rows.items():
        assert not ASCII_WORD.findall(value.replace("Z分数", "")), (label, value)


def test_unknown_codes_come_back_unchanged_and_missing_values_as_a_dash():
    assert V.word("ledger", "no_such_kind") == "no_such_kind"
    assert V.word("ledger", "no_such_kind", default="其他") == "其他"
    assert V.word("ledger", None) == "—" and V.word("ledger", float("nan")) == "—"
    assert V.yes_no(True) == "是" and V.yes_no(False) == "否" and V.yes_no(None) == "—"
    assert V.translate(["petitions", "cases"], "ledger_short") == ["信访举报", "执纪处理"]
    assert Path(V.PATH).name == "vocabulary.yaml"
