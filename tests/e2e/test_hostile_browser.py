"""A tour of every page in a real browser, on a county whose unit and team names try Markdown images and
links, raw HTML, autolinks and Plotly's HTML: the browser fetches nothing and links nowhere, the names
read literally, and no table offers a download of its own (the audited Excel export is the only one).

The names point at a local catcher server; the test asserts it saw no request, that the page made no
request outside the app, and that no link leads outside it."""

from __future__ import annotations

import re
import shutil
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from pipelines.access.store import UserStore
from pipelines.warehouse import publish
from tests.dashboard_county import teams
from tests.e2e.conftest import PASSWORDS, login, rerun, script_finished, serving
from tests.hostile import Catcher, hostile_names, rename_unit

# Its own server and group: it can run beside the dashboard_county group on another worker.
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser_hostile")]


@pytest.fixture(scope="module")
def hostile_served(county_db, tmp_path_factory, chromium):
    """The county with four units and one team renamed to hostile text, served; (url, catcher, names, team)."""
    root = tmp_path_factory.mktemp("hostile")
    db = root / "hostile.duckdb"
    shutil.copyfile(county_db, db)
    by_team = teams(county_db)
    first, second = sorted(by_team)[:2]
    targets = by_team[first][:2] + by_team[second][:2]
    with Catcher() as catcher:
        names = hostile_names(catcher.port)
        hostile_team = f"{second}[核实](http://127.0.0.1:{catcher.port}/team)"
        for old, new in [*zip(targets, names), (second, hostile_team)]:
            rename_unit(db, old, new)
        publish(db)
        users = root / "users.sqlite"
        UserStore(users).add("e2e_analyst", PASSWORDS["e2e_analyst"], "analyst", [first, hostile_team])
        with serving(db, users, root / "serve.log") as url:
            yield url, catcher, names, hostile_team


def _no_way_out(page, url: str, port: int, where: str) -> None:
    script_finished(page)  # everything the run draws is on the page
    links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    outside = [h for h in links if not h.startswith(url) or f":{port}" in h]
    assert not outside, f"{where}: links leading out of the app: {outside}"
    assert page.locator("svg a").count() == 0, f"{where}: a link inside a chart"
    images = page.eval_on_selector_all("img", "els => els.map(e => e.src)")
    assert not [s for s in images if f":{port}" in s], where


def _no_table_download(page, where: str) -> int:
    """Hover every table in every tab and expander of the page: each shows its toolbar (search, full screen)
    but no CSV download. Returns how many tables were checked."""
    checked = 0
    for tab in page.get_by_role("tab").all() or [None]:
        if tab is not None:
            tab.click()
            expect(tab).to_have_attribute("aria-selected", "true")
        closed = page.locator("[data-testid=stExpander] details:not([open]) > summary").filter(visible=True)
        for _ in range(closed.count()):
            closed.first.click()
        frames = page.locator("[data-testid=stDataFrame]").filter(visible=True)
        for i in range(frames.count()):
            frame = frames.nth(i)
            frame.scroll_into_view_if_needed()
            frame.hover()
            page.locator("[data-testid=stElementToolbar]").get_by_role("button", name="Fullscreen").first.wait_for()
            assert page.get_by_role("button", name="Download as CSV").count() == 0, (where, i)
            checked += 1
    expected = 1 if where == "预警清单" else 0  # the audited export
    assert page.locator("[data-testid=stDownloadButton]").count() == expected, where
    return checked


def test_a_tour_of_every_page_fetches_nothing_links_nowhere_downloads_nothing(hostile_served, browser):
    url, catcher, names, hostile_team = hostile_served
    ctx = browser.new_context(viewport={"width": 1500, "height": 2000}, locale="zh-CN", accept_downloads=True)
    ctx.set_default_timeout(90_000)
    page = ctx.new_page()
    outside, downloads = [], []
    page.on("request", lambda r: None if r.url.startswith((url, "data:", "blob:")) else outside.append(r.url))
    page.on("download", lambda d: downloads.append(d.suggested_filename))
    checked = 0
    try:
        login(page, url, "e2e_analyst")
        page.get_by_role("heading", name="总览").wait_for()
        page.locator("[data-testid=stPlotlyChart] .js-plotly-plot .scatterlayer .points path").first.wait_for()
        ticks = page.locator("[data-testid=stPlotlyChart]").first.locator(".ytick text").all_text_contents()
        assert set(names) <= set(ticks)  # the heatmap names them literally
        sidebar = page.locator("[data-testid=stSidebarUserContent]").inner_text().replace("\u2060", "")
        assert hostile_team in sidebar
        _no_way_out(page, url, catcher.port, "总览")
        checked += _no_table_download(page, "总览")

        for k, name in enumerate(names):
            page.goto(f"{url}/portrait?unit={quote(name)}")
            heading = page.locator("h3").filter(has_text=" · 季度")
            heading.wait_for()
            assert heading.inner_text().replace("\u2060", "").startswith(" ".join(name.split()))
            if k == 0:  # record-level tables once
                script_finished(page)
                rerun(page, page.get_by_text("显示记录级明细").click)
                page.locator("[data-testid=stDataFrame]").filter(has_text="记录编号").first.wait_for()
            page.locator("[data-testid=stPlotlyChart]").last.wait_for()
            _no_way_out(page, url, catcher.port, name)
            if k == 0:
                checked += _no_table_download(page, "单位画像")

        for title in ("预警清单", "数据质量", "方法与权重"):
            script_finished(page)
            page.locator("[data-testid=stSidebarNav]").get_by_role("link", name=title).click()
            page.get_by_role("heading", name=title).wait_for()
            page.locator("[data-testid=stDataFrame]").first.wait_for()
            if title == "预警清单":
                page.get_by_role("button", name=re.compile("导出 Excel")).wait_for()
            _no_way_out(page, url, catcher.port, title)
            checked += _no_table_download(page, title)
        assert catcher.hits == [], f"the browser fetched {catcher.hits}"
        assert outside == [], f"requests outside the app: {outside}"
        assert checked >= 10 and downloads == []
    finally:
        ctx.close()
