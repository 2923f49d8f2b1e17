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
    stored = board.q("unit_contributions", admin.scope, unit=unit, grain="month", period="2024-06")
    assert stored.empty  # the premise: months are not stored
    p = portrait.portrait(board, admin, unit, "month", "2024-06")
    assert len(p.contributions) >= 20 and p.contributions.contribution.is_monotonic_decreasing
    assert p.contributions.contribution.sum() == pytest.approx(p.index_row["score"], abs=1e-9)
    assert p.contributions.name_zh.str.contains(r"[\u4e00-\u9fff]").all()
    # on a stored grain the re-aggregation gives back the stored table
    q = board.q("unit_contributions", admin.scope, unit=unit, grain="quarter", period="2024Q2").set_index("indicator_id")
    r = recomputed_contributions(board, "quarter", "2024Q2", unit).set_index("indicator_id")
    assert set(q.index) == set(r.index)
    assert (q.contribution - r.contribution.reindex(q.index)).abs().max() < 1e-9
    board.close()


def test_portrait_charts_draw_the_unit_against_its_bands_and_every_rank_with_its_interval(county_db):
    """The trend's bands are the quartiles of all units' scores (and of the sector's other units), computed
    here from unit_scores by numpy; the rank chart shows exactly the periods that have an interval, each
    with it, and counts its axis in whole ranks."""
    import duckdb
    import numpy as np

    from dashboards import charts
    from pipelines.board import Board, portrait
    from pipelines.warehouse import published_path

    board = Board(published_path(county_db))
    admin = User("county_admin", "admin", None)
    con = duckdb.connect(str(published_path(county_db)), read_only=True)
    allq = con.execute(
        """SELECT s.period, s.unit_name, s.score, u.sector FROM unit_scores s JOIN units u USING (unit_name)
           WHERE s.grain = 'quarter' AND s.level = 'index' AND s.score IS NOT NULL""").df()
    con.close()
    unit = allq[allq.period == "2024Q4"].sort_values("score").unit_name.iloc[-1]
    p = portrait.portrait(board, admin, unit, "quarter", "2024Q4")
    sector = allq[allq.unit_name == unit].sector.iloc[0]
    assert list(p.bands.period) == sorted(allq.period.unique())
    for row in p.bands.itertuples():
        everyone = allq[allq.period == row.period].score.to_numpy()
        assert row.county_p25 == pytest.approx(np.quantile(everyone, 0.25))
        assert row.county_p75 == pytest.approx(np.quantile(everyone, 0.75))
        peers = allq[(allq.period == row.period) & (allq.sector == sector) & (allq.unit_name != unit)].score
        if len(peers) >= 3:
            assert row.sector_median == pytest.approx(np.median(peers))
        else:
            assert np.isnan(row.sector_median)
    trend = charts.unit_trend(p.bands, unit)
    assert [t.name for t in trend.data if t.showlegend is not False][-1] == unit  # drawn on top

    assert p.rank_periods == 4  # index_settings: uncertainty.periods
    rank = charts.rank_band(p.trend, len(allq[allq.period == "2024Q4"])).data[0]
    assert len(rank.x) == 4 and rank.x[-1] == "2024年<br>第4季度"
    plus, minus = np.asarray(rank.error_y.array), np.asarray(rank.error_y.arrayminus)
    assert len(plus) == len(minus) == 4 and (plus >= 0).all() and (minus >= 0).all() and (plus + minus > 0).any()
    axis = charts.rank_band(p.trend, 42).layout.yaxis
    assert axis.tickvals[0] == 1 and all(isinstance(t, int) for t in axis.tickvals)  # whole ranks, 1 among them
    assert axis.range[1] < 1 < 42 < axis.range[0]  # rank 1 on top, every rank inside the axis
    board.close()
