"""The dashboard in a real browser: Debian's chromium through Playwright against `zhengtai serve`.

Screenshots go to artifacts/screenshots/ (git-ignored; the CI run keeps the folder).
"""

from __future__ import annotations

import io
import json
import re
import time

import duckdb
import openpyxl
import pytest
from playwright.sync_api import expect

from pipelines.access.store import UserStore
from pipelines.board.periods import period_zh
from pipelines.warehouse import published_path
from tests.dashboard_county import foreign_names
from tests.e2e.conftest import PASSWORDS, SHOTS, rerun, script_finished

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("dashboard_county")]
TIMINGS: dict[str, float] = {}


def _login(page, url: str, name: str, path: str = "") -> float:
    page.goto(f"{url}/{path}")
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(PASSWORDS[name])
    start = time.perf_counter()
    page.get_by_role("button", name="登录").click()
    return start


def _heatmap_points(page):
    return page.locator("[data-testid=stPlotlyChart] .js-plotly-plot .scatterlayer .points path")


def _sidebar_link(page, title: str):
    page.locator("[data-testid=stSidebarNav]").get_by_role("link", name=title).click()
    page.get_by_role("heading", name=title).wait_for()  # drawn by the new page's run, so that run has started
    script_finished(page)


def _quarters(db) -> list[str]:
    con = duckdb.connect(str(published_path(db)), read_only=True)
    try:
        return [r[0] for r in con.execute(
            "SELECT DISTINCT period FROM unit_scores WHERE grain = 'quarter' ORDER BY period").fetchall()]
    finally:
        con.close()


