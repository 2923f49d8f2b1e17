"""Every page under every role, driven by AppTest on the fixture warehouse."""

from __future__ import annotations

import pytest

from pipelines.access.store import User, UserStore
from tests.board_fixture import TEAM_A, TEAM_A_UNITS, TEAM_B_UNITS, fixture_db  # noqa: F401 (fixture)
from tests.dashboard_apptest import DISCLAIMER, PAGES, app, go, login, page_text, signed_in

pytestmark = pytest.mark.xdist_group("dashboard_app")

LEADER = User("lead_a", "leader", (TEAM_A,))
ANALYST = User("ana_a", "analyst", (TEAM_A,))
ADMIN = User("root", "admin", None)
ROLES = {"leader": LEADER, "analyst": ANALYST, "admin": ADMIN}


@pytest.fixture
def users(tmp_path):
    path = tmp_path / "users.sqlite"
    store = UserStore(path)
    store.add("lead_a", "leader-pass", "leader", [TEAM_A])
    store.add("ana_a", "analyst-pass", "analyst", [TEAM_A])
    store.add("root", "admin-pass1", "admin", None)
    return path


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_renders_for_every_role_with_the_disclaimer(role, monkeypatch, fixture_db, users):
    user = ROLES[role]
    at = signed_in(monkeypatch, fixture_db, users, user)
    pages = [p for p in PAGES if p != "admin" or user.is_admin]
    for page in pages:
        go(at, page)
        assert DISCLAIMER in [e.value for e in at.info], page
        assert not at.error, (page, [e.value for e in at.error])
        text = page_text(at)
        if not user.scope.all_teams:
            leaked = [u for u in TEAM_B_UNITS if u in text]
            assert not leaked, f"{role} saw {leaked} on {page}"
    if not user.is_admin:
        with pytest.raises(ValueError):  # the admin page is not even registered for other roles
            at.switch_page(PAGES["admin"])


def test_overview_shows_the_grid_headline_and_opens_a_portrait(monkeypatch, fixture_db, users):
    at = signed_in(monkeypatch, fixture_db, users, LEADER)
    assert at.title[0].value == "总览"
    assert at.metric[0].label == "单位数" and at.metric[0].value == str(len(TEAM_A_UNITS))
    text = page_text(at)
    assert all(u in text for u in TEAM_A_UNITS)
    assert "综合指数" in text and "信访举报" in text  # heatmap columns
    at.selectbox(key="overview_unit").select("县第一中学").run()
    assert not at.exception
    assert at.title[0].value == "单位画像"
    assert any("县第一中学" in s.value for s in at.subheader)


def test_changing_the_period_changes_every_page(monkeypatch, fixture_db, users):
    at = signed_in(monkeypatch, fixture_db, users, LEADER)
    assert "2024年第4季度" in at.caption[0].value
    at.selectbox(key="period").select("2023Q2").run()
    assert "2023年第2季度" in at.caption[0].value
    go(at, "warnings")
    assert "2023年第2季度" in at.caption[0].value
    at.selectbox(key="grain").select("year").run()
    assert "2024年" in at.caption[0].value and "季度" not in at.caption[0].value.split("·")[1]


def test_sector_filter_narrows_the_overview(monkeypatch, fixture_db, users):
    at = signed_in(monkeypatch, fixture_db, users, LEADER)
    at.multiselect(key="sectors").select("教育").run()
    assert at.metric[0].value == "3"
    text = page_text(at)
    assert "县人民医院" not in "\n".join(d.value.to_csv() for d in at.dataframe)
    assert "县教育局" in text


def test_leader_sees_no_record_level_data(monkeypatch, fixture_db, users):
    at = signed_in(monkeypatch, fixture_db, users, LEADER)
    go(at, "portrait")
    keys = {w.key for w in list(at.toggle) + list(at.selectbox)}
    assert "show_records" not in keys and "portrait_evidence" not in keys
    assert any("仅显示汇总数据" in c.value for c in at.caption)
    assert "XF00" not in page_text(at)  # no petition numbers
    go(at, "warnings")
    keys = {w.key for w in list(at.multiselect) + list(at.checkbox)}
    assert "w_evidence" not in keys and "w_export_evidence" not in keys
    go(at, "quality")
    assert "raw" not in page_text(at) and "信访台账.xlsx" not in page_text(at)
    assert UserStore(users).audit_log(action="view_records") == []


def test_analyst_sees_pseudonymised_records_and_each_view_is_audited(monkeypatch, fixture_db, users):
    at = signed_in(monkeypatch, fixture_db, users, ANALYST)
    go(at, "portrait")
    # Without a unit asked for, the portrait opens on the riskiest of the user's units.
    assert at.selectbox(key=next(s.key for s in at.selectbox if s.key.startswith("portrait_unit"))).value == "县教育局"
    at.query_params["unit"] = "县第一中学"
    at.run()
    assert any("县第一中学" in s.value for s in at.subheader)
    at.query_params["unit"] = "县教育局"
    at.run()
    at.toggle(key="show_records").set_value(True).run()
    assert not at.exception
    tables = [d.value for d in at.dataframe]
    records = next(t for t in tables if "记录编号" in t.columns and "人员（化名）" in t.columns)
    people = records["人员（化名）"][records["人员（化名）"] != "—"]
    assert "XF00000" in set(records["记录编号"]) and len(people) and people.str.startswith("P").all()
    from pipelines.access.store import Scope
    from pipelines.board import Board
    from pipelines.warehouse import published_path

    wid = Board(published_path(fixture_db)).q("period_warnings", Scope(None), grain="quarter", period="2024Q4") \
        .query("unit_name == '县教育局'").warning_id.iloc[0]
    at.selectbox(key="portrait_evidence").set_value(wid).run()
    assert any(d.value["记录编号"].str.startswith("XF").all() and d.value["预警编号"].str.match(r"[红橙黄]\d{3}").all()
               for d in at.dataframe if "来源台账" in d.value.columns)
    log = UserStore(users).audit_log(action="view_records")
    assert {e["target"] for e in log} >= {"县教育局"} and len(log) == 2
    assert all(e["user"] == "ana_a" and e["detail"]["snapshot"] for e in log)
    at.run()  # a rerun of the same view is not logged again
    assert len(UserStore(users).audit_log(action="view_records")) == 2
    go(at, "warnings")
    assert at.multiselect(key="w_evidence") is not None and at.checkbox(key="w_export_evidence") is not None


