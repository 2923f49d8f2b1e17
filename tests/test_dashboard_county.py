"""Every page under every role on a real county warehouse (generate → ingest → build), via AppTest."""

from __future__ import annotations

import pytest

from pipelines.access.store import User, UserStore
from tests.dashboard_apptest import DISCLAIMER, PAGES, go, page_text, signed_in
from tests.dashboard_county import county_db, foreign_names, teams  # noqa: F401 (fixture)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dashboard_county")]


@pytest.fixture(scope="module")
def county_teams(county_db):
    t = teams(county_db)
    assert len(t) >= 2, "the synthetic county should have several 派驻组 teams"
    return t


@pytest.fixture
def users(tmp_path):
    return UserStore(tmp_path / "users.sqlite").path


@pytest.mark.parametrize("role", ["leader", "analyst", "admin"])
def test_every_page_every_role_on_the_county(role, monkeypatch, county_db, county_teams, users):
    team = sorted(county_teams)[0]
    own = county_teams[team]
    others = [u for t, units in county_teams.items() if t != team for u in units]
    user = User(f"county_{role}", role, None if role == "admin" else (team,))
    at = signed_in(monkeypatch, county_db, users, user)
    for page in [p for p in PAGES if p != "admin" or user.is_admin]:
        go(at, page)
        assert DISCLAIMER in [e.value for e in at.info], page
        assert not at.error, (page, [e.value for e in at.error])
        text = page_text(at)
        if role != "admin":
            assert not foreign_names(text, own, others), (role, page, foreign_names(text, own, others))
        if page == "overview":
            assert at.metric[0].value == str(len(own) if role != "admin" else len(own) + len(others))
        if page == "portrait":
            assert any(u in at.subheader[0].value for u in own + others)
            has_toggle = any(t.key == "show_records" for t in at.toggle)
            assert has_toggle == user.can_see_records


def test_analyst_records_and_denial_on_the_county(monkeypatch, county_db, county_teams, users):
    team, other = sorted(county_teams)[:2]
    user = User("county_analyst", "analyst", (team,))
    at = signed_in(monkeypatch, county_db, users, user)
    at.query_params["unit"] = county_teams[other][0]
    go(at, "portrait")
    assert at.error and not at.dataframe
    assert UserStore(users).audit_log(action="denied")[0]["target"] == county_teams[other][0]
    at.query_params["unit"] = county_teams[team][0]
    at.run()
    at.toggle(key="show_records").set_value(True).run()
    assert not at.exception and not at.error
    records = next(d.value for d in at.dataframe if "记录编号" in d.value.columns and "人员（化名）" in d.value.columns)
    assert len(records) > 0
    assert UserStore(users).audit_log(action="view_records")[0]["target"] == county_teams[team][0]


def test_every_grain_and_period_renders_the_overview(monkeypatch, county_db, users):
    at = signed_in(monkeypatch, county_db, users, User("county_admin", "admin", None))
    grains = at.selectbox(key="grain").options
    assert len(grains) == 5
    for grain in at.selectbox(key="grain").options:
        at.selectbox(key="grain").select(grain).run()
        assert not at.exception, grain
        periods = at.selectbox(key="period").options
        at.selectbox(key="period").select(periods[-1]).run()  # the oldest period: no previous to compare
        assert not at.exception and not at.error, (grain, periods[-1])



def test_whatif_baseline_reproduces_every_published_period(county_db):
    """The what-if re-aggregates with the index engine: at the build's weights it must give back the
    published score and grade of every unit in every period of every grain."""
    from pipelines.access.store import Scope
    from pipelines.board import Board, method
    from pipelines.warehouse import published_path

    board = Board(published_path(county_db))
    cat, dims = method.catalogue(board), board.q("dimensions")
    ind_w, dim_w = method.default_weights(cat, dims)
    periods = board.q("periods").query("grain != 'month'")  # months add time, not coverage
    assert len(periods) > 20
    for grain, period in periods.itertuples(index=False):
        w = method.whatif(board, Scope(None), grain, period, ind_w, dim_w)
        assert w.baseline_gap < 1e-9, (grain, period, w.baseline_gap)
        assert (w.table.base_grade == w.table.published_grade).all(), (grain, period)
        assert w.changed.empty
    board.close()


def test_month_contributions_are_recomputed_and_add_up(county_db, county_teams):
    """Months' contributions are not stored (index_settings `contributions.grains`): the portrait
    re-aggregates them, and they must add up to the published month score as the stored ones do."""
    from pipelines.board import Board, portrait
    from pipelines.board.method import recomputed_contributions
    from pipelines.warehouse import published_path

    board = Board(published_path(county_db))
    admin = User("county_admin", "admin", None)
    unit = sorted(county_teams.values())[0][0]
    stored = board.q("unit_contributions", unit=unit, grain="month", period="2024-06")
    assert stored.empty  # the premise: months are not stored
    p = portrait.portrait(board, admin, unit, "month", "2024-06")
    assert len(p.contributions) >= 20 and p.contributions.contribution.is_monotonic_decreasing
    assert p.contributions.contribution.sum() == pytest.approx(p.index_row["score"], abs=1e-9)
    assert p.contributions.name_zh.str.contains(r"[\u4e00-\u9fff]").all()
    # on a stored grain the re-aggregation gives back the stored table
    q = board.q("unit_contributions", unit=unit, grain="quarter", period="2024Q2").set_index("indicator_id")
    r = recomputed_contributions(board, "quarter", "2024Q2", unit).set_index("indicator_id")
    assert set(q.index) == set(r.index)
    assert (q.contribution - r.contribution.reindex(q.index)).abs().max() < 1e-9
    board.close()