def _check_xlsx(data: bytes) -> openpyxl.Workbook:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    cells = [c for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"], "the export must hold no formulas"
    assert not [c.value for c in cells if isinstance(c.value, str) and c.value[:1] in "=+-@"]
    return wb


def test_analyst_overview_portrait_period_export(served, page, shots):
    url, db, users, by_team = served
    start = _login(page, url, "e2e_analyst")
    page.get_by_role("heading", name="总览").wait_for()
    _heatmap_points(page).first.wait_for()
    TIMINGS["login_to_overview_heatmap_s"] = round(time.perf_counter() - start, 2)
    assert page.get_by_text("评分仅提示需关注的风险，不代表存在违纪违法问题。").is_visible()
    page.screenshot(path=str(shots / "01_overview.png"))

    # Click a square of the heatmap: the unit's portrait opens.
    # Plotly picks the clicked point from its hover state: hover until the label shows, then click.
    start = time.perf_counter()
    square = _heatmap_points(page).first
    square.hover(force=True)
    page.locator(".js-plotly-plot .hoverlayer .hovertext").first.wait_for()
    square.click(force=True)
    page.get_by_role("heading", name="单位画像").wait_for()
    page.wait_for_url(re.compile(r"portrait\?unit="))
    page.locator("[data-testid=stPlotlyChart]").first.wait_for()
    TIMINGS["heatmap_click_to_portrait_s"] = round(time.perf_counter() - start, 2)
    all_units = [u for units in by_team.values() for u in units]
    heading = page.locator("h3").filter(has_text="·").first.inner_text()
    unit = next(u for u in all_units if heading.startswith(u))
    page.screenshot(path=str(shots / "02_portrait.png"), full_page=True)

    # Change the period in the sidebar: the portrait follows.
    latest, previous = _quarters(db)[-1], _quarters(db)[-2]
    assert period_zh(latest) in heading
    start = time.perf_counter()
    page.locator("[data-testid=stSidebar] [data-testid=stSelectbox]").filter(has_text="期间").click()
    page.get_by_role("option", name=period_zh(previous)).click()
    page.locator("h3").filter(has_text=f"{unit} · 季度 {period_zh(previous)}").wait_for()
    TIMINGS["period_change_s"] = round(time.perf_counter() - start, 2)
    page.screenshot(path=str(shots / "03_portrait_previous_period.png"), full_page=True)

    # Warnings of that period, exported with their evidence.
    _sidebar_link(page, "预警清单")
    assert page.get_by_text(f"季度 · {period_zh(previous)}").first.is_visible()
    count = int(re.search(r"共 (\d+) 条预警", page.get_by_text(re.compile(r"共 \d+ 条预警")).inner_text()).group(1))
    assert count > 0
    rerun(page, page.get_by_text("导出时包含依据记录（已脱敏）").click)
    expect(page.get_by_role("button", name=re.compile("导出 Excel"))).to_be_enabled()
    page.screenshot(path=str(shots / "04_warnings.png"), full_page=True)
    with page.expect_download() as dl:
        page.get_by_role("button", name=re.compile("导出 Excel")).click()
    download = dl.value
    assert download.suggested_filename.startswith(f"预警清单_{period_zh(previous)}")
    assert download.suggested_filename.endswith(".xlsx")
    wb = _check_xlsx(open(download.path(), "rb").read())
    assert wb.sheetnames == ["预警清单", "依据记录", "指标口径", "说明"]
    assert wb["预警清单"].max_row - 1 == count
    notes = {r[0].value: r[1].value for r in wb["说明"].iter_rows(min_row=2)}
    assert period_zh(previous) in notes["期间"] and "e2e_analyst" in notes["导出人"]
    exports = UserStore(users).audit_log(action="export", user="e2e_analyst")
    assert exports and exports[0]["detail"]["rows"] == count and exports[0]["detail"]["period"] == previous

    (SHOTS.parent / "e2e_timings.json").write_text(json.dumps(TIMINGS, indent=2), encoding="utf-8")


def test_leader_sees_only_their_team_and_no_records(served, page, shots):
    url, db, users, by_team = served
    team = sorted(by_team)[0]
    own = by_team[team]
    others = [u for t, units in by_team.items() if t != team for u in units]
    _login(page, url, "e2e_leader")
    page.get_by_role("heading", name="总览").wait_for()
    _heatmap_points(page).first.wait_for()
    ticks = page.locator("[data-testid=stPlotlyChart]").first.locator(".ytick text")  # the heatmap's rows
    expect(ticks).to_have_count(len(own))
    assert sorted(ticks.all_text_contents()) == sorted(own)  # the heatmap rows: exactly the team's units
    body = page.locator("body").inner_text()
    assert not foreign_names(body, own, others)
    page.screenshot(path=str(shots / "05_leader_overview.png"))

    _sidebar_link(page, "单位画像")
    page.get_by_text("当前角色仅显示汇总数据，不显示记录级明细。").wait_for()  # rendered below the charts
    assert page.get_by_text("显示记录级明细（已脱敏").count() == 0

    _sidebar_link(page, "预警清单")
    expect(page.get_by_role("button", name=re.compile("导出 Excel"))).to_be_enabled()
    assert page.get_by_text("导出时包含依据记录").count() == 0
    with page.expect_download() as dl:
        page.get_by_role("button", name=re.compile("导出 Excel")).click()
    wb = _check_xlsx(open(dl.value.path(), "rb").read())
    assert wb.sheetnames == ["预警清单", "指标口径", "说明"]
    exported = " ".join(str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value is not None)
    assert not foreign_names(exported, own, others)


def test_deep_link_to_another_teams_unit_is_denied(served, page, shots):
    url, db, users, by_team = served
    team = sorted(by_team)[0]
    target = by_team[sorted(by_team)[1]][0]
    _login(page, url, "e2e_leader", f"portrait?unit={target}")
    page.get_by_text("您无权查看该单位，或该单位不存在。").wait_for()
    body = page.locator("body").inner_text()
    assert not foreign_names(body, by_team[team], [target])
    assert "unit=" not in page.url
    page.screenshot(path=str(shots / "06_denied.png"))
    denied = UserStore(users).audit_log(action="denied", user="e2e_leader")
    assert denied and denied[0]["target"] == target