def test_query_string_for_another_teams_unit_is_denied_and_audited(monkeypatch, fixture_db, users):
    at = signed_in(monkeypatch, fixture_db, users, ANALYST)
    at.query_params["unit"] = TEAM_B_UNITS[0]
    go(at, "portrait")
    assert at.error and "无权" in at.error[0].value
    assert not [u for u in TEAM_B_UNITS if u in page_text(at)]
    assert "unit" not in at.query_params
    assert not at.dataframe and not at.get("plotly_chart")  # nothing about the unit is rendered
    denied = UserStore(users).audit_log(action="denied")
    assert denied and denied[0]["target"] == TEAM_B_UNITS[0]
    # Not a dead end: the units the user may open are offered, and choosing one opens its portrait.
    picker = at.selectbox(key="portrait_instead")
    assert sorted(picker.options) == sorted(TEAM_A_UNITS)
    picker.select(TEAM_A_UNITS[0]).run()
    assert not at.exception and not at.error
    assert any(TEAM_A_UNITS[0] in s.value for s in at.subheader)
    assert len(UserStore(users).audit_log(action="denied")) == 1


def test_login_form_rejects_then_accepts_then_logs_out(monkeypatch, fixture_db, users):
    at = app(monkeypatch, fixture_db, users).run()
    assert at.title[0].value.startswith("政态") and DISCLAIMER in at.caption[0].value
    login(at, "lead_a", "wrong-pass")
    assert at.error and "用户名或密码错误" in at.error[0].value
    login(at, "lead_a", "leader-pass")
    assert not at.exception and at.title[0].value == "总览"
    at.button(key="logout").click().run()
    assert at.title[0].value.startswith("政态") and "user" not in at.session_state


def test_login_lockout_after_repeated_failures(monkeypatch, fixture_db, users):
    at = app(monkeypatch, fixture_db, users).run()
    for _ in range(5):  # the default: 5 failures lock the account for 15 minutes
        login(at, "ana_a", "wrong-pass")
    assert "锁定" in at.error[0].value
    login(at, "ana_a", "analyst-pass")  # the right password no longer helps
    assert "锁定" in at.error[0].value and "user" not in at.session_state
    assert {u["name"]: u for u in UserStore(users).list()}["ana_a"]["locked"]
    assert [e["action"] for e in UserStore(users).audit_log(user="ana_a")][:2] == ["login_locked", "locked"]


def test_admin_page_lists_users_and_the_audit_trail(monkeypatch, fixture_db, users):
    UserStore(users).audit(ANALYST, "export", "预警清单_test.xlsx", {"rows": 3})
    at = signed_in(monkeypatch, fixture_db, users, ADMIN)
    go(at, "admin")
    tables = [d.value for d in at.dataframe]
    assert set(tables[0]["用户名"]) == {"lead_a", "ana_a", "root"}
    assert set(tables[0]["角色"]) == {"领导", "分析员", "管理员"}
    log = tables[-1]
    export = log[log["对象"] == "预警清单_test.xlsx"]
    assert list(export["操作"]) == ["导出"] and list(export["详情"]) == ["行数：3"]
    assert list(export["角色"]) == ["分析员"]


def test_method_page_whatif_baseline_changes_nothing(monkeypatch, fixture_db, users):
    at = signed_in(monkeypatch, fixture_db, users, ANALYST)
    go(at, "method")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["等级变化的单位"] == "0" and metrics["排名变化的单位"] == "0"
    tables = [d.value for d in at.dataframe]
    assert any("口径" in t.columns and "指标" in t.columns for t in tables)  # the catalogue, in words
    ranking = next(t for t in tables if "new_rank" in t.columns)
    assert set(ranking.unit_name) == set(TEAM_A_UNITS)


def test_a_rebuild_while_the_app_runs_is_picked_up_whole(monkeypatch, tmp_path, users):
    import duckdb

    from pipelines.warehouse import publish
    from tests.board_fixture import BUILD, build_fixture

    db = tmp_path / "live.duckdb"
    build_fixture(db)
    at = signed_in(monkeypatch, db, users, ADMIN)
    assert BUILD in at.sidebar.caption[-1].value
    before = at.metric[1].value
    con = duckdb.connect(str(db))  # the rebuild writes the warehouse, never the served snapshot
    con.execute("UPDATE build_runs SET build_id = 'rebuilt', built_at = built_at + INTERVAL 1 DAY")
    con.execute("UPDATE unit_scores SET build_id = 'rebuilt', score = score / 2")
    for table in ("indicator_catalogue", "warnings", "warning_evidence", "contributions", "indicator_values"):
        con.execute(f"UPDATE {table} SET build_id = 'rebuilt'")
    con.close()
    at.run()
    assert BUILD in at.sidebar.caption[-1].value  # not published yet: the app still shows the old build
    publish(db)
    at.run()
    assert "rebuilt" in at.sidebar.caption[-1].value
    assert float(at.metric[1].value) == pytest.approx(float(before) / 2, abs=0.06)
