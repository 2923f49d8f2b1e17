"""Access in a real browser: parallel guesses from several browser sessions, the session cookie across
refreshes and its expiry, accounts changed under an open page. (No table offering its own download is
checked on the page tour of test_hostile_browser.py.)"""

from __future__ import annotations

import sqlite3
import time
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from pipelines.access.store import UserStore
from tests.e2e.conftest import PASSWORDS, login, script_finished

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("dashboard_county")]

REJECTED = "用户名或密码错误。"
ATTEMPTS = ("login_failed", "locked", "login_locked")  # one audit line per attempt, whatever its outcome


def _wait_for(condition, what: str, timeout: float = 120.0) -> None:
    """Wait for a state outside the page (the user store), polling."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _new_page(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1600}, locale="zh-CN")
    ctx.set_default_timeout(90_000)
    return ctx.new_page()


def _sidebar_link(page, title: str):
    return page.locator("[data-testid=stSidebarNav]").get_by_role("link", name=title)


def _open(page, title: str) -> None:
    """Click a page in the sidebar once the current run has finished (a click during a run can be lost)."""
    script_finished(page)
    _sidebar_link(page, title).click()


def test_six_browser_sessions_guessing_at_once_check_exactly_five_passwords(served, browser):
    url, db, users, _ = served
    store = UserStore(users)

    def attempts(name: str) -> list[str]:
        return [e["action"] for e in store.audit_log(user=name, limit=1000) if e["action"] in ATTEMPTS]

    pages = [_new_page(browser) for _ in range(6)]
    try:
        for pg in pages:
            pg.goto(url)
            pg.get_by_label("用户名").wait_for()
            script_finished(pg)
            pg.get_by_label("用户名").fill("e2e_victim")
            pg.get_by_label("密码").fill("not-the-password")
        for round_ in (1, 2):  # each session submits twice; the six submissions of a round overlap on the server
            for pg in pages:
                script_finished(pg)
            for pg in pages:
                pg.get_by_role("button", name="登录").click()
            _wait_for(lambda: len(attempts("e2e_victim")) == 6 * round_, f"round {round_} of guesses")
        for pg in pages:
            expect(pg.locator("[data-testid=stAlert]")).to_have_count(1)
        actions = attempts("e2e_victim")
        assert actions.count("login_failed") == 4 and actions.count("locked") == 1, actions  # 5 checked
        assert actions.count("login_locked") == 7
        shown = {pg.locator("[data-testid=stAlert]").inner_text().strip() for pg in pages}
        assert any("锁定" in s for s in shown) and shown <= {REJECTED} | {s for s in shown if "锁定" in s}

        # The right password, from a fresh browser: still locked, and said in the same words as to a guesser.
        right = _new_page(browser)
        login(right, url, "e2e_victim", password=PASSWORDS["e2e_victim"])
        right.get_by_text("锁定").wait_for()
        assert right.locator("[data-testid=stAlert]").inner_text().strip() in shown
        assert right.get_by_label("密码").count() == 1  # not signed in

        # A name that does not exist: the same first answer as a real name's.
        ghost = _new_page(browser)
        login(ghost, url, "e2e_nobody", password="not-the-password")
        ghost.get_by_text(REJECTED).wait_for()
    finally:
        for pg in pages:
            pg.context.close()


def _age_sessions(users, name: str, column: str, seconds: float) -> None:
    con = sqlite3.connect(users)
    con.execute(f"UPDATE sessions SET {column} = {column} - ? WHERE user_name = ?", (seconds, name))
    con.commit()
    con.close()


def test_a_refresh_keeps_the_session_until_it_idles_or_ages_out(served, page):
    url, db, users, by_team = served
    login(page, url, "e2e_session")
    page.get_by_role("heading", name="总览").wait_for()
    cookie = next(c for c in page.context.cookies() if c["name"].startswith("zhengtai_session"))
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert "zhengtai_session" not in page.evaluate("document.cookie")  # page scripts cannot read it

    unit = by_team[sorted(by_team)[0]][0]
    page.goto(f"{url}/portrait?unit={quote(unit)}")  # a new page load: signed in by the cookie alone
    heading = page.locator("h3").filter(has_text=f"{unit} · ")
    heading.wait_for()
    page.reload()  # F5
    heading.wait_for()
    assert page.get_by_label("密码").count() == 0

    _age_sessions(users, "e2e_session", "last_seen", 31 * 60)  # idle past the 30 minutes
    page.reload()
    page.get_by_text("长时间未操作，已自动退出").wait_for()
    page.get_by_label("密码").wait_for()

    login(page, url, "e2e_session")
    page.get_by_role("heading", name="总览").wait_for()
    _age_sessions(users, "e2e_session", "created_at", 12 * 3600 + 60)  # signed in more than 12 hours ago
    _open(page, "预警清单")  # the next run, without a refresh
    page.get_by_text("登录时间已超过有效期").wait_for()
    page.reload()  # and the cookie does not bring it back
    page.get_by_label("密码").wait_for()
    assert page.get_by_role("heading", name="总览").count() == 0


def test_an_admin_demoted_then_removed_under_an_open_page(served, page):
    url, db, users, by_team = served
    store = UserStore(users)
    login(page, url, "e2e_admin")
    page.get_by_role("heading", name="总览").wait_for()
    admin_link = _sidebar_link(page, "用户与审计")
    admin_link.wait_for()
    store.add("e2e_admin", PASSWORDS["e2e_admin"], "leader", [sorted(by_team)[0]], replace=True)
    _open(page, "预警清单")
    page.get_by_role("heading", name="预警清单").wait_for()
    expect(admin_link).to_have_count(0)  # demoted: the admin page is gone at the next run
    page.goto(f"{url}/admin")  # its address leads nowhere now: Streamlit says so over the default page
    page.get_by_role("dialog").wait_for()
    page.get_by_role("heading", name="总览").wait_for()
    assert page.get_by_role("heading", name="用户与审计").count() == 0
    page.goto(url)
    page.get_by_role("heading", name="总览").wait_for()

    store.remove("e2e_admin")
    _open(page, "预警清单")
    page.get_by_text("账号状态已变更").wait_for()
    page.get_by_label("密码").wait_for()
