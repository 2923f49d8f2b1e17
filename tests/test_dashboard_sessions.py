"""Signing in and staying signed in, through AppTest: one message for unknown names and wrong passwords,
sessions re-checked against the account store on every run, idle and absolute expiry, logout."""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime, timedelta

import pytest

from pipelines.access.store import User, UserStore
from tests.board_fixture import TEAM_A, fixture_db  # noqa: F401 (fixture)
from tests.dashboard_apptest import PAGES, app, go, login, signed_in

pytestmark = pytest.mark.xdist_group("dashboard_app")

ADMIN = User("root", "admin", None)
ANALYST = User("ana_a", "analyst", (TEAM_A,))


@pytest.fixture
def users(tmp_path):
    path = tmp_path / "users.sqlite"
    store = UserStore(path)
    store.add("root", "admin-pass1", "admin", None)
    store.add("ana_a", "analyst-pass", "analyst", [TEAM_A])
    return path


def _on_login_page(at) -> bool:
    return at.title[0].value.startswith("政态") and "user" not in at.session_state


def _age(users, column: str, seconds: float) -> None:
    """Move every session's `column` (last_seen or created_at) `seconds` into the past."""
    con = sqlite3.connect(users)
    con.execute(f"UPDATE sessions SET {column} = {column} - ?", (seconds,))
    con.commit()
    con.close()


def test_unknown_names_and_wrong_passwords_get_the_same_words_and_the_same_lock(monkeypatch, fixture_db, users):
    monkeypatch.setenv("ZHENGTAI_MAX_FAILURES", "3")
    at = app(monkeypatch, fixture_db, users).run()
    said = {}
    for name in ("ana_a", "no_such_user"):
        said[name] = []
        for _ in range(4):  # 3 failures lock; the 4th attempt meets the lock
            login(at, name, "wrong-password")
            said[name].append(at.error[0].value)
    # The lock's end differs only by when each name was locked (a minute boundary may fall between them).
    until = {name: re.findall(r"\d{2}:\d{2}", " ".join(words)) for name, words in said.items()}
    assert said["ana_a"] == [re.sub(r"\d{2}:\d{2}", until["ana_a"][0], w) for w in said["no_such_user"]]
    assert said["ana_a"][0] == "用户名或密码错误。" and "锁定" in said["ana_a"][2] and "锁定" in said["ana_a"][3]
    assert "ana_a" not in " ".join(said["ana_a"])
    lock_end = {(datetime.now() + timedelta(minutes=UserStore(users).policy.lock_minutes + d)).strftime("%H:%M")
                for d in range(-5, 1)}  # locked within the last few minutes, for lock_minutes
    assert len(until["ana_a"]) == len(until["no_such_user"]) == 2
    assert set(until["ana_a"] + until["no_such_user"]) <= lock_end


def test_a_demoted_admin_loses_the_admin_page_at_the_next_run(monkeypatch, fixture_db, users):
    at = signed_in(monkeypatch, fixture_db, users, ADMIN)
    go(at, "admin")
    assert at.title[0].value == "用户与审计"
    UserStore(users).add("root", "admin-pass1", "leader", [TEAM_A], replace=True)  # same password: still signed in
    at.run()
    assert not at.exception and at.title[0].value == "总览"  # the page is gone; the default page shows
    assert at.session_state["user"] == User("root", "leader", (TEAM_A,))
    with pytest.raises(ValueError):
        at.switch_page(PAGES["admin"])


@pytest.mark.parametrize("change, notice", [
    (lambda s: s.remove("ana_a"), "账号状态已变更"),
    (lambda s: s.lock("ana_a"), "账号状态已变更"),
    (lambda s: s.add("ana_a", "a-new-password", "analyst", [TEAM_A], replace=True), "账号状态已变更"),
])
def test_a_removed_locked_or_repassworded_account_is_signed_out_at_once(monkeypatch, fixture_db, users, change, notice):
    at = signed_in(monkeypatch, fixture_db, users, ANALYST)
    go(at, "warnings")
    assert at.title[0].value == "预警清单"
    change(UserStore(users))
    at.run()
    assert _on_login_page(at) and notice in at.info[0].value
    assert not at.dataframe  # nothing of the page stays behind
    at.run()
    assert not at.info  # said once


def test_an_idle_session_ends_and_an_active_one_lives_until_its_lifetime(monkeypatch, fixture_db, users):
    monkeypatch.setenv("ZHENGTAI_SESSION_IDLE_MINUTES", "30")
    monkeypatch.setenv("ZHENGTAI_SESSION_HOURS", "8")
    at = signed_in(monkeypatch, fixture_db, users, ANALYST)
    _age(users, "last_seen", 29 * 60)
    at.run()
    assert at.title[0].value == "总览"  # 29 minutes idle: still signed in
    _age(users, "last_seen", 31 * 60)
    at.run()
    assert _on_login_page(at) and "长时间未操作" in at.info[0].value

    login(at, "ana_a", "analyst-pass")
    assert at.title[0].value == "总览"
    _age(users, "created_at", 8 * 3600 + 60)  # active all along, but signed in more than 8 hours ago
    at.run()
    assert _on_login_page(at) and "有效期" in at.info[0].value
    ends = [e["detail"]["reason"] for e in UserStore(users).audit_log(action="session_end")]
    assert ends[:2] == ["lifetime", "idle"]


def test_logout_ends_the_session_in_the_store(monkeypatch, fixture_db, users):
    at = app(monkeypatch, fixture_db, users).run()
    login(at, "ana_a", "analyst-pass")
    sid = at.session_state["_sid"]
    store = UserStore(users)
    assert store.session_user(sid)[0] == ANALYST
    at.button(key="logout").click().run()
    assert _on_login_page(at) and not at.info
    assert store.session_user(sid) == (None, "logout")
    assert store.audit_log(action="logout")[0]["user"] == "ana_a"


def test_the_sign_in_ticket_is_offered_until_the_browser_took_it(monkeypatch, fixture_db, users):
    at = app(monkeypatch, fixture_db, users).run()
    login(at, "ana_a", "analyst-pass")
    html = [e for e in at.get("html")]
    assert any("/_zhengtai/session" in e.proto.body for e in html)
    ticket = at.session_state["_ticket"]
    token = UserStore(users).redeem_ticket(ticket)  # what the browser's request does
    assert UserStore(users).session_id(token) == at.session_state["_sid"]
    at.run()
    assert "_ticket" not in at.session_state
    assert not any("/_zhengtai/session" in e.proto.body for e in at.get("html"))
